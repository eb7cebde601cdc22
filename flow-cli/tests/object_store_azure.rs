//! Flows in Azure Blob storage (`az://container/…`), against Azurite started on 127.0.0.1 (see
//! `common/azure.rs`), configured as object_store reads it from the environment
//! (`AZURE_STORAGE_USE_EMULATOR`, `AZURITE_BLOB_STORAGE_URL`, `AZURE_STORAGE_ACCOUNT_KEY`): the
//! same code as s3:// behind another store, so one test of each path: every source reads as
//! from disk, a trace written there reads back bit-identical, a wrong key is an error naming
//! the URL.

use std::path::Path;

mod common;
use common::repo;
use common::text;
#[path = "common/azure.rs"]
mod azure;

fn local(args: &[&str]) -> String {
    let o = common::flow_models(args);
    assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
    text(&o.stdout)
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_str().unwrap().into(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn flows_in_azure_blob_storage_read_and_write_as_on_disk() {
    let Some(az) = azure::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sample = repo("examples/data/sample");
    for (name, _) in files(Path::new(&sample)) {
        az.upload(&Path::new(&sample).join(&name), &format!("trace/{name}"));
    }
    let csv = dir.path().join("sample.csv");
    let csv = csv.to_str().unwrap();
    local(&[
        "convert", "-i", "binary", "-o", "csv_flow", "-O", csv, &sample,
    ]);
    az.upload(Path::new(csv), "text/sample.csv");
    let nfcapd = repo("tests/data/nfcapd/nf171_sfipfix_mixed_lzo.nfcapd");
    az.upload(Path::new(&nfcapd), "nfcapd/nfcapd.202401010000");

    let sums = "count(*), sum(packets), sum(octets), min(first), max(last)";
    for (func, path, url) in [
        ("flowbin", sample.as_str(), "az://flows/trace"),
        ("csv_flow", csv, "az://flows/text/sample.csv"),
        ("nfcapd", nfcapd.as_str(), "az://flows/nfcapd/"),
    ] {
        let q = |p: &str| format!("SELECT {sums} FROM {func}('{p}')");
        let want = local(&["sql", "-q", "--format", "csv", "-c", &q(path)]);
        let got = az.ok(&["sql", "-q", "--format", "csv", "-c", &q(url)]);
        assert!(
            want.lines().nth(1).is_some_and(|l| !l.starts_with("0,")),
            "{want}"
        );
        assert_eq!(got, want, "{func} over {url}");
    }
    let hist = ["hist", "-i", "binary", "-x", "size", "-b", "6"];
    let want = local(&[&hist[..], &[sample.as_str()]].concat());
    assert_eq!(az.ok(&[&hist[..], &["az://flows/trace"]].concat()), want);

    // A trace written to the container is the local output, column file for column file.
    let convert = ["convert", "-i", "binary", "-o", "binary", "-O"];
    let out = dir.path().join("out");
    local(&[&convert[..], &[out.to_str().unwrap(), &sample]].concat());
    az.ok(&[&convert[..], &["az://flows/out/trace", &sample]].concat());
    let written = az.objects("out/trace/");
    let want: Vec<(String, Vec<u8>)> = (files(&out).into_iter())
        .map(|(name, bytes)| (format!("out/trace/{name}"), bytes))
        .collect();
    assert!(want.len() >= 20, "{want:?}");
    assert_eq!(written, want);

    // A wrong account key: Azurite refuses the signature; the error names the URL.
    let wrong = "d3Jvbmcga2V5IGZvciB0aGUgYWNjb3VudCBkZXZzdG9yZWFjY291bnQx";
    let q = "SELECT count(*) FROM flowbin('az://flows/trace')";
    let o = az.run(&["sql", "-c", q], wrong);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("az://flows/trace"),
        "{}",
        text(&o.stderr)
    );
}

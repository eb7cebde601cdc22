//! `flow-models anonymize`: byte for byte flow_models.anonymize's output for the same key and
//! cut (fixture made by tests/data/original/make.sh), the IPv4-only rule, and key errors that
//! never show the key.

mod common;
use common::flow_models as run;
use common::repo;
use common::text;

const KEY: &str = "boojahyoo3vaeToong0Eijee7Ahz3yee";

#[test]
fn equals_the_original() {
    // `tool` writing records 10..3010 of the sample as csv_flow to standard output.
    let sample = repo("examples/data/sample");
    let records = |tool: &str, extra: &[&str]| {
        let head = [tool, "-i", "binary", "-o", "csv_flow", "-O", "-"];
        let range = ["--skip-in", "10", "--count-in", "3000"];
        run(&[&head[..], &range, extra, &[&sample]].concat())
    };
    let o = records("anonymize", &["--key", KEY]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let want =
        std::fs::read_to_string(repo("tests/data/original/anonymize_3000.csv_flow")).unwrap();
    assert_eq!(text(&o.stdout), want);
    // Only the addresses changed.
    let plain = records("convert", &[]);
    let (a, p) = (text(&o.stdout), text(&plain.stdout));
    let mut changed = 0;
    for (x, y) in a.lines().zip(p.lines()) {
        let (x, y): (Vec<&str>, Vec<&str>) = (x.split(", ").collect(), y.split(", ").collect());
        for i in 0..21 {
            if i == 7 || i == 11 {
                changed += usize::from(x[i] != y[i]);
            } else {
                assert_eq!(x[i], y[i], "field {i}");
            }
        }
    }
    assert!(changed > 5900, "{changed} addresses changed");
}

#[test]
fn non_ipv4_flows_are_dropped_as_the_original_does() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("mixed.csv");
    // af 10 (IPv6), 2 (IPv4), 0 (unknown: kept, as the original's `not af`)
    let line = |af: u8| {
        format!(
            "{af}, 6, 0, 0, 0, 0, 0, 167772161, 0, 0, 0, 167772162, 1, 2, 100, 0, 101, 0, 3, 300, 1\n"
        )
    };
    std::fs::write(&csv, [line(10), line(2), line(0)].concat()).unwrap();
    let o = run(&[
        "anonymize",
        "-i",
        "csv_flow",
        "-O",
        "-",
        "--key",
        KEY,
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let afs: Vec<&str> = out.lines().map(|l| l.split(", ").next().unwrap()).collect();
    assert_eq!(afs, ["2", "0"]);
    assert!(!out.contains("167772161"), "{out}");
}

#[test]
fn ipv6_flows_are_anonymized_as_128_bit_addresses_with_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("v6.csv");
    // Two IPv6 flows whose sources share the first 64 bits (2001:db8:85a3:0::/64) and whose
    // destinations are equal; then an IPv4 flow.
    let v6 = |sa2: u32, sa3: u32| {
        format!(
            "10, 6, 0, 0, 536939960, 2242052096, {sa2}, {sa3}, 536939960, 1, 2, 3, 1, 2, 100, 0, 101, 0, 3, 300, 1\n"
        )
    };
    let v4 =
        "2, 6, 0, 0, 0, 0, 0, 167772161, 0, 0, 0, 167772162, 1, 2, 100, 0, 101, 0, 3, 300, 1\n";
    std::fs::write(
        &csv,
        [v6(7, 9), v6(0x8000_0000, 9), v4.to_string()].concat(),
    )
    .unwrap();
    let anonymize = |extra: &[&str]| {
        let args = ["anonymize", "-i", "csv_flow", "-O", "-", "--key", KEY];
        let o = run(&[&args[..], extra, &[csv.to_str().unwrap()]].concat());
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    let (with, without) = (anonymize(&["--ipv6"]), anonymize(&[]));
    let rows: Vec<Vec<u32>> = (with.lines())
        .map(|l| l.split(", ").map(|f| f.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 3, "{with}");
    // The IPv4 flow is what it is without the flag.
    assert_eq!(with.lines().nth(2), without.lines().next());
    assert_eq!(without.lines().count(), 1);
    let address =
        |r: &[u32], from: usize| (0..4).fold(0u128, |a, i| (a << 32) | u128::from(r[from + i]));
    let (s0, s1) = (address(&rows[0], 4), address(&rows[1], 4));
    let plain0 = (536939960u128 << 96) | (2242052096u128 << 64) | (7 << 32) | 9;
    assert_ne!(s0, plain0, "the source changed");
    // Prefix-preserving over 128 bits: the sources first differ at bit 64, as the plain ones.
    assert_eq!((s0 ^ s1).leading_zeros(), 64);
    // One address, one anonymized address; the same as the SQL function gives.
    assert_eq!(address(&rows[0], 8), address(&rows[1], 8));
    let q = format!(
        "SELECT cryptopan6(536939960, 2242052096, 7, 9, '{KEY}')['w0'], \
         cryptopan6(536939960, 2242052096, 7, 9, '{KEY}')['w3']"
    );
    let sql = common::ok(&["sql", "-q", "--format", "csv", "-c", &q]);
    let want = format!("{},{}", rows[0][4], rows[0][7]);
    assert_eq!(sql.lines().nth(1), Some(want.as_str()), "{sql}");
}

#[test]
fn a_wrong_key_is_an_error_without_the_key() {
    for key in ["tooshort-secret", "a-key-of-thirty-three-characters!"] {
        let o = run(&[
            "anonymize",
            "-i",
            "binary",
            "-O",
            "-",
            "--key",
            key,
            &repo("examples/data/sample"),
        ]);
        assert!(!o.status.success());
        let err = text(&o.stderr);
        assert!(err.contains("--key must be 32 bytes long"), "{err}");
        assert!(!err.contains(key), "the key was printed: {err}");
    }
}

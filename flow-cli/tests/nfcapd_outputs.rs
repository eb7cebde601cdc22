//! `SELECT *` of an nfcapd table to every output: `sql --format csv|tsv|json|nd-json|table`,
//! `COPY … STORED AS CSV|JSON|PARQUET` and `convert -i nfcapd -o parquet`. Nested columns
//! (`mpls_labels`) are text in CSV, TSV and the table, nested in JSON and Parquet; the address
//! columns equal nfdump 1.7.1's own `-o csv` of the file (F.csv.txt).

mod common;

use common::{flow_models, ok, repo, text};

const FILE: &str = "tests/data/nfcapd/nf171_sfipfix_mixed_lzo.nfcapd";

/// nfdump's source and destination addresses of FILE, record by record.
fn nfdump_addresses() -> Vec<(String, String)> {
    let csv = std::fs::read_to_string(repo(&format!("{FILE}.csv.txt"))).unwrap();
    csv.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[3].to_string(), f[4].to_string())
        })
        .collect()
}

/// The cells of `column` in delimited `text` with a header line.
fn cells(text: &str, sep: char, column: &str) -> Vec<String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(sep).collect();
    let at = header.iter().position(|h| *h == column).unwrap();
    lines
        .map(|l| l.split(sep).nth(at).unwrap_or_default().to_string())
        .collect()
}

#[test]
fn select_star_prints_in_every_format() {
    let file = repo(FILE);
    let sql = format!("SELECT * FROM nfcapd('{file}')");
    let want = nfdump_addresses();
    let src: Vec<String> = want.iter().map(|a| a.0.clone()).collect();
    let dst: Vec<String> = want.iter().map(|a| a.1.clone()).collect();
    for (format, sep) in [("csv", ','), ("tsv", '\t')] {
        let out = ok(&["sql", "-q", "--format", format, "-c", &sql]);
        assert_eq!(out.lines().count(), 451, "{format}");
        assert_eq!(cells(&out, sep, "src_ip"), src, "{format}");
        assert_eq!(cells(&out, sep, "dst_ip"), dst, "{format}");
        // records without the MPLS element: an empty (NULL) cell
        assert!(cells(&out, sep, "mpls_labels").iter().all(|c| c.is_empty()));
    }
    let out = ok(&["sql", "-q", "--format", "json", "-c", &sql]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.len(), 450);
    let got: Vec<String> = rows
        .iter()
        .map(|r| r["src_ip"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, src);
    assert!(
        rows.iter()
            .all(|r| r.get("mpls_labels").is_none_or(|v| v.is_null()))
    );
    let out = ok(&["sql", "-q", "--format", "nd-json", "-c", &sql]);
    assert_eq!(out.lines().count(), 450);
    let out = ok(&["sql", "-q", "--maxrows", "3", "-c", &sql]);
    assert!(
        out.contains("mpls_labels") && out.contains(&src[0]),
        "{out}"
    );
}

/// A nested value that is not an MPLS stack prints as Arrow displays it; an MPLS stack as
/// nfdump does (`mpls_text`), in the printed formats and in a COPY to CSV alike.
#[test]
fn nested_values_print_as_text() {
    let sql = "SELECT make_array(1, 2) AS a, \
               arrow_cast(make_array(257, 16010, 0, 0, 0, 0, 0, 0, 0, 0), 'FixedSizeList(10, UInt32)') AS mpls";
    let out = ok(&["sql", "-q", "--format", "csv", "-c", sql]);
    assert_eq!(
        out,
        "a,mpls\n\"[1, 2]\",16-0-1 1000-5-0 0-0-0 0-0-0 0-0-0 0-0-0 0-0-0 0-0-0 0-0-0 0-0-0\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested.csv");
    let path = path.to_str().unwrap();
    ok(&[
        "sql",
        "-q",
        "-c",
        &format!("COPY ({sql}) TO '{path}' STORED AS CSV"),
    ]);
    assert_eq!(std::fs::read_to_string(path).unwrap(), out);
}

#[test]
fn copy_select_star_to_csv_json_and_parquet() {
    let file = repo(FILE);
    let dir = tempfile::tempdir().unwrap();
    let src = nfdump_addresses();
    for format in ["csv", "json", "parquet"] {
        let path = dir.path().join(format!("all.{format}"));
        let path = path.to_str().unwrap();
        let copy = format!(
            "COPY (SELECT * FROM nfcapd('{file}')) TO '{path}' STORED AS {}",
            format.to_uppercase()
        );
        ok(&["sql", "-q", "-c", &copy]);
        let read = format!("SELECT count(*), count(DISTINCT src_ip), sum(octets) FROM '{path}'");
        let out = ok(&["sql", "-q", "--format", "csv", "-c", &read]);
        let distinct = src
            .iter()
            .map(|a| &a.0)
            .collect::<std::collections::HashSet<_>>();
        assert_eq!(
            out.lines().nth(1).unwrap(),
            format!("450,{},1217124", distinct.len()),
            "{format}"
        );
    }
    // Parquet keeps the stack nested, as the table has it
    let path = dir.path().join("all.parquet");
    let t = format!(
        "SELECT arrow_typeof(mpls_labels) FROM '{}' LIMIT 1",
        path.display()
    );
    let out = ok(&["sql", "-q", "--format", "csv", "-c", &t]);
    assert!(out.contains("FixedSizeList"), "{out}");
}

#[test]
fn convert_nfcapd_to_parquet_keeps_every_column() {
    let file = repo(FILE);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("all.parquet");
    let out = out.to_str().unwrap();
    ok(&["convert", "-i", "nfcapd", "-o", "parquet", "-O", out, &file]);
    let columns = |sql: &str| -> usize {
        ok(&["sql", "-q", "--format", "csv", "-c", sql])
            .lines()
            .next()
            .unwrap()
            .split(',')
            .count()
    };
    let table = columns(&format!("SELECT * FROM nfcapd('{file}') LIMIT 1"));
    assert!(table > 60, "{table} columns");
    assert_eq!(columns(&format!("SELECT * FROM '{out}' LIMIT 1")), table);
    let sql = format!("SELECT src_ip, dst_ip FROM '{out}'");
    let got = ok(&["sql", "-q", "--format", "csv", "-c", &sql]);
    let want: Vec<String> = nfdump_addresses()
        .into_iter()
        .map(|(s, d)| format!("{s},{d}"))
        .collect();
    assert_eq!(got.lines().skip(1).collect::<Vec<_>>(), want);
    // the flow formats keep the 21 flow-models fields
    let csv = ok(&[
        "convert", "-i", "nfcapd", "-o", "csv_flow", "-O", "-", &file,
    ]);
    assert_eq!(csv.lines().next().unwrap().split(", ").count(), 21);
    // and a binary trace refuses a text column, naming it
    let trace = dir.path().join("trace");
    let copy = format!(
        "COPY (SELECT packets, src_ip FROM nfcapd('{file}')) TO '{}' STORED AS FLOWBIN",
        trace.display()
    );
    let o = flow_models(&["sql", "-q", "-c", &copy]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("column 'src_ip' has type Utf8"),
        "{}",
        text(&o.stderr)
    );
}

/// The interactive shell (datafusion-cli's, statements read from standard input) in csv and
/// tsv prints what `-c` prints: `SELECT *` with the MPLS stacks as text.
#[test]
fn the_interactive_shell_prints_nested_columns_as_text_in_csv_and_tsv() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let file = repo("tests/data/nfcapd/nfgen/nf17latest_nfgen.nfcapd");
    let sql = format!("SELECT * FROM nfcapd('{file}') WHERE mpls_labels IS NOT NULL");
    for format in ["csv", "tsv"] {
        let want = ok(&["sql", "-q", "--format", format, "-c", &sql]);
        assert!(want.contains("1010-0-0 2020-0-0"), "{want}");
        // (in a directory of its own: the shell keeps its history in `.history` there)
        let home = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_flow-models"))
            .current_dir(home.path())
            .args(["sql", "-q", "--format", format])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{sql};").unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        // (datafusion-cli echoes its quit command at the end of the input)
        let got = text(&out.stdout);
        let got = got.trim_end().trim_end_matches("\\q").trim_end();
        assert_eq!(got, want.trim_end(), "{format}: {}", text(&out.stderr));
    }
}

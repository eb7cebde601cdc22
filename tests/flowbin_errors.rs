//! Bad binary traces fail with a message that names the file and the problem, never a panic.

use datafusion::prelude::SessionContext;
use flow_models::flow_provider::SessionContextFlowExt;
use std::fs;
use std::path::Path;

fn write_u64s(path: &Path, values: &[u64]) {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
    fs::write(path, bytes).unwrap();
}

/// The error of registering `dir`, which must fail.
fn error_of(dir: &Path) -> String {
    let ctx = SessionContext::new();
    match ctx.register_flowbin("t", dir) {
        Ok(()) => panic!("{} was accepted", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn size_not_a_multiple_of_the_type_width() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("packets.Q"), [0u8; 13]).unwrap();
    let e = error_of(dir.path());
    assert!(
        e.contains("packets.Q: size 13 bytes is not a multiple of 8 (the width of type 'Q')"),
        "{e}"
    );
}

#[test]
fn columns_of_different_lengths() {
    let dir = tempfile::tempdir().unwrap();
    write_u64s(&dir.path().join("packets.Q"), &[1, 2, 3]);
    write_u64s(&dir.path().join("octets.Q"), &[1, 2]);
    let e = error_of(dir.path());
    assert!(
        e.contains("columns differ in length: packets.Q has 3 rows, octets.Q has 2 rows"),
        "{e}"
    );
}

#[test]
fn the_same_field_twice() {
    let dir = tempfile::tempdir().unwrap();
    write_u64s(&dir.path().join("packets.Q"), &[1]);
    fs::write(dir.path().join("_packets.I"), [0u8; 4]).unwrap();
    let e = error_of(dir.path());
    assert!(
        e.contains("field 'packets' is stored twice: _packets.I and packets.Q"),
        "{e}"
    );
}

#[test]
fn missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let e = error_of(&dir.path().join("nope"));
    assert!(e.contains("nope: No such file or directory"), "{e}");
}

#[test]
fn a_file_instead_of_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("packets.Q");
    write_u64s(&file, &[1]);
    let e = error_of(&file);
    assert!(e.contains("packets.Q is not a directory"), "{e}");
}

#[test]
fn empty_directory_and_unrelated_files() {
    let dir = tempfile::tempdir().unwrap();
    let e = error_of(dir.path());
    assert!(e.contains("holds no flow-models column files"), "{e}");
    // Files that don't follow the naming scheme are ignored, so this is still empty.
    fs::write(dir.path().join("README.md"), "notes").unwrap();
    fs::write(dir.path().join("packets.Z"), [0u8; 8]).unwrap();
    let e = error_of(dir.path());
    assert!(e.contains("holds no flow-models column files"), "{e}");
}

#[test]
fn unreadable_file() {
    let dir = tempfile::tempdir().unwrap();
    write_u64s(&dir.path().join("packets.Q"), &[1]);
    // A dangling link cannot be opened whatever the user's privileges (tests may run as root,
    // who can read a chmod-000 file).
    std::os::unix::fs::symlink(dir.path().join("gone"), dir.path().join("octets.Q")).unwrap();
    let e = error_of(dir.path());
    assert!(e.contains("cannot read") && e.contains("octets.Q"), "{e}");
}

#[test]
fn conflicting_types_across_traces() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = (root.path().join("a"), root.path().join("b"));
    fs::create_dir(&a).unwrap();
    fs::create_dir(&b).unwrap();
    write_u64s(&a.join("packets.Q"), &[1]);
    fs::write(b.join("packets.I"), [0u8; 4]).unwrap();
    let e = error_of(root.path());
    assert!(
        e.contains("field 'packets' has type 'Q' in") && e.contains("but 'I' in"),
        "{e}"
    );
}

#[tokio::test]
async fn a_file_truncated_after_planning_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    write_u64s(&dir.path().join("packets.Q"), &(0..100).collect::<Vec<_>>());
    write_u64s(&dir.path().join("octets.Q"), &(0..100).collect::<Vec<_>>());
    let ctx = SessionContext::new();
    ctx.register_flowbin("t", dir.path()).unwrap();
    let df = ctx.sql("SELECT sum(octets) FROM t").await.unwrap();
    fs::write(dir.path().join("octets.Q"), [0u8; 80]).unwrap();
    let e = df.collect().await.unwrap_err().to_string();
    assert!(e.contains("beyond the end of the column"), "{e}");
    // Projection pushdown: a query that doesn't use octets never opens it, so it still works.
    let batches = ctx
        .sql("SELECT sum(packets) FROM t")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let sum =
        arrow::compute::cast(batches[0].column(0), &arrow::datatypes::DataType::UInt64).unwrap();
    let sum = sum
        .as_any()
        .downcast_ref::<arrow::array::UInt64Array>()
        .unwrap()
        .value(0);
    assert_eq!(sum, 4950);
}

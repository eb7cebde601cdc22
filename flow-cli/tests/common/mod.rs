//! Helpers shared by the CLI test binaries.

use std::path::Path;

/// `path` (relative to the repository root) as an absolute path string.
#[allow(dead_code)] // Not every test binary reads repository files.
pub fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .to_string_lossy()
        .into_owned()
}

/// Runs the `flow-models` binary with `args`.
#[allow(dead_code)] // Not every test binary runs it through here.
pub fn flow_models(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_flow-models"))
        .args(args)
        .output()
        .expect("run flow-models")
}

/// The Python of flow-models 2.2 (`FLOW_MODELS_PYTHON`, default `python3`), or `None` with a
/// message saying the comparison is skipped.
#[allow(dead_code)] // Not every test binary compares with the original.
pub fn original_python() -> Option<String> {
    let python = std::env::var("FLOW_MODELS_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = std::process::Command::new(&python)
        .args(["-c", "import flow_models"])
        .output();
    if probe.is_ok_and(|o| o.status.success()) {
        Some(python)
    } else {
        eprintln!("skipped the original: flow-models 2.2 not at {python} (set FLOW_MODELS_PYTHON)");
        None
    }
}

/// The objects of `store` below `prefix`, by key, with their bytes.
#[allow(dead_code)] // The object-store tests use it.
pub fn objects(store: impl object_store::ObjectStore, prefix: &str) -> Vec<(String, Vec<u8>)> {
    use futures::TryStreamExt;
    use object_store::ObjectStoreExt;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let prefix = object_store::path::Path::from(prefix);
        let mut metas: Vec<_> = store.list(Some(&prefix)).try_collect().await.unwrap();
        metas.sort_by(|a, b| a.location.cmp(&b.location));
        let mut out = Vec::new();
        for m in metas {
            let bytes = store.get(&m.location).await.unwrap().bytes().await.unwrap();
            out.push((m.location.to_string(), bytes.to_vec()));
        }
        out
    })
}

/// Puts `bytes` into `store` as `key`.
#[allow(dead_code)] // The object-store tests use it.
pub fn put_object(store: impl object_store::ObjectStore, key: &str, bytes: Vec<u8>) {
    use object_store::ObjectStoreExt;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let key = object_store::path::Path::from(key);
    rt.block_on(store.put(&key, bytes.into())).unwrap();
}

/// A server process of a test, killed when dropped.
#[allow(dead_code)] // The tests that start servers use it.
pub struct Killed(pub std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP port of 127.0.0.1 free at the time of the call.
#[allow(dead_code)]
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Waits until something listens on `port` of 127.0.0.1 (`what` did not start after `secs`).
#[allow(dead_code)]
pub fn wait_for_port(port: u16, what: &str, secs: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "{what} did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Output bytes as text.
#[allow(dead_code)] // Not every test binary reads output.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `flow-models args`' standard output, once it succeeded (the test fails with its stderr
/// otherwise).
#[allow(dead_code)] // Not every test binary runs the tool this way.
pub fn ok(args: &[&str]) -> String {
    let o = flow_models(args);
    assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
    text(&o.stdout)
}

/// Every file of a directory: name → bytes, by name.
#[allow(dead_code)] // Not every test binary compares directories.
pub fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

//! A real Azure Blob API server for the az:// tests, started on 127.0.0.1: Azurite, Microsoft's
//! emulator (npm; checks SharedKey signatures), which `.ci/setup` installs under
//! `$AZURITE_ROOT` (default `~/.cache/flow-models/azurite`) with `@azure/storage-blob`, whose
//! client creates the test container (object_store cannot). The tests skip with a message when
//! it is not there. Included as `#[path = "common/azure.rs"] mod azure;`.

#![allow(dead_code)] // Each test binary uses a part.

use object_store::ObjectStore;
use object_store::azure::MicrosoftAzureBuilder;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const CONTAINER: &str = "flows";
/// Azurite's account and its well-known key (public: Microsoft's documentation gives them).
const ACCOUNT: &str = "devstoreaccount1";
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A running Azurite; killed when dropped.
pub struct Azurite {
    _child: crate::common::Killed,
    pub endpoint: String,
    _root: tempfile::TempDir,
}

fn install_dir() -> PathBuf {
    match std::env::var_os("AZURITE_ROOT") {
        Some(root) => PathBuf::from(root),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/flow-models/azurite"),
    }
}

/// Starts Azurite with an empty container `flows`, or says why the test is skipped.
pub fn start() -> Option<Azurite> {
    let modules = install_dir().join("node_modules");
    let bin = modules.join(".bin/azurite-blob");
    if !bin.exists() || !modules.join("@azure/storage-blob").exists() {
        eprintln!(
            "skipped: no Azurite under {} (.ci/setup installs it)",
            modules.display()
        );
        return None;
    }
    let port = crate::common::free_port();
    let root = tempfile::tempdir().unwrap();
    let child = Command::new(&bin)
        .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
        .args(["--silent", "--skipApiVersionCheck", "--location"])
        .arg(root.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Azurite {
        _child: crate::common::Killed(child),
        endpoint: format!("http://127.0.0.1:{port}"),
        _root: root,
    };
    crate::common::wait_for_port(port, "Azurite", 30);
    let script = format!(
        "require('@azure/storage-blob').BlobServiceClient.fromConnectionString(\
         'DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};\
         BlobEndpoint={}/{ACCOUNT};').createContainer('{CONTAINER}')\
         .catch(e => {{ console.error(e.message); process.exit(1); }})",
        server.endpoint
    );
    let made = Command::new("node")
        .args(["-e", &script])
        .env("NODE_PATH", &modules)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&made.stderr);
    assert!(made.status.success(), "creating the container: {err}");
    Some(server)
}

impl Azurite {
    pub fn store(&self) -> impl ObjectStore {
        MicrosoftAzureBuilder::new()
            .with_endpoint(format!("{}/{ACCOUNT}", self.endpoint))
            .with_allow_http(true)
            .with_account(ACCOUNT)
            .with_access_key(KEY)
            .with_container_name(CONTAINER)
            .build()
            .unwrap()
    }

    /// Uploads a local file as `key`.
    pub fn upload(&self, local: &Path, key: &str) {
        crate::common::put_object(self.store(), key, std::fs::read(local).unwrap());
    }

    /// `flow-models` configured for this server through the environment, as an Azurite user
    /// configures object_store: the emulator flag, its URL, and the account key `key`.
    pub fn command(&self, key: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_flow-models"));
        c.env("AZURE_STORAGE_USE_EMULATOR", "true")
            .env("AZURITE_BLOB_STORAGE_URL", &self.endpoint)
            .env("AZURE_STORAGE_ACCOUNT_KEY", key);
        c
    }

    pub fn run(&self, args: &[&str], key: &str) -> Output {
        self.command(key).args(args).output().unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args, KEY);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{args:?}: {err}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// The objects below `prefix`, by key, with their bytes.
    pub fn objects(&self, prefix: &str) -> Vec<(String, Vec<u8>)> {
        crate::common::objects(self.store(), prefix)
    }
}

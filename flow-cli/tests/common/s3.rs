//! A real S3 API server for the object-store tests, started on 127.0.0.1: `s3s-fs` (checks
//! SigV4 signatures) or `moto_server` from moto[server]; `.ci/setup` installs them and the tests
//! skip with a message when neither is there. Included by the tests that need it as
//! `#[path = "common/s3.rs"] mod s3;`.

#![allow(dead_code)] // Each test binary uses a part.

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub const BUCKET: &str = "flows";

/// A running S3 API server; killed when dropped.
pub struct S3Server {
    _child: crate::common::Killed,
    pub endpoint: String,
    /// The server checks SigV4 signatures (s3s-fs); moto accepts any key.
    pub checks_keys: bool,
    _root: tempfile::TempDir,
}

pub fn on_path(program: &str) -> bool {
    Command::new(program)
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Starts a server with an empty bucket `flows`, or says why the test is skipped.
pub fn start() -> Option<S3Server> {
    let port = crate::common::free_port();
    let root = tempfile::tempdir().unwrap();
    let (child, checks_keys) = if on_path("s3s-fs") {
        std::fs::create_dir(root.path().join(BUCKET)).unwrap();
        let child = Command::new("s3s-fs")
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", "test", "--secret-key", "testsecret"])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        (child, true)
    } else if on_path("moto_server") {
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        (child, false)
    } else {
        eprintln!("skipped: no S3 API server (s3s-fs or moto_server; .ci/setup installs them)");
        return None;
    };
    let server = S3Server {
        _child: crate::common::Killed(child),
        endpoint: format!("http://127.0.0.1:{port}"),
        checks_keys,
        _root: root,
    };
    crate::common::wait_for_port(port, "the S3 server", 20);
    if !checks_keys {
        // moto makes a bucket on an unsigned PUT of its name.
        use std::io::{Read, Write};
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            s,
            "PUT /{BUCKET} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut reply = String::new();
        let _ = s.read_to_string(&mut reply);
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    }
    Some(server)
}

impl S3Server {
    pub fn store(&self) -> impl ObjectStore {
        AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_bucket_name(BUCKET)
            .with_access_key_id("test")
            .with_secret_access_key("testsecret")
            .build()
            .unwrap()
    }

    /// Uploads a local file as `key`.
    pub fn upload(&self, local: &Path, key: &str) {
        self.upload_bytes(std::fs::read(local).unwrap(), key);
    }

    /// Uploads `bytes` as `key`.
    pub fn upload_bytes(&self, bytes: Vec<u8>, key: &str) {
        crate::common::put_object(self.store(), key, bytes);
    }

    /// Uploads every file of the local trace `dir` under `prefix` (as `aws s3 cp
    /// --recursive` would: no marker, nothing but the column files).
    pub fn upload_trace(&self, dir: &str, prefix: &str) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            self.upload(&path, &format!("{prefix}/{name}"));
        }
    }

    /// The environment configuring `flow-models` for this server, with `secret`.
    pub fn env(&self, secret: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", secret.into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// `flow-models` configured for this server through the environment, with `secret`.
    pub fn command(&self, secret: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_flow-models"));
        c.envs(self.env(secret));
        c
    }

    /// Runs `flow-models` configured for this server through the environment.
    pub fn run(&self, args: &[&str], secret: &str) -> Output {
        self.command(secret).args(args).output().unwrap()
    }

    /// The objects below `prefix`, by key, with their bytes.
    pub fn objects(&self, prefix: &str) -> Vec<(String, Vec<u8>)> {
        crate::common::objects(self.store(), prefix)
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args, "testsecret");
        assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
        text(&o.stdout)
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

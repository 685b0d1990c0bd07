//! A differential test of the DynamoDB endpoint against moto's server (started here from the
//! tools venv): the same generated operations and expressions (conditions, filters, key
//! conditions, projections, updates; single items, batches, transactions) must give the same
//! items and the same error codes. See `support/dynamodb_differential.py` for the generator and
//! the known moto gaps it avoids.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A moto server, killed when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Self {
        let port = {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
            listener.local_addr().unwrap().port()
        };
        let server = common::venv_python().with_file_name("moto_server");
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} ({e})", server.display()));
        let mut moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Some(status) = moto.child.try_wait().unwrap() {
                panic!("moto_server exited early with {status}");
            }
            assert!(Instant::now() < deadline, "moto_server did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_operations_agree_with_moto() {
    let stack = common::stack().await;
    let moto = Moto::start();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/dynamodb_differential.py"
    );
    for seed in [1, 2, 3] {
        let out = tokio::process::Command::new(common::venv_python())
            .args([
                script,
                &stack.endpoint,
                &moto.endpoint,
                &seed.to_string(),
                "150",
            ])
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "seed {seed}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["compared"], 150);
        assert_eq!(
            report["mismatch_count"],
            0,
            "seed {seed}: {}",
            serde_json::to_string_pretty(&report).unwrap()
        );
    }
}

//! A moto server (`moto_server` from the `moto[server]` Python package) on a free port of
//! 127.0.0.1, for the tests that check a DynamoDB client or endpoint against it. Shared by
//! `durapipe-aws`'s `tests/moto.rs` and `durapipe-local`'s `tests/dynamodb_moto.rs` (through
//! `#[path]`).

use std::ffi::OsStr;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A moto server, killed when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Moto {
    /// Starts `server` (a `moto_server` executable: a path, or a name looked up on `PATH`) and
    /// waits (at most 30 s) until it listens. Panics, naming `server`, when it cannot start.
    pub fn start(server: impl AsRef<OsStr>) -> Self {
        let server = server.as_ref();
        let port = {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
            listener.local_addr().unwrap().port()
        };
        let child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}): install moto[server] (scripts/tools puts it in \
                     $HOME/.cache/durapipe/venv/bin)",
                    server.to_string_lossy()
                )
            });
        let mut moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = moto.child.try_wait().unwrap() {
                panic!("moto_server exited early with {status}");
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return moto;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

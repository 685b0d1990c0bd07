//! An unusable data directory — read-only, on a full disk, holding a corrupt database, or already
//! used by another `durapipe up` — makes `durapipe up` exit non-zero at once with an error that
//! names the problem, and nothing is left listening (never a half-started stack).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[allow(dead_code)]
#[path = "chaos_harness/process.rs"]
mod process;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{is_root, Mount};
use process::{TempDir, Up, BIN};

/// Runs `durapipe up` on a free fixed port and expects it to fail within 20 s: non-zero exit,
/// no banner, `expected` in stderr, and nothing listening on the port afterwards.
fn up_fails(data_dir: &Path, expected: &[&str]) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .args(["up", "--listen", &listen, "--data-dir"])
        .arg(data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!(
                "durapipe up on {} did not fail within 20 s",
                data_dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !status.success(),
        "durapipe up succeeded on {}",
        data_dir.display()
    );
    assert!(
        !stdout.contains("durapipe is up"),
        "it printed its banner: {stdout}"
    );
    for e in expected {
        assert!(stderr.contains(e), "stderr lacks {e:?}:\n{stderr}");
    }
    assert!(
        std::net::TcpStream::connect(&listen).is_err(),
        "something still listens on {listen}"
    );
    stderr
}

#[test]
fn a_corrupt_database_is_refused_at_once() {
    let dir = TempDir::new("corrupt").unwrap();
    let data = dir.0.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("durapipe.db"), vec![0xA5; 64 * 1024]).unwrap();
    let stderr = up_fails(&data, &["cannot open the database", "durapipe.db"]);
    assert!(stderr.contains("not a database"), "{stderr}");
    // The file is left as it was, for the operator to inspect.
    assert_eq!(
        std::fs::read(data.join("durapipe.db")).unwrap(),
        vec![0xA5; 64 * 1024]
    );
}

#[test]
fn a_read_only_data_directory_is_refused_at_once() {
    let dir = TempDir::new("read-only").unwrap();
    let data = dir.0.join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Root ignores permission bits, so as root the directory is a read-only mount instead.
    let _mount = if is_root() {
        Some(Mount::tmpfs(&data, "ro,size=1m"))
    } else {
        let mut perms = std::fs::metadata(&data).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
        std::fs::set_permissions(&data, perms).unwrap();
        None
    };
    up_fails(&data, &["data directory", "durapipe.lock"]);
}

#[test]
fn a_full_disk_is_refused_at_once() {
    assert!(
        is_root(),
        "this test mounts a 64 KiB tmpfs and needs root (the gate runs as root)"
    );
    let dir = TempDir::new("full").unwrap();
    let data = dir.0.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let _mount = Mount::tmpfs(&data, "size=64k");
    // Fill it up, leaving a few bytes.
    let filler = vec![0u8; 60 * 1024];
    let _ = std::fs::write(data.join("filler"), &filler);
    up_fails(&data, &["durapipe: error", "disk is full"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_durapipe_on_the_same_data_directory_is_refused_and_the_first_keeps_running() {
    let dir = TempDir::new("in-use").unwrap();
    let data = dir.0.join("data");
    let first = Up::start(&data, &[], &dir.0.join("log"), Duration::from_secs(60))
        .await
        .unwrap();
    let data2 = data.clone();
    tokio::task::spawn_blocking(move || {
        up_fails(&data2, &["data directory", "in use by another durapipe"])
    })
    .await
    .unwrap();
    let addr = first.endpoint.trim_start_matches("http://").to_owned();
    let health = tokio::net::TcpStream::connect(&addr).await;
    assert!(health.is_ok(), "the first stack stopped listening");
    let status = first.terminate(Duration::from_secs(30)).await.unwrap();
    assert!(status.success());
}

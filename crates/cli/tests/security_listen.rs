//! Off-machine means credentials: `durapipe up` on a non-loopback address without
//! `--credentials` refuses to start and names the flags; `--insecure-no-auth` starts it with a
//! warning in the banner. Bad credentials are refused without echoing the secret.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::{banner_endpoint, spawn_up, wait_until};

fn up_output(args: &[&str]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(common::BIN)
        .args(["up", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(args)
        .env_remove("DURAPIPE_CREDENTIALS")
        .env_remove("DURAPIPE_CREDENTIALS_FILE")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn a_network_listener_without_credentials_refuses_to_start() {
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let (ok, output) = up_output(&["--listen", listen]);
        assert!(!ok, "{listen}: started without credentials:\n{output}");
        assert!(output.contains("--credentials"), "{listen}: {output}");
        assert!(output.contains("--insecure-no-auth"), "{listen}: {output}");
        assert!(!output.contains("durapipe is up"), "{output}");
    }
}

#[test]
fn insecure_no_auth_starts_with_a_warning_and_credentials_start_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, stdout, _) = spawn_up_on(
        &dir.path().join("open"),
        &["--listen", "0.0.0.0:0", "--insecure-no-auth"],
    );
    wait_until(std::time::Duration::from_secs(60), "the banner", || {
        banner_endpoint(&stdout.lock().unwrap()).is_some()
    });
    let banner = stdout.lock().unwrap().clone();
    assert!(banner.contains("WARNING"), "{banner}");
    assert!(banner.contains("--insecure-no-auth"), "{banner}");
    let _ = child.kill();
    let _ = child.wait();

    let (mut child, stdout, _) = spawn_up_on(
        &dir.path().join("signed"),
        &[
            "--listen",
            "0.0.0.0:0",
            "--credentials",
            "AKIDLISTEN:listen-s3cret",
        ],
    );
    wait_until(std::time::Duration::from_secs(60), "the banner", || {
        banner_endpoint(&stdout.lock().unwrap()).is_some()
    });
    let banner = stdout.lock().unwrap().clone();
    assert!(!banner.contains("WARNING"), "{banner}");
    assert!(banner.contains("AKIDLISTEN"), "{banner}");
    assert!(!banner.contains("listen-s3cret"), "{banner}");
    let _ = child.kill();
    let _ = child.wait();
    // The loopback default needs nothing (spawn_up listens on 127.0.0.1:0).
    let (mut child, stdout, _) = spawn_up(&dir.path().join("loopback"), &[]);
    wait_until(std::time::Duration::from_secs(60), "the banner", || {
        banner_endpoint(&stdout.lock().unwrap()).is_some()
    });
    assert!(!stdout.lock().unwrap().contains("WARNING"));
    let _ = child.kill();
    let _ = child.wait();
}

type Spawned = (
    std::process::Child,
    std::sync::Arc<std::sync::Mutex<String>>,
    std::sync::Arc<std::sync::Mutex<String>>,
);

/// `durapipe up --data-dir <dir> <args>` with its output collected (no default --listen).
fn spawn_up_on(data: &std::path::Path, args: &[&str]) -> Spawned {
    use std::io::BufRead as _;
    let mut child = Command::new(common::BIN)
        .args(["up", "--data-dir"])
        .arg(data)
        .args(args)
        .env_remove("DURAPIPE_CREDENTIALS")
        .env_remove("DURAPIPE_CREDENTIALS_FILE")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let err = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    for (stream, into) in [
        (
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            out.clone(),
        ),
        (Box::new(child.stderr.take().unwrap()), err.clone()),
    ] {
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                into.lock().unwrap().push_str(&(line + "\n"));
            }
        });
    }
    (child, out, err)
}

#[test]
fn bad_credentials_are_refused_without_echoing_them() {
    for (args, env) in [
        (vec!["--credentials", "no-colon-s3cret"], None),
        (vec!["--credentials", "bad key:s3cret"], None),
        (vec![], Some("AKID:s3cret with space")),
        (
            vec![
                "--credentials",
                "AKID:s3cret",
                "--credentials-file",
                "/nonexistent",
            ],
            None,
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(common::BIN);
        cmd.args(["up", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(&args)
            .env_remove("DURAPIPE_CREDENTIALS_FILE");
        match env {
            Some(v) => cmd.env("DURAPIPE_CREDENTIALS", v),
            None => cmd.env_remove("DURAPIPE_CREDENTIALS"),
        };
        let out = cmd.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {text}");
        assert!(text.contains("credentials"), "{args:?}: {text}");
        assert!(
            !text.contains("s3cret"),
            "{args:?} echoes the secret: {text}"
        );
    }
}

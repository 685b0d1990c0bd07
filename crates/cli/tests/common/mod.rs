//! Shared harness for the `durapipe` binary's acceptance tests: spawn `durapipe up` on port 0 in
//! a temp data dir, parse the banner's endpoint, wait for `/health`, stop it with a signal, and
//! run the `durapipe` client subcommands, the real AWS CLI and the venv's Python against it.
//! Everything is blocking (std threads and processes); each test owns its stack.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_durapipe");

/// The seed's message.
pub const SEED: &str = r#"{"data_source": "test.csv", "processing_type": "standard"}"#;

/// A running `durapipe up`; killed (SIGKILL) on drop if still running.
pub struct Up {
    child: Child,
    /// `http://127.0.0.1:PORT` from the banner.
    pub endpoint: String,
    /// `--data-dir`.
    pub data_dir: PathBuf,
    /// Everything printed so far.
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

fn pump(stream: impl std::io::Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            into.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
}

/// Spawns `durapipe up --listen 127.0.0.1:0 --data-dir <dir> <args>` without waiting.
pub fn spawn_up(data_dir: &Path, args: &[&str]) -> (Child, Arc<Mutex<String>>, Arc<Mutex<String>>) {
    let mut child = Command::new(BIN)
        .args(["up", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(args)
        .env_remove("DURAPIPE_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (out, err) = (
        Arc::new(Mutex::new(String::new())),
        Arc::new(Mutex::new(String::new())),
    );
    pump(child.stdout.take().unwrap(), out.clone());
    pump(child.stderr.take().unwrap(), err.clone());
    (child, out, err)
}

/// Starts `durapipe up` on `data_dir` and waits until the banner is printed and `/health` is 200.
pub fn up(data_dir: &Path, args: &[&str]) -> Up {
    let (mut child, stdout, stderr) = spawn_up(data_dir, args);
    let deadline = Instant::now() + Duration::from_secs(60);
    let endpoint = loop {
        let text = stdout.lock().unwrap().clone();
        if let Some(e) = banner_endpoint(&text) {
            break e;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "durapipe up exited ({status}) before its banner:\n{text}\n{}",
                stderr.lock().unwrap()
            );
        }
        assert!(
            Instant::now() < deadline,
            "no banner within 60 s:\n{text}\n{}",
            stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let stack = Up {
        child,
        endpoint,
        data_dir: data_dir.to_path_buf(),
        stdout,
        stderr,
    };
    wait_until(Duration::from_secs(10), "GET /health = 200", || {
        http(&stack.endpoint, "GET", "/health", &[], "").map(|r| r.0) == Some(200)
    });
    stack
}

/// The endpoint on the banner's first line (`... on http://HOST:PORT`).
pub fn banner_endpoint(stdout: &str) -> Option<String> {
    let line = stdout.lines().find(|l| l.starts_with("durapipe is up"))?;
    let at = line.find("http://")?;
    Some(line[at..].trim().to_owned())
}

impl Up {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// `http://HOST:PORT/000000000000/<name>`.
    pub fn queue_url(&self, name: &str) -> String {
        format!("{}/000000000000/{name}", self.endpoint)
    }

    /// Sends `signal` (`TERM`, `INT`, `KILL`) to the process.
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{signal} failed");
    }

    /// Waits at most `timeout` for the process to exit.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the pump threads drain the pipes.
                std::thread::sleep(Duration::from_millis(50));
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "durapipe up still running {timeout:?} after the signal:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM (or `signal`) and wait; returns the exit status.
    pub fn stop(mut self, signal: &str) -> (ExitStatus, String, String) {
        self.signal(signal);
        let status = self.wait(Duration::from_secs(40));
        (status, self.stdout(), self.stderr())
    }

    /// Runs `durapipe <args> --endpoint <this stack>`.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .args(["--endpoint", &self.endpoint])
            .env_remove("DURAPIPE_ENDPOINT")
            .output()
            .unwrap()
    }

    /// Like [`Up::cli`], asserting success; returns stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "durapipe {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `durapipe scan` parsed.
    pub fn scan(&self) -> Vec<Value> {
        serde_json::from_str::<Value>(&self.cli_ok(&["scan"]))
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    /// The AWS CLI against this stack (with a private config dir `home`).
    pub fn aws<'a>(&'a self, home: &'a Path) -> Aws<'a> {
        Aws {
            endpoint: &self.endpoint,
            home,
        }
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `check` every 100 ms until it is true; fails the test after `timeout`.
pub fn wait_until(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A minimal HTTP/1.1 request over a fresh connection: `(status, body)`, `None` if it could not
/// connect.
pub fn http(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<(u16, String)> {
    let host = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body.as_bytes()).ok()?;
    let mut out = String::new();
    stream.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// The AWS CLI: `$DURAPIPE_AWS_CLI`, else `$HOME/.cache/durapipe/venv/bin/aws`.
pub fn aws_cli() -> PathBuf {
    let path = std::env::var_os("DURAPIPE_AWS_CLI")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/durapipe/venv/bin/aws")
        });
    assert!(
        path.is_file(),
        "the AWS CLI is missing at {} — install awscli into $HOME/.cache/durapipe/venv or set DURAPIPE_AWS_CLI",
        path.display()
    );
    path
}

/// The venv's Python (next to the AWS CLI), for boto3.
pub fn venv_python() -> PathBuf {
    let python = aws_cli().with_file_name("python");
    assert!(
        python.is_file(),
        "python with boto3 is missing at {}",
        python.display()
    );
    python
}

/// The AWS CLI pointed at a stack, with throwaway credentials and config.
pub struct Aws<'a> {
    pub endpoint: &'a str,
    pub home: &'a Path,
}

impl Aws<'_> {
    /// A command for `program` with the AWS environment of this stack.
    pub fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", self.home.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.home.join("credentials"))
            .env("AWS_PAGER", "")
            .env("DURAPIPE_ENDPOINT", self.endpoint);
        cmd
    }

    /// `aws <args> --endpoint-url <endpoint> --output json`: (success, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = self
            .command(&aws_cli())
            .args(args)
            .args(["--endpoint-url", self.endpoint, "--output", "json"])
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Like [`Aws::run`], asserting success; stdout parsed (`Null` when empty).
    pub fn json(&self, args: &[&str]) -> Value {
        let (ok, stdout, stderr) = self.run(args);
        assert!(ok, "aws {args:?} failed: {stderr}");
        if stdout.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("aws {args:?}: {e}: {stdout}"))
    }
}

/// The AWS CLI arguments reading every attribute of the queue at `url`:
/// `aws sqs get-queue-attributes --queue-url <url> --attribute-names All`.
pub fn queue_attributes_args(url: &str) -> [&str; 6] {
    [
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        url,
        "--attribute-names",
        "All",
    ]
}

/// The first line of stdout of a one-line `durapipe send`: the message id.
pub fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}

/// One AWS JSON 1.0 call (`X-Amz-Target: {target}`) with a JSON body: `(status, body)`.
pub fn aws_json(endpoint: &str, target: &str, body: &Value) -> (u16, Value) {
    let (status, text) = http(
        endpoint,
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", target),
        ],
        &body.to_string(),
    )
    .unwrap_or_else(|| panic!("{target}: no answer from {endpoint}"));
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `(visible, in flight)` messages of queue `name`.
pub fn queue_depth(endpoint: &str, name: &str) -> (u64, u64) {
    let url = format!("{endpoint}/000000000000/{name}");
    let (status, out) = aws_json(
        endpoint,
        "AmazonSQS.GetQueueAttributes",
        &serde_json::json!({"QueueUrl": url, "AttributeNames": ["All"]}),
    );
    assert_eq!(status, 200, "{out}");
    let get = |n: &str| {
        out["Attributes"][n]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {n} in {out}"))
    };
    (
        get("ApproximateNumberOfMessages"),
        get("ApproximateNumberOfMessagesNotVisible"),
    )
}

/// Sends `body` to queue `name` over the SQS endpoint; returns the message id.
pub fn send_to(endpoint: &str, name: &str, body: &str) -> String {
    let url = format!("{endpoint}/000000000000/{name}");
    let (status, out) = aws_json(
        endpoint,
        "AmazonSQS.SendMessage",
        &serde_json::json!({"QueueUrl": url, "MessageBody": body}),
    );
    assert_eq!(status, 200, "{out}");
    out["MessageId"].as_str().unwrap().to_owned()
}

/// Writes `lines` as a JSONL file in `dir` and returns its path.
pub fn jsonl(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// `n` valid seed-like bodies with distinct `data_source`s `{prefix}-{i}.csv`.
pub fn valid_bodies(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!(r#"{{"data_source": "{prefix}-{i}.csv", "processing_type": "standard"}}"#))
        .collect()
}

/// Whether the tests run as root (tmpfs mounts need it; the gate runs as root).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A tmpfs mounted on a directory (needs root), unmounted on drop.
pub struct Mount(PathBuf);

impl Mount {
    /// `mount -t tmpfs -o <options> tmpfs <dir>`.
    pub fn tmpfs(dir: &Path, options: &str) -> Self {
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(status.success(), "mount -t tmpfs -o {options} failed");
        Self(dir.to_path_buf())
    }

    /// Changes the mount's size while it is in use.
    pub fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success(), "mount -o remount,size={size} failed");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

//! One `durapipe up` child process: spawn it on `127.0.0.1:0`, read the endpoint from its banner,
//! and stop it with SIGKILL or SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_durapipe");

/// A running `durapipe up`; killed on drop if still running.
pub struct Up {
    child: Child,
    /// `http://127.0.0.1:PORT` from the banner.
    pub endpoint: String,
}

/// The endpoint on the banner's first line, if `text` holds it.
pub fn banner_endpoint(line: &str) -> Option<String> {
    let rest = line.strip_prefix("durapipe is up: ")?;
    let at = rest.find("http://")?;
    Some(rest[at..].trim().to_owned())
}

impl Up {
    /// Starts `durapipe up --listen 127.0.0.1:0 --data-dir <dir> <args>`, appending its stderr
    /// to `log`, and waits (at most `limit`) for the banner.
    pub async fn start(
        data_dir: &Path,
        args: &[String],
        log: &Path,
        limit: Duration,
    ) -> Result<Self, String> {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
        let mut child = Command::new(BIN)
            .args(["up", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(args)
            .env("DURAPIPE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot spawn {BIN}: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let mut lines = BufReader::new(stdout).lines();
        let endpoint = tokio::time::timeout(limit, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(endpoint) = banner_endpoint(&line) {
                    return Some(endpoint);
                }
            }
            None
        })
        .await;
        let endpoint = match endpoint {
            Ok(Some(endpoint)) => endpoint,
            Ok(None) => {
                let status = child.wait().await.map_err(|e| e.to_string())?;
                return Err(format!(
                    "durapipe up exited ({status}) before its banner; see {}",
                    log.display()
                ));
            }
            Err(_) => {
                return Err(format!(
                    "durapipe up printed no banner within {limit:?}; see {}",
                    log.display()
                ))
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { child, endpoint })
    }

    /// SIGKILL: no chance to flush, checkpoint or close anything.
    pub async fn kill(mut self) -> Result<(), String> {
        self.child
            .start_kill()
            .map_err(|e| format!("cannot SIGKILL: {e}"))?;
        self.child.wait().await.map_err(|e| e.to_string())?;
        Ok(())
    }

    /// SIGTERM, then waits at most `limit` for the exit status.
    pub async fn terminate(mut self, limit: Duration) -> Result<ExitStatus, String> {
        let pid = self.child.id().ok_or("the child has already exited")?;
        // `kill` the command: the workspace forbids unsafe code, so no libc::kill here.
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if !sent.success() {
            return Err(format!("kill -TERM {pid} failed: {sent}"));
        }
        tokio::time::timeout(limit, self.child.wait())
            .await
            .map_err(|_| format!("durapipe did not exit within {limit:?} of SIGTERM"))?
            .map_err(|e| e.to_string())
    }
}

/// A fresh, empty directory under the system temp dir (removed by [`TempDir`]'s drop).
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/durapipe-{label}-{pid}-{nanos}`.
    pub fn new(label: &str) -> Result<Self, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("durapipe-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("DURAPIPE_CHAOS_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

//! A `chorus-server` child process for test layers that need a real server on a local port.
//!
//! The server runs in single-port mode (REST and `/msg_gateway` on one ephemeral port) on a fresh
//! data directory under `target/xtask/`, with a random admin secret; it is killed when the
//! [`TestServer`] is dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};

/// The admin user id the server is started with.
pub const ADMIN: &str = "imAdmin";

/// A running server.
#[derive(Debug)]
pub struct TestServer {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub api: String,
    /// The admin secret.
    pub secret: String,
    data: PathBuf,
}

impl TestServer {
    /// Starts `bin` with a data directory under `scratch`.
    pub fn start(bin: &Path, scratch: &Path) -> Result<TestServer> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let data = scratch.join(format!("server-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
        let secret = format!("xtask-{nanos:x}");
        let mut child = Command::new(bin)
            .arg("--data")
            .arg(&data)
            .args([
                "--single",
                "127.0.0.1:0",
                "--secret",
                &secret,
                "--admin",
                ADMIN,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("chorus-server listening on ") {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        let api = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(api) => api,
            Err(_) => {
                let _ = child.kill();
                bail!("{} did not report its address within 30 s", bin.display());
            }
        };
        eprintln!("chorus-server for the browser tests at {api}");
        Ok(TestServer {
            child,
            api,
            secret,
            data,
        })
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

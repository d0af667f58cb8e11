//! Child processes: run with inherited output, run while teeing output, or read output quietly.
//!
//! This module only starts processes and reports what they did. It never interprets their
//! output (that is `summary`) and never decides what a failure means (the commands do).

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;

use anyhow::{bail, Context, Result};

/// What a teed child printed, and how it ended.
#[derive(Debug)]
pub struct Captured {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// `program arg1 arg2 …`, for messages.
pub fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

fn announce(cmd: &Command) {
    eprintln!("$ {}", describe(cmd));
}

fn spawn_error(cmd: &Command) -> String {
    format!(
        "could not start `{}` (is `{}` installed and on PATH?)",
        describe(cmd),
        cmd.get_program().to_string_lossy()
    )
}

/// Runs `cmd` with the terminal as its output; fails unless it exits with status 0.
pub fn run(cmd: &mut Command) -> Result<()> {
    announce(cmd);
    let status = cmd.status().with_context(|| spawn_error(cmd))?;
    if !status.success() {
        bail!("`{}` failed ({status})", describe(cmd));
    }
    Ok(())
}

/// Runs `cmd`, copying its stdout and stderr to ours as they arrive while keeping a copy of
/// each. A non-zero exit is not an error here: callers read the output either way.
pub fn tee(cmd: &mut Command) -> Result<Captured> {
    announce(cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| spawn_error(cmd))?;
    let out = child.stdout.take().context("child stdout was not piped")?;
    let err = child.stderr.take().context("child stderr was not piped")?;
    // One thread per stream: reading them one after the other could deadlock once the
    // unread pipe's buffer fills up.
    let out = thread::spawn(move || pump(out, io::stdout()));
    let err = thread::spawn(move || pump(err, io::stderr()));
    let status = child
        .wait()
        .with_context(|| format!("waiting for `{}`", describe(cmd)))?;
    let stdout = out
        .join()
        .map_err(|_| anyhow::anyhow!("stdout reader panicked"))??;
    let stderr = err
        .join()
        .map_err(|_| anyhow::anyhow!("stderr reader panicked"))??;
    Ok(Captured {
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

/// Copies `from` to `to` chunk by chunk (so progress shows up immediately) and returns
/// everything read. Write errors on our side (a closed terminal) do not stop the capture.
fn pump(mut from: impl Read, mut to: impl Write) -> io::Result<Vec<u8>> {
    let mut all = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(all),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        all.extend_from_slice(chunk);
        let _ = to.write_all(chunk);
        let _ = to.flush();
    }
}

/// Runs `cmd` silently and returns its stdout; fails on a non-zero exit, showing its stderr.
pub fn read(cmd: &mut Command) -> Result<String> {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| spawn_error(cmd))?;
    if !output.status.success() {
        bail!(
            "`{}` failed ({}): {}",
            describe(cmd),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Stdout of `program args…` if it starts and succeeds, `None` otherwise. For version probes,
/// where "not installed" and "broken" both mean "install it".
pub fn probe<S: AsRef<OsStr>>(program: impl AsRef<OsStr>, args: &[S]) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

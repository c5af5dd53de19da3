//! An external driver: a command run on a prepared case folder, whose standard output
//! is the transcript.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// How long a driver may take on one case.
pub(crate) const DRIVER_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `command` (a shell command line) with `folder` appended as its last argument.
/// Returns the transcript and how long the driver took.
pub(crate) fn run(command: &str, folder: &Path) -> Result<(Value, Duration)> {
    // Through `sh` so that a driver given as `node driver.mjs` or with quoted paths
    // runs as the user typed it; the folder is passed as a positional argument, never
    // spliced into the command line.
    let start = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("{command} \"$1\""))
        .arg("conformance-driver")
        .arg(folder)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("failed to start the driver `{command}`"))?;
    // Read both pipes on threads so that a chatty driver cannot block on a full pipe.
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let status = loop {
        if let Some(status) = child.try_wait().context("failed to wait for the driver")? {
            break status;
        }
        if start.elapsed() > DRIVER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "the driver did not finish within {} s",
                DRIVER_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr);
    if !status.success() {
        bail!(
            "the driver exited with {status}; its standard error:\n{}",
            stderr.trim_end()
        );
    }
    let transcript = serde_json::from_slice(&stdout).with_context(|| {
        format!(
            "the driver's standard output is not one JSON object: {:?}{}",
            String::from_utf8_lossy(&stdout[..stdout.len().min(300)]),
            if stderr.trim().is_empty() {
                String::new()
            } else {
                format!("\nits standard error:\n{}", stderr.trim_end())
            }
        )
    })?;
    Ok((transcript, elapsed))
}

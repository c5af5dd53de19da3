//! Who holds a data directory: the desk that has it open writes its process id, its
//! command and the URL it serves (if any) into the lock file, so that a command it
//! keeps out can say whom to stop or where to go instead.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

/// The most of a lock file read: a holder writes a few lines; anything longer is not
/// one, and is not read whole into a message.
const MAX_READ: u64 = 4096;
/// The most of one value shown.
const MAX_VALUE: usize = 200;

/// The desk that holds a data directory, as its lock file describes it. Each part is
/// absent when the file does not give it (a desk of an earlier version writes nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockHolder {
    /// Its process id.
    pub pid: Option<u32>,
    /// What it runs, e.g. `cargo otai-plugin dev` (never its arguments: they may hold a
    /// secret, `desk configure --set token=…`).
    pub command: Option<String>,
    /// Where it serves the desk's web UI, e.g. `http://127.0.0.1:8080`.
    pub url: Option<String>,
}

impl LockHolder {
    /// This process, running `command`, serving `url`.
    pub(crate) fn this_process(command: &str, url: Option<&str>) -> LockHolder {
        LockHolder {
            pid: Some(std::process::id()),
            command: Some(command.to_owned()),
            url: url.map(str::to_owned),
        }
    }

    /// The name this process was started as (its file name only), for a desk opened by
    /// a program that does not say what it runs.
    pub(crate) fn program_name() -> String {
        std::env::args_os()
            .next()
            .and_then(|p| {
                std::path::Path::new(&p)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "a program".to_owned())
    }

    /// Replaces the lock file's text with this holder's (the file is ours: we hold it).
    pub(crate) fn write(&self, file: &mut File) -> std::io::Result<()> {
        let mut text = String::new();
        if let Some(pid) = self.pid {
            text.push_str(&format!("pid={pid}\n"));
        }
        for (key, value) in [("command", &self.command), ("url", &self.url)] {
            if let Some(v) = value {
                text.push_str(&format!("{key}={}\n", clean(v)));
            }
        }
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(text.as_bytes())?;
        file.flush()
    }

    /// What another desk's lock file says, every value cleaned: it is shown in a
    /// terminal, and the file is anyone's who can write to the directory. `None` when
    /// it says nothing usable (empty, foreign, or unreadable: on Windows a locked file
    /// cannot be read by another process).
    pub(crate) fn read(file: &mut File) -> Option<LockHolder> {
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0)).ok()?;
        file.take(MAX_READ).read_to_end(&mut bytes).ok()?;
        let text = String::from_utf8_lossy(&bytes);
        let mut holder = LockHolder::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = clean(value);
            match key {
                "pid" => holder.pid = value.parse().ok(),
                "command" if !value.is_empty() => holder.command = Some(value),
                // Only a web address is offered as one to open.
                "url" if value.starts_with("http://") || value.starts_with("https://") => {
                    holder.url = Some(value);
                }
                _ => {}
            }
        }
        (holder != LockHolder::default()).then_some(holder)
    }
}

impl std::fmt::Display for LockHolder {
    /// `process 4242 (cargo otai-plugin dev), serving http://127.0.0.1:8080`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.pid, &self.command) {
            (Some(pid), Some(command)) => write!(f, "process {pid} (`{command}`)")?,
            (Some(pid), None) => write!(f, "process {pid}")?,
            (None, Some(command)) => write!(f, "`{command}`")?,
            (None, None) => f.write_str("a desk")?,
        }
        if let Some(url) = &self.url {
            write!(f, ", serving {url}")?;
        }
        Ok(())
    }
}

/// A value as it may be shown: one line, no control characters (a terminal's escape
/// sequences), at most [`MAX_VALUE`] characters.
fn clean(value: &str) -> String {
    let mut out: String = value
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_VALUE + 1)
        .collect();
    if out.chars().count() > MAX_VALUE {
        out = out.chars().take(MAX_VALUE).collect();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(bytes: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn a_holder_reads_back_as_written() {
        let mut f = tempfile::tempfile().unwrap();
        let holder = LockHolder::this_process("cargo otai-plugin dev", Some("http://127.0.0.1:9"));
        holder.write(&mut f).unwrap();
        assert_eq!(LockHolder::read(&mut f), Some(holder.clone()));
        // A shorter text replaces a longer one whole.
        let short = LockHolder {
            pid: Some(7),
            ..LockHolder::default()
        };
        short.write(&mut f).unwrap();
        assert_eq!(LockHolder::read(&mut f), Some(short));
        assert_eq!(
            holder.to_string(),
            format!(
                "process {} (`cargo otai-plugin dev`), serving http://127.0.0.1:9",
                std::process::id()
            )
        );
    }

    #[test]
    fn a_foreign_lock_file_shows_nothing_it_should_not() {
        // Escape sequences, a script URL, a huge value, no lines at all.
        let mut f = file_with(
            b"pid=12x\ncommand=\x1b]0;owned\x07rm -rf\nurl=javascript:alert(1)\nother=1\n",
        );
        let read = LockHolder::read(&mut f).unwrap();
        assert_eq!(read.pid, None);
        assert_eq!(read.command.as_deref(), Some("]0;ownedrm -rf"));
        assert_eq!(read.url, None);
        let mut f = file_with(format!("command={}", "x".repeat(10_000)).as_bytes());
        let long = LockHolder::read(&mut f).unwrap().command.unwrap();
        assert_eq!(long.chars().count(), MAX_VALUE + 1);
        assert_eq!(LockHolder::read(&mut file_with(b"")), None);
        assert_eq!(LockHolder::read(&mut file_with(b"\xff\xfe garbage")), None);
    }
}

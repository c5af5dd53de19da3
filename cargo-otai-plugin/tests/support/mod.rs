//! Shared helpers of the CLI tests: the binary, temporary plugin projects, WAT plugins.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use otai_plugin_test_support::{Allocator, HTTP, LOG, Module, REPLY};
use tempfile::TempDir;

pub use otai_plugin_test_support::wat_string;

/// The `cargo-otai-plugin` binary, with colour off.
pub fn cli() -> Command {
    let mut cmd = Command::cargo_bin("cargo-otai-plugin").expect("the binary is built for tests");
    cmd.env_remove("CLICOLOR_FORCE").env("NO_COLOR", "1");
    cmd
}

/// This checkout: `--sdk-path` of the plugins the tests create, whose SDK must be the
/// one under test (a plugin's default, the SDK from crates.io, is `tests/install.rs`'s).
pub fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the CLI's crate has a parent")
        .to_path_buf()
}

/// The target directory every scaffolded plugin builds into, so that the SDK and its
/// dependencies compile once for the whole test run (cargo's lock serialises builds).
pub fn shared_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffolds")
}

/// A temporary directory holding one project.
pub struct Project {
    _dir: TempDir,
    /// The project's root.
    pub root: PathBuf,
}

impl Project {
    /// An empty temporary directory.
    pub fn empty() -> Project {
        let dir = tempfile::tempdir().expect("a temp dir");
        let root = dir.path().to_path_buf();
        Project { _dir: dir, root }
    }

    /// A plugin created by `cargo otai-plugin new NAME --template TEMPLATE` on this
    /// checkout's SDK (`--sdk-path`), with this workspace's `Cargo.lock` (see
    /// [`pin_dependencies`]).
    pub fn plugin(name: &str, template: &str) -> Project {
        let project = Project::empty();
        cli()
            .current_dir(&project.root)
            .args(["new", name, "--template", template, "--sdk-path"])
            .arg(checkout())
            .assert()
            .success();
        let root = project.root.join(name);
        pin_dependencies(&root);
        Project { root, ..project }
    }

    /// The same temporary directory, with the project's root at `relative` inside it
    /// (where a command run in the old root created a crate).
    pub fn into_subdir(self, relative: &str) -> Project {
        let root = self.root.join(relative);
        Project { root, ..self }
    }

    /// `cargo-otai-plugin ARGS` in the project, with the shared target directory and
    /// without network (see [`offline`]).
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = cli();
        cmd.current_dir(&self.root)
            .env("CARGO_TARGET_DIR", shared_target_dir());
        offline(&mut cmd);
        cmd.args(args);
        cmd
    }

    /// Writes a file (creating directories).
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root.join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dirs");
        std::fs::write(&path, contents).expect("write");
        path
    }

    /// Reads a file.
    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.root.join(relative)).expect("read")
    }

    /// Replaces `from` by `to` in a file, which must contain it.
    pub fn edit(&self, relative: &str, from: &str, to: &str) {
        let text = self.read(relative);
        assert!(text.contains(from), "{relative} does not contain {from:?}");
        self.write(relative, text.replacen(from, to, 1));
    }
}

/// The key of the tests' desks (`OTAI_DESK_KEY`), for a test that opens one itself.
pub const DESK_KEY: &str = "abababababababababababababababababababababababababababababababab";

/// `desk --data-dir DIR ARGS`, under [`DESK_KEY`].
pub fn desk(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = cli();
    cmd.arg("desk")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("OTAI_DESK_KEY", DESK_KEY);
    cmd
}

/// `key new --out PATH`: a new key pair, the private key at `path` and the public at
/// `path.pub`; the public key's line.
pub fn new_key(path: &Path) -> String {
    let output = cli()
        .args(["key", "new", "--out"])
        .arg(path)
        .output()
        .expect("the CLI runs");
    assert!(output.status.success(), "{}", stderr_of(&output));
    std::fs::read_to_string(format!("{}.pub", path.display())).expect("key new wrote the .pub")
}

/// `sign WASM --key KEY`, to run with any more arguments a test adds (`--output`).
pub fn sign(wasm: &Path, key: &Path) -> Command {
    let mut cmd = cli();
    cmd.arg("sign").arg(wasm).arg("--key").arg(key);
    cmd
}

/// The UTF-8 of `text`.
pub fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The UTF-8 of stderr.
pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The default ticket id of the reference host's events.
pub const TICKET: &str = otai_plugin_host::DEFAULT_TICKET_ID;

/// A plugin as another toolchain would produce it (a C or TinyGo plugin, written here
/// in WAT): libc-style `malloc`/`free`, a bump allocator, and an `on_event` that logs,
/// posts to a webhook and adds an internal note.
pub fn wat_plugin() -> Vec<u8> {
    let manifest = r#"{"id":"com.example.wat","name":"WAT","version":"1.0.0","description":"Written by hand.","events":["ticket.created"],"permissions":{"http":{"allowed_hosts":["hooks.example.com"]}}}"#;
    let request = r#"{"method":"POST","url":"https://hooks.example.com/in","body":"hello"}"#;
    let reply = format!(r#"{{"ticket_id":"{TICKET}","body":"noted","is_internal":true}}"#);
    Module::new()
        .imports(&[LOG, HTTP, REPLY])
        .allocator(Allocator::Libc)
        .body(&format!(
            r#"(func (export "on_event") (param i32 i32)
    (call $log (i32.const 0) (i32.const 13) (i32.const 1))
    (drop (call $http (i32.const 100) (i32.const {req_len}) (i32.const 1000) (i32.const 1004)))
    (drop (call $reply (i32.const 400) (i32.const {reply_len}))))
  (data (i32.const 0) "event arrived")
  (data (i32.const 100) "{req}")
  (data (i32.const 400) "{rep}")"#,
            req_len = request.len(),
            reply_len = reply.len(),
            req = wat_string(request),
            rep = wat_string(&reply),
        ))
        .manifest(manifest)
        .wasm()
}

/// A plugin that logs a Rust-style panic message at error level and traps, as the
/// SDK's panic hook does.
pub fn wat_panicking_plugin() -> Vec<u8> {
    let manifest = wat_string(
        r#"{"id":"com.example.panics","name":"Panics","version":"1.0.0","description":"Always panics.","events":["ticket.created"]}"#,
    );
    let message = "panicked at src/lib.rs:7:9:\\nthe webhook URL is empty";
    let wat = format!(
        r#"(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "ohd_alloc") (param i32) (result i32) (i32.const 4096))
  (func (export "ohd_free") (param i32 i32))
  (func (export "on_event") (param i32 i32)
    (call $log (i32.const 0) (i32.const {len}) (i32.const 3))
    unreachable)
  (data (i32.const 0) "{message}")
  (@custom "ohd_manifest" "{manifest}"))"#,
        len = message.len() - 1,
    );
    wat::parse_str(wat).expect("valid WAT")
}

/// A plugin with a UI panel: a true multi-value `render_panel`.
pub fn wat_panel_plugin() -> Vec<u8> {
    let manifest = wat_string(
        r#"{"id":"com.example.panel","name":"Panel","version":"1.0.0","description":"A panel.","events":["ticket.created"],"permissions":{"http":{"allowed_hosts":["panel.example.com"]}},"ui_panel":{"title":"P","height":100}}"#,
    );
    let url = "https://panel.example.com/t/1";
    let wat = format!(
        r#"(module
  (memory (export "memory") 1)
  (func (export "ohd_alloc") (param i32) (result i32) (i32.const 4096))
  (func (export "ohd_free") (param i32 i32))
  (func (export "on_event") (param i32 i32))
  (func (export "render_panel") (param i32 i32) (result i32 i32) (i32.const 0) (i32.const {len}))
  (data (i32.const 0) "{url}")
  (@custom "ohd_manifest" "{manifest}"))"#,
        len = url.len(),
    );
    wat::parse_str(wat).expect("valid WAT")
}

/// Gives a generated plugin crate this workspace's `Cargo.lock`: cargo keeps the versions
/// it lists for the crate's dependencies, so a test run builds what the workspace was
/// tested with, not whatever the registry has newest that day, and shares compiled
/// dependencies with the other tests.
pub fn pin_dependencies(plugin_root: &Path) {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    std::fs::copy(&lock, plugin_root.join("Cargo.lock")).expect("copy the workspace's Cargo.lock");
}

/// No network for the builds `cmd` runs, once every package of the workspace's lock file
/// for the host and `wasm32-unknown-unknown` is downloaded ([`fetch_locked`]): a build
/// then gets exactly what the lock file lists, and one that would need anything else
/// (an unpinned dependency) fails instead of resolving it against the registry.
pub fn offline(cmd: &mut Command) {
    fetch_locked();
    cmd.env("CARGO_NET_OFFLINE", "true");
}

/// Downloads the packages of the workspace's `Cargo.lock` that builds for the host and
/// for `wasm32-unknown-unknown` may need, once per test binary.
///
/// Building the workspace's tests downloads only what they compile: not, for one, what
/// the SDK's `component` feature needs for wasm32 (wit-bindgen's macros), which a
/// `--component` build of a plugin compiles. Without this, an offline build passes only
/// where another command happened to download it first, and fails on a fresh machine.
/// `cargo fetch` is a no-op once everything is there.
pub fn fetch_locked() {
    static FETCHED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    FETCHED.get_or_init(|| {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let host = std::process::Command::new(rustc)
            .args(["--print", "host-tuple"])
            .output()
            .expect("rustc runs");
        let host = String::from_utf8(host.stdout).expect("UTF-8 host tuple");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let output = std::process::Command::new(cargo)
            .args(["fetch", "--locked", "--manifest-path"])
            .arg(&workspace)
            .args([
                "--target",
                "wasm32-unknown-unknown",
                "--target",
                host.trim(),
            ])
            .env_remove("CARGO_NET_OFFLINE")
            .output()
            .expect("cargo fetch runs");
        assert!(
            output.status.success(),
            "`cargo fetch --locked` of {} failed:\n{}",
            workspace.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    });
}

/// A plugin allowed to reach `allowed` whose `on_event` sends `GET url` and logs the
/// body it gets back (the server's, or the host's error body) at info.
pub fn wat_get_plugin(allowed: &str, url: &str) -> Vec<u8> {
    let manifest = serde_json::json!({
        "id": "com.example.get", "name": "Get", "version": "1.0.0",
        "description": "Sends one GET.", "events": ["ticket.created"],
        "permissions": { "http": { "allowed_hosts": [allowed] } }
    })
    .to_string();
    let request = serde_json::json!({ "method": "GET", "url": url }).to_string();
    Module::new()
        .imports(&[LOG, HTTP])
        .body(&format!(
            r#"(func (export "on_event") (param i32 i32)
    (drop (call $http (i32.const 100) (i32.const {len}) (i32.const 0) (i32.const 4)))
    (call $log (i32.load (i32.const 0)) (i32.load (i32.const 4)) (i32.const 1)))
  (data (i32.const 100) "{req}")"#,
            len = request.len(),
            req = wat_string(&request),
        ))
        .manifest(&manifest)
        .wasm()
}

/// A long-running command (`dev`) whose output the test reads as it comes, and which
/// is killed when the test ends, passed or failed.
pub struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    /// Starts `command` with both output streams piped into one sequence of lines.
    pub fn spawn(mut command: std::process::Command) -> Running {
        use std::io::{BufRead, BufReader, Read};
        use std::process::Stdio;
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{command:?} does not start: {e}"));
        let (tx, lines) = std::sync::mpsc::channel::<String>();
        let streams: [Box<dyn Read + Send>; 2] = [
            Box::new(child.stdout.take().expect("stdout is piped")),
            Box::new(child.stderr.take().expect("stderr is piped")),
        ];
        for stream in streams {
            let tx = tx.clone();
            std::thread::spawn(move || {
                BufReader::new(stream)
                    .lines()
                    .map_while(Result::ok)
                    .for_each(|line| drop(tx.send(line)));
            });
        }
        Running {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first line from now on that holds `needle`; the test fails, showing what the
    /// command printed, if none comes within five minutes (a build may be in between).
    pub fn wait_for(&mut self, needle: &str) -> String {
        loop {
            match self.lines.recv_timeout(std::time::Duration::from_secs(300)) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => self.seen.push(line),
                Err(e) => panic!(
                    "the command never printed {needle:?} ({e}); it printed:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The address `dev` serves the desk on, from its `listening on` line.
    pub fn dev_base(&mut self) -> String {
        let line = self.wait_for("listening on http://127.0.0.1:");
        line.trim_start_matches("listening on ").to_owned()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

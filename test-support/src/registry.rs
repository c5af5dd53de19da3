//! A real OCI registry for tests: Debian's `docker-registry` (the CNCF Distribution
//! registry), started on a free loopback port with its storage in a folder of its own,
//! and stopped when the test is done.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Where Debian's `docker-registry` package puts the registry.
pub const REGISTRY_BINARY: &str = "/usr/bin/docker-registry";

/// A user the [`Registry::with_htpasswd`] registry accepts, with [`REGISTRY_PASSWORD`].
pub const REGISTRY_USER: &str = "otai";
/// [`REGISTRY_USER`]'s password.
pub const REGISTRY_PASSWORD: &str = "s3cret";
/// `otai:s3cret` in htpasswd's bcrypt form (cost 5, made once with libxcrypt's
/// `crypt`): no crate of the workspace computes bcrypt, and the registry reads only it.
const HTPASSWD: &str = "otai:$2b$05$abcdefghijklmnopqrstuuLK7U1u6pVRmL7L1BBM2aS35PSZnDXlK\n";

/// A running `docker-registry`, killed (and its folder removed) on drop.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Registry {
    /// Starts an open registry, or returns `None`, saying why on stderr, when
    /// [`REGISTRY_BINARY`] is not installed (outside CI: under `CI` a missing registry
    /// fails the test, since CI installs it).
    ///
    /// # Panics
    /// When the registry does not start or does not answer `GET /v2/` in time.
    pub fn start() -> Option<Registry> {
        Registry::launch(false)
    }

    /// As [`Registry::start`], with htpasswd authentication: only [`REGISTRY_USER`] with
    /// [`REGISTRY_PASSWORD`] may pull or push.
    pub fn with_htpasswd() -> Option<Registry> {
        Registry::launch(true)
    }

    /// `127.0.0.1:PORT`, the registry part of a reference.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn launch(htpasswd: bool) -> Option<Registry> {
        if !Path::new(REGISTRY_BINARY).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI runs the registry tests: install Debian's docker-registry"
            );
            eprintln!("skipped: {REGISTRY_BINARY} is missing (apt-get install docker-registry)");
            return None;
        }
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "otai-registry-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).expect("the registry's folder is created");
        // The port is free when asked and taken by the registry a moment later; another
        // process may take it between the two, so a registry that exits is tried again.
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a loopback port binds")
                .port();
            let mut config = format!(
                "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n\
                 http:\n  addr: 127.0.0.1:{port}\n  secret: otai-test-only\n",
                data = dir.join("data").display()
            );
            if htpasswd {
                std::fs::write(dir.join("htpasswd"), HTPASSWD).expect("htpasswd is written");
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: otai-test\n    path: {}\n",
                    dir.join("htpasswd").display()
                ));
            }
            let config_path = dir.join("config.yml");
            std::fs::write(&config_path, config).expect("the registry's config is written");
            let log = std::fs::File::create(dir.join("registry.log")).expect("a log file");
            let child = Command::new(REGISTRY_BINARY)
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("the log file is cloned"))
                .stderr(log)
                .spawn()
                .expect("docker-registry starts");
            let mut child = child;
            match wait_until_up(&mut child, &dir, port) {
                Ok(()) => return Some(Registry { child, dir, port }),
                Err(e) => {
                    last_error = e;
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        panic!("docker-registry did not start: {last_error}");
    }
}

/// Polls `GET /v2/` (200, or 401 with htpasswd) every 20 ms for at most 10 s.
fn wait_until_up(child: &mut Child, dir: &Path, port: u16) -> Result<(), String> {
    let log = || std::fs::read_to_string(dir.join("registry.log")).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("it exited ({status}): {}", log()));
        }
        if let Some(status) = v2_status(port)
            && (status == 200 || status == 401)
        {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!("`GET /v2/` did not answer within 10 s: {}", log()))
}

fn v2_status(port: u16) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

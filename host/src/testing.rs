//! Helpers for plugin authors' own `cargo test`: load the built plugin, configure it,
//! script HTTP, deliver events and assert on the reports.
//!
//! Everything here panics with the whole report on a failed assertion: that is what
//! a test helper should do. By default no request leaves the process: HTTP goes to a
//! [`MockHttp`] with no rules (every request fails with a `network` error saying no
//! mock matched) until [`TestHost::http`] gives one.
//!
//! ```
//! use otai_plugin_host::{Event, testing::TestHost, http::MockHttp};
//! use serde_json::json;
//!
//! # let wasm = wat::parse_str(r#"(module
//! #   (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
//! #   (memory (export "memory") 1)
//! #   (global $next (mut i32) (i32.const 1024))
//! #   (func (export "ohd_alloc") (param $n i32) (result i32)
//! #     (local $p i32) (local.set $p (global.get $next))
//! #     (global.set $next (i32.add (global.get $next) (local.get $n))) (local.get $p))
//! #   (func (export "ohd_free") (param i32 i32))
//! #   (func (export "on_event") (param i32 i32) (call $log (i32.const 0) (i32.const 5) (i32.const 1)))
//! #   (data (i32.const 0) "hello")
//! #   (@custom "ohd_manifest" "{\"id\":\"com.example.hello\",\"name\":\"Hello\",\"version\":\"1.0.0\",\"description\":\"Says hello.\",\"events\":[\"ticket.created\"]}"))"#)?;
//! # let dir = tempfile_dir();
//! # let path = dir.join("hello.wasm");
//! # std::fs::write(&path, &wasm)?;
//! // In a plugin crate: TestHost::load_file("target/wasm32-unknown-unknown/release/my_plugin.wasm")
//! let plugin = TestHost::load_file(&path)?
//!     .config(json!({}))
//!     .http(MockHttp::new().on("POST", "https://hooks.slack.com/*").respond(200, "ok"));
//! plugin.deliver(Event::ticket_created()).assert_ok().assert_logged("hello");
//! # fn tempfile_dir() -> std::path::PathBuf {
//! #     let d = std::env::temp_dir().join(format!("otai-doc-{}", std::process::id()));
//! #     std::fs::create_dir_all(&d).unwrap(); d
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Borrow;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use otai_plugin_abi::calls::HttpRequest;
use serde_json::{Value, json};

use crate::builder::HostBuilder;
use crate::error::LoadError;
use crate::event::Event;
use crate::host::Host;
use crate::http::{HttpResponse, HttpTransport, MockHttp, TransportError};
use crate::load::Plugin;
use crate::report::{DeliveryReport, Outcome, PanelReport};

/// A transport the test can swap after the host is built.
#[derive(Clone)]
struct Switch(Arc<RwLock<Arc<dyn HttpTransport>>>);

impl HttpTransport for Switch {
    fn send(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        let current = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        current.send(request, timeout)
    }
}

/// One plugin on its own host, for tests.
pub struct TestHost {
    host: Host,
    plugin: Plugin,
    http: Switch,
    configured: bool,
}

impl std::fmt::Debug for TestHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestHost")
            .field("plugin", &self.plugin)
            .finish_non_exhaustive()
    }
}

impl TestHost {
    /// Loads module bytes on a host with default settings.
    ///
    /// # Errors
    /// [`LoadError`] as [`Host::load`].
    ///
    /// # Panics
    /// When the host cannot be built (it can always be with default settings).
    pub fn load(bytes: &[u8]) -> Result<TestHost, LoadError> {
        TestHost::load_with(Host::builder(), bytes)
    }

    /// Reads and loads a module file.
    ///
    /// # Errors
    /// [`LoadError`] as [`Host::load_file`].
    pub fn load_file(path: impl AsRef<Path>) -> Result<TestHost, LoadError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.to_owned(),
            source,
        })?;
        TestHost::load(&bytes)
    }

    /// Loads module bytes on a host built from `builder` (its HTTP transport is
    /// replaced by the test's, so a `builder` with
    /// [`HostBuilder::allow_internal_addresses`] is refused: give [`TestHost::http`] a
    /// [`RealHttp`](crate::http::RealHttp) set up as the test needs instead).
    ///
    /// # Errors
    /// [`LoadError`] as [`Host::load`].
    ///
    /// # Panics
    /// When `builder` has an invalid setting.
    #[track_caller]
    pub fn load_with(builder: HostBuilder, bytes: &[u8]) -> Result<TestHost, LoadError> {
        let mock: Arc<dyn HttpTransport> = Arc::new(MockHttp::new());
        let http = Switch(Arc::new(RwLock::new(mock)));
        let host = match builder.http(http.clone()).build() {
            Ok(h) => h,
            Err(e) => panic!("TestHost: {e}"),
        };
        let plugin = host.load(bytes)?;
        Ok(TestHost {
            host,
            plugin,
            http,
            configured: false,
        })
    }

    /// Installs the plugin with `config`.
    ///
    /// # Panics
    /// When the config does not match the manifest's `config_schema`, listing why.
    #[track_caller]
    pub fn config(mut self, config: Value) -> Self {
        if let Err(e) = self.host.install(&self.plugin, config) {
            panic!("TestHost: {e}");
        }
        self.configured = true;
        self
    }

    /// Sends the plugin's HTTP requests to `transport` (usually a [`MockHttp`]; keep
    /// a clone to inspect [`MockHttp::requests`]).
    pub fn http(self, transport: impl HttpTransport + 'static) -> Self {
        *self.http.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(transport);
        self
    }

    /// The host, for anything the helpers do not cover.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The loaded plugin.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    #[track_caller]
    fn ensure_installed(&self) {
        if !self.configured
            && !self
                .host
                .installed()
                .iter()
                .any(|id| id == self.plugin.id())
            && let Err(e) = self.host.install(&self.plugin, json!({}))
        {
            panic!("TestHost: no config given and the empty config is not valid: {e}");
        }
    }

    /// Delivers `event` (installing with `{}` if no config was given).
    ///
    /// # Panics
    /// When the plugin does not subscribe to the event or is disabled.
    #[track_caller]
    pub fn deliver(&self, event: impl Borrow<Event>) -> DeliveryReport {
        self.ensure_installed();
        match self.host.deliver_to(self.plugin.id(), event.borrow()) {
            Ok(report) => report,
            Err(e) => panic!("TestHost: {e}"),
        }
    }

    /// Asks for the plugin's panel URL for `ticket_id`.
    ///
    /// # Panics
    /// When the plugin has no panel or is disabled.
    #[track_caller]
    pub fn render_panel(&self, ticket_id: &str) -> PanelReport {
        self.ensure_installed();
        match self.host.render_panel(self.plugin.id(), ticket_id) {
            Ok(report) => report,
            Err(e) => panic!("TestHost: {e}"),
        }
    }
}

#[track_caller]
fn fail(what: String, snapshot: String) -> ! {
    panic!("{what}\n--- report ---\n{snapshot}")
}

/// Assertions for tests; each panics with the whole report when it fails.
impl DeliveryReport {
    /// Asserts the outcome is `ok`.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        if self.outcome != Outcome::Ok {
            fail(
                format!("expected outcome `ok`, got {:?}", self.outcome),
                self.to_snapshot(),
            );
        }
        self
    }

    /// Asserts the outcome is `trapped` and the trap message or the plugin's reason
    /// (its panic message or handler error) contains `needle`.
    #[track_caller]
    pub fn assert_trapped(&self, needle: &str) -> &Self {
        match &self.outcome {
            Outcome::Trapped {
                message, reason, ..
            } if message.contains(needle)
                || reason.as_deref().is_some_and(|r| r.contains(needle)) => {}
            other => fail(
                format!("expected a trap mentioning {needle:?}, got {other:?}"),
                self.to_snapshot(),
            ),
        }
        self
    }

    /// Asserts the outcome is `timed_out`.
    #[track_caller]
    pub fn assert_timed_out(&self) -> &Self {
        if self.outcome != Outcome::TimedOut {
            fail(
                format!("expected outcome `timed_out`, got {:?}", self.outcome),
                self.to_snapshot(),
            );
        }
        self
    }

    /// Asserts a log line contains `needle`.
    #[track_caller]
    pub fn assert_logged(&self, needle: &str) -> &Self {
        if !self.logs.iter().any(|l| l.message.contains(needle)) {
            fail(
                format!("expected a log line containing {needle:?}"),
                self.to_snapshot(),
            );
        }
        self
    }

    /// Asserts an HTTP request with `method` went to `url` (a prefix when it ends
    /// with `*`).
    #[track_caller]
    pub fn assert_requested(&self, method: &str, url: &str) -> &Self {
        let hit = self.http.iter().any(|x| {
            x.request.method.eq_ignore_ascii_case(method)
                && match url.strip_suffix('*') {
                    Some(prefix) => x.request.url.starts_with(prefix),
                    None => x.request.url == url,
                }
        });
        if !hit {
            fail(
                format!("expected a `{method} {url}` request"),
                self.to_snapshot(),
            );
        }
        self
    }

    /// Asserts a reply whose body contains `needle` was added.
    #[track_caller]
    pub fn assert_reply(&self, needle: &str) -> &Self {
        if !self.replies.iter().any(|r| r.body.contains(needle)) {
            fail(
                format!("expected a reply containing {needle:?}"),
                self.to_snapshot(),
            );
        }
        self
    }

    /// Asserts custom field `key` was set to `value`.
    #[track_caller]
    pub fn assert_custom_field(&self, key: &str, value: &str) -> &Self {
        if !self
            .custom_fields
            .iter()
            .any(|f| f.key == key && f.value == value)
        {
            fail(
                format!("expected custom field `{key}` = {value:?}"),
                self.to_snapshot(),
            );
        }
        self
    }
}

/// Assertions for tests; each panics with the whole report when it fails.
impl PanelReport {
    /// Asserts the call returned and its URL was accepted; returns the URL.
    #[track_caller]
    pub fn assert_url(&self) -> &str {
        match (&self.outcome, &self.url) {
            (Outcome::Ok, Some(url)) => url,
            _ => panic!(
                "expected an accepted panel URL\n--- report ---\n{}",
                serde_json::to_string_pretty(self).unwrap_or_default()
            ),
        }
    }

    /// Asserts the URL was refused with a reason containing `needle`.
    #[track_caller]
    pub fn assert_refused(&self, needle: &str) -> &Self {
        if !self.refused.as_deref().is_some_and(|r| r.contains(needle)) {
            panic!(
                "expected the panel URL to be refused mentioning {needle:?}\n--- report ---\n{}",
                serde_json::to_string_pretty(self).unwrap_or_default()
            );
        }
        self
    }
}

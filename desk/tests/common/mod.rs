//! The desk's web UI, started for a test: a desk with one plugin that has a config
//! field of each kind and a panel, served on a free loopback port.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

pub mod webdriver;

use otai_plugin_desk::web::{PanelHost, WebState};
use otai_plugin_desk::{Desk, DeskOptions};
use otai_plugin_host::http::MockHttp;
use otai_plugin_test_support::{FIELD, LOG, Module};
use serde_json::json;

/// A plugin with one config field of each kind, logging `config.channel`, setting a
/// custom field and, with a `ui_panel`, a panel URL on panel.example.com.
pub fn module(version: &str, hosts: &[&str]) -> Vec<u8> {
    let manifest = json!({
        "id": "com.example.web", "name": "Web test", "version": version,
        "description": "d", "events": ["ticket.created", "ticket.closed"],
        "permissions": {"http": {"allowed_hosts": hosts}},
        "ui_panel": {"title": "Web panel", "height": 180},
        "config_schema": {
            "token": {"type": "string", "required": true, "secret": true, "label": "API token"},
            "channel": {"type": "string", "default": "#support"},
            "retries": {"type": "integer", "label": "Retries"},
            "loud": {"type": "boolean"},
            "region": {"type": "select", "options": ["eu", "us"], "default": "eu"}
        }
    });
    module_with(&manifest)
}

/// The plugin of [`module`] with another manifest.
pub fn module_with(manifest: &serde_json::Value) -> Vec<u8> {
    Module::new()
        .imports(&[LOG, FIELD])
        .body(
            r#"(func (export "on_event") (param $p i32) (param $n i32)
    (call $log (i32.const 0) (i32.const 12) (i32.const 1))
    (drop (call $field (i32.const 100) (i32.const 71))))
  (func (export "render_panel") (param $p i32) (param $n i32) (result i32 i32)
    (i32.const 300) (i32.const 31))
  (data (i32.const 0) "hello, desk!")
  (data (i32.const 100) "{\"ticket_id\":\"01JQXYZ8K2M4N6P8R0T2V4W6Y8\",\"key\":\"jira\",\"value\":\"OPS-7\"}")
  (data (i32.const 300) "https://panel.example.com/p?t=1")"#,
        )
        .manifest(&manifest.to_string())
        .wasm()
}

/// A plugin whose every delivery traps.
pub fn failing_module() -> Vec<u8> {
    failing_module_as("com.example.failing", "Always failing")
}

/// A plugin whose every delivery traps, under another id and name.
pub fn failing_module_as(id: &str, name: &str) -> Vec<u8> {
    let manifest = json!({
        "id": id, "name": name, "version": "1.0.0",
        "description": "d", "events": ["ticket.created"]
    })
    .to_string()
    .replace('"', "\\\"");
    wat::parse_str(format!(
        r#"(module
  (memory (export "memory") 1)
  (func (export "ohd_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "ohd_free") (param i32 i32))
  (func (export "on_event") (param i32 i32) unreachable)
  (@custom "ohd_manifest" "{manifest}"))"#
    ))
    .unwrap()
}

pub struct Server {
    pub base: String,
    pub state: Arc<WebState>,
    panel_base: String,
    running: Running,
    dir: tempfile::TempDir,
}

pub fn open_desk(dir: &std::path::Path) -> Desk {
    Desk::open_with(
        dir,
        DeskOptions {
            http: Arc::new(MockHttp::new()),
            key: Some("ab".repeat(32)),
            ..DeskOptions::default()
        },
    )
    .unwrap()
}

/// A server on its own runtime and thread; it stops when this is dropped.
pub struct Running {
    stop: Option<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
}

impl Running {
    /// Stops the server and waits until it has let go of its state.
    pub fn stop(mut self) {
        if let Some((stop, thread)) = self.stop.take() {
            let _ = stop.send(());
            thread.join().unwrap();
        }
    }
}

/// Serves the app `app` makes for its port on a free loopback port; returns
/// `http://127.0.0.1:PORT`.
pub fn spawn(app: impl FnOnce(u16) -> axum::Router) -> (String, Running) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap();
    let base = format!("http://{address}");
    let app = app(address.port());
    // Stops when told to, or when the `Running` is dropped with the test.
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let shutdown = async move {
            let _ = tokio::task::spawn_blocking(move || stopped.recv()).await;
        };
        let _ = runtime.block_on(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        });
    });
    (
        base,
        Running {
            stop: Some((stop, thread)),
        },
    )
}

/// Serves the UI over the desk in `dir`.
fn serve(dir: tempfile::TempDir, panel_base: &str) -> Server {
    // No registry credentials: the user's docker config is not the tests' business.
    let state = WebState::with_docker_config(
        Arc::new(open_desk(dir.path())),
        vec![PanelHost {
            host: "panel.example.com".into(),
            base: panel_base.parse().unwrap(),
        }],
        None,
    );
    let pages = state.clone();
    let (base, running) = spawn(move |port| otai_plugin_desk::web::router(pages, port));
    Server {
        base,
        state,
        panel_base: panel_base.to_owned(),
        running,
        dir,
    }
}

/// The UI, with panel.example.com served from `panel_base`.
pub fn start_with(panel_base: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    open_desk(dir.path())
        .install(&module("1.0.0", &["panel.example.com"]))
        .unwrap();
    serve(dir, panel_base)
}

impl Server {
    /// Stops the server, closes the desk, and serves the same data directory again.
    pub fn restart(self) -> Server {
        let Server {
            state,
            dir,
            panel_base,
            running,
            ..
        } = self;
        // A page open in the browser waits on the live reload's stream, which a
        // graceful stop would wait for.
        state.end_live_streams();
        running.stop();
        drop(state);
        serve(dir, &panel_base)
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

impl Server {
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut response = agent().get(&format!("{}{path}", self.base)).call().unwrap();
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap(),
        )
    }

    /// A form posted as the desk's own pages post it: with their origin.
    pub fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let mut response = agent()
            .post(&format!("{}{path}", self.base))
            .header("Origin", &self.base)
            .send_form(form.iter().copied())
            .unwrap();
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap(),
        )
    }
}

/// The UI, with panel.example.com served from a port nothing listens on.
pub fn start() -> Server {
    start_with("http://127.0.0.1:9/")
}

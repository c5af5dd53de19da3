//! The desk's web UI served for a test, on its own runtime and thread.

use std::sync::Arc;

use otai_plugin_desk::web::{PanelHost, WebState};

use super::{module, open_desk};

pub struct Server {
    pub base: String,
    pub state: Arc<WebState>,
    panel_base: String,
    running: Running,
    dir: tempfile::TempDir,
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

/// A header of `response` as text: empty when it is missing or not text.
pub fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
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

//! The desk's web UI (feature `web`): the pages an administrator and an agent see,
//! server-rendered, with a few lines of plain JavaScript for the panel's messages.
//!
//! - `/`: the plugins, their state and error rate.
//! - `/plugins/{id}`: manifest, permissions, the config form generated from
//!   `config_schema` (secrets write-only), enable/disable, a pending upgrade's
//!   permission diff to approve, the delivery log.
//! - `/tickets/{id}`: the ticket, an event to fire with editable fields, what the
//!   plugins wrote, and each `ui_panel` in its iframe, answered by `postMessage`.
//!
//! [`serve`] runs it on a listener; [`WebState`] is what it shares with a caller that
//! rebuilds and upgrades plugins meanwhile (`cargo otai-plugin dev`).

mod pages;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::routing::{get, post};

use crate::desk::Desk;
use crate::diff::PermissionDiff;

/// An upgrade that asks for more permissions and waits for an administrator.
#[derive(Debug, Clone)]
pub struct PendingUpgrade {
    /// The new module.
    pub wasm: Vec<u8>,
    /// Its version.
    pub version: String,
    /// What it asks for.
    pub diff: PermissionDiff,
}

/// Where a panel host is served from during development: the panel URL a plugin
/// returns for `host` is shown from `base` instead (same path and query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelHost {
    /// The host as the plugin's URL names it, e.g. `panel.example.com`.
    pub host: String,
    /// Where it is served, e.g. `http://127.0.0.1:8080`.
    pub base: url::Url,
}

/// What the pages share with the code that runs them.
#[derive(Debug)]
pub struct WebState {
    /// The desk.
    pub desk: Arc<Desk>,
    /// Panel hosts served from elsewhere.
    pub panel_hosts: Vec<PanelHost>,
    build_error: Mutex<Option<String>>,
    pending: Mutex<Option<(String, PendingUpgrade)>>,
}

impl WebState {
    /// The state of a UI over `desk`.
    pub fn new(desk: Arc<Desk>, panel_hosts: Vec<PanelHost>) -> Arc<WebState> {
        Arc::new(WebState {
            desk,
            panel_hosts,
            build_error: Mutex::new(None),
            pending: Mutex::new(None),
        })
    }

    /// Shows a build failure on every page (`None` once a build succeeds).
    pub fn set_build_error(&self, error: Option<String>) {
        *lock(&self.build_error) = error;
    }

    /// The build failure shown, if any.
    pub fn build_error(&self) -> Option<String> {
        lock(&self.build_error).clone()
    }

    /// Holds an upgrade of `plugin_id` until it is approved on its page.
    pub fn set_pending(&self, plugin_id: &str, upgrade: Option<PendingUpgrade>) {
        *lock(&self.pending) = upgrade.map(|u| (plugin_id.to_owned(), u));
    }

    pub(crate) fn pending(&self, plugin_id: &str) -> Option<PendingUpgrade> {
        lock(&self.pending)
            .as_ref()
            .filter(|(id, _)| id == plugin_id)
            .map(|(_, u)| u.clone())
    }

    /// Clears the pending upgrade and returns it.
    pub(crate) fn take_pending(&self, plugin_id: &str) -> Option<PendingUpgrade> {
        let mut pending = lock(&self.pending);
        if pending.as_ref().is_some_and(|(id, _)| id == plugin_id) {
            pending.take().map(|(_, u)| u)
        } else {
            None
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The UI's routes.
pub fn router(state: Arc<WebState>) -> Router {
    Router::new()
        .route("/", get(pages::plugins))
        .route("/plugins/{id}", get(pages::plugin))
        .route("/plugins/{id}/config", post(pages::configure))
        .route("/plugins/{id}/enable", post(pages::enable))
        .route("/plugins/{id}/disable", post(pages::disable))
        .route("/plugins/{id}/approve", post(pages::approve))
        .route("/tickets/{id}", get(pages::ticket))
        .route("/tickets/{id}/events", post(pages::fire))
        .layer(axum::middleware::from_fn(same_origin_posts))
        .with_state(state)
}

/// Refuses a form posted from another site: any page open in the same browser could
/// otherwise submit to the desk on its loopback port (enable a plugin, change its
/// config). Browsers send `Origin` with every cross-site POST; a POST whose `Origin` is
/// not the desk's own (`http://` and the `Host` it was sent to) is refused with 403.
async fn same_origin_posts(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{Method, StatusCode, header};
    use axum::response::IntoResponse;
    if request.method() == Method::POST {
        let header_text = |name| {
            request
                .headers()
                .get(name)
                .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
        };
        if let Some(origin) = header_text(header::ORIGIN) {
            let own = header_text(header::HOST).map(|host| format!("http://{host}"));
            if own.as_deref() != Some(origin) {
                return (
                    StatusCode::FORBIDDEN,
                    format!("refused: a form from {origin} cannot post to the local desk"),
                )
                    .into_response();
            }
        }
    }
    next.run(request).await
}

/// Serves the UI on `listener` until the future is dropped.
///
/// # Errors
/// The listener fails.
pub async fn serve(listener: tokio::net::TcpListener, state: Arc<WebState>) -> std::io::Result<()> {
    axum::serve(listener, router(state)).await
}

//! The desk's web UI (feature `web`): the pages an administrator and an agent see,
//! server-rendered, with a few lines of plain JavaScript for the panel's messages.
//!
//! - `/`: the plugins, their state and error rate.
//! - `/plugins/{id}`: manifest, permissions, the config form generated from
//!   `config_schema` (secrets write-only), enable/disable, a pending upgrade's
//!   permission diff to approve, the delivery log.
//! - `/install` (feature `registry`): "Install from registry": an `oci://` reference
//!   pulled and reviewed (permissions, signatures, digest, an upgrade's diff and signer)
//!   before the pinned module is installed (`install.rs`).
//! - `/live`: a stream of server-sent events, one each time `dev` swaps a build in or
//!   a build fails, on which the pages reload themselves (`live.rs`).
//! - `/notices`: the notices to administrators, each plugin the health policy
//!   disabled (when, why); those not dismissed are a banner on every page.
//! - `/settings`: the health settings (the failure threshold, the minimum count, the
//!   window), saved in the desk and applied to the next delivery (`settings_page.rs`).
//! - `/tickets`: the tickets (subject, status, last delivered event, the plugins that
//!   wrote on each) and a form for a new one, which delivers `ticket.created`.
//! - `/tickets/{id}`: the ticket, an event to fire with editable fields, what the
//!   plugins wrote, and each `ui_panel` in its iframe, answered by `postMessage`. A
//!   form that delivers redirects back here with `?delivered=N`, the result it made
//!   (`results.rs`), so a reload shows it again without delivering again.
//!
//! [`serve`] runs it on a listener; [`WebState`] is what it shares with a caller that
//! rebuilds and upgrades plugins meanwhile (`cargo otai-plugin dev`).
//!
//! Any page open in the same browser can reach the desk on its loopback port, so the
//! pages answer only requests addressed to the desk's loopback names at that port,
//! take changes only from the desk's own pages, and may not be framed (`guard.rs`).
//! Any other path gets a page that says so.

mod event_form;
mod fixture_download;
mod flamegraph_svg;
mod guard;
#[cfg(feature = "registry")]
mod install;
mod live;
mod pages;
mod render;
mod results;
mod settings_page;
mod text;
mod ticket_pages;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::DefaultBodyLimit;
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
    /// The last build's result, watched by the pages' live reload (`live.rs`).
    builds: tokio::sync::watch::Sender<live::Build>,
    pending: Mutex<Option<(String, PendingUpgrade)>>,
    /// The docker config file "Install from registry" reads credentials from, if any.
    #[cfg_attr(not(feature = "registry"), allow(dead_code))]
    docker_config: Option<std::path::PathBuf>,
    results: Mutex<results::Results>,
}

impl WebState {
    /// The state of a UI over `desk`.
    ///
    /// "Install from registry" reads registry credentials from docker's config
    /// (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`), as `desk install
    /// oci://…` does.
    pub fn new(desk: Arc<Desk>, panel_hosts: Vec<PanelHost>) -> Arc<WebState> {
        #[cfg(feature = "registry")]
        let docker_config = crate::registry::Credentials::docker_config_path();
        #[cfg(not(feature = "registry"))]
        let docker_config = None;
        WebState::with_docker_config(desk, panel_hosts, docker_config)
    }

    /// [`WebState::new`] with registry credentials read from the docker config file at
    /// `docker_config` (none when `None`), not from the user's.
    pub fn with_docker_config(
        desk: Arc<Desk>,
        panel_hosts: Vec<PanelHost>,
        docker_config: Option<std::path::PathBuf>,
    ) -> Arc<WebState> {
        Arc::new(WebState {
            desk,
            panel_hosts,
            builds: tokio::sync::watch::Sender::new(live::Build::default()),
            pending: Mutex::new(None),
            docker_config,
            results: Mutex::default(),
        })
    }

    /// Says how a build ended: `None` once a build is swapped in (or installed, or
    /// waits for approval), the compiler's messages when it failed, shown on every
    /// page. The pages open in a browser reload themselves (`GET /live`), except one
    /// with a form whose input was not sent, which says a reload waits.
    pub fn set_build_error(&self, error: Option<String>) {
        self.builds.send_modify(|build| {
            build.number += 1;
            build.error = error;
        });
    }

    /// Ends the live reload's streams, and answers any opened later with 204 (no
    /// content: a browser does not connect again). A server stopped gracefully waits
    /// for every answer to end, and a page open in a browser waits on its stream for
    /// the next build: call this first.
    pub fn end_live_streams(&self) {
        self.builds.send_modify(|build| build.ended = true);
    }

    /// The build failure shown, if any.
    pub fn build_error(&self) -> Option<String> {
        self.builds.borrow().error.clone()
    }

    /// The last build's result and its number, read together.
    pub(crate) fn build(&self) -> live::Build {
        self.builds.borrow().clone()
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

impl WebState {
    /// Holds what a delivery from a form did for the page it redirects to.
    pub(crate) fn hold_result(&self, delivered: results::Delivered) -> u64 {
        lock(&self.results).hold(delivered)
    }

    /// The result numbered `n`, if it is still held.
    pub(crate) fn result(&self, n: u64) -> Option<results::Delivered> {
        lock(&self.results).get(n).cloned()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The most of a form body the pages read: room for a config at its limit,
/// percent-encoded (up to three bytes for one), and the ticket's text.
pub(crate) const MAX_FORM: usize = 1024 * 1024;

/// The UI's routes, for a server on `port` of the loopback interface.
///
/// Requests are accepted only when addressed to `127.0.0.1`, `localhost` or `[::1]` at
/// `port`, and changes only from the desk's own pages; every answer carries a
/// Content-Security-Policy that forbids framing the desk (see `guard.rs` for the whole
/// policy). [`serve`] passes the listener's port.
pub fn router(state: Arc<WebState>, port: u16) -> Router {
    let router = Router::new();
    #[cfg(feature = "registry")]
    let router = router
        .route("/install", get(install::form).post(install::install))
        .route("/install/review", post(install::review));
    router
        .route("/", get(pages::plugins))
        .route("/plugins/{id}", get(pages::plugin))
        .route("/plugins/{id}/config", post(pages::configure))
        .route("/plugins/{id}/enable", post(pages::enable))
        .route("/plugins/{id}/disable", post(pages::disable))
        .route("/plugins/{id}/approve", post(pages::approve))
        .route(
            "/plugins/{id}/deliveries/{seq}/fixture",
            get(fixture_download::fixture),
        )
        .route(
            "/plugins/{id}/deliveries/{seq}/flamegraph.svg",
            get(flamegraph_svg::flamegraph),
        )
        .route("/notices", get(pages::notices))
        .route("/live", get(live::events))
        .route("/notices/dismiss", post(pages::dismiss))
        .route(
            "/settings",
            get(settings_page::settings).post(settings_page::save),
        )
        .route(
            "/tickets",
            get(ticket_pages::tickets).post(ticket_pages::new_ticket),
        )
        .route("/tickets/{id}", get(ticket_pages::ticket))
        // A GET of where a form posts (a bookmark, a reload of an older page) goes to
        // the ticket: only the form delivers.
        .route(
            "/tickets/{id}/events",
            get(ticket_pages::to_ticket).post(ticket_pages::fire),
        )
        .route(
            "/tickets/{id}/status",
            get(ticket_pages::to_ticket).post(ticket_pages::change_status),
        )
        .fallback(render::not_found)
        .method_not_allowed_fallback(render::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_FORM))
        .layer(axum::middleware::from_fn(refuse_long_forms))
        // The last layer added runs first: the headers go on every answer, the
        // refusals of the two checks included; the origin check reads the `Host` that
        // the host check accepted.
        .layer(axum::middleware::from_fn(guard::same_origin_changes))
        .layer(axum::middleware::from_fn_with_state(
            guard::Served { port },
            guard::loopback_host,
        ))
        .layer(axum::middleware::from_fn(guard::security_headers))
        .with_state(state)
}

/// Answers a body whose declared length is past [`MAX_FORM`] before reading any of it.
/// (A body without a length is cut at the limit as it is read, by `DefaultBodyLimit`.)
async fn refuse_long_forms(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_FORM as u64) {
        return render::form_too_large();
    }
    next.run(request).await
}

/// Serves the UI on `listener` until the future is dropped. The pages answer only
/// requests addressed to the listener's own port ([`router`]).
///
/// # Errors
/// The listener fails, or has no local address.
pub async fn serve(listener: tokio::net::TcpListener, state: Arc<WebState>) -> std::io::Result<()> {
    let port = listener.local_addr()?.port();
    axum::serve(listener, router(state, port)).await
}

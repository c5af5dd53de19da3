//! Live reload: `GET /live?seen=N` streams an event (server-sent events) each time a
//! build is swapped in or fails, for the pages' script (`base.html`) to reload the page.
//!
//! Each page is rendered with the number of the build result it shows (`data-live` on
//! `<body>`); the stream starts with an event at once when that is not the latest, so a
//! swap between rendering the page and the script connecting is not missed.
//!
//! What the stream says is only that something changed: an event's name (`reload`, or
//! `build-failed`) and the new number, never the compiler's messages or anything of the
//! desk's data; the page reads those by reloading. It is under the same rules as every
//! page (`guard.rs`): only requests addressed to the desk's loopback names at its port
//! are answered, so a page of another site that reaches the port under a name of its
//! own (DNS rebinding) gets 421; a page of another origin that opens it by the desk's
//! own name gets an answer without `Access-Control-Allow-Origin`, which its browser
//! does not let it read.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::WebState;

/// A build's result as the pages show it: its number, and its failure if it failed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Build {
    /// Counts the results since the server started: 0 before the first.
    pub(crate) number: u64,
    /// The compiler's messages when it failed.
    pub(crate) error: Option<String>,
    /// Set when the server is stopping ([`WebState::end_live_streams`]): the streams
    /// end.
    pub(crate) ended: bool,
}

#[derive(Deserialize)]
pub(super) struct Seen {
    /// The build number the page shows; absent or not a number: none.
    seen: Option<String>,
}

/// The stream of build results after `seen`.
pub(super) async fn events(
    State(state): State<Arc<WebState>>,
    Query(seen): Query<Seen>,
) -> Response {
    let seen = seen.seen.and_then(|s| s.parse::<u64>().ok());
    let mut builds = state.builds.subscribe();
    // What the page shows is behind already: say so at once.
    let behind = {
        let now = builds.borrow_and_update();
        if now.ended {
            // 204 tells a browser's `EventSource` not to connect again.
            return StatusCode::NO_CONTENT.into_response();
        }
        (seen != Some(now.number)).then(|| event(&now))
    };
    let stream =
        futures_util::stream::unfold((builds, behind), |(mut builds, behind)| async move {
            if let Some(first) = behind {
                return Some((Ok::<_, Infallible>(first), (builds, None)));
            }
            // Ends the stream when the server stops, or its state is dropped.
            builds.changed().await.ok()?;
            let next = {
                let build = builds.borrow_and_update();
                (!build.ended).then(|| event(&build))
            }?;
            Some((Ok(next), (builds, None)))
        });
    Sse::new(stream).into_response()
}

/// The event for `build`.
fn event(build: &Build) -> Event {
    let name = if build.error.is_some() {
        "build-failed"
    } else {
        "reload"
    };
    Event::default().event(name).data(build.number.to_string())
}

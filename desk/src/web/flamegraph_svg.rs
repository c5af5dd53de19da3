//! The delivery log's "flame graph" link: the SVG a desk recording profiles wrote for a
//! delivery (`cargo otai-plugin dev --flamegraph`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use super::WebState;
use super::guard::NoScript;
use super::pages::desk_do;

/// `GET /plugins/{id}/deliveries/{seq}/flamegraph.svg`, shown in the browser. An SVG
/// can hold script (the flame graph's own zoom and search are script, and its frame
/// names are the plugin's): it is served under a policy that runs none ([`NoScript`]),
/// with sniffing forbidden, so what shows is the picture and its tooltips.
pub(super) async fn flamegraph(
    State(state): State<Arc<WebState>>,
    Path((id, seq)): Path<(String, i64)>,
) -> Response {
    match desk_do(&state, move |d| d.flamegraph(&id, seq)).await {
        Ok(svg) => {
            let mut response = ([(CONTENT_TYPE, "image/svg+xml")], svg).into_response();
            response.extensions_mut().insert(NoScript);
            response
        }
        Err(page) => page,
    }
}

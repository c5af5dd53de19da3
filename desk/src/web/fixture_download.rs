//! The delivery log's "fixture" link: a logged delivery as the fixture TOML
//! `cargo otai-plugin desk log PLUGIN --as-fixture N` writes, downloaded as a file.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::WebState;
use super::pages::desk_do;

/// `GET /plugins/{id}/deliveries/{seq}/fixture`. A read, which the guard lets any page
/// of the desk's own address make; the file holds no secret (each is a placeholder).
pub(super) async fn fixture(
    State(state): State<Arc<WebState>>,
    Path((id, seq)): Path<(String, i64)>,
) -> Response {
    match desk_do(&state, move |d| d.fixture(&id, Some(seq))).await {
        Ok(toml) => (
            [
                (CONTENT_TYPE, "application/toml; charset=utf-8".to_owned()),
                // Only the number is ours to name the file by: no text of the plugin's
                // goes into a header.
                (
                    CONTENT_DISPOSITION,
                    format!("attachment; filename=\"delivery-{seq}.toml\""),
                ),
            ],
            toml,
        )
            .into_response(),
        Err(page) => page,
    }
}

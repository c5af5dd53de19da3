//! The config of the decode probe: the Slack config of the reference docs. Shared by
//! the wasm probe and the bench's native decode (`#[path]`), so both decode the same type.

use otai_plugin_sdk::serde::Deserialize;

/// `webhook_url` (secret), `channel`, `mention_on_critical`.
#[derive(Debug, Deserialize)]
#[serde(crate = "otai_plugin_sdk::serde")]
#[allow(dead_code)] // Only decoded: the probe measures decoding.
pub(crate) struct Config {
    pub(crate) webhook_url: String,
    #[serde(default)]
    pub(crate) channel: Option<String>,
    #[serde(default)]
    pub(crate) mention_on_critical: bool,
}

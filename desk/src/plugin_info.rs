//! What the desk shows about an installed plugin: its listing ([`PluginInfo`]) and the
//! fields of its config form ([`ConfigEntry`]).

use otai_plugin_abi::manifest::{ConfigType, Manifest};
use serde::Serialize;
use serde_json::Value;

use crate::state::Disabled;

/// An installed plugin as the desk lists it.
#[derive(Debug, Clone, Serialize)]
pub struct PluginInfo {
    /// The manifest's id.
    pub id: String,
    /// The installed version's manifest.
    pub manifest: Manifest,
    /// The version a `rollback` returns to.
    pub previous_version: Option<String>,
    /// Whether deliveries reach it.
    pub enabled: bool,
    /// Why not, when it is disabled.
    pub disabled: Option<Disabled>,
    /// Required config fields without a value.
    pub missing_config: Vec<String>,
    /// Deliveries in the health window (since the window opened or the plugin was
    /// last enabled).
    pub deliveries: u32,
    /// Failed deliveries among them.
    pub failures: u32,
    /// When it last got a delivery, in milliseconds since the Unix epoch.
    pub last_delivery_ms: Option<i64>,
    /// The fingerprints of the keys that signed this version, as the desk verified
    /// them when it was installed (its trusted keys, and for an upgrade the keys that
    /// signed the version before); empty for a version installed unsigned.
    pub signers: Vec<String>,
    /// Where this version's module came from: the registry reference pinned to the
    /// manifest's digest (`oci://REGISTRY/NAME:TAG@sha256:…`) for one installed from a
    /// registry; `None` for one installed from a file.
    pub source: Option<String>,
    /// When this version was installed.
    pub installed_ms: i64,
    /// Why this host does not run the plugin, when it does not: the stored module, or
    /// the stored config, is one that an earlier version accepted and this one refuses.
    /// It gets no deliveries until it is upgraded (for a module), configured again (for
    /// a config) or removed.
    pub load_error: Option<String>,
}

impl PluginInfo {
    /// How long ago the last delivery was, for people: `12 s ago`, `3 min ago`,
    /// `2 h ago`; `None` before the first.
    pub fn last_delivery_ago(&self) -> Option<String> {
        self.last_delivery_ms.map(crate::clock::ago_text)
    }

    /// failures / deliveries in the window; 0 without deliveries.
    pub fn error_rate(&self) -> f64 {
        if self.deliveries == 0 {
            0.0
        } else {
            f64::from(self.failures) / f64::from(self.deliveries)
        }
    }
}

/// One config field as the admin form shows it. A secret's value is never here: only
/// whether one is set.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigEntry {
    /// The key.
    pub key: String,
    /// `string`, `boolean`, `integer`, `select`.
    #[serde(rename = "type")]
    pub ty: ConfigType,
    /// The label (the key when the manifest has none).
    pub label: String,
    /// Help text.
    pub description: Option<String>,
    /// Whether a value must be set.
    pub required: bool,
    /// Whether it is a secret (a password input; write-only).
    pub secret: bool,
    /// For a `select`: the choices.
    pub options: Vec<String>,
    /// The manifest's default.
    pub default: Option<Value>,
    /// The value set, for a field that is not secret.
    pub value: Option<Value>,
    /// Whether a value is set (for a secret, the only thing shown).
    pub is_set: bool,
}

//! The plugin manifest: the JSON object in the `ohd_manifest` custom section.
//!
//! [`Manifest::from_json`] parses it (an error names the JSON path and what was
//! expected), [`Manifest::validate`] reports every problem at once, and
//! [`Manifest::validate_config`] checks an installation's config values against the
//! manifest's `config_schema`.
//!
//! ```
//! use otai_plugin_abi::manifest::Manifest;
//!
//! let manifest = Manifest::from_json(br#"{
//!     "id": "com.example.slack-notifications",
//!     "name": "Slack Notifications",
//!     "version": "1.2.0",
//!     "description": "Posts a Slack message when a ticket is created.",
//!     "events": ["ticket.created"],
//!     "permissions": { "http": { "allowed_hosts": ["https://hooks.slack.com"] } }
//! }"#).unwrap();
//!
//! let diagnostics = manifest.validate();
//! assert!(diagnostics.has_errors());
//! assert_eq!(
//!     diagnostics.to_string(),
//!     "error: permissions.http.allowed_hosts[0]: \"https://hooks.slack.com\" is not a bare hostname; write \"hooks.slack.com\"\n",
//! );
//! ```

#[cfg(feature = "cargo")]
pub mod cargo;
mod config;
mod diagnostics;
mod parse;
#[cfg(feature = "schema")]
pub mod schema;
mod suggest;
mod validate;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::event::EventKind;

pub use config::{Config, ConfigValue, Secret};
pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use parse::{Checked, ParseError};
pub use suggest::nearest;

/// A plugin manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(title = "Open Help Desk plugin manifest"))]
pub struct Manifest {
    /// Reverse-domain unique identifier, e.g. `com.example.slack-notifications`. Must
    /// stay the same across versions: changing it makes a new plugin.
    #[cfg_attr(
        feature = "schema",
        schemars(
            pattern(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"),
            example = &"com.example.slack-notifications"
        )
    )]
    pub id: String,
    /// Display name shown in the admin panel.
    #[cfg_attr(feature = "schema", schemars(length(min = 1), example = &"Slack Notifications"))]
    pub name: String,
    /// Semantic version, e.g. `1.2.0`.
    #[cfg_attr(feature = "schema", schemars(example = &"1.2.0"))]
    pub version: String,
    /// One-sentence description shown in the plugin list.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub description: String,
    /// Author name and optional email, e.g. `Example Corp <support@example.com>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// SPDX license expression, e.g. `MIT` or `MIT OR Apache-2.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// URL of the plugin's documentation or source: `http` or `https`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("format" = "uri")))]
    pub homepage: Option<String>,
    /// The events the plugin subscribes to; the host delivers no others.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Vec<EventName>", length(min = 1), extend("uniqueItems" = true))
    )]
    pub events: Vec<EventKind>,
    /// What the plugin may do beyond logging and ticket operations.
    #[serde(default, skip_serializing_if = "Permissions::is_empty")]
    pub permissions: Permissions,
    /// Configuration fields, in the order the admin form shows them. Keys are
    /// identifiers: `[a-z_][a-z0-9_]*`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[cfg_attr(feature = "schema", schemars(extend("propertyNames" = { "pattern": "^[a-z_][a-z0-9_]*$" })))]
    pub config_schema: IndexMap<String, ConfigField>,
    /// A panel in the ticket detail view, filled by `render_panel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_panel: Option<UiPanel>,
    /// JSON paths of fields this version does not know, found while parsing. They are
    /// warnings, never errors: a newer host may define them.
    #[serde(skip)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown_fields: Vec<String>,
}

/// The names of the eight ABI v1 events, for the JSON Schema.
#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
enum EventName {
    #[serde(rename = "ticket.created")]
    Created,
    #[serde(rename = "ticket.assigned")]
    Assigned,
    #[serde(rename = "ticket.status_changed")]
    StatusChanged,
    #[serde(rename = "ticket.reply_added")]
    ReplyAdded,
    #[serde(rename = "ticket.note_added")]
    NoteAdded,
    #[serde(rename = "ticket.resolved")]
    Resolved,
    #[serde(rename = "ticket.closed")]
    Closed,
    #[serde(rename = "ticket.reopened")]
    Reopened,
}

/// The manifest's `permissions` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Permissions {
    /// Outbound HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpPermissions>,
}

impl Permissions {
    fn is_empty(&self) -> bool {
        self.http.is_none()
    }
}

/// The manifest's `permissions.http` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HttpPermissions {
    /// Hostnames (or IP literals) the plugin may send requests to, matched exactly:
    /// no wildcards, ports, schemes or paths. IPv6 literals with or without brackets.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(extend("uniqueItems" = true, "examples" = [["hooks.slack.com"]])))]
    pub allowed_hosts: Vec<String>,
}

/// The type of a config field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ConfigType {
    /// A text input; a password input with `secret: true`.
    String,
    /// A checkbox.
    Boolean,
    /// A number input (a whole number).
    Integer,
    /// A dropdown of `options`.
    Select,
}

impl ConfigType {
    /// The name used in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigType::String => "string",
            ConfigType::Boolean => "boolean",
            ConfigType::Integer => "integer",
            ConfigType::Select => "select",
        }
    }
}

/// One field of `config_schema`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConfigField {
    /// The field's type.
    #[serde(rename = "type")]
    pub ty: ConfigType,
    /// The form label; the key is shown when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Help text under the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether an installation must set a value.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// For `string` only: a password input; the value is encrypted at rest, never
    /// returned by the API, and passed decrypted to the plugin.
    #[serde(default, skip_serializing_if = "is_false")]
    pub secret: bool,
    /// The value used when an installation sets none; of the field's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<serde_json::Value>"))]
    pub default: Option<serde_json::Value>,
    /// For `select` only: the choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The manifest's `ui_panel` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UiPanel {
    /// The panel's title.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub title: String,
    /// The iframe's fixed height in pixels (1 to 2000).
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 2000)))]
    pub height: u32,
}

/// The largest `ui_panel.height` accepted, in pixels.
pub const MAX_PANEL_HEIGHT: u32 = 2000;

impl Manifest {
    /// Serializes the manifest as compact JSON, as it is embedded in `ohd_manifest`.
    pub fn to_json(&self) -> String {
        // Serializing these types to a String cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The hosts of `permissions.http.allowed_hosts`, as written.
    pub fn allowed_hosts(&self) -> &[String] {
        self.permissions
            .http
            .as_ref()
            .map(|h| h.allowed_hosts.as_slice())
            .unwrap_or(&[])
    }

    /// Whether the plugin subscribes to `event`.
    pub fn subscribes_to(&self, event: &EventKind) -> bool {
        self.events.contains(event)
    }
}

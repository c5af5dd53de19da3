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
mod suggest;
mod validate;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::event::EventKind;

pub use config::{Config, ConfigValue, Secret};
pub use diagnostics::{Diagnostic, Diagnostics, Severity};

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
    /// SPDX license identifier.
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

/// A manifest that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message} (line {line}, column {column})", if path.is_empty() || path == "." { String::new() } else { format!("{path}: ") })]
pub struct ParseError {
    /// The JSON path where parsing stopped, e.g. `config_schema.channel.type`
    /// (empty for the document itself).
    pub path: String,
    /// What was found and what was expected.
    pub message: String,
    /// 1-based line in the JSON text.
    pub line: usize,
    /// 1-based column in the JSON text.
    pub column: usize,
}

impl Manifest {
    /// Parses a manifest from JSON bytes. Fields this version does not know are
    /// recorded in [`Manifest::unknown_fields`] and reported by [`Manifest::validate`]
    /// as warnings.
    ///
    /// # Errors
    /// A [`ParseError`] naming the JSON path and what was expected, for bytes that are
    /// not one JSON object of the manifest's shape.
    pub fn from_json(bytes: &[u8]) -> Result<Manifest, ParseError> {
        // serde would describe another value by the first field it fails on (for an
        // array, `[0]: invalid type: map, expected a string`): name the shape instead.
        if let Some((offset, found)) = not_an_object(bytes) {
            let (line, column) = line_column(bytes, offset);
            return Err(ParseError {
                path: String::new(),
                message: format!(
                    "the manifest must be one JSON object (`{{\"id\": …, \"name\": …, …}}`), not {found}"
                ),
                line,
                column,
            });
        }
        let mut unknown = Vec::new();
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let result: Result<Manifest, _> = {
            let mut record = |path: serde_ignored::Path<'_>| unknown.push(json_path(&path));
            let ignored = serde_ignored::Deserializer::new(&mut de, &mut record);
            serde_path_to_error::deserialize(ignored)
        };
        let mut manifest = result.map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            ParseError {
                path,
                message: strip_position(&inner.to_string()),
                line: inner.line(),
                column: inner.column(),
            }
        })?;
        de.end().map_err(|err| ParseError {
            path: String::new(),
            message: strip_position(&err.to_string()),
            line: err.line(),
            column: err.column(),
        })?;
        manifest.unknown_fields = unknown;
        Ok(manifest)
    }

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

/// Where the document starts and what it is, when it is not an object.
fn not_an_object(bytes: &[u8]) -> Option<(usize, &'static str)> {
    let offset = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let found = match bytes[offset] {
        b'{' => return None,
        b'[' => "an array",
        b'"' => "a string",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        b'-' | b'0'..=b'9' => "a number",
        // Not JSON at all: serde's own message says where and why.
        _ => return None,
    };
    Some((offset, found))
}

/// 1-based line and column of a byte offset.
fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = offset
        - before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    (line, column)
}

/// serde_json appends " at line L column C" to its messages; we report those apart.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A path as `Manifest::validate` writes them (`config_schema.channel.colour`,
/// `events[1]`), where serde_ignored would write `config_schema.channel.?.colour`.
fn json_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", json_path(parent)),
        Path::Map { parent, key } => match json_path(parent) {
            p if p.is_empty() => key.clone(),
            p => format!("{p}.{key}"),
        },
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => json_path(parent),
    }
}

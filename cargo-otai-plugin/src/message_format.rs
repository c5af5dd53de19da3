//! `build --message-format`: cargo's formats, passed through, and the JSON line `build`
//! adds for each plugin so that editors and CI read the result without parsing text.
//!
//! ```text
//! {"reason":"otai-plugin-artifact","package_id":"…","manifest_path":"…/Cargo.toml",
//!  "wasm":"…/target/wasm32-unknown-unknown/release/x.wasm","size":131488,
//!  "plugin":{"id":"com.example.x","version":"1.0.0"},"fresh":false,"success":true,
//!  "problems":[{"level":"warning","kind":"manifest","message":"…"}]}
//! ```
//!
//! It follows cargo's own `compiler-artifact` lines on stdout, after cargo's
//! `build-finished`: the plugin is processed and checked once cargo is done.

use std::io::Write;

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// `build --message-format`, as cargo has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum MessageFormat {
    /// Text for people (the default).
    #[default]
    Human,
    /// Text for people, compiler diagnostics on one line each.
    Short,
    /// JSON lines on stdout: cargo's messages, then one `otai-plugin-artifact` per plugin.
    Json,
    /// As `json`, with the compiler's rendered diagnostics shortened.
    JsonDiagnosticShort,
    /// As `json`, with the compiler's rendered diagnostics in ANSI colours.
    JsonDiagnosticRenderedAnsi,
    /// As `json`, but diagnostics are rendered on stderr, not put in the JSON: the
    /// compiler's by cargo, the plugin's problems by this command.
    JsonRenderDiagnostics,
}

impl MessageFormat {
    /// Whether stdout carries JSON lines.
    pub(crate) fn is_json(self) -> bool {
        !matches!(self, MessageFormat::Human | MessageFormat::Short)
    }

    /// What cargo is asked for: always JSON on stdout, which is how `build` finds the
    /// modules cargo wrote; in the human formats cargo renders the diagnostics.
    pub(crate) fn cargo_arg(self) -> &'static str {
        match self {
            MessageFormat::Human => "json-render-diagnostics",
            MessageFormat::Short => "json-render-diagnostics,json-diagnostic-short",
            MessageFormat::Json => "json",
            MessageFormat::JsonDiagnosticShort => "json-diagnostic-short",
            MessageFormat::JsonDiagnosticRenderedAnsi => "json-diagnostic-rendered-ansi",
            MessageFormat::JsonRenderDiagnostics => "json-render-diagnostics",
        }
    }

    /// Whether the plugin's problems are printed on stderr: not when they are in the JSON
    /// only, as cargo does with the compiler's.
    pub(crate) fn renders_problems(self) -> bool {
        matches!(
            self,
            MessageFormat::Human | MessageFormat::Short | MessageFormat::JsonRenderDiagnostics
        )
    }
}

/// How serious a problem of a built plugin is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    /// The help desk would refuse the module.
    Error,
    /// Loads, but probably not what the author meant.
    Warning,
}

/// One problem of a built plugin: the ABI verdict's, or the cross-check's of its sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ArtifactProblem {
    pub level: Level,
    /// The kind docs/ABI.md section 10 lists; none for the cross-check of the sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub message: String,
}

/// The plugin a module embeds.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PluginIdentity<'a> {
    pub id: &'a str,
    pub version: &'a str,
}

/// The `otai-plugin-artifact` line.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ArtifactMessage<'a> {
    pub reason: &'static str,
    pub package_id: &'a str,
    pub manifest_path: &'a str,
    pub wasm: &'a str,
    pub size: u64,
    /// None when the module has no readable manifest.
    pub plugin: Option<PluginIdentity<'a>>,
    /// Whether the module was the one checked by the last build (nothing processed).
    pub fresh: bool,
    /// Whether the module is a plugin the help desk accepts (no error problems).
    pub success: bool,
    pub problems: &'a [ArtifactProblem],
}

impl ArtifactMessage<'_> {
    pub(crate) const REASON: &'static str = "otai-plugin-artifact";

    /// Writes the message as one line.
    pub(crate) fn write_line(&self, out: &mut impl Write) -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, self)?;
        writeln!(out)?;
        out.flush()
    }
}

//! The host's error types. Messages are lowercase, name things in backticks, and say
//! what was found and what is expected. None of them ever contains a secret value.

use std::path::PathBuf;

use otai_plugin_abi::manifest::{Diagnostics, ParseError};

/// A module could not be loaded as a plugin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("failed to read `{}`: {source}", path.display())]
    Io {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are a WebAssembly component, not a core module.
    #[error(
        "this is a WebAssembly component; plugins must be core WebAssembly modules (ABI v1 has no component model)"
    )]
    Component,
    /// The bytes are not a valid WebAssembly module.
    #[error("not a valid WebAssembly module: {0}")]
    InvalidWasm(String),
    /// There is no `ohd_manifest` custom section.
    #[error("no `ohd_manifest` custom section: a plugin must embed its manifest JSON in one")]
    MissingManifest,
    /// There is more than one `ohd_manifest` custom section.
    #[error("two `ohd_manifest` sections: a plugin must carry exactly one")]
    DuplicateManifest,
    /// The `ohd_manifest` section is not one UTF-8 JSON object of the manifest's shape.
    #[error("the `ohd_manifest` section is not a valid manifest: {0}")]
    ManifestSyntax(String),
    /// The manifest parsed but breaks a rule.
    #[error("the manifest is invalid:\n{0}")]
    InvalidManifest(Diagnostics),
    /// The `ohd_abi` section is malformed or duplicated.
    #[error("the `ohd_abi` section is invalid: {0}")]
    InvalidAbiMarker(String),
    /// The `ohd_abi` section names an ABI version this host does not implement.
    #[error(
        "the module was built for plugin ABI {found} (`ohd_abi` section); this host implements ABI 1"
    )]
    UnsupportedAbi {
        /// The version in the marker.
        found: u32,
    },
    /// An import from a module other than `ohd`.
    #[error("import `{module}.{name}` is not provided: plugins may import only from module `ohd`")]
    ForeignImport {
        /// The import's module.
        module: String,
        /// The import's name.
        name: String,
    },
    /// An `ohd` import that is not a host function of ABI v1.
    #[error(
        "import `ohd.{name}` is not a host function of ABI v1; the `ohd` module provides {available}"
    )]
    UnknownHostFunction {
        /// The import's name.
        name: String,
        /// The names that exist.
        available: String,
    },
    /// An `ohd` import with the wrong signature.
    #[error("import `ohd.{name}` has type `{found}`, expected `{expected}`")]
    ImportSignature {
        /// The import's name.
        name: String,
        /// The signature in the module.
        found: String,
        /// The ABI's signature.
        expected: String,
    },
    /// An imported memory, table, global or tag.
    #[error("imported {kind} `{module}.{name}` is not supported: {hint}")]
    ImportKind {
        /// `memory`, `table`, `global` or `tag`.
        kind: &'static str,
        /// The import's module.
        module: String,
        /// The import's name.
        name: String,
        /// What to do instead.
        hint: &'static str,
    },
    /// A required export is missing.
    #[error("no `{name}` export: {hint}")]
    MissingExport {
        /// The export's name.
        name: &'static str,
        /// What it is for.
        hint: &'static str,
    },
    /// An ABI export with the wrong signature or kind.
    #[error("`{name}` has type `{found}`, expected `{expected}`")]
    ExportSignature {
        /// The export's name.
        name: String,
        /// What the module exports.
        found: String,
        /// What the ABI requires.
        expected: String,
    },
    /// An ABI function export that is an imported host function re-exported.
    #[error(
        "export `{name}` re-exports an imported host function; the plugin must define `{name}` itself"
    )]
    ReexportedImport {
        /// The export's name.
        name: String,
    },
    /// Neither allocator pair is exported (completely).
    #[error("no allocator export: export `ohd_alloc`/`ohd_free` or `malloc`/`free`{found}")]
    NoAllocator {
        /// What half-pair was found, if any.
        found: String,
    },
    /// The memory export is unusable.
    #[error("the `memory` export is not usable: {0}")]
    Memory(String),
    /// The manifest declares `ui_panel` but `render_panel` is not exported.
    #[error("manifest declares `ui_panel` but the module exports no `render_panel`{hint}")]
    MissingRenderPanel {
        /// A hint when the SDK's indirect export is there.
        hint: &'static str,
    },
    /// Compiling the module failed.
    #[error("failed to compile the module: {0}")]
    Compile(String),
}

/// A plugin could not be installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// The config does not match the manifest's `config_schema`. The diagnostics
    /// never contain a secret value.
    #[error("invalid config for plugin `{plugin_id}`:\n{diagnostics}")]
    InvalidConfig {
        /// The plugin.
        plugin_id: String,
        /// Every problem found.
        diagnostics: Diagnostics,
    },
    /// The plugin was loaded by another [`crate::Host`].
    #[error("plugin `{plugin_id}` was loaded by another host; load it with this host's `load`")]
    ForeignPlugin {
        /// The plugin.
        plugin_id: String,
    },
}

/// A delivery or panel request could not be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliverError {
    /// No plugin with this id is installed.
    #[error("no plugin `{plugin_id}` is installed")]
    NotInstalled {
        /// The id asked for.
        plugin_id: String,
    },
    /// The plugin does not subscribe to the event.
    #[error(
        "plugin `{plugin_id}` does not subscribe to `{event}`; its manifest lists {subscribed}"
    )]
    NotSubscribed {
        /// The plugin.
        plugin_id: String,
        /// The event name.
        event: String,
        /// The events it subscribes to.
        subscribed: String,
    },
    /// The plugin is disabled (by hand or by its health policy).
    #[error("plugin `{plugin_id}` is disabled; enable it with `Host::enable`")]
    Disabled {
        /// The plugin.
        plugin_id: String,
    },
    /// `render_panel` was asked of a plugin without `ui_panel`.
    #[error("plugin `{plugin_id}` declares no `ui_panel`")]
    NoPanel {
        /// The plugin.
        plugin_id: String,
    },
}

/// The host could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// A setting is out of range.
    #[error("invalid host setting: {0}")]
    InvalidSetting(String),
    /// wasmtime refused the engine configuration.
    #[error("failed to create the wasm engine: {0}")]
    Engine(String),
    /// The epoch ticker thread could not be started.
    #[error("failed to start the deadline ticker thread: {0}")]
    Thread(std::io::Error),
}

/// A JSON event payload is not an ABI v1 payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an ABI v1 event payload: {message}")]
pub struct EventError {
    pub(crate) message: String,
}

impl From<ParseError> for LoadError {
    fn from(e: ParseError) -> Self {
        LoadError::ManifestSyntax(e.to_string())
    }
}

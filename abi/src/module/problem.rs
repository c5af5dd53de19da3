//! What a verdict is made of: [`Problem`]s with a [`Severity`] and a [`ProblemKind`],
//! and the [`Acceptance`] that collects them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::limits::{DEFAULT_MAX_MODULE_SIZE, DEFAULT_MEMORY_LIMIT};
use crate::manifest::Manifest;
use crate::marker::AbiMarker;
use crate::wasm::AllocatorKind;

/// How serious a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A host refuses the module.
    Error,
    /// The module loads, but something is probably not what its author meant.
    Warning,
}

/// What a [`Problem`] is about: a stable, machine-readable name (`snake_case` in JSON),
/// listed in docs/ABI.md section 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// The module is larger than the host loads.
    ModuleTooLarge,
    /// Not a WebAssembly binary (text, another file, another binary version).
    NotWasm,
    /// A WebAssembly component this host cannot run as a plugin: one that contains
    /// components, or more core instances or tables than a plugin component needs.
    Component,
    /// A core module that is malformed or fails validation.
    InvalidWasm,
    /// No `ohd_manifest` custom section.
    ManifestMissing,
    /// More than one `ohd_manifest` custom section.
    ManifestDuplicate,
    /// The `ohd_manifest` section is larger than [`MAX_MANIFEST`](crate::limits::MAX_MANIFEST).
    ManifestTooLarge,
    /// The `ohd_manifest` section is not one UTF-8 JSON object of the manifest's shape.
    ManifestSyntax,
    /// The manifest breaks one of its rules (an error) or has something odd (a warning):
    /// one problem per diagnostic.
    Manifest,
    /// The `ohd_abi` marker is duplicated or unreadable.
    AbiMarker,
    /// The `ohd_abi` marker names another ABI version.
    AbiVersion,
    /// An import from a module other than `ohd`.
    ForeignImport,
    /// An `ohd` import that is not a host function of ABI v1.
    UnknownImport,
    /// An `ohd` function import with another signature than the ABI's.
    ImportSignature,
    /// An imported memory, table, global or tag.
    ImportKind,
    /// No `memory` or no `on_event` export.
    MissingExport,
    /// An export named like an ABI export that is not a function of its signature.
    ExportSignature,
    /// An ABI function export that re-exports an imported host function.
    ReexportedImport,
    /// The `memory` export is not a 32-bit, unshared memory.
    Memory,
    /// A memory starts larger than the host's memory limit.
    MemoryLimit,
    /// More than one table, or a table that starts larger than the host's limit.
    Table,
    /// Neither allocator pair is exported completely.
    NoAllocator,
    /// The manifest declares `ui_panel` but the module exports no `render_panel`.
    RenderPanelMissing,
    /// (warning) `render_panel` is exported but the manifest has no `ui_panel`.
    RenderPanelUnused,
    /// (warning) The Rust SDK's `__ohd_render_panel_indirect` is exported.
    RenderPanelIndirect,
    /// (warning) Half of the `ohd_alloc`/`ohd_free` pair is exported, so `malloc`/`free`
    /// is used.
    AllocatorFallback,
    // Errors added after the warnings above, so that no variant's discriminant moves.
    /// (a host that requires a trusted signer) A trusted key signed the module, but the
    /// module changed after it was signed.
    SignatureChanged,
    /// (a host that requires a trusted signer) The `signature` section cannot be read,
    /// or a signature names a trusted key and does not verify with it.
    SignatureInvalid,
    /// (a host that requires a trusted signer) Signed only by keys the host does not
    /// trust.
    SignatureUntrusted,
    /// (a host that requires a trusted signer) Not signed.
    SignatureMissing,
}

impl ProblemKind {
    /// Every kind, in the order of docs/ABI.md section 10 (errors, then warnings).
    pub const ALL: [ProblemKind; 30] = [
        ProblemKind::ModuleTooLarge,
        ProblemKind::NotWasm,
        ProblemKind::Component,
        ProblemKind::InvalidWasm,
        ProblemKind::ManifestMissing,
        ProblemKind::ManifestDuplicate,
        ProblemKind::ManifestTooLarge,
        ProblemKind::ManifestSyntax,
        ProblemKind::Manifest,
        ProblemKind::AbiMarker,
        ProblemKind::AbiVersion,
        ProblemKind::ForeignImport,
        ProblemKind::UnknownImport,
        ProblemKind::ImportSignature,
        ProblemKind::ImportKind,
        ProblemKind::MissingExport,
        ProblemKind::ExportSignature,
        ProblemKind::ReexportedImport,
        ProblemKind::Memory,
        ProblemKind::MemoryLimit,
        ProblemKind::Table,
        ProblemKind::NoAllocator,
        ProblemKind::RenderPanelMissing,
        ProblemKind::SignatureChanged,
        ProblemKind::SignatureInvalid,
        ProblemKind::SignatureUntrusted,
        ProblemKind::SignatureMissing,
        ProblemKind::RenderPanelUnused,
        ProblemKind::RenderPanelIndirect,
        ProblemKind::AllocatorFallback,
    ];

    /// The kind's name, as in JSON and in `check`'s `error[name]`: `foreign_import`, …
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::ModuleTooLarge => "module_too_large",
            ProblemKind::NotWasm => "not_wasm",
            ProblemKind::Component => "component",
            ProblemKind::InvalidWasm => "invalid_wasm",
            ProblemKind::ManifestMissing => "manifest_missing",
            ProblemKind::ManifestDuplicate => "manifest_duplicate",
            ProblemKind::ManifestTooLarge => "manifest_too_large",
            ProblemKind::ManifestSyntax => "manifest_syntax",
            ProblemKind::Manifest => "manifest",
            ProblemKind::AbiMarker => "abi_marker",
            ProblemKind::AbiVersion => "abi_version",
            ProblemKind::ForeignImport => "foreign_import",
            ProblemKind::UnknownImport => "unknown_import",
            ProblemKind::ImportSignature => "import_signature",
            ProblemKind::ImportKind => "import_kind",
            ProblemKind::MissingExport => "missing_export",
            ProblemKind::ExportSignature => "export_signature",
            ProblemKind::ReexportedImport => "reexported_import",
            ProblemKind::Memory => "memory",
            ProblemKind::MemoryLimit => "memory_limit",
            ProblemKind::Table => "table",
            ProblemKind::NoAllocator => "no_allocator",
            ProblemKind::RenderPanelMissing => "render_panel_missing",
            ProblemKind::SignatureChanged => "signature_changed",
            ProblemKind::SignatureInvalid => "signature_invalid",
            ProblemKind::SignatureUntrusted => "signature_untrusted",
            ProblemKind::SignatureMissing => "signature_missing",
            ProblemKind::RenderPanelUnused => "render_panel_unused",
            ProblemKind::RenderPanelIndirect => "render_panel_indirect",
            ProblemKind::AllocatorFallback => "allocator_fallback",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// What it is about.
    pub kind: ProblemKind,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The host settings a verdict depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptOptions {
    /// The host's memory limit per instance, in bytes; a module whose memory starts
    /// larger is refused. Default [`DEFAULT_MEMORY_LIMIT`].
    pub memory_limit: u64,
    /// The largest module the host loads, in bytes; a larger one is refused before it
    /// is read. Default [`DEFAULT_MAX_MODULE_SIZE`].
    pub max_module_size: u64,
}

impl Default for AcceptOptions {
    fn default() -> Self {
        AcceptOptions {
            memory_limit: DEFAULT_MEMORY_LIMIT,
            max_module_size: DEFAULT_MAX_MODULE_SIZE,
        }
    }
}

/// Which flavour of ABI v1 a plugin is: a core module with the `ohd` imports, or a
/// component of the world `ohd:plugin/plugin@1.0.0` (docs/ABI.md, section 14).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flavour {
    /// A core WebAssembly module.
    #[default]
    Core,
    /// A WebAssembly component.
    Component,
}

impl Flavour {
    /// `core` or `component`, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::Core => "core",
            Flavour::Component => "component",
        }
    }

    /// The flavour `bytes` announce in their header (a core module when they are not
    /// a component, whatever else they are).
    pub fn of(bytes: &[u8]) -> Flavour {
        if wasmparser::Parser::is_component(bytes) {
            Flavour::Component
        } else {
            Flavour::Core
        }
    }
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict on a module: every problem, and what a host needs from an accepted one.
#[derive(Debug, Clone, Default)]
pub struct Acceptance {
    /// Which flavour the bytes are.
    pub flavour: Flavour,
    /// Every problem, errors and warnings, in the order found.
    pub problems: Vec<Problem>,
    /// The embedded manifest, when exactly one parsed (even if it has errors).
    pub manifest: Option<Manifest>,
    /// The `ohd_abi` marker, when present and readable.
    pub marker: Option<AbiMarker>,
    /// The allocator pair a host uses, when there is one (a core module's; a component
    /// has none: the canonical ABI allocates with its `cabi_realloc`).
    pub allocator: Option<AllocatorKind>,
    /// Whether `render_panel` (a component's `render-panel`) is exported with its ABI
    /// signature.
    pub has_render_panel: bool,
    /// Whether `_initialize` is exported with its ABI signature.
    pub has_initialize: bool,
}

impl Acceptance {
    /// Whether any problem is an error: a host refuses the module.
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
    }

    pub(super) fn push(
        &mut self,
        severity: Severity,
        kind: ProblemKind,
        message: impl Into<String>,
    ) {
        self.problems.push(Problem {
            severity,
            kind,
            message: message.into(),
        });
    }

    pub(super) fn error(&mut self, kind: ProblemKind, message: impl Into<String>) {
        self.push(Severity::Error, kind, message);
    }

    pub(super) fn warning(&mut self, kind: ProblemKind, message: impl Into<String>) {
        self.push(Severity::Warning, kind, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_their_json() {
        for kind in ProblemKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}

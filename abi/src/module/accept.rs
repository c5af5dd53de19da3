//! Judging a module against ABI v1: every reason a host refuses it, and what loads but
//! is probably a mistake, each with its [`ProblemKind`], in the order of docs/ABI.md
//! section 10.

use crate::component;
use crate::limits::{
    MAX_COMPONENT_CORE_INSTANCES, MAX_COMPONENT_TABLES, MAX_MANIFEST, MAX_TABLE_ELEMENTS,
};
use crate::manifest::{Manifest, Severity as DiagnosticSeverity};
use crate::marker::AbiMarker;
use crate::module::component::{ComponentInfo, ComponentItem};
use crate::module::info::{CustomSection, Item, MemoryInfo, ModuleInfo, Signature};
use crate::module::problem::{AcceptOptions, Acceptance, Flavour, ProblemKind};
use crate::wasm::{self as abi, AllocatorKind, FuncType, PluginExport};

/// Reads and judges `bytes`, a core module or a component (told apart by their
/// header). Bytes that cannot be read get one problem ([`ProblemKind::NotWasm`] or
/// [`ProblemKind::InvalidWasm`]) and nothing else.
///
/// ```
/// use otai_plugin_abi::module::{AcceptOptions, ProblemKind, accept};
///
/// let verdict = accept(b"\0asm\x01\x00\x00\x00", &AcceptOptions::default());
/// let kinds: Vec<ProblemKind> = verdict.errors().map(|p| p.kind).collect();
/// assert_eq!(
///     kinds,
///     [ProblemKind::ManifestMissing, ProblemKind::MissingExport, ProblemKind::MissingExport, ProblemKind::NoAllocator],
/// );
/// ```
pub fn accept(bytes: &[u8], options: &AcceptOptions) -> Acceptance {
    if bytes.len() as u64 > options.max_module_size {
        let mut verdict = Acceptance::default();
        verdict.error(
            ProblemKind::ModuleTooLarge,
            format!(
                "the module is {} bytes, over the host's limit of {} bytes: build it in release \
                 mode (`cargo otai-plugin build --release`), or raise the host's \
                 `max_module_size`",
                bytes.len(),
                options.max_module_size
            ),
        );
        return verdict;
    }
    let read = if wasmparser::Parser::is_component(bytes) {
        ComponentInfo::parse(bytes).map(|info| accept_component(&info, options))
    } else {
        ModuleInfo::parse(bytes).map(|info| accept_module(&info, options))
    };
    read.unwrap_or_else(|err| {
        let mut verdict = Acceptance {
            flavour: Flavour::of(bytes),
            ..Acceptance::default()
        };
        verdict.error(err.kind(), err.to_string());
        verdict
    })
}

/// The WebAssembly features ABI v1 accepts: WebAssembly 2.0 (multi-value, bulk memory,
/// sign extension, mutable globals, non-trapping float-to-int, reference types, SIMD)
/// and the finished proposals a host can compile without a garbage collector: tail
/// calls, extended constant expressions, relaxed SIMD, atomics. Multiple and 64-bit
/// memories parse, so that they are refused for what they are (`memory`), not as
/// invalid. Exceptions, `externref` and the GC proposal's types are not accepted: a
/// host would need a garbage collector for them. A host compiles with exactly this set (the reference host sets
/// wasmtime's features to it), so a module that passes this check compiles.
pub fn accepted_features() -> wasmparser::WasmFeatures {
    use wasmparser::WasmFeatures as F;
    (F::WASM2
        | F::TAIL_CALL
        | F::EXTENDED_CONST
        | F::RELAXED_SIMD
        | F::THREADS
        | F::MULTI_MEMORY
        | F::MEMORY64)
        // `externref` and the other types a collector manages.
        .difference(F::GC_TYPES)
}

/// The features a plugin component may use: those of [`accepted_features`] in its core
/// modules, and the component model without its proposals (no async, no
/// `error-context`): what the world `ohd:plugin/plugin@1.0.0` needs.
pub fn accepted_component_features() -> wasmparser::WasmFeatures {
    accepted_features() | wasmparser::WasmFeatures::COMPONENT_MODEL
}

/// Judges a module already read.
pub fn accept_module(info: &ModuleInfo<'_>, options: &AcceptOptions) -> Acceptance {
    let mut verdict = Acceptance::default();
    let mut validator = wasmparser::Validator::new_with_features(accepted_features());
    if let Err(err) = validator.validate_all(info.bytes) {
        verdict.error(
            ProblemKind::InvalidWasm,
            format!("the module is not valid WebAssembly: {err}"),
        );
    }
    check_manifest(&info.custom(abi::MANIFEST_SECTION), None, &mut verdict);
    check_marker(&info.custom(abi::ABI_MARKER_SECTION), &mut verdict);
    check_imports(info, &mut verdict);
    check_memories(info, options, &mut verdict);
    check_exports(info, &mut verdict);
    verdict
}

/// `sections` are the `ohd_manifest` sections a host reads; `missing_hint` is added to
/// the message when there is none.
fn check_manifest(
    sections: &[&CustomSection<'_>],
    missing_hint: Option<&str>,
    verdict: &mut Acceptance,
) {
    let section = match sections {
        [] => {
            verdict.error(
                ProblemKind::ManifestMissing,
                format!(
                    "no `ohd_manifest` custom section: every plugin embeds its manifest JSON in one \
                     (the Rust SDK's `#[plugin]` does it from Cargo.toml; other toolchains add the \
                     section after linking){}",
                    missing_hint.unwrap_or_default()
                ),
            );
            return;
        }
        [one] if one.data.len() > MAX_MANIFEST => {
            verdict.error(
                ProblemKind::ManifestTooLarge,
                format!(
                    "the `ohd_manifest` section is {} bytes, over the limit of {MAX_MANIFEST}",
                    one.data.len()
                ),
            );
            return;
        }
        [one] => one,
        many => {
            verdict.error(
                ProblemKind::ManifestDuplicate,
                format!(
                    "{} `ohd_manifest` sections: a plugin must carry exactly one",
                    many.len()
                ),
            );
            return;
        }
    };
    match json_values(section.data) {
        Ok(0) => {
            verdict.error(
                ProblemKind::ManifestSyntax,
                "the `ohd_manifest` section is empty; it must hold one JSON object",
            );
            return;
        }
        Ok(1) => {}
        Ok(n) => {
            verdict.error(
                ProblemKind::ManifestSyntax,
                format!(
                    "the `ohd_manifest` section holds {n} JSON documents back to back: the \
                     linker concatenates same-named sections, so {n} crates in this module each \
                     embedded a manifest; only one crate of a plugin may use `#[plugin]`"
                ),
            );
            return;
        }
        // `from_json` below says precisely what is wrong.
        Err(()) => {}
    }
    if let Err(e) = std::str::from_utf8(section.data) {
        verdict.error(
            ProblemKind::ManifestSyntax,
            format!(
                "the `ohd_manifest` section is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        );
        return;
    }
    match Manifest::check_json(section.data) {
        Ok(checked) => {
            for d in checked.diagnostics.iter() {
                let message = if d.path.is_empty() {
                    format!("manifest: {}", d.message)
                } else {
                    format!("manifest: `{}`: {}", d.path, d.message)
                };
                match d.severity {
                    DiagnosticSeverity::Error => verdict.error(ProblemKind::Manifest, message),
                    DiagnosticSeverity::Warning => verdict.warning(ProblemKind::Manifest, message),
                }
            }
            verdict.manifest = checked.manifest;
        }
        Err(err) => verdict.error(
            ProblemKind::ManifestSyntax,
            format!("the `ohd_manifest` section is not a valid manifest: {err}"),
        ),
    }
}

/// How many JSON documents `data` holds, or `Err` when it is not a JSON stream.
fn json_values(data: &[u8]) -> Result<usize, ()> {
    let mut count = 0;
    for value in serde_json::Deserializer::from_slice(data).into_iter::<serde::de::IgnoredAny>() {
        value.map_err(|_| ())?;
        count += 1;
    }
    Ok(count)
}

fn check_marker(sections: &[&CustomSection<'_>], verdict: &mut Acceptance) {
    let section = match sections {
        [] => return,
        [one] => one,
        many => {
            verdict.error(
                ProblemKind::AbiMarker,
                format!(
                    "the `ohd_abi` section is invalid: there are {} of them; a module may have at most one",
                    many.len()
                ),
            );
            return;
        }
    };
    match serde_json::from_slice::<AbiMarker>(section.data) {
        Ok(marker) => {
            if marker.abi != crate::ABI_VERSION {
                verdict.error(
                    ProblemKind::AbiVersion,
                    format!(
                        "the module was built for plugin ABI {} (`ohd_abi` section); this host implements ABI {}",
                        marker.abi,
                        crate::ABI_VERSION
                    ),
                );
            }
            verdict.marker = Some(marker);
        }
        Err(err) => verdict.error(
            ProblemKind::AbiMarker,
            format!(
                "the `ohd_abi` section is invalid: expected a JSON object like {{\"abi\":1,\"sdk\":\"…\"}}: {err}"
            ),
        ),
    }
}

fn check_imports(info: &ModuleInfo<'_>, verdict: &mut Acceptance) {
    use ProblemKind::*;
    for import in &info.imports {
        let full = format!("{}.{}", import.module, import.name);
        let hint = match &import.item {
            Item::Func { .. } => None,
            Item::Memory(_) => Some("the plugin must define and export its own memory"),
            Item::Table => Some("the plugin must define its own tables"),
            Item::Global => Some("the host provides no globals"),
            Item::Tag => Some("the host provides no exception tags"),
        };
        if let Some(hint) = hint {
            verdict.error(
                ImportKind,
                format!(
                    "imported {} `{full}` is not supported: {hint}",
                    import.item.kind_name()
                ),
            );
            continue;
        }
        if import.module != abi::IMPORT_MODULE {
            let hint = if import.module.starts_with("wasi") {
                "; WASI is not available to plugins: build for `wasm32-unknown-unknown`, or avoid \
                 the std functions (files, clocks, stdout) that need it"
            } else {
                ""
            };
            verdict.error(
                ForeignImport,
                format!(
                    "import `{full}` is not provided: plugins may import only from module `ohd`{hint}"
                ),
            );
            continue;
        }
        let Some(expected) = abi::host_function(&import.name) else {
            let names: Vec<String> = abi::HOST_FUNCTIONS
                .iter()
                .map(|f| format!("`{}`", f.name))
                .collect();
            // A function a later minor version added is as unknown here as a typo: name
            // the version this table is, so that its author can tell the two apart.
            verdict.error(
                UnknownImport,
                format!(
                    "import `{full}` is not a host function of ABI v1 (up to {}, the version \
                     this host implements); the `ohd` module provides {}",
                    implemented_version(),
                    names.join(", ")
                ),
            );
            continue;
        };
        if let Item::Func { signature } = &import.item
            && !matches_sig(signature.as_ref(), &expected.ty)
        {
            verdict.error(
                ImportSignature,
                format!(
                    "import `{full}` has type `{}`, expected `{}`",
                    show(signature.as_ref()),
                    expected.ty
                ),
            );
        }
    }
}

/// The version of the import table a host built on this crate implements: the newest
/// `since` of its rows (`"1.0"`).
fn implemented_version() -> &'static str {
    let key = |v: &&str| {
        let (major, minor) = v.split_once('.').unwrap_or((v, "0"));
        (
            major.parse::<u32>().unwrap_or(0),
            minor.parse::<u32>().unwrap_or(0),
        )
    };
    abi::HOST_FUNCTIONS
        .iter()
        .map(|f| f.since)
        .max_by_key(key)
        .unwrap_or("1.0")
}

fn matches_sig(found: Option<&Signature>, expected: &FuncType) -> bool {
    found.is_some_and(|s| expected.matches(&s.params, &s.results))
}

fn show(sig: Option<&Signature>) -> String {
    sig.map_or_else(|| "not a function type".to_owned(), ToString::to_string)
}

fn check_memories(info: &ModuleInfo<'_>, options: &AcceptOptions, verdict: &mut Acceptance) {
    // Each instance gets one memory and one table (the pooling allocator's slots, and the
    // store limits without it): a module with more could never be instantiated.
    if info.memories.len() > 1 {
        verdict.error(
            ProblemKind::Memory,
            format!(
                "the module defines {} memories; a plugin has exactly one, exported as `memory`",
                info.memories.len()
            ),
        );
    }
    if info.tables.len() > 1 {
        verdict.error(
            ProblemKind::Table,
            format!(
                "the module defines {} tables; a plugin has at most one",
                info.tables.len()
            ),
        );
    }
    for &elements in &info.tables {
        if elements > MAX_TABLE_ELEMENTS {
            verdict.error(
                ProblemKind::Table,
                format!(
                    "a table starts with {elements} elements, over the host's limit of {} per \
                     table",
                    MAX_TABLE_ELEMENTS
                ),
            );
        }
    }
    check_memory_limit(&info.memories, options, verdict);
}

/// A memory that starts larger than the host's limit could never be instantiated.
fn check_memory_limit(memories: &[MemoryInfo], options: &AcceptOptions, verdict: &mut Acceptance) {
    for memory in memories {
        let bytes = memory.initial_bytes();
        if bytes > options.memory_limit {
            verdict.error(
                ProblemKind::MemoryLimit,
                format!(
                    "the memory starts at {bytes} bytes ({}), over the host's memory limit of \
                     {} bytes ({}) per instance: lower its initial size (with Rust or clang, the \
                     linker's `--initial-memory`)",
                    mib(bytes),
                    options.memory_limit,
                    mib(options.memory_limit)
                ),
            );
        }
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn check_exports(info: &ModuleInfo<'_>, verdict: &mut Acceptance) {
    use ProblemKind::*;
    match info.export(abi::EXPORT_MEMORY).map(|e| &e.item) {
        None => verdict.error(
            MissingExport,
            "no `memory` export: the plugin must export its linear memory as `memory`",
        ),
        Some(Item::Memory(MemoryInfo { memory64: true, .. })) => verdict.error(
            Memory,
            "the `memory` export is a 64-bit memory; plugins are wasm32 modules with a 32-bit, \
             unshared memory",
        ),
        Some(Item::Memory(MemoryInfo { shared: true, .. })) => verdict.error(
            Memory,
            "the `memory` export is a shared memory; plugins have a 32-bit, unshared memory",
        ),
        Some(Item::Memory(_)) => {}
        Some(other) => verdict.error(
            Memory,
            format!(
                "the `memory` export is a {}, not a memory",
                other.kind_name()
            ),
        ),
    }

    // An ABI function export that is an imported function would make the host call itself.
    let mut valid = |expected: &PluginExport| -> bool {
        let Some(export) = info.export(expected.name) else {
            if expected.required {
                verdict.error(
                    MissingExport,
                    format!(
                        "no `{}` export: every plugin exports `{}: {}`, which receives the event JSON",
                        expected.name, expected.name, expected.ty
                    ),
                );
            }
            return false;
        };
        match &export.item {
            Item::Func { signature } if matches_sig(signature.as_ref(), &expected.ty) => {
                if export.func_index.is_some_and(|i| i < info.imported_funcs) {
                    verdict.error(
                        ReexportedImport,
                        format!(
                            "export `{}` re-exports an imported host function; the plugin must define `{}` itself",
                            expected.name, expected.name
                        ),
                    );
                    return false;
                }
                true
            }
            Item::Func { signature } => {
                verdict.error(
                    ExportSignature,
                    format!(
                        "export `{}` has type `{}`, expected `{}`",
                        expected.name,
                        show(signature.as_ref()),
                        expected.ty
                    ),
                );
                false
            }
            other => {
                verdict.error(
                    ExportSignature,
                    format!(
                        "export `{}` is a {}, expected a function `{}`",
                        expected.name,
                        other.kind_name(),
                        expected.ty
                    ),
                );
                false
            }
        }
    };
    let exported: Vec<&str> = abi::PLUGIN_EXPORTS
        .iter()
        .filter(|e| valid(e))
        .map(|e| e.name)
        .collect();
    let has = |name: &str| exported.contains(&name);

    let complete = |kind: AllocatorKind| has(kind.alloc().name) && has(kind.free().name);
    verdict.allocator = [AllocatorKind::Ohd, AllocatorKind::Libc]
        .into_iter()
        .find(|k| complete(*k));
    let ohd_halves: Vec<String> = [abi::EXPORT_OHD_ALLOC, abi::EXPORT_OHD_FREE]
        .iter()
        .filter(|n| has(n))
        .map(|n| format!("`{n}`"))
        .collect();
    match verdict.allocator {
        None => {
            let halves: Vec<String> = [
                abi::EXPORT_OHD_ALLOC,
                abi::EXPORT_OHD_FREE,
                abi::EXPORT_MALLOC,
                abi::EXPORT_LIBC_FREE,
            ]
            .iter()
            .filter(|n| has(n))
            .map(|n| format!("`{n}`"))
            .collect();
            let found = if halves.is_empty() {
                String::new()
            } else {
                format!(" (found only {}, without its other half)", halves.join(", "))
            };
            verdict.error(
                NoAllocator,
                format!(
                    "no allocator export: export `ohd_alloc`/`ohd_free` or `malloc`/`free`, with \
                     which the host hands the plugin its event payload{found}"
                ),
            );
        }
        Some(AllocatorKind::Libc) if !ohd_halves.is_empty() => verdict.warning(
            AllocatorFallback,
            format!(
                "only {} of `ohd_alloc`/`ohd_free` is exported, so the host uses `malloc` and `free`",
                ohd_halves.join(" and ")
            ),
        ),
        Some(_) => {}
    }
    verdict.has_initialize = has(abi::EXPORT_INITIALIZE);
    verdict.has_render_panel = has(abi::EXPORT_RENDER_PANEL);

    let ui_panel = verdict
        .manifest
        .as_ref()
        .is_some_and(|m| m.ui_panel.is_some());
    let render_panel_exported = info.export(abi::EXPORT_RENDER_PANEL).is_some();
    let indirect = info.export(abi::SDK_RENDER_PANEL_INDIRECT).is_some();
    if ui_panel && !render_panel_exported {
        let hint = if indirect {
            "; it exports `__ohd_render_panel_indirect`: run `cargo otai-plugin build`, which adds \
             the multi-value `render_panel` adapter"
        } else {
            ": export `render_panel(ticket_id_ptr: i32, ticket_id_len: i32) -> (url_ptr: i32, url_len: i32)`"
        };
        verdict.error(
            RenderPanelMissing,
            format!("manifest declares `ui_panel` but the module exports no `render_panel`{hint}"),
        );
    } else if indirect {
        let message = if render_panel_exported {
            "`__ohd_render_panel_indirect` is still exported beside `render_panel`; hosts ignore it"
        } else {
            "the module exports `__ohd_render_panel_indirect` but no `render_panel` and the \
             manifest no `ui_panel`: declare `ui_panel` and run `cargo otai-plugin build`, or \
             remove `render_panel` from the plugin"
        };
        verdict.warning(RenderPanelIndirect, message);
    }
    if render_panel_exported && !ui_panel && verdict.manifest.is_some() {
        verdict.warning(
            RenderPanelUnused,
            "the module exports `render_panel` but the manifest declares no `ui_panel`; it is never called",
        );
    }
}

/// Judges a component already read: the custom sections of the component itself as for
/// a core module, then its imports (only the interfaces of `ohd:plugin@1.0.0`, each
/// function with its type), its shape (core modules only, one memory) and its exports
/// (`on-event`, and `render-panel` with `ui_panel`).
pub fn accept_component(info: &ComponentInfo<'_>, options: &AcceptOptions) -> Acceptance {
    let mut verdict = Acceptance {
        flavour: Flavour::Component,
        ..Acceptance::default()
    };
    if let Some(err) = &info.invalid {
        verdict.error(
            ProblemKind::InvalidWasm,
            format!("the component is not valid WebAssembly: {err}"),
        );
    }
    let nested = |name: &str| info.nested_custom_sections.contains(&name);
    let hint = nested(abi::MANIFEST_SECTION).then_some(
        "; a core module inside the component carries one, but a host reads the component's \
         own sections: build with `cargo otai-plugin build --component`, which moves it there",
    );
    check_manifest(&info.custom(abi::MANIFEST_SECTION), hint, &mut verdict);
    check_marker(&info.custom(abi::ABI_MARKER_SECTION), &mut verdict);
    check_component_imports(info, &mut verdict);
    check_component_shape(info, options, &mut verdict);
    check_component_exports(info, &mut verdict);
    verdict
}

fn check_component_imports(info: &ComponentInfo<'_>, verdict: &mut Acceptance) {
    use ProblemKind::*;
    let provided = format!(
        "`{}` and `{}`",
        component::HOST_INTERFACE,
        component::TYPES_INTERFACE
    );
    for import in &info.imports {
        let name = import.name.as_str();
        if name != component::HOST_INTERFACE && name != component::TYPES_INTERFACE {
            let hint = if name.starts_with("wasi:") {
                "; WASI is not available to plugins: build for `wasm32-unknown-unknown` \
                 (`cargo otai-plugin build --component`), not `wasm32-wasip2`, and avoid the std \
                 functions (files, clocks, stdout) that need it"
            } else if name.starts_with("ohd:plugin/") {
                "; this host implements version 1.0.0 of the interfaces"
            } else {
                ""
            };
            verdict.error(
                ForeignImport,
                format!(
                    "import `{name}` is not provided: a plugin component may import only \
                     {provided}{hint}"
                ),
            );
            continue;
        }
        let ComponentItem::Instance { functions, .. } = &import.item else {
            verdict.error(
                ImportKind,
                format!(
                    "import `{name}` is a {}, expected an instance of the interface",
                    import.item.kind_name()
                ),
            );
            continue;
        };
        for (function, ty) in functions {
            let full = format!("{name}#{function}");
            let expected = (name == component::HOST_INTERFACE)
                .then(|| component::host_function(function))
                .flatten();
            let Some(expected) = expected else {
                let names: Vec<String> = component::HOST_FUNCTIONS
                    .iter()
                    .map(|f| format!("`{}`", f.name))
                    .collect();
                verdict.error(
                    UnknownImport,
                    format!(
                        "import `{full}` is not a host function of ABI v1; `{}` provides {}",
                        component::HOST_INTERFACE,
                        names.join(", ")
                    ),
                );
                continue;
            };
            if ty != expected.ty {
                verdict.error(
                    ImportSignature,
                    format!(
                        "import `{full}` has type `{ty}`, expected `{}`",
                        expected.ty
                    ),
                );
            }
        }
    }
}

fn check_component_shape(
    info: &ComponentInfo<'_>,
    options: &AcceptOptions,
    verdict: &mut Acceptance,
) {
    if info.nested_components > 0 {
        verdict.error(
            ProblemKind::Component,
            format!(
                "the component contains {} component(s); a plugin component holds core modules \
                 only, as `cargo otai-plugin build --component` makes it",
                info.nested_components
            ),
        );
    }
    if info.core_instances > MAX_COMPONENT_CORE_INSTANCES {
        verdict.error(
            ProblemKind::Component,
            format!(
                "the component creates {} core instances, over the host's limit of \
                 {MAX_COMPONENT_CORE_INSTANCES}",
                info.core_instances
            ),
        );
    }
    if info.memories.len() > 1 {
        verdict.error(
            ProblemKind::Memory,
            format!(
                "the component's core modules define {} memories; a plugin has exactly one",
                info.memories.len()
            ),
        );
    }
    for memory in &info.memories {
        if memory.memory64 || memory.shared {
            verdict.error(
                ProblemKind::Memory,
                "the component's memory is a 64-bit or shared memory; plugins have a 32-bit, \
                 unshared memory",
            );
        }
    }
    if info.tables.len() > MAX_COMPONENT_TABLES {
        verdict.error(
            ProblemKind::Table,
            format!(
                "the component's core modules define {} tables; a plugin component has at most \
                 {MAX_COMPONENT_TABLES}",
                info.tables.len()
            ),
        );
    }
    check_memory_limit(&info.memories, options, verdict);
    for &elements in &info.tables {
        if elements > MAX_TABLE_ELEMENTS {
            verdict.error(
                ProblemKind::Table,
                format!(
                    "a table starts with {elements} elements, over the host's limit of \
                     {MAX_TABLE_ELEMENTS} per table"
                ),
            );
        }
    }
}

fn check_component_exports(info: &ComponentInfo<'_>, verdict: &mut Acceptance) {
    use ProblemKind::*;
    let mut valid = |expected: &component::WitExport, required: bool| -> bool {
        let Some(export) = info.export(expected.name) else {
            if required {
                verdict.error(
                    MissingExport,
                    format!(
                        "no `{}` export: every plugin component exports `{}: {}`, which receives \
                         the event JSON",
                        expected.name, expected.name, expected.ty
                    ),
                );
            }
            return false;
        };
        match &export.item {
            ComponentItem::Func { ty: Some(ty) } if ty == expected.ty => true,
            // Unknown when the component is invalid, which is reported already.
            ComponentItem::Func { ty: None } => false,
            ComponentItem::Func { ty: Some(ty) } => {
                verdict.error(
                    ExportSignature,
                    format!(
                        "export `{}` has type `{ty}`, expected `{}`",
                        expected.name, expected.ty
                    ),
                );
                false
            }
            other => {
                verdict.error(
                    ExportSignature,
                    format!(
                        "export `{}` is a {}, expected a function `{}`",
                        expected.name,
                        other.kind_name(),
                        expected.ty
                    ),
                );
                false
            }
        }
    };
    valid(&component::ON_EVENT, true);
    verdict.has_render_panel = valid(&component::RENDER_PANEL, false);

    let ui_panel = verdict
        .manifest
        .as_ref()
        .is_some_and(|m| m.ui_panel.is_some());
    let exported = info.export(component::EXPORT_RENDER_PANEL).is_some();
    if ui_panel && !exported {
        verdict.error(
            RenderPanelMissing,
            format!(
                "manifest declares `ui_panel` but the component exports no `{}`: implement the \
                 world `{}` (`{}: {}`)",
                component::EXPORT_RENDER_PANEL,
                component::WORLD_WITH_PANEL,
                component::EXPORT_RENDER_PANEL,
                component::RENDER_PANEL.ty
            ),
        );
    }
    if exported && !ui_panel && verdict.manifest.is_some() {
        verdict.warning(
            RenderPanelUnused,
            format!(
                "the component exports `{}` but the manifest declares no `ui_panel`; it is never \
                 called",
                component::EXPORT_RENDER_PANEL
            ),
        );
    }
}

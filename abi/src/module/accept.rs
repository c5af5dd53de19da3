//! Judging a module against ABI v1: every reason a host refuses it, and what loads but
//! is probably a mistake, each with its [`ProblemKind`], in the order of docs/ABI.md
//! section 10.

use crate::limits::{MAX_MANIFEST, MAX_TABLE_ELEMENTS};
use crate::manifest::{Manifest, Severity as DiagnosticSeverity};
use crate::marker::AbiMarker;
use crate::module::info::{Item, MemoryInfo, ModuleInfo, Signature};
use crate::module::problem::{AcceptOptions, Acceptance, ProblemKind};
use crate::wasm::{self as abi, AllocatorKind, FuncType, PluginExport};

/// Reads and judges `bytes`. Bytes that are not a readable core module get one
/// problem ([`ProblemKind::NotWasm`], [`ProblemKind::Component`] or
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
    match ModuleInfo::parse(bytes) {
        Ok(info) => accept_module(&info, options),
        Err(err) => {
            let mut verdict = Acceptance::default();
            verdict.error(err.kind(), err.to_string());
            verdict
        }
    }
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
    check_manifest(info, &mut verdict);
    check_marker(info, &mut verdict);
    check_imports(info, &mut verdict);
    check_memories(info, options, &mut verdict);
    check_exports(info, &mut verdict);
    verdict
}

fn check_manifest(info: &ModuleInfo<'_>, verdict: &mut Acceptance) {
    let sections = info.custom(abi::MANIFEST_SECTION);
    let section = match sections.as_slice() {
        [] => {
            verdict.error(
                ProblemKind::ManifestMissing,
                "no `ohd_manifest` custom section: every plugin embeds its manifest JSON in one \
                 (the Rust SDK's `#[plugin]` does it from Cargo.toml; other toolchains add the \
                 section after linking)",
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

fn check_marker(info: &ModuleInfo<'_>, verdict: &mut Acceptance) {
    let sections = info.custom(abi::ABI_MARKER_SECTION);
    let section = match sections.as_slice() {
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
            verdict.error(
                UnknownImport,
                format!(
                    "import `{full}` is not a host function of ABI v1; the `ohd` module provides {}",
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
    for memory in &info.memories {
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

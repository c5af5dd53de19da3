//! Loading a module as a plugin: custom sections, the manifest, imports and exports
//! checked against ABI v1, compiled once.

use std::sync::Arc;

use otai_plugin_abi::manifest::Manifest;
use otai_plugin_abi::marker::AbiMarker;
use otai_plugin_abi::wasm::{
    self, ABI_MARKER_SECTION, AllocatorKind, EXPORT_MEMORY, FuncType, IMPORT_MODULE,
    MANIFEST_SECTION, SDK_RENDER_PANEL_INDIRECT, ValType,
};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef};
use wasmtime::{Engine, ExternType, InstancePre, Linker, Module};

use crate::error::LoadError;
use crate::state::State;

/// A loaded plugin: a validated, compiled module and its manifest, ready to be
/// installed on the [`crate::Host`] that loaded it. Cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    pub(crate) inner: Arc<PluginInner>,
}

pub(crate) struct PluginInner {
    pub(crate) manifest: Manifest,
    pub(crate) pre: InstancePre<State>,
    pub(crate) allocator: AllocatorKind,
    pub(crate) has_initialize: bool,
    pub(crate) has_render_panel: bool,
    pub(crate) warnings: Vec<String>,
    pub(crate) marker: Option<AbiMarker>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.inner.manifest.id)
            .field("version", &self.inner.manifest.version)
            .field("allocator", &self.inner.allocator)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// The manifest from the `ohd_manifest` section.
    pub fn manifest(&self) -> &Manifest {
        &self.inner.manifest
    }

    /// The manifest id.
    pub fn id(&self) -> &str {
        &self.inner.manifest.id
    }

    /// Warnings found while loading (unknown manifest fields, a `render_panel` export
    /// without `ui_panel`, …). A plugin with warnings works.
    pub fn warnings(&self) -> &[String] {
        &self.inner.warnings
    }

    /// The allocator pair the host uses.
    pub fn allocator(&self) -> AllocatorKind {
        self.inner.allocator
    }

    /// The `ohd_abi` marker, when the module has one.
    pub fn abi_marker(&self) -> Option<&AbiMarker> {
        self.inner.marker.as_ref()
    }

    /// Whether two handles share one compiled module (loading the same bytes twice
    /// does).
    pub fn same_module(&self, other: &Plugin) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

/// What the first pass over the binary found.
#[derive(Default)]
struct Sections<'a> {
    manifests: Vec<&'a [u8]>,
    markers: Vec<&'a [u8]>,
    imports: Vec<(&'a str, &'a str, TypeRef)>,
    imported_funcs: u32,
    exports: Vec<(&'a str, ExternalKind, u32)>,
    memories: Vec<wasmparser::MemoryType>,
}

fn scan(bytes: &[u8]) -> Result<Sections<'_>, LoadError> {
    if Parser::is_component(bytes) {
        return Err(LoadError::Component);
    }
    if !Parser::is_core_wasm(bytes) {
        return Err(LoadError::InvalidWasm(
            "the bytes do not start with the WebAssembly header (`\\0asm`, version 1)".into(),
        ));
    }
    let invalid = |e: wasmparser::BinaryReaderError| LoadError::InvalidWasm(e.to_string());
    let mut s = Sections::default();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(invalid)? {
            Payload::CustomSection(c) if c.name() == MANIFEST_SECTION => s.manifests.push(c.data()),
            Payload::CustomSection(c) if c.name() == ABI_MARKER_SECTION => s.markers.push(c.data()),
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(invalid)?;
                    if matches!(import.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)) {
                        s.imported_funcs += 1;
                    }
                    s.imports.push((import.module, import.name, import.ty));
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    s.memories.push(memory.map_err(invalid)?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(invalid)?;
                    s.exports.push((export.name, export.kind, export.index));
                }
            }
            _ => {}
        }
    }
    Ok(s)
}

fn to_abi(ty: &wasmtime::ValType) -> ValType {
    match ty {
        wasmtime::ValType::I32 => ValType::I32,
        wasmtime::ValType::I64 => ValType::I64,
        wasmtime::ValType::F32 => ValType::F32,
        wasmtime::ValType::F64 => ValType::F64,
        wasmtime::ValType::V128 => ValType::V128,
        wasmtime::ValType::Ref(_) => ValType::Ref,
    }
}

/// The signature of a function type, if it differs from `expected`.
fn mismatch(ty: &wasmtime::FuncType, expected: &FuncType) -> Option<String> {
    let params: Vec<ValType> = ty.params().map(|t| to_abi(&t)).collect();
    let results: Vec<ValType> = ty.results().map(|t| to_abi(&t)).collect();
    (!expected.matches(&params, &results)).then(|| wasm::signature_to_string(&params, &results))
}

fn kind_name(ty: &ExternType) -> &'static str {
    match ty {
        ExternType::Func(_) => "function",
        ExternType::Global(_) => "global",
        ExternType::Table(_) => "table",
        ExternType::Memory(_) => "memory",
        ExternType::Tag(_) => "tag",
    }
}

fn manifest(sections: &Sections<'_>) -> Result<(Manifest, Vec<String>), LoadError> {
    let bytes = match sections.manifests.as_slice() {
        [] => return Err(LoadError::MissingManifest),
        [one] => *one,
        _ => return Err(LoadError::DuplicateManifest),
    };
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(LoadError::ManifestSyntax(format!(
            "it is not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        )));
    }
    let manifest = Manifest::from_json(bytes)?;
    let diagnostics = manifest.validate();
    if diagnostics.has_errors() {
        return Err(LoadError::InvalidManifest(diagnostics));
    }
    let mut warnings: Vec<String> = diagnostics.warnings().map(ToString::to_string).collect();
    for field in &manifest.unknown_fields {
        let w = format!("warning: {field}: unknown manifest field, ignored");
        if !warnings.iter().any(|x| x.contains(field.as_str())) {
            warnings.push(w);
        }
    }
    Ok((manifest, warnings))
}

fn marker(sections: &Sections<'_>) -> Result<Option<AbiMarker>, LoadError> {
    let bytes = match sections.markers.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        _ => {
            return Err(LoadError::InvalidAbiMarker(
                "there are two `ohd_abi` sections".into(),
            ));
        }
    };
    let marker: AbiMarker = serde_json::from_slice(bytes).map_err(|e| {
        LoadError::InvalidAbiMarker(format!("expected `{{\"abi\":1,\"sdk\":\"…\"}}`: {e}"))
    })?;
    if marker.abi != otai_plugin_abi::ABI_VERSION {
        return Err(LoadError::UnsupportedAbi { found: marker.abi });
    }
    Ok(Some(marker))
}

fn check_import_names(sections: &Sections<'_>) -> Result<(), LoadError> {
    for (module, name, ty) in &sections.imports {
        if *module != IMPORT_MODULE {
            return Err(LoadError::ForeignImport {
                module: (*module).into(),
                name: (*name).into(),
            });
        }
        let (kind, hint) = match ty {
            TypeRef::Func(_) | TypeRef::FuncExact(_) => {
                if wasm::host_function(name).is_none() {
                    let available = wasm::HOST_FUNCTIONS
                        .iter()
                        .map(|f| format!("`{}`", f.name))
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(LoadError::UnknownHostFunction {
                        name: (*name).into(),
                        available,
                    });
                }
                continue;
            }
            TypeRef::Memory(_) => ("memory", "the plugin must define and export its own memory"),
            TypeRef::Table(_) => ("table", "the plugin must define its own tables"),
            TypeRef::Global(_) => ("global", "the host provides no globals"),
            TypeRef::Tag(_) => ("tag", "the host provides no exception tags"),
        };
        return Err(LoadError::ImportKind {
            kind,
            module: (*module).into(),
            name: (*name).into(),
            hint,
        });
    }
    // An ABI export that is an imported function would make the host call itself.
    for (name, kind, index) in &sections.exports {
        if *kind == ExternalKind::Func
            && *index < sections.imported_funcs
            && wasm::plugin_export(name).is_some()
        {
            return Err(LoadError::ReexportedImport {
                name: (*name).into(),
            });
        }
    }
    Ok(())
}

/// Loads and checks `bytes`; `memory_limit` is the host's per-instance limit.
pub(crate) fn load(
    engine: &Engine,
    linker: &Linker<State>,
    bytes: &[u8],
    memory_limit: u64,
) -> Result<Plugin, LoadError> {
    let sections = scan(bytes)?;
    let (manifest, mut warnings) = manifest(&sections)?;
    let marker = marker(&sections)?;
    check_import_names(&sections)?;
    for memory in &sections.memories {
        let page = 1u64 << memory.page_size_log2.unwrap_or(16);
        let min = memory.initial.saturating_mul(page);
        if min > memory_limit {
            return Err(LoadError::Memory(format!(
                "its initial size is {min} bytes, over the host's memory limit of {memory_limit} bytes"
            )));
        }
    }

    let module = Module::from_binary(engine, bytes).map_err(|e| {
        // wasmtime validates while compiling; an invalid module is the author's error.
        LoadError::Compile(format!("{e:#}"))
    })?;

    for import in module.imports() {
        let Some(expected) = wasm::host_function(import.name()) else {
            continue;
        };
        if let ExternType::Func(ft) = import.ty()
            && let Some(found) = mismatch(&ft, &expected.ty)
        {
            return Err(LoadError::ImportSignature {
                name: import.name().into(),
                found,
                expected: expected.ty.to_string(),
            });
        }
    }

    let mut funcs = std::collections::HashSet::new();
    let mut memory_found = false;
    let mut indirect = false;
    for export in module.exports() {
        let name = export.name();
        let ty = export.ty();
        if name == EXPORT_MEMORY {
            let ExternType::Memory(mt) = &ty else {
                return Err(LoadError::Memory(format!(
                    "`memory` is a {}, not a memory",
                    kind_name(&ty)
                )));
            };
            if mt.is_64() || mt.is_shared() {
                return Err(LoadError::Memory(
                    "it must be a 32-bit, unshared memory".into(),
                ));
            }
            memory_found = true;
            continue;
        }
        if name == SDK_RENDER_PANEL_INDIRECT {
            indirect = true;
        }
        let Some(abi) = wasm::plugin_export(name) else {
            continue;
        };
        let ExternType::Func(ft) = &ty else {
            return Err(LoadError::ExportSignature {
                name: name.into(),
                found: format!("a {}", kind_name(&ty)),
                expected: abi.ty.to_string(),
            });
        };
        if let Some(found) = mismatch(ft, &abi.ty) {
            return Err(LoadError::ExportSignature {
                name: name.into(),
                found,
                expected: abi.ty.to_string(),
            });
        }
        funcs.insert(abi.name);
    }

    if !memory_found {
        return Err(LoadError::MissingExport {
            name: EXPORT_MEMORY,
            hint: "the plugin must export its linear memory as `memory`",
        });
    }
    if !funcs.contains(wasm::EXPORT_ON_EVENT) {
        return Err(LoadError::MissingExport {
            name: wasm::EXPORT_ON_EVENT,
            hint: "every plugin exports `on_event(ptr: i32, len: i32)`, which receives the event JSON",
        });
    }
    let has = |k: AllocatorKind| funcs.contains(k.alloc().name) && funcs.contains(k.free().name);
    let allocator = if has(AllocatorKind::Ohd) {
        AllocatorKind::Ohd
    } else if has(AllocatorKind::Libc) {
        AllocatorKind::Libc
    } else {
        let halves: Vec<String> = ["ohd_alloc", "ohd_free", "malloc", "free"]
            .iter()
            .filter(|n| funcs.contains(*n))
            .map(|n| format!("`{n}`"))
            .collect();
        let found = if halves.is_empty() {
            String::new()
        } else {
            format!(
                " (found only {}, without its other half)",
                halves.join(", ")
            )
        };
        return Err(LoadError::NoAllocator { found });
    };
    let has_render_panel = funcs.contains(wasm::EXPORT_RENDER_PANEL);
    if manifest.ui_panel.is_some() && !has_render_panel {
        let hint = if indirect {
            "; it exports `__ohd_render_panel_indirect`: run `cargo otai-plugin build`, which adds the multi-value `render_panel` adapter"
        } else {
            ": export `render_panel(ticket_id_ptr: i32, ticket_id_len: i32) -> (url_ptr: i32, url_len: i32)`"
        };
        return Err(LoadError::MissingRenderPanel { hint });
    }
    if has_render_panel && manifest.ui_panel.is_none() {
        warnings.push(
            "warning: the module exports `render_panel` but the manifest declares no `ui_panel`; it is never called"
                .into(),
        );
    }

    let pre = linker
        .instantiate_pre(&module)
        .map_err(|e| LoadError::Compile(format!("{e:#}")))?;
    Ok(Plugin {
        inner: Arc::new(PluginInner {
            manifest,
            pre,
            allocator,
            has_initialize: funcs.contains(wasm::EXPORT_INITIALIZE),
            has_render_panel,
            warnings,
            marker,
        }),
    })
}

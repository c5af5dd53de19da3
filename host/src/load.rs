//! Loading a module as a plugin: custom sections, the manifest, imports and exports
//! checked against ABI v1, compiled once.

use std::sync::Arc;

use otai_plugin_abi::manifest::Manifest;
use otai_plugin_abi::marker::AbiMarker;
use otai_plugin_abi::module::signature::{PublicKey, verify_signatures};
use otai_plugin_abi::module::{AcceptOptions, Flavour, Problem, accept};
use otai_plugin_abi::wasm::{self, AllocatorKind};
use wasmtime::component::{Component, Linker as ComponentLinker};
use wasmtime::{Engine, Instance, InstancePre, Linker, Module, ModuleExport, Store};

use crate::disk_cache::{DiskCache, Kind};
use crate::error::{LoadError, Rejection};
use crate::functions::bindings::panel::PluginWithPanelPre;
use crate::functions::bindings::plugin::PluginPre;
use crate::guest_func::ExportFn;
use crate::state::{FreeFn, State};

/// A loaded plugin: a validated, compiled module (or component) and its manifest, ready
/// to be installed on the [`crate::Host`] that loaded it. Cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    pub(crate) inner: Arc<PluginInner>,
}

pub(crate) struct PluginInner {
    pub(crate) manifest: Manifest,
    pub(crate) warnings: Vec<Problem>,
    pub(crate) marker: Option<AbiMarker>,
    pub(crate) code: Code,
}

/// What a delivery instantiates, in the plugin's flavour.
pub(crate) enum Code {
    /// A core module, its allocator pair and its exports.
    Core {
        pre: InstancePre<State>,
        allocator: AllocatorKind,
        exports: Exports,
    },
    /// A component: `on-event` through the world `plugin`, and `render-panel` through
    /// the world `plugin-with-panel` when it exports one.
    Component {
        pre: PluginPre<State>,
        panel: Option<PluginWithPanelPre<State>>,
    },
}

impl Code {
    fn engine(&self) -> &Engine {
        match self {
            Code::Core { pre, .. } => pre.module().engine(),
            Code::Component { pre, .. } => pre.engine(),
        }
    }

    /// Whether the plugin can render a panel.
    pub(crate) fn has_panel(&self) -> bool {
        match self {
            Code::Core { exports, .. } => exports.render_panel.is_some(),
            Code::Component { panel, .. } => panel.is_some(),
        }
    }
}

/// The ABI's exports, found in the module once at load: each delivery then takes them
/// from its instance by index instead of looking their names up again.
///
/// The function exports carry their ABI signature, checked here against wasmtime's
/// record of the compiled module, so that a delivery calls them without checking again.
pub(crate) struct Exports {
    pub(crate) memory: ModuleExport,
    pub(crate) alloc: ExportFn<u32, u32>,
    pub(crate) free: FreeExport,
    pub(crate) on_event: ExportFn<(u32, u32), ()>,
    pub(crate) render_panel: Option<ExportFn<(u32, u32), (u32, u32)>>,
    pub(crate) initialize: Option<ExportFn<(), ()>>,
}

/// The deallocator export, in the calling convention of the plugin's allocator pair.
pub(crate) enum FreeExport {
    Ohd(ExportFn<(u32, u32), ()>),
    Libc(ExportFn<u32, ()>),
}

impl FreeExport {
    /// The deallocator of `instance` (an instance of the module it was resolved in).
    pub(crate) fn get(&self, store: &mut Store<State>, instance: Instance) -> Option<FreeFn> {
        Some(match self {
            FreeExport::Ohd(f) => FreeFn::Ohd(f.get(store, instance)?),
            FreeExport::Libc(f) => FreeFn::Libc(f.get(store, instance)?),
        })
    }
}

impl Exports {
    fn resolve(module: &Module, allocator: AllocatorKind) -> Result<Exports, String> {
        // `accept` has checked them already, on the module's bytes; these checks are
        // the ones the calls' memory safety rests on.
        let free = match allocator {
            AllocatorKind::Ohd => {
                FreeExport::Ohd(ExportFn::resolve(module, wasm::EXPORT_OHD_FREE)?)
            }
            AllocatorKind::Libc => {
                FreeExport::Libc(ExportFn::resolve(module, wasm::EXPORT_LIBC_FREE)?)
            }
        };
        Ok(Exports {
            memory: module
                .get_export_index(wasm::EXPORT_MEMORY)
                .ok_or_else(|| {
                    format!(
                        "the compiled module has no `{}` export",
                        wasm::EXPORT_MEMORY
                    )
                })?,
            alloc: ExportFn::resolve(module, allocator.alloc().name)?,
            free,
            on_event: ExportFn::resolve(module, wasm::EXPORT_ON_EVENT)?,
            render_panel: ExportFn::resolve_optional(module, wasm::EXPORT_RENDER_PANEL)?,
            initialize: ExportFn::resolve_optional(module, wasm::EXPORT_INITIALIZE)?,
        })
    }
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.inner.manifest.id)
            .field("version", &self.inner.manifest.version)
            .field("flavour", &self.flavour())
            .field("allocator", &self.allocator())
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
    /// without `ui_panel`, …), as `cargo otai-plugin check` lists them. A plugin with
    /// warnings works.
    pub fn warnings(&self) -> &[Problem] {
        &self.inner.warnings
    }

    /// The allocator pair the host uses with a core module; `None` for a component,
    /// whose canonical ABI allocates with its own `cabi_realloc`.
    pub fn allocator(&self) -> Option<AllocatorKind> {
        match &self.inner.code {
            Code::Core { allocator, .. } => Some(*allocator),
            Code::Component { .. } => None,
        }
    }

    /// Whether the plugin is a core module or a component (docs/ABI.md, section 14).
    pub fn flavour(&self) -> Flavour {
        match &self.inner.code {
            Code::Core { .. } => Flavour::Core,
            Code::Component { .. } => Flavour::Component,
        }
    }

    /// Whether `engine` compiled this plugin.
    pub(crate) fn compiled_by(&self, engine: &Engine) -> bool {
        Engine::same(self.inner.code.engine(), engine)
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

/// Loads and checks `bytes` with the host's limits: a core module or a component, told
/// apart by their header.
///
/// The verdict is `otai_plugin_abi::module::accept`'s, the one `cargo otai-plugin check`
/// gives: a refused module gets every problem at once.
pub(crate) fn load(
    engine: &Engine,
    linker: &Linker<State>,
    component_linker: &ComponentLinker<State>,
    bytes: &[u8],
    options: &AcceptOptions,
    trusted_signers: Option<&[PublicKey]>,
    disk_cache: Option<&DiskCache>,
) -> Result<Plugin, LoadError> {
    let mut verdict = accept(bytes, options);
    // A module over the size limit was refused unread, and stays unread.
    if let Some(keys) = trusted_signers
        && bytes.len() as u64 <= options.max_module_size
    {
        verify_signatures(bytes, keys).require(&mut verdict);
    }
    let (Some(manifest), false) = (verdict.manifest.clone(), verdict.has_errors()) else {
        return Err(rejected(&verdict));
    };
    let compile = |e: wasmtime::Error| LoadError::Compile(format!("{e:#}"));
    let code = match verdict.flavour {
        Flavour::Core => {
            let Some(allocator) = verdict.allocator else {
                return Err(rejected(&verdict));
            };
            // wasmtime validates again while compiling; what it refuses here is a feature
            // this engine does not support.
            let module = match disk_cache {
                Some(cache) => cache.get_or_compile(
                    Kind::Module,
                    bytes,
                    || Module::from_binary(engine, bytes),
                    Module::serialize,
                    // SAFETY: the cache gives only code under its MAC, which only a holder
                    // of the embedder's key writes: code this host serialized for these
                    // very bytes and this engine (`disk_cache.rs`). wasmtime checks its
                    // version and the engine's settings itself.
                    |code| unsafe { Module::deserialize(engine, code) },
                ),
                None => Module::from_binary(engine, bytes),
            }
            .map_err(compile)?;
            let exports = Exports::resolve(&module, allocator).map_err(LoadError::Compile)?;
            let pre = linker.instantiate_pre(&module).map_err(compile)?;
            Code::Core {
                pre,
                allocator,
                exports,
            }
        }
        Flavour::Component => {
            let component = match disk_cache {
                Some(cache) => cache.get_or_compile(
                    Kind::Component,
                    bytes,
                    || Component::from_binary(engine, bytes),
                    Component::serialize,
                    // SAFETY: as for a core module above.
                    |code| unsafe { Component::deserialize(engine, code) },
                ),
                None => Component::from_binary(engine, bytes),
            }
            .map_err(compile)?;
            // `accept` checked the imports against the world, so linking fails only on
            // what it cannot see.
            let pre = component_linker
                .instantiate_pre(&component)
                .map_err(compile)?;
            let panel = if verdict.has_render_panel {
                Some(PluginWithPanelPre::new(pre.clone()).map_err(compile)?)
            } else {
                None
            };
            Code::Component {
                pre: PluginPre::new(pre).map_err(compile)?,
                panel,
            }
        }
    };
    Ok(Plugin {
        inner: Arc::new(PluginInner {
            manifest,
            warnings: verdict.warnings().cloned().collect(),
            marker: verdict.marker,
            code,
        }),
    })
}

fn rejected(verdict: &otai_plugin_abi::module::Acceptance) -> LoadError {
    let mut problems: Vec<Problem> = verdict.errors().cloned().collect();
    problems.extend(verdict.warnings().cloned());
    LoadError::Rejected(Rejection { problems })
}

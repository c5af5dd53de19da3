//! The module cargo built, made into what `build` writes: processed
//! ([`crate::postprocess`]) and optimized with `wasm-opt` ([`crate::wasm_opt`]), with
//! their status lines.

use anyhow::{Context, Result};
use cargo_metadata::camino::Utf8PathBuf;
use otai_plugin_abi::module::{AcceptOptions, accept};

use crate::cargo::PluginPackage;
use crate::postprocess::{self, Change};
use crate::term::{Shell, human_size};
use crate::wasm_opt::WasmOpt;

/// The module at `path` (`module`, its bytes) as `build` writes it.
pub(super) struct Produced {
    pub processed: postprocess::Processed,
    /// The sizes before and after `wasm-opt`, when it ran.
    pub optimized: Option<(u64, u64)>,
    /// Whether the help desk's default settings accepted the module before `wasm-opt`
    /// changed it; `false` where that was not checked (no `wasm-opt`, or the component
    /// flavour, whose core module is optimized before there is a plugin to check).
    pub accepted_before: bool,
}

/// Processes the module at `path` (`module`, its bytes) and runs `wasm_opt` on it: on
/// the component flavour's core module before it is encoded (Binaryen reads core modules
/// only), on a core module after processing, and only when the help desk accepts it: a
/// module the help desk refuses is reported as such, not as whatever `wasm-opt` makes of
/// it.
pub(super) fn produce(
    module: &[u8],
    manifest_json: Option<&str>,
    component: bool,
    wasm_opt: Option<&WasmOpt>,
    path: &Utf8PathBuf,
) -> Result<Produced> {
    let failed = || format!("failed to process `{path}`");
    if component {
        let (core, optimized) = match wasm_opt {
            // An earlier build's component is left as it is.
            Some(wasm_opt) if wasmparser::Parser::is_core_wasm(module) => {
                let core = optimize(wasm_opt, module, path)?;
                let sizes = (module.len() as u64, core.len() as u64);
                (std::borrow::Cow::Owned(core), Some(sizes))
            }
            _ => (std::borrow::Cow::Borrowed(module), None),
        };
        let processed = postprocess::componentize(&core, manifest_json).with_context(failed)?;
        return Ok(Produced {
            processed,
            optimized,
            accepted_before: false,
        });
    }
    let mut processed = postprocess::process(module, manifest_json).with_context(failed)?;
    let mut optimized = None;
    let accepted_before = match wasm_opt {
        Some(wasm_opt) if !accept(&processed.bytes, &AcceptOptions::default()).has_errors() => {
            let before = processed.bytes.len() as u64;
            processed.bytes = optimize(wasm_opt, &processed.bytes, path)?;
            optimized = Some((before, processed.bytes.len() as u64));
            true
        }
        _ => false,
    };
    Ok(Produced {
        processed,
        optimized,
        accepted_before,
    })
}

/// The status line of a `wasm-opt` run.
pub(super) fn report_optimized(
    shell: &Shell,
    package: &PluginPackage,
    wasm_opt: &WasmOpt,
    sizes: (u64, u64),
) {
    shell.status(
        "Optimizing",
        format!(
            "`{}` with wasm-opt {} ({} to {})",
            package.name,
            wasm_opt.args(),
            human_size(sizes.0),
            human_size(sizes.1)
        ),
    );
}

/// `wasm-opt` on the module at `path` (whose directory holds its temporary files).
fn optimize(wasm_opt: &WasmOpt, module: &[u8], path: &Utf8PathBuf) -> Result<Vec<u8>> {
    let dir = path
        .parent()
        .map_or(std::path::Path::new("."), |d| d.as_std_path());
    wasm_opt.run(module, dir, path.as_str())
}

/// The status lines of what processing changed.
pub(super) fn report_changes(shell: &Shell, package: &PluginPackage, changes: &[Change]) {
    for change in changes {
        match change {
            Change::Component => shell.status(
                "Encoding",
                format!(
                    "`{}` as a component of `{}`",
                    package.name,
                    otai_plugin_abi::component::PACKAGE
                ),
            ),
            Change::EmbeddedManifest => shell.status(
                "Embedding",
                format!(
                    "manifest from `{}` into `{}`",
                    package.manifest_path, package.name
                ),
            ),
            Change::RenderPanelAdapter => shell.status(
                "Embedding",
                format!("`render_panel` multi-value adapter into `{}`", package.name),
            ),
            Change::AbiMarker => {
                shell.verbose_status("Embedding", format!("ABI marker into `{}`", package.name))
            }
            Change::DataCopies(bytes) => shell.verbose_status(
                "Dropping",
                format!(
                    "{bytes} bytes of data from `{}`: the copy in linear memory of its \
                     `ohd_manifest` and `ohd_abi` sections",
                    package.name
                ),
            ),
        }
    }
}

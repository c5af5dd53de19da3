//! `cargo otai-plugin build`: cargo build for wasm32, then make the module a complete
//! ABI v1 plugin and check it.
//!
//! The output is written in place: the `.wasm` cargo reports (normally
//! `target/wasm32-unknown-unknown/<profile>/<crate>.wasm`) is replaced by the processed
//! module, atomically (a temporary file renamed over it) and only when processing
//! changed something. Cargo relinks that file from `deps/` on every build, so
//! processing runs again each time, and it is idempotent.

use std::path::Path;

use anyhow::{Context, Result, bail};
use cargo_metadata::camino::Utf8PathBuf;
use clap::Args;
use otai_plugin_abi::manifest::Manifest;
use otai_plugin_abi::manifest::cargo::manifest_from_cargo_toml_in_workspace;

use crate::cargo::{self, PackageOptions, PluginPackage};
use crate::postprocess::{self, Change};
use crate::term::{Shell, human_size};
use crate::{CommonOptions, crosscheck, lint, wasm};

/// Build plugins for `wasm32-unknown-unknown`, embed the manifest from Cargo.toml when
/// the module has none, add the `render_panel` adapter and the ABI marker, and check
/// the result against ABI v1.
#[derive(Debug, Args)]
pub struct BuildCommand {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub package: PackageOptions,
    /// Fail when a module is larger than this many bytes.
    #[arg(long, value_name = "BYTES")]
    pub max_size: Option<u64>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}

impl BuildCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// See [`build`].
    pub fn exec(self) -> Result<()> {
        let shell = self.common.shell();
        build(&shell, &self.package, self.max_size).map(|_| ())
    }
}

/// A plugin `build` produced.
#[derive(Debug, Clone)]
pub struct BuiltPlugin {
    /// Its package.
    pub package: PluginPackage,
    /// The processed module.
    pub wasm: Utf8PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its embedded manifest.
    pub manifest: Manifest,
}

/// Builds, processes and lints the selected plugins.
///
/// # Errors
/// Invalid `[package.metadata.ohd]`, an unknown or non-`cdylib` package, a failed cargo
/// build ([`crate::Exit`] with cargo's status), a module that breaks the ABI, or one
/// over `max_size`.
pub fn build(
    shell: &Shell,
    options: &PackageOptions,
    max_size: Option<u64>,
) -> Result<Vec<BuiltPlugin>> {
    let plan = plan(shell, options)?;
    build_planned(shell, options, plan, max_size)
}

/// The packages a build will produce, known before compiling.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The selected plugin packages.
    pub packages: Vec<PluginPackage>,
    workspace_toml: Option<String>,
}

/// Checks the wasm32 target and selects the packages, without compiling.
///
/// # Errors
/// The target is missing and cannot be added; the workspace cannot be loaded; an
/// unknown or non-`cdylib` package.
pub fn plan(shell: &Shell, options: &PackageOptions) -> Result<Plan> {
    let dir = options
        .manifest_path
        .as_deref()
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let target_check = cargo::start_target_check(dir);
    let metadata = cargo::load_metadata(options);
    // A missing target explains more than a workspace that does not load.
    target_check.finish(shell)?;
    let metadata = metadata?;
    let packages = cargo::select_plugins(&metadata, options)?;
    let workspace_toml = std::fs::read_to_string(metadata.workspace_root.join("Cargo.toml")).ok();
    Ok(Plan {
        packages,
        workspace_toml,
    })
}

/// Builds, processes and lints the planned packages.
///
/// # Errors
/// As [`build`].
pub fn build_planned(
    shell: &Shell,
    options: &PackageOptions,
    plan: Plan,
    max_size: Option<u64>,
) -> Result<Vec<BuiltPlugin>> {
    // Checked before compiling: a mistake in Cargo.toml is reported in a second, with
    // the key, instead of after a build.
    let mut manifests = Vec::new();
    for package in &plan.packages {
        manifests.push(if package.has_ohd_metadata {
            Some(manifest_from_package(
                shell,
                package,
                plan.workspace_toml.as_deref(),
            )?)
        } else {
            None
        });
    }

    let artifacts = cargo::build_wasm(shell, options, &plan.packages)?;
    let mut built = Vec::new();
    for (package, manifest) in plan.packages.into_iter().zip(manifests) {
        let path = artifacts.get(&package.name).cloned().with_context(|| {
            format!(
                "cargo reported no `.wasm` file for package `{}`",
                package.name
            )
        })?;
        built.push(finish(shell, package, path, manifest.as_ref(), max_size)?);
    }
    Ok(built)
}

fn manifest_from_package(
    shell: &Shell,
    package: &PluginPackage,
    workspace_toml: Option<&str>,
) -> Result<Manifest> {
    let path = &package.manifest_path;
    let text = std::fs::read_to_string(path).with_context(|| format!("failed to read `{path}`"))?;
    match manifest_from_cargo_toml_in_workspace(&text, workspace_toml) {
        Ok(built) => {
            for warning in built.warnings.iter() {
                shell.warn(format!("`{path}`: `{}`: {}", warning.path, warning.message));
            }
            Ok(built.manifest)
        }
        Err(diagnostics) => {
            let mut message = format!(
                "invalid plugin manifest in `{path}` (`[package.metadata.ohd]` and `[package]`):"
            );
            for d in diagnostics.iter() {
                let severity = if d.is_error() { "error" } else { "warning" };
                if d.path.is_empty() {
                    message.push_str(&format!("\n  {severity}: {}", d.message));
                } else {
                    message.push_str(&format!("\n  {severity}: `{}`: {}", d.path, d.message));
                }
            }
            bail!(message)
        }
    }
}

fn finish(
    shell: &Shell,
    package: PluginPackage,
    path: Utf8PathBuf,
    from_cargo_toml: Option<&Manifest>,
    max_size: Option<u64>,
) -> Result<BuiltPlugin> {
    let original = std::fs::read(&path).with_context(|| format!("failed to read `{path}`"))?;
    let json = from_cargo_toml.map(Manifest::to_json);
    let processed = postprocess::process(&original, json.as_deref())
        .with_context(|| format!("failed to process `{path}`"))?;
    for change in &processed.changes {
        match change {
            Change::EmbeddedManifest => {
                shell.status(
                    "Embedding",
                    format!(
                        "manifest from `{}` into `{}`",
                        package.manifest_path, package.name
                    ),
                );
            }
            Change::RenderPanelAdapter => {
                shell.status(
                    "Embedding",
                    format!("`render_panel` multi-value adapter into `{}`", package.name),
                );
            }
            Change::AbiMarker => {
                shell.verbose_status("Embedding", format!("ABI marker into `{}`", package.name))
            }
        }
    }

    let info = wasm::ModuleInfo::parse(&processed.bytes)?;
    let lint = lint::lint(&processed.bytes, &info);
    for warning in lint.warnings() {
        shell.warn(format!("`{}`: {warning}", package.name));
    }
    if lint.has_errors() {
        let mut message = format!("`{path}` is not a valid ABI v1 plugin:");
        for error in lint.errors() {
            message.push_str(&format!("\n  - {error}"));
        }
        bail!(message);
    }
    let Some(manifest) = lint.manifest else {
        bail!("`{path}` has no readable manifest");
    };
    for warning in crosscheck::crosscheck(package.root().as_std_path(), &manifest) {
        shell.warn(format!("`{}`: {warning}", package.name));
    }

    if !processed.changes.is_empty() {
        write_atomically(&path, &processed.bytes)?;
    }
    let size = processed.bytes.len() as u64;
    if let Some(max) = max_size
        && size > max
    {
        bail!(
            "`{path}` is {size} bytes ({}), over the `--max-size` budget of {max} bytes",
            human_size(size)
        );
    }
    shell.status(
        "Finished",
        format!(
            "`{}` plugin: {} ({})",
            package.name,
            display_path(&path),
            human_size(size)
        ),
    );
    Ok(BuiltPlugin {
        package,
        wasm: path,
        size,
        manifest,
    })
}

fn write_atomically(path: &Utf8PathBuf, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("wasm.otai-tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("failed to write `{tmp}`"))?;
    std::fs::rename(&tmp, path).with_context(|| format!("failed to replace `{path}`"))
}

/// The path relative to the current directory when it is below it, as cargo shows paths.
fn display_path(path: &Utf8PathBuf) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| {
            path.as_std_path()
                .strip_prefix(cwd)
                .ok()
                .map(|p| p.display().to_string())
        })
        .unwrap_or_else(|| path.to_string())
}

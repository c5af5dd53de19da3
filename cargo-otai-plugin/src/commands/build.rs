//! `cargo otai-plugin build`: cargo build for wasm32, then make the module a complete
//! ABI v1 plugin, optimize it with `wasm-opt` in an optimizing profile
//! (`crate::wasm_opt`), and check it.
//!
//! The output is written in place: the `.wasm` cargo reports (normally
//! `target/wasm32-unknown-unknown/<profile>/<crate>.wasm`) is replaced by the processed
//! module, atomically (a temporary file renamed over it) and only when processing
//! changed something; processing is idempotent. A stamp beside it
//! (`<crate>.wasm.otai-plugin`) records the file that was last checked and the
//! manifest Cargo.toml gave then, so a no-op build replays the warnings instead of
//! processing again. Cargo relinks a module that processing changed (a panel plugin's,
//! one without a manifest of its own) on every build, so that one is processed each
//! time.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use cargo_metadata::Metadata;
use cargo_metadata::camino::Utf8PathBuf;
use clap::Args;
use otai_plugin_abi::manifest::Manifest;
use otai_plugin_abi::manifest::cargo::manifest_from_cargo_toml_in_workspace;

use crate::cargo::{self, PackageOptions, PluginPackage, Target};
use crate::message_format::{
    ArtifactMessage, ArtifactProblem, Level, MessageFormat, PluginIdentity,
};
use crate::postprocess::Change;
use crate::signing::SigningKey;
use crate::term::{Shell, human_size};
use crate::wasm_opt::{self, Resolved, Setting, WasmOpt};
use otai_plugin_abi::module::{AcceptOptions, Severity, accept};

use crate::{CommonOptions, crosscheck};

mod embedded;
mod produce;
mod stamp;

use embedded::verify_embedded;
use produce::{Produced, produce, report_changes, report_optimized};
use stamp::{Found, Stamp, hash, identity, keep_output, tool};

/// Build plugins for `wasm32-unknown-unknown`, embed the manifest from Cargo.toml when
/// the module has none, add the `render_panel` adapter and the ABI marker, run
/// `wasm-opt` in an optimizing profile, and check the result against ABI v1.
#[derive(Debug, Args)]
pub struct BuildCommand {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub package: PackageOptions,
    /// Fail when a module is larger than this many bytes.
    #[arg(long, value_name = "BYTES")]
    pub max_size: Option<u64>,
    /// Sign each plugin with this ed25519 private key (OpenSSH format, as `key new` or
    /// `ssh-keygen -t ed25519` writes it) after every other step, `wasm-opt` included,
    /// as `cargo otai-plugin sign` does.
    #[arg(long, value_name = "KEY")]
    pub sign: Option<std::path::PathBuf>,
    /// With `--sign`: embed this rotation statement (`key rotate` writes it) before
    /// signing, as `cargo otai-plugin sign --rotation` does. Repeat it for a chain.
    #[arg(long, value_name = "FILE", requires = "sign")]
    pub rotation: Vec<std::path::PathBuf>,
    /// The output format, as cargo's: in the JSON formats stdout carries cargo's JSON
    /// messages and one `otai-plugin-artifact` line per plugin (path, size, plugin id,
    /// problems).
    #[arg(long, value_enum, value_name = "FMT", default_value_t)]
    pub message_format: MessageFormat,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}

impl BuildCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// Invalid `[package.metadata.ohd]`, an unknown or non-`cdylib` package, a failed
    /// cargo build ([`crate::Exit`] with cargo's status), a module that breaks the ABI,
    /// or one over `--max-size`.
    pub fn exec(self) -> Result<()> {
        let shell = self.common.shell();
        // Read before building, so that a wrong key fails in a second.
        let key = self.sign.as_deref().map(SigningKey::read).transpose()?;
        let rotations = self
            .rotation
            .iter()
            .map(|path| crate::signing::read_rotation(path))
            .collect::<Result<Vec<_>>>()?;
        let output = Output {
            max_size: self.max_size,
            format: self.message_format,
            keep_errors: false,
            sign: key.as_ref(),
            rotations: &rotations,
        };
        build(&shell, &self.package, output).map(|_| ())
    }
}

/// What a build checks and prints besides cargo's work.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Output<'a> {
    /// Fail when a module is larger than this.
    pub max_size: Option<u64>,
    /// Cargo's message format; in a JSON one, a line per plugin on stdout.
    pub format: MessageFormat,
    /// A failed build's compiler errors are kept, as the [`cargo::CompilerErrors`]
    /// context of its error (for `dev`, which shows them in its pages).
    pub keep_errors: bool,
    /// Sign each module with this key, last.
    pub sign: Option<&'a SigningKey>,
    /// The rotation statements each signed module carries.
    pub rotations: &'a [otai_plugin_abi::module::rotation::Rotation],
}

/// A plugin `build` produced.
#[derive(Debug, Clone)]
pub(crate) struct BuiltPlugin {
    /// Its package.
    pub package: PluginPackage,
    /// The processed module.
    pub wasm: Utf8PathBuf,
}

/// Builds, processes and lints the selected plugins.
///
/// # Errors
/// Invalid `[package.metadata.ohd]`, an unknown or non-`cdylib` package, a failed cargo
/// build ([`crate::Exit`] with cargo's status), a module that breaks the ABI, or one
/// over `max_size`.
pub(crate) fn build(
    shell: &Shell,
    options: &PackageOptions,
    output: Output<'_>,
) -> Result<Vec<BuiltPlugin>> {
    if options.workspace || (options.packages.is_empty() && cargo::is_virtual_manifest(options)) {
        // Only the `cdylib` members are built, so the workspace is read first.
        let plan = plan(shell, options)?;
        return build_planned(shell, options, plan, output);
    }
    // Cargo selects the same package from `-p` or the current directory as we do, so
    // the build starts at once and the workspace is read meanwhile; a plan that turns
    // out wrong stops the build. This keeps a no-op build close to plain cargo's time.
    //
    // The target check overlaps the build's start too when it is quick: `rustup which`
    // takes about 6 ms, while cargo needs 28 ms or more to reach a compile that could
    // fail for want of the target (docs/PERFORMANCE.md), so a missing target stops the
    // build before rustc can say "can't find crate". A `rustc --print sysroot` (16 ms)
    // is too close to that to race, and runs first.
    let target_check = cargo::start_target_check();
    let mut build = None;
    if target_check.is_quick() {
        build = Some(cargo::spawn_build(
            shell,
            options,
            &options.packages,
            output.format,
            output.keep_errors,
        )?);
    }
    let mut metadata_cargo = cargo::cargo_bin();
    match target_check.wait() {
        Target::Missing(missing) => {
            if let Some(build) = build.take() {
                build.abort();
            }
            missing.install(shell)?;
        }
        // Loading the workspace runs beside the build: skipping rustup's proxy keeps it
        // from slowing the build on a machine with few cores.
        Target::Present { cargo: Some(cargo) } => metadata_cargo = cargo.into(),
        Target::Present { cargo: None } => {}
    }
    let build = match build {
        Some(build) => build,
        None => cargo::spawn_build(
            shell,
            options,
            &options.packages,
            output.format,
            output.keep_errors,
        )?,
    };
    let planned = cargo::load_metadata_with(options, &metadata_cargo).and_then(|metadata| {
        let plan = select(&metadata, options)?;
        let prepared = prepare(shell, &plan, options)?;
        Ok((plan, prepared))
    });
    match planned {
        Ok((plan, prepared)) => {
            let artifacts = build.finish(&plan.packages)?;
            finish_all(shell, plan, prepared, &artifacts, output, options.component)
        }
        Err(err) => {
            build.abort();
            Err(err)
        }
    }
}

/// The packages a build will produce, known before compiling.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The selected plugin packages.
    pub packages: Vec<PluginPackage>,
    /// Cargo's target directory (`target`, or where `CARGO_TARGET_DIR` points).
    pub target_directory: Utf8PathBuf,
    workspace_toml: Option<String>,
}

fn select(metadata: &Metadata, options: &PackageOptions) -> Result<Plan> {
    let packages = cargo::select_plugins(metadata, options)?;
    let workspace_toml = std::fs::read_to_string(metadata.workspace_root.join("Cargo.toml")).ok();
    Ok(Plan {
        packages,
        target_directory: metadata.target_directory.clone(),
        workspace_toml,
    })
}

/// Checks the wasm32 target and selects the packages, without compiling.
///
/// # Errors
/// The target is missing and cannot be added; the workspace cannot be loaded; an
/// unknown or non-`cdylib` package.
pub(crate) fn plan(shell: &Shell, options: &PackageOptions) -> Result<Plan> {
    let target_check = cargo::start_target_check();
    let plan = cargo::load_metadata(options).and_then(|metadata| select(&metadata, options));
    // A missing target explains more than a workspace that does not load.
    target_check.finish(shell)?;
    plan
}

/// What a package's Cargo.toml asks of the build besides cargo's work.
struct Prepared {
    /// The manifest built from `[package.metadata.ohd]`.
    manifest: Option<Manifest>,
    /// The `wasm-opt` to run on the module.
    wasm_opt: Option<WasmOpt>,
}

/// The manifests built from each package's Cargo.toml and its `wasm-opt` setting:
/// checked before compiling, so that a mistake there is reported in a second, with its
/// key.
fn prepare(shell: &Shell, plan: &Plan, options: &PackageOptions) -> Result<Vec<Prepared>> {
    let optimizing = wasm_opt::optimizing_profile(options.release, options.profile.as_deref());
    let mut not_found = false;
    let prepared = plan
        .packages
        .iter()
        .map(|package| {
            let manifest = package
                .has_ohd_metadata
                .then(|| manifest_from_package(shell, package, plan.workspace_toml.as_deref()))
                .transpose()?;
            let (setting, warnings) =
                Setting::from_metadata(&package.metadata, &package.manifest_path)?;
            for warning in warnings {
                shell.warn(warning);
            }
            let wasm_opt = match wasm_opt::resolve(
                &setting,
                optimizing,
                std::env::var_os(wasm_opt::ENV),
                std::env::var_os("PATH"),
                &package.manifest_path,
            )? {
                Resolved::Run(wasm_opt) => Some(wasm_opt),
                Resolved::Off => None,
                Resolved::NotFound => {
                    not_found = true;
                    None
                }
            };
            Ok(Prepared { manifest, wasm_opt })
        })
        .collect::<Result<Vec<Prepared>>>()?;
    if not_found {
        shell.note(format!(
            "`wasm-opt` is not on `PATH`, so the modules are not optimized (Binaryen's \
             `wasm-opt` makes a plugin about 12% smaller); install Binaryen, or set \
             `wasm-opt = false` under `[package.metadata.{}]` in Cargo.toml",
            wasm_opt::METADATA_TABLE
        ));
    }
    Ok(prepared)
}

/// Builds, processes and lints the planned packages.
///
/// # Errors
/// As [`build`].
pub(crate) fn build_planned(
    shell: &Shell,
    options: &PackageOptions,
    plan: Plan,
    output: Output<'_>,
) -> Result<Vec<BuiltPlugin>> {
    let prepared = prepare(shell, &plan, options)?;
    let names: Vec<String> = plan.packages.iter().map(|p| p.name.clone()).collect();
    let artifacts = cargo::spawn_build(shell, options, &names, output.format, output.keep_errors)?
        .finish(&plan.packages)?;
    finish_all(shell, plan, prepared, &artifacts, output, options.component)
}

fn finish_all(
    shell: &Shell,
    plan: Plan,
    prepared: Vec<Prepared>,
    artifacts: &BTreeMap<String, Utf8PathBuf>,
    output: Output<'_>,
    component: bool,
) -> Result<Vec<BuiltPlugin>> {
    let mut built = Vec::new();
    for (package, prepared) in plan.packages.into_iter().zip(prepared) {
        let path = artifacts.get(&package.name).cloned().with_context(|| {
            format!(
                "cargo reported no `.wasm` file for package `{}`",
                package.name
            )
        })?;
        built.push(finish(shell, package, path, &prepared, output, component)?);
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

/// What checking a module found.
struct Checked {
    size: u64,
    /// The embedded manifest, when the module is accepted.
    manifest: Option<Manifest>,
    problems: Vec<ArtifactProblem>,
    /// Whether it is the module the last build checked (replayed from the stamp).
    fresh: bool,
}

fn finish(
    shell: &Shell,
    package: PluginPackage,
    path: Utf8PathBuf,
    prepared: &Prepared,
    output: Output<'_>,
    component: bool,
) -> Result<BuiltPlugin> {
    let from_cargo_toml = prepared.manifest.as_ref();
    let wasm_opt = prepared.wasm_opt.as_ref();
    let stamp_path = Utf8PathBuf::from(format!("{path}.otai-plugin"));
    let cargo_toml_json = from_cargo_toml.map(Manifest::to_json);
    let wasm_opt_key = wasm_opt.map(WasmOpt::key);
    let checked = match Stamp::matching(
        &stamp_path,
        &path,
        cargo_toml_json.as_deref(),
        wasm_opt_key.as_deref(),
    ) {
        // The file is the one checked last time: replay the problems, skip the work.
        Some((stamp, Found::Output)) => stamp.replay(),
        // Cargo put back the module it built, which this CLI processed and checked last
        // time: processing it again gives the same bytes, so only they are written (the
        // copy kept when `wasm-opt` ran, which is slower than the rest by far).
        Some((mut stamp, Found::Source)) => {
            let bytes = match stamp.kept_output(&path) {
                Some(bytes) => bytes,
                None => {
                    let original =
                        std::fs::read(&path).with_context(|| format!("failed to read `{path}`"))?;
                    let produced = produce(
                        &original,
                        cargo_toml_json.as_deref(),
                        component,
                        wasm_opt,
                        &path,
                    )?;
                    let bytes = produced.processed.bytes;
                    if produced.optimized.is_some() {
                        stamp.kept_output = keep_output(&path, &bytes).then(|| hash(&bytes));
                    }
                    bytes
                }
            };
            write_atomically(&path, &bytes)?;
            if let Some(output) = identity(&path) {
                stamp.output = output;
                stamp.save(&stamp_path);
            }
            stamp.replay()
        }
        None => process_and_check(
            shell,
            &package,
            &path,
            &stamp_path,
            prepared,
            wasm_opt_key,
            component,
        )?,
    };
    let errors: Vec<&ArtifactProblem> = checked
        .problems
        .iter()
        .filter(|p| p.level == Level::Error)
        .collect();
    let mut size = checked.size;
    if let Some(key) = output.sign
        && errors.is_empty()
    {
        // Last, after `wasm-opt`: any later change would break the signature.
        let bytes = std::fs::read(&path).with_context(|| format!("failed to read `{path}`"))?;
        crate::commands::sign::sign_file(
            shell,
            &bytes,
            path.as_std_path(),
            path.as_std_path(),
            key,
            output.rotations,
        )?;
        let signed = std::fs::read(&path).with_context(|| format!("failed to read `{path}`"))?;
        if signed != bytes {
            Stamp::record_signed(&stamp_path, &path, &signed);
        }
        size = signed.len() as u64;
    }
    if output.format.renders_problems() {
        for warning in checked
            .problems
            .iter()
            .filter(|p| p.level == Level::Warning)
        {
            shell.warn(format!("`{}`: {}", package.name, warning.message));
        }
    }
    if output.format.is_json() {
        ArtifactMessage {
            reason: ArtifactMessage::REASON,
            package_id: &package.id.repr,
            manifest_path: package.manifest_path.as_str(),
            wasm: path.as_str(),
            size,
            plugin: checked.manifest.as_ref().map(|m| PluginIdentity {
                id: &m.id,
                version: &m.version,
            }),
            fresh: checked.fresh,
            success: errors.is_empty(),
            problems: &checked.problems,
        }
        .write_line(&mut std::io::stdout().lock())
        .context("failed to write to stdout")?;
    }
    if !errors.is_empty() {
        let mut message = format!("`{path}` is not a valid ABI v1 plugin:");
        for error in errors {
            message.push_str(&format!("\n  - {}", error.message));
        }
        bail!(message);
    }
    if let Some(max) = output.max_size
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
            "`{}` plugin{}: {} ({})",
            package.name,
            if component { " (component)" } else { "" },
            display_path(&path),
            human_size(size)
        ),
    );
    Ok(BuiltPlugin {
        package,
        wasm: path,
    })
}

fn process_and_check(
    shell: &Shell,
    package: &PluginPackage,
    path: &Utf8PathBuf,
    stamp_path: &Utf8PathBuf,
    prepared: &Prepared,
    wasm_opt_key: Option<String>,
    component: bool,
) -> Result<Checked> {
    let from_cargo_toml = prepared.manifest.as_ref();
    let source = identity(path);
    let original = std::fs::read(path).with_context(|| format!("failed to read `{path}`"))?;
    let json = from_cargo_toml.map(Manifest::to_json);
    let Produced {
        processed,
        optimized,
        accepted_before,
    } = produce(
        &original,
        json.as_deref(),
        component,
        prepared.wasm_opt.as_ref(),
        path,
    )?;
    let optimized_status = || {
        if let (Some(wasm_opt), Some(sizes)) = (&prepared.wasm_opt, optimized) {
            report_optimized(shell, package, wasm_opt, sizes);
        }
    };
    // The status lines in the order of the steps: a component's core module is optimized
    // before it is encoded, a core module after it is processed.
    if component {
        optimized_status();
    }
    report_changes(shell, package, &processed.changes);
    if !component {
        optimized_status();
    }

    // The verdict of the help desk's default settings, which the host's `load` gives too.
    let bytes = processed.bytes;
    let lint = accept(&bytes, &AcceptOptions::default());
    let broken_by = prepared
        .wasm_opt
        .as_ref()
        .filter(|_| accepted_before && lint.has_errors());
    let mut problems: Vec<ArtifactProblem> = lint
        .problems
        .iter()
        .map(|p| ArtifactProblem {
            level: match p.severity {
                Severity::Error => Level::Error,
                Severity::Warning => Level::Warning,
            },
            kind: Some(p.kind.as_str().to_owned()),
            message: p.message.clone(),
        })
        .collect();
    if let Some(wasm_opt) = broken_by {
        problems.push(ArtifactProblem {
            level: Level::Error,
            kind: None,
            message: format!(
                "the module had none of these problems before `wasm-opt {}`: set \
                 `wasm-opt = false` under `[package.metadata.{}]` in Cargo.toml to build \
                 without it (and report the module to Binaryen)",
                wasm_opt.args(),
                wasm_opt::METADATA_TABLE
            ),
        });
    }
    let len = bytes.len() as u64;
    if lint.has_errors() {
        // Not written back, and no stamp: the next build checks it again.
        return Ok(Checked {
            size: len,
            manifest: None,
            problems,
            fresh: false,
        });
    }
    let Some(manifest) = lint.manifest else {
        bail!("`{path}` has no readable manifest");
    };
    if let Some(expected) = from_cargo_toml
        && !processed.changes.contains(&Change::EmbeddedManifest)
    {
        verify_embedded(path, &manifest, &package.manifest_path, expected)?;
    }
    problems.extend(
        crosscheck::crosscheck(package.root().as_std_path(), &manifest)
            .into_iter()
            .map(|message| ArtifactProblem {
                level: Level::Warning,
                kind: None,
                message,
            }),
    );

    if !processed.changes.is_empty() || optimized.is_some() {
        write_atomically(path, &bytes)?;
    }
    let kept = optimized.is_some() && keep_output(path, &bytes);
    if let (Some(source), Some(output)) = (source, identity(path)) {
        Stamp {
            tool: tool(),
            source,
            output,
            manifest: manifest.to_json(),
            cargo_toml_manifest: json,
            wasm_opt: wasm_opt_key,
            kept_output: kept.then(|| hash(&bytes)),
            problems: problems.clone(),
        }
        .save(stamp_path);
    }
    Ok(Checked {
        size: len,
        manifest: Some(manifest),
        problems,
        fresh: false,
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

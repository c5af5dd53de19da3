//! Driving cargo: the package options shared by `build`, `test` and `run`, loading the
//! workspace, choosing the plugin packages, the wasm32 target, and `cargo build` through
//! its JSON messages.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use cargo_metadata::camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::diagnostic::DiagnosticLevel;
use cargo_metadata::{Message, Metadata, MetadataCommand, Package, PackageId};
use clap::Args;

use crate::Exit;
use crate::message_format::MessageFormat;
use crate::term::{Shell, Verbosity};

/// The target plugins are built for.
pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Which packages, which profile, which features: the options `build`, `test` and `run`
/// pass on to cargo.
#[derive(Debug, Clone, Default, Args)]
pub struct PackageOptions {
    /// Path to Cargo.toml.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Plugin package(s) to build (repeatable).
    #[arg(short, long = "package", value_name = "SPEC")]
    pub packages: Vec<String>,
    /// Every plugin (`cdylib`) package of the workspace.
    #[arg(long)]
    pub workspace: bool,
    /// Build with the `release` profile (what the help desk should run).
    #[arg(short, long, conflicts_with = "profile")]
    pub release: bool,
    /// Build with the given profile.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Features to activate (space or comma separated).
    #[arg(short = 'F', long, value_name = "FEATURES")]
    pub features: Vec<String>,
    /// Activate every feature.
    #[arg(long)]
    pub all_features: bool,
    /// Do not activate the `default` feature.
    #[arg(long)]
    pub no_default_features: bool,
    /// Require Cargo.lock to be up to date.
    #[arg(long)]
    pub locked: bool,
    /// Run without accessing the network.
    #[arg(long)]
    pub offline: bool,
    /// Build the component flavour: a WebAssembly component of the world
    /// `ohd:plugin/plugin@1.0.0`, from the same source (turns on the SDK's `component`
    /// feature), instead of a core module.
    #[arg(long)]
    pub component: bool,
}

impl PackageOptions {
    /// The arguments that select profile and features, as cargo spells them.
    pub fn cargo_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        if let Some(path) = &self.manifest_path {
            args.push("--manifest-path".into());
            args.push(path.into());
        }
        if self.release {
            args.push("--release".into());
        }
        if let Some(profile) = &self.profile {
            args.push("--profile".into());
            args.push(profile.into());
        }
        for f in &self.features {
            args.push("--features".into());
            args.push(f.into());
        }
        for (on, flag) in [
            (self.all_features, "--all-features"),
            (self.no_default_features, "--no-default-features"),
            (self.locked, "--locked"),
            (self.offline, "--offline"),
        ] {
            if on {
                args.push(flag.into());
            }
        }
        args
    }
}

/// The SDK feature that builds the component flavour.
pub(crate) const COMPONENT_FEATURE: &str = "otai-plugin-sdk/component";

/// `$CARGO` when cargo runs us (or the user sets it), else `cargo` from `PATH`.
pub(crate) fn cargo_bin() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Adds the shell's colour and verbosity to a cargo command.
pub(crate) fn shell_args(shell: &Shell) -> Vec<&'static str> {
    let mut args = vec!["--color", shell.color().as_cargo_arg()];
    match shell.verbosity() {
        Verbosity::Quiet => args.push("--quiet"),
        Verbosity::Verbose => args.push("--verbose"),
        Verbosity::Normal => {}
    }
    args
}

/// A plugin package: a workspace member whose library is a `cdylib`.
#[derive(Debug, Clone)]
pub(crate) struct PluginPackage {
    /// Its package id, as in cargo's messages.
    pub id: PackageId,
    /// Its name.
    pub name: String,
    /// Its Cargo.toml.
    pub manifest_path: Utf8PathBuf,
    /// Whether Cargo.toml has a `[package.metadata.ohd]` table.
    pub has_ohd_metadata: bool,
    /// `[package.metadata]`, for this CLI's own table (`crate::wasm_opt`).
    pub metadata: serde_json::Value,
    /// The library's name as its files have it (`ticket_to_slack`): the module is
    /// `<lib_name>.wasm` in the profile's folder.
    pub lib_name: String,
}

impl PluginPackage {
    /// The directory holding Cargo.toml.
    pub(crate) fn root(&self) -> &Utf8Path {
        self.manifest_path.parent().unwrap_or(Utf8Path::new("."))
    }
}

/// Loads the workspace (`cargo metadata --no-deps`).
///
/// # Errors
/// cargo fails (its message is kept).
pub(crate) fn load_metadata(options: &PackageOptions) -> Result<Metadata> {
    load_metadata_with(options, &cargo_bin())
}

/// [`load_metadata`] with a given cargo executable.
///
/// # Errors
/// cargo fails (its message is kept).
pub(crate) fn load_metadata_with(options: &PackageOptions, cargo: &OsStr) -> Result<Metadata> {
    let mut command = MetadataCommand::new();
    command.cargo_path(cargo).no_deps();
    if let Some(path) = &options.manifest_path {
        command.manifest_path(path);
    }
    if options.offline {
        command.other_options(vec!["--offline".to_owned()]);
    }
    command.exec().map_err(|err| match err {
        cargo_metadata::Error::CargoMetadata { stderr } => {
            anyhow::anyhow!(
                "failed to load the workspace: {}",
                stderr.trim().trim_start_matches("error: ")
            )
        }
        other => anyhow::Error::new(other).context("failed to load the workspace"),
    })
}

fn is_cdylib(package: &Package) -> bool {
    package.targets.iter().any(|t| t.is_cdylib())
}

fn plugin(package: &Package) -> PluginPackage {
    PluginPackage {
        id: package.id.clone(),
        name: package.name.to_string(),
        manifest_path: package.manifest_path.clone(),
        has_ohd_metadata: package.metadata.get("ohd").is_some(),
        metadata: package.metadata.clone(),
        lib_name: package
            .targets
            .iter()
            .find(|t| t.is_cdylib())
            .map_or(package.name.as_str(), |t| t.name.as_str())
            .replace('-', "_"),
    }
}

/// The packages to build: `-p` names, `--workspace`, or the package of the manifest
/// path / current directory.
///
/// # Errors
/// An unknown package, a package that is not a `cdylib`, or nothing to build.
pub(crate) fn select_plugins(
    metadata: &Metadata,
    options: &PackageOptions,
) -> Result<Vec<PluginPackage>> {
    let members = metadata.workspace_packages();
    let plugin_names = || {
        let names: Vec<&str> = members
            .iter()
            .filter(|p| is_cdylib(p))
            .map(|p| p.name.as_str())
            .collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    let require_cdylib = |package: &Package| -> Result<PluginPackage> {
        if is_cdylib(package) {
            return Ok(plugin(package));
        }
        bail!(
            "package `{}` is not a plugin: its library is not a `cdylib`\n\
             help: add to `{}`:\n\n    [lib]\n    crate-type = [\"cdylib\"]",
            package.name,
            package.manifest_path
        )
    };

    if !options.packages.is_empty() {
        let mut selected = Vec::new();
        for spec in &options.packages {
            let name = spec.split('@').next().unwrap_or(spec);
            let Some(package) = members.iter().find(|p| p.name.as_str() == name) else {
                bail!(
                    "package `{spec}` is not a member of the workspace at `{}` (plugin packages: {})",
                    metadata.workspace_root,
                    plugin_names()
                );
            };
            selected.push(require_cdylib(package)?);
        }
        return Ok(selected);
    }
    if options.workspace {
        let selected: Vec<PluginPackage> = members
            .iter()
            .filter(|p| is_cdylib(p))
            .map(|p| plugin(p))
            .collect();
        if selected.is_empty() {
            bail!(
                "the workspace at `{}` has no plugin (`cdylib`) package",
                metadata.workspace_root
            );
        }
        return Ok(selected);
    }

    let manifest = match &options.manifest_path {
        Some(path) => absolute(path)?,
        None => locate_manifest()?,
    };
    if let Some(package) = members
        .iter()
        .find(|p| same_file(p.manifest_path.as_std_path(), &manifest))
    {
        return Ok(vec![require_cdylib(package)?]);
    }
    let defaults: Vec<&Package> = members.iter().copied().filter(|p| is_cdylib(p)).collect();
    match defaults.as_slice() {
        [one] => Ok(vec![plugin(one)]),
        _ => bail!(
            "`{}` is a virtual workspace manifest: choose a plugin with `-p` (plugin packages: {}) \
             or pass `--workspace`",
            manifest.display(),
            plugin_names()
        ),
    }
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("invalid path `{}`", path.display()))
}

/// The same file, through symbolic or (on Unix) hard links.
fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(a), Ok(b)) = (a.canonicalize(), b.canonicalize()) else {
        return a == b;
    };
    #[cfg(unix)]
    if a != b {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (std::fs::metadata(&a), std::fs::metadata(&b)) {
            return a.dev() == b.dev() && a.ino() == b.ino();
        }
    }
    a == b
}

/// Whether the manifest cargo would use (`--manifest-path`, else the nearest
/// Cargo.toml) is a virtual workspace manifest, where cargo's default selection (all
/// default members) differs from ours. Unreadable counts as not virtual: cargo reports it.
pub(crate) fn is_virtual_manifest(options: &PackageOptions) -> bool {
    let path = match &options.manifest_path {
        Some(path) => path.clone(),
        None => match locate_manifest() {
            Ok(path) => path,
            Err(_) => return false,
        },
    };
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .is_some_and(|doc| !doc.contains_key("package"))
}

/// The Cargo.toml nearest the current directory, as `cargo locate-project` finds it.
fn locate_manifest() -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    for dir in cwd.ancestors() {
        let candidate = dir.join("Cargo.toml");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!(
        "could not find `Cargo.toml` in `{}` or any parent directory",
        cwd.display()
    )
}

/// A check that rustc can build for wasm32, started in the background so that it
/// overlaps with the build's start or with loading the workspace.
#[derive(Debug)]
pub(crate) struct TargetCheck {
    query: Option<(SysrootQuery, std::process::Child)>,
}

/// How the running check learns the sysroot.
#[derive(Debug, Clone, Copy)]
enum SysrootQuery {
    /// `rustc --print sysroot` prints it.
    Rustc,
    /// `rustup which rustc` prints `<sysroot>/bin/rustc`.
    RustupWhich,
}

/// Starts the wasm32 target check (see [`TargetCheck::finish`]).
///
/// When cargo runs us, `$CARGO` is the toolchain's own cargo, next to its sysroot: if
/// that sysroot has the target, no process is needed. Otherwise the rustc that cargo
/// will run decides: `$RUSTC`, or `rustc` from `PATH`. When that `rustc` is rustup's
/// proxy, `rustup which rustc` names the toolchain it would start, for half the cost of
/// starting rustc. Either runs in the current directory, where rustup resolves the
/// toolchain for the cargo we start.
pub(crate) fn start_target_check() -> TargetCheck {
    let rustc = std::env::var_os("RUSTC");
    if rustc.is_none()
        && let Some(cargo) = std::env::var_os("CARGO")
        && let Some(sysroot) = Path::new(&cargo).parent().and_then(Path::parent)
        && sysroot.join("lib/rustlib").join(WASM_TARGET).is_dir()
    {
        return TargetCheck { query: None };
    }
    let (query, mut command) = match (rustc, rustup_proxy_for_rustc()) {
        (None, Some(rustup)) => {
            let mut command = Command::new(rustup);
            // A toolchain that is not installed yet is the build's to install (through
            // cargo's proxy, started beside this): two installs at once would race.
            command
                .args(["which", "rustc"])
                .env("RUSTUP_AUTO_INSTALL", "0");
            (SysrootQuery::RustupWhich, command)
        }
        (rustc, _) => {
            let mut command = Command::new(rustc.unwrap_or_else(|| "rustc".into()));
            command.args(["--print", "sysroot"]);
            (SysrootQuery::Rustc, command)
        }
    };
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    // Without a usable rustc, cargo's own error says more than we could.
    TargetCheck {
        query: child.ok().map(|child| (query, child)),
    }
}

/// `rustup`, when the `rustc` first on `PATH` is rustup's proxy (a symbolic or hard
/// link to the same executable).
fn rustup_proxy_for_rustc() -> Option<PathBuf> {
    let on_path = |name: &str| {
        let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|dir| dir.join(&file))
            .find(|path| path.is_file())
    };
    let rustc = on_path("rustc")?;
    let rustup = on_path("rustup")?;
    same_file(&rustc, &rustup).then_some(rustup)
}

impl TargetCheck {
    /// Whether the check is done or asks rustup, not rustc: quick enough to run beside
    /// a build that it may have to stop (see `commands/build.rs`).
    pub(crate) fn is_quick(&self) -> bool {
        !matches!(self.query, Some((SysrootQuery::Rustc, _)))
    }

    /// Makes sure rustc can build for wasm32, adding the target with rustup when it is
    /// missing and rustup is there.
    ///
    /// # Errors
    /// The target is missing and cannot be added.
    pub(crate) fn finish(self, shell: &Shell) -> Result<()> {
        match self.wait() {
            Target::Missing(missing) => missing.install(shell),
            Target::Present { .. } => Ok(()),
        }
    }

    /// Waits for the check.
    pub(crate) fn wait(self) -> Target {
        let unknown = Target::Present { cargo: None };
        let Some((query, child)) = self.query else {
            return unknown;
        };
        let output = match child.wait_with_output() {
            Ok(output) if output.status.success() => output,
            _ => return unknown,
        };
        let printed = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        let (sysroot, cargo) = match query {
            SysrootQuery::Rustc => (printed, None),
            SysrootQuery::RustupWhich => {
                let Some(sysroot) = printed.parent().and_then(Path::parent) else {
                    return unknown;
                };
                let cargo = sysroot
                    .join("bin")
                    .join(format!("cargo{}", std::env::consts::EXE_SUFFIX));
                (sysroot.to_path_buf(), cargo.is_file().then_some(cargo))
            }
        };
        if sysroot.join("lib/rustlib").join(WASM_TARGET).is_dir() {
            Target::Present { cargo }
        } else {
            Target::Missing(MissingTarget { sysroot })
        }
    }
}

/// What the wasm32 target check found.
#[derive(Debug)]
pub(crate) enum Target {
    /// The target is installed, or rustc could not say (cargo's own error will).
    Present {
        /// The toolchain's own cargo, when rustup named the toolchain: what its `cargo`
        /// proxy would start, without the proxy's cost.
        cargo: Option<PathBuf>,
    },
    /// The sysroot has no wasm32 standard library.
    Missing(MissingTarget),
}

/// The toolchain's sysroot has no wasm32 standard library.
#[derive(Debug)]
pub(crate) struct MissingTarget {
    sysroot: PathBuf,
}

impl MissingTarget {
    /// Adds the target with rustup, saying so.
    ///
    /// # Errors
    /// rustup is not there (the error gives the command), or it failed.
    pub(crate) fn install(self, shell: &Shell) -> Result<()> {
        let add = format!("rustup target add {WASM_TARGET}");
        let has_rustup = Command::new("rustup")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has_rustup {
            bail!(
                "the `{WASM_TARGET}` target is not installed for the Rust toolchain at `{}`, and rustup \
                 was not found to add it\nhelp: install it with `{add}`, or your distribution's \
                 wasm32 standard library package",
                self.sysroot.display()
            );
        }
        shell.status(
            "Installing",
            format!("the `{WASM_TARGET}` target (`{add}`)"),
        );
        let status = Command::new("rustup")
            .args(["target", "add", WASM_TARGET])
            .status()
            .context("failed to run `rustup`")?;
        if !status.success() {
            bail!("`{add}` failed ({status}); run it yourself and build again");
        }
        Ok(())
    }
}

/// A running `cargo build` for wasm32.
#[derive(Debug)]
pub(crate) struct WasmBuild {
    child: std::process::Child,
    format: MessageFormat,
    /// Where the compiler's messages are rendered, when this process renders them
    /// (cargo gives them as JSON so that their errors can be kept).
    render: Option<Shell>,
}

/// The compiler's error messages of a failed build, as rendered for a terminal (without
/// colours): the context of the [`Exit`] that [`WasmBuild::finish`] returns when they
/// were asked for, for a caller that shows them somewhere else too (`dev`'s pages).
#[derive(Debug, Clone)]
pub(crate) struct CompilerErrors(pub Vec<String>);

impl std::fmt::Display for CompilerErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

/// Starts `cargo build --lib --target wasm32-unknown-unknown` for `packages` (names or
/// specs as cargo takes them; none: cargo's own default, the current package). With
/// `keep_errors`, a failed build's compiler errors come back as [`CompilerErrors`].
///
/// # Errors
/// cargo cannot be started.
pub(crate) fn spawn_build(
    shell: &Shell,
    options: &PackageOptions,
    packages: &[String],
    format: MessageFormat,
    keep_errors: bool,
) -> Result<WasmBuild> {
    // In the human formats cargo renders the messages itself and keeps them from us;
    // to keep the errors, we take them as JSON and render them as cargo would.
    let render = keep_errors && !format.is_json();
    let message_format = match format {
        MessageFormat::Human if render => "json-diagnostic-rendered-ansi",
        MessageFormat::Short if render => "json-diagnostic-short,json-diagnostic-rendered-ansi",
        _ => format.cargo_arg(),
    };
    let mut command = Command::new(cargo_bin());
    command
        .args([
            "build",
            "--lib",
            "--target",
            WASM_TARGET,
            "--message-format",
            message_format,
        ])
        .args(options.cargo_args())
        .args(shell_args(shell));
    crate::path_remap::apply(&mut command, WASM_TARGET);
    if options.component {
        // The SDK generates the component's bindings instead of the core imports. A
        // plugin that does not depend on the SDK by that name gets cargo's own error.
        command.args(["--features", COMPONENT_FEATURE]);
    }
    for package in packages {
        command.arg("--package").arg(package);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    shell.verbose_status("Running", format!("{command:?}"));
    let child = command
        .spawn()
        .with_context(|| format!("failed to run `{}`", cargo_bin().to_string_lossy()))?;
    Ok(WasmBuild {
        child,
        format,
        render: render.then_some(*shell),
    })
}

impl WasmBuild {
    /// Stops the build (the plan turned out wrong before it finished).
    pub(crate) fn abort(mut self) {
        // Killing an exited process fails harmlessly; either way it is reaped.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the build and returns each package's `.wasm`, as cargo reported it.
    ///
    /// # Errors
    /// [`Exit`] with cargo's status when the build failed (the diagnostics are printed;
    /// the errors among them are its [`CompilerErrors`] context when they were kept); a
    /// package that produced no `.wasm`.
    pub(crate) fn finish(
        mut self,
        packages: &[PluginPackage],
    ) -> Result<BTreeMap<String, Utf8PathBuf>> {
        let stdout = self
            .child
            .stdout
            .take()
            .context("cargo's stdout was not captured")?;
        let mut wasm = BTreeMap::new();
        let mut errors = Vec::new();
        let mut out = std::io::stdout().lock();
        for line in BufReader::new(stdout).lines() {
            let line = line.context("failed to read cargo's output")?;
            // In a JSON format, cargo's messages are ours to pass on, as they came.
            if self.format.is_json() {
                writeln!(out, "{line}").context("failed to write to stdout")?;
            }
            let Ok(message) = serde_json::from_str::<Message>(&line) else {
                continue;
            };
            if let (Message::CompilerMessage(message), Some(shell)) = (&message, &self.render) {
                let Some(rendered) = &message.message.rendered else {
                    continue;
                };
                write!(shell.err(), "{rendered}").context("failed to write to stderr")?;
                if matches!(
                    message.message.level,
                    DiagnosticLevel::Error | DiagnosticLevel::Ice
                ) {
                    errors.push(anstream::adapter::strip_str(rendered).to_string());
                }
                continue;
            }
            if let Message::CompilerArtifact(artifact) = message {
                let Some(package) = packages.iter().find(|p| p.id == artifact.package_id) else {
                    continue;
                };
                if !artifact.target.is_cdylib() {
                    continue;
                }
                if let Some(file) = artifact
                    .filenames
                    .iter()
                    .find(|f| f.extension() == Some("wasm"))
                {
                    wasm.insert(package.name.clone(), file.clone());
                }
            }
        }
        let status = self.child.wait().context("failed to wait for cargo")?;
        if !status.success() {
            let exit = anyhow::Error::new(Exit(status.code().unwrap_or(101)));
            return Err(if errors.is_empty() {
                exit
            } else {
                exit.context(CompilerErrors(errors))
            });
        }
        for package in packages {
            if !wasm.contains_key(&package.name) {
                bail!(
                    "cargo reported no `.wasm` file for package `{}`",
                    package.name
                );
            }
        }
        Ok(wasm)
    }
}

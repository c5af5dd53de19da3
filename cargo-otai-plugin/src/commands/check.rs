//! `cargo otai-plugin check <wasm>`: what a module is and every ABI problem in it.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use otai_plugin_abi::wasm as abi;
use serde::Serialize;

use otai_plugin_abi::module::rotation::{ROTATION_SECTION, read_rotations};
use otai_plugin_abi::module::signature::{
    PublicKey, SignatureState, Verification, verify_signatures,
};
use otai_plugin_abi::module::{
    AcceptOptions, Acceptance, ComponentInfo, ComponentItem, Flavour, ModuleInfo, Problem,
    SectionSize, Severity, accept_component, accept_module,
};

use crate::failure::or_json;
use crate::term::{BOLD, DIM, GREEN, RED, YELLOW, human_size};
use crate::{CommonOptions, Exit};

/// Inspect a `.wasm` built by any toolchain, a core module or a component (it says
/// which): its manifest, imports, exports, ABI marker, signatures and section sizes, and
/// every problem a host would refuse it for. Exits with 1 when there is an error
/// (warnings alone exit with 0).
#[derive(Debug, Args)]
pub struct CheckCommand {
    /// The module to check.
    #[arg(value_name = "WASM")]
    pub wasm: PathBuf,
    /// A trusted public key (an OpenSSH `.pub` file; repeat for several): the module's
    /// signatures are verified against these keys, and the module is refused, as a host
    /// that requires a signature from one of them refuses it, unless one signed it as
    /// it is.
    #[arg(long = "key", value_name = "PUBKEY")]
    pub keys: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}

/// `check --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// A listing for people.
    Human,
    /// One JSON object on stdout.
    Json,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    file: String,
    size: u64,
    /// `core` or `component`.
    flavour: Flavour,
    ok: bool,
    errors: usize,
    warnings: usize,
    manifest: Option<serde_json::Value>,
    abi_marker: Option<&'a otai_plugin_abi::marker::AbiMarker>,
    imports: serde_json::Value,
    exports: serde_json::Value,
    sections: &'a [SectionSize],
    signatures: &'a Verification,
    /// The module's key rotation statements (`ohd_rotation`), if it has any.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    rotations: &'a [RotationEntry],
    /// Why the `ohd_rotation` section cannot be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    rotations_unreadable: Option<&'a str>,
    problems: &'a [Problem],
}

/// One rotation statement as `check` lists it.
#[derive(Serialize)]
struct RotationEntry {
    plugin_id: String,
    from: String,
    to: String,
    /// Whether its `from` key signed it.
    verifies: bool,
}

/// The module's rotation statements, or why they cannot be read.
fn rotation_entries(bytes: &[u8]) -> Result<Vec<RotationEntry>, String> {
    let rotations = read_rotations(bytes).map_err(|e| e.to_string())?;
    Ok(rotations
        .iter()
        .map(|r| RotationEntry {
            plugin_id: r.plugin_id.clone(),
            from: r.from.fingerprint().to_string(),
            to: r.to.fingerprint().to_string(),
            verifies: r.verifies(),
        })
        .collect())
}

/// The bytes, read as their flavour.
enum Read<'a> {
    Core(ModuleInfo<'a>),
    Component(ComponentInfo<'a>),
}

impl Read<'_> {
    fn size(&self) -> u64 {
        match self {
            Read::Core(info) => info.size(),
            Read::Component(info) => info.size(),
        }
    }

    fn sections(&self) -> &[SectionSize] {
        match self {
            Read::Core(info) => &info.sections,
            Read::Component(info) => &info.sections,
        }
    }

    fn has_marker_section(&self) -> bool {
        match self {
            Read::Core(info) => !info.custom(abi::ABI_MARKER_SECTION).is_empty(),
            Read::Component(info) => !info.custom(abi::ABI_MARKER_SECTION).is_empty(),
        }
    }

    fn judge(&self) -> Acceptance {
        // The help desk's default settings: what the reference host's `load` decides.
        let options = AcceptOptions::default();
        match self {
            Read::Core(info) => accept_module(info, &options),
            Read::Component(info) => accept_component(info, &options),
        }
    }

    fn imports_json(&self) -> serde_json::Value {
        match self {
            Read::Core(info) => serde_json::to_value(&info.imports),
            Read::Component(info) => serde_json::to_value(&info.imports),
        }
        .unwrap_or_default()
    }

    fn exports_json(&self) -> serde_json::Value {
        match self {
            Read::Core(info) => serde_json::to_value(&info.exports),
            Read::Component(info) => serde_json::to_value(&info.exports),
        }
        .unwrap_or_default()
    }
}

impl CheckCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// The file cannot be read or is not wasm; [`Exit`]`(1)` when the lint found errors.
    pub fn exec(self) -> Result<()> {
        let shell = self.common.shell();
        let json = self.format == CheckFormat::Json;
        let read = std::fs::read(&self.wasm)
            .with_context(|| format!("failed to read `{}`", self.wasm.display()));
        let bytes = or_json(json, &shell, read)?;
        let parsed = if Flavour::of(&bytes) == Flavour::Component {
            ComponentInfo::parse(&bytes).map(Read::Component)
        } else {
            ModuleInfo::parse(&bytes).map(Read::Core)
        }
        .with_context(|| format!("`{}` cannot be checked", self.wasm.display()));
        let info = or_json(json, &shell, parsed)?;
        let keys = or_json(json, &shell, read_keys(&self.keys))?;
        let mut lint = info.judge();
        let signatures = verify_signatures(&bytes, &keys);
        if !self.keys.is_empty() {
            signatures.require(&mut lint);
        }
        let rotations = rotation_entries(&bytes);
        match self.format {
            CheckFormat::Json => {
                let report = JsonReport {
                    file: self.wasm.display().to_string(),
                    size: info.size(),
                    flavour: lint.flavour,
                    ok: !lint.has_errors(),
                    errors: lint.errors().count(),
                    warnings: lint.warnings().count(),
                    manifest: lint
                        .manifest
                        .as_ref()
                        .and_then(|m| serde_json::to_value(m).ok()),
                    abi_marker: lint.marker.as_ref(),
                    imports: info.imports_json(),
                    exports: info.exports_json(),
                    sections: info.sections(),
                    signatures: &signatures,
                    rotations: rotations.as_deref().unwrap_or_default(),
                    rotations_unreadable: rotations.as_ref().err().map(String::as_str),
                    problems: &lint.problems,
                };
                let json =
                    serde_json::to_string_pretty(&report).context("failed to encode the report")?;
                writeln!(shell.out(), "{json}").context("failed to write to stdout")?;
            }
            CheckFormat::Human => {
                print_human(
                    &mut shell.out(),
                    &self.wasm.display().to_string(),
                    &info,
                    &lint,
                    (&signatures, !self.keys.is_empty()),
                    &rotations,
                )
                .context("failed to write to stdout")?;
            }
        }
        if lint.has_errors() {
            Err(Exit(1).into())
        } else {
            Ok(())
        }
    }
}

fn print_human(
    out: &mut impl Write,
    file: &str,
    info: &Read<'_>,
    lint: &Acceptance,
    signatures: (&Verification, bool),
    rotations: &Result<Vec<RotationEntry>, String>,
) -> std::io::Result<()> {
    let what = match info {
        Read::Core(_) => "core WebAssembly module".to_owned(),
        Read::Component(component) => {
            let panel = component
                .export(otai_plugin_abi::component::EXPORT_RENDER_PANEL)
                .is_some();
            format!(
                "WebAssembly component (the component flavour, world `{}`)",
                if panel {
                    otai_plugin_abi::component::WORLD_WITH_PANEL
                } else {
                    otai_plugin_abi::component::WORLD
                }
            )
        }
    };
    writeln!(
        out,
        "{BOLD}{file}{BOLD:#}: {what}, {} ({} bytes)",
        human_size(info.size()),
        info.size()
    )?;

    writeln!(out, "\n{BOLD}Manifest{BOLD:#} ({})", abi::MANIFEST_SECTION)?;
    match &lint.manifest {
        Some(manifest) => {
            let pretty = serde_json::to_string_pretty(manifest).unwrap_or_default();
            for line in pretty.lines() {
                writeln!(out, "  {line}")?;
            }
        }
        None => writeln!(out, "  {DIM}(none readable; see the problems below){DIM:#}")?,
    }

    write!(
        out,
        "\n{BOLD}ABI marker{BOLD:#} ({}): ",
        abi::ABI_MARKER_SECTION
    )?;
    match &lint.marker {
        Some(m) => writeln!(
            out,
            "ABI {}{}",
            m.abi,
            m.sdk
                .as_ref()
                .map(|s| format!(", built by {s}"))
                .unwrap_or_default()
        )?,
        None if !info.has_marker_section() => writeln!(out, "none (ABI 1 assumed)")?,
        None => writeln!(out, "unreadable")?,
    }

    print_signatures(out, signatures.0, signatures.1)?;
    print_rotations(out, rotations)?;

    match info {
        Read::Core(info) => print_core_items(out, info)?,
        Read::Component(info) => print_component_items(out, info)?,
    }

    writeln!(out, "\n{BOLD}Sections{BOLD:#}")?;
    let sections = info.sections();
    let width = sections.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for section in sections {
        writeln!(
            out,
            "  {:width$}  {:>10}",
            section.name,
            human_size(section.bytes)
        )?;
    }

    let errors = lint.errors().count();
    let warnings = lint.warnings().count();
    writeln!(out, "\n{BOLD}Problems{BOLD:#}")?;
    if lint.problems.is_empty() {
        let noun = match lint.flavour {
            Flavour::Core => "module",
            Flavour::Component => "component",
        };
        writeln!(out, "  {GREEN}none{GREEN:#}: the {noun} follows ABI v1")?;
    }
    // The kind is the name docs/ABI.md (section 10) explains it under.
    for problem in &lint.problems {
        let kind = problem.kind;
        match problem.severity {
            Severity::Error => writeln!(out, "  {RED}error[{kind}]{RED:#}: {problem}")?,
            Severity::Warning => writeln!(out, "  {YELLOW}warning[{kind}]{YELLOW:#}: {problem}")?,
        }
    }
    writeln!(
        out,
        "\n{errors} error{}, {warnings} warning{}",
        plural(errors),
        plural(warnings)
    )
}

/// The trusted keys given with `--key`.
fn read_keys(paths: &[PathBuf]) -> Result<Vec<PublicKey>> {
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("failed to read the key `{}`", path.display()))?;
            if text.contains("PRIVATE KEY") {
                anyhow::bail!(
                    "`{}` is a private key: `--key` takes the public key (its `.pub` file)",
                    path.display()
                );
            }
            PublicKey::from_openssh(&text)
                .with_context(|| format!("`{}` is not a public key", path.display()))
        })
        .collect()
}

/// Each signature with what it proves; `verified` when `--key` gave trusted keys.
fn print_signatures(
    out: &mut impl Write,
    signatures: &Verification,
    verified: bool,
) -> std::io::Result<()> {
    write!(
        out,
        "\n{BOLD}Signatures{BOLD:#} ({})",
        otai_plugin_abi::module::signature::SIGNATURE_SECTION
    )?;
    match &signatures.signed_bytes {
        Some(range) => writeln!(
            out,
            ": {}, over bytes {}..{} (everything after the section)",
            signatures.signatures.len(),
            range.start,
            range.end
        )?,
        None => writeln!(out)?,
    }
    if let Some(why) = &signatures.unreadable {
        writeln!(out, "  {RED}unreadable{RED:#}: {why}")?;
    } else if signatures.signatures.is_empty() {
        writeln!(out, "  none")?;
    }
    for signature in &signatures.signatures {
        let key = match (&signature.key, &signature.key_id) {
            (Some(fingerprint), _) => fingerprint.to_string(),
            (None, Some(id)) => format!("key id {id}"),
            (None, None) => "(no key id)".to_owned(),
        };
        let changed = "the module changed after it was signed";
        match signature.state {
            SignatureState::Valid => writeln!(out, "  {key}  {GREEN}valid{GREEN:#}")?,
            SignatureState::Changed => writeln!(out, "  {key}  {RED}invalid{RED:#}: {changed}")?,
            SignatureState::Invalid => writeln!(
                out,
                "  {key}  {RED}invalid{RED:#}: does not verify with that key (damaged or forged)"
            )?,
            SignatureState::Untrusted => {
                let why = if verified {
                    "not one of the `--key` keys"
                } else {
                    "not verified (give trusted keys with `--key`)"
                };
                if signature.covers_module {
                    writeln!(out, "  {key}  {YELLOW}unverified{YELLOW:#}: {why}")?
                } else {
                    writeln!(out, "  {key}  {RED}invalid{RED:#}: {changed}")?
                }
            }
        }
    }
    Ok(())
}

/// The rotation statements, when the module has any.
fn print_rotations(
    out: &mut impl Write,
    rotations: &Result<Vec<RotationEntry>, String>,
) -> std::io::Result<()> {
    let rotations = match rotations {
        Ok(rotations) if rotations.is_empty() => return Ok(()),
        Ok(rotations) => rotations,
        Err(why) => {
            writeln!(out, "\n{BOLD}Key rotations{BOLD:#} ({ROTATION_SECTION})")?;
            return writeln!(out, "  {RED}unreadable{RED:#}: {why}");
        }
    };
    writeln!(
        out,
        "\n{BOLD}Key rotations{BOLD:#} ({ROTATION_SECTION}): {}",
        rotations.len()
    )?;
    for r in rotations {
        let state = if r.verifies {
            format!("{GREEN}signed by its `from` key{GREEN:#}")
        } else {
            format!("{RED}invalid{RED:#}: not signed by its `from` key")
        };
        writeln!(out, "  `{}`: {} -> {}  {state}", r.plugin_id, r.from, r.to)?;
    }
    Ok(())
}

fn print_core_items(out: &mut impl Write, info: &ModuleInfo<'_>) -> std::io::Result<()> {
    writeln!(out, "\n{BOLD}Imports{BOLD:#} ({})", info.imports.len())?;
    let width = info
        .imports
        .iter()
        .map(|i| i.module.len() + i.name.len() + 1)
        .max()
        .unwrap_or(0);
    for import in &info.imports {
        let name = format!("{}.{}", import.module, import.name);
        writeln!(out, "  {name:width$}  {}", import.item.describe())?;
    }

    writeln!(out, "\n{BOLD}Exports{BOLD:#} ({})", info.exports.len())?;
    let width = info.exports.iter().map(|e| e.name.len()).max().unwrap_or(0);
    for export in &info.exports {
        writeln!(out, "  {:width$}  {}", export.name, export.item.describe())?;
    }
    Ok(())
}

fn print_component_items(out: &mut impl Write, info: &ComponentInfo<'_>) -> std::io::Result<()> {
    writeln!(out, "\n{BOLD}Imports{BOLD:#} ({})", info.imports.len())?;
    for import in &info.imports {
        writeln!(out, "  {}  {}", import.name, import.item.describe())?;
        if let ComponentItem::Instance { functions, .. } = &import.item {
            for (name, ty) in functions {
                writeln!(out, "    {name}: {ty}")?;
            }
        }
    }
    writeln!(out, "\n{BOLD}Exports{BOLD:#} ({})", info.exports.len())?;
    let width = info.exports.iter().map(|e| e.name.len()).max().unwrap_or(0);
    for export in &info.exports {
        writeln!(out, "  {:width$}  {}", export.name, export.item.describe())?;
    }
    writeln!(
        out,
        "\n{BOLD}Inside{BOLD:#}: {} core module{}, {} core instance{}",
        info.core_modules,
        plural(info.core_modules as usize),
        info.core_instances,
        plural(info.core_instances as usize)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

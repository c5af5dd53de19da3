//! `cargo otai-plugin desk`: the local help desk's lifecycle from the command line
//! (`otai-plugin-desk` over a data directory).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use otai_plugin_abi::manifest::Manifest;
use otai_plugin_desk::registry::{Pulled, Reference, SCHEME};
use otai_plugin_desk::{ConfigEntry, Desk, DeskError, DeskOptions, InstallOptions, PluginInfo};
use otai_plugin_host::DeliveryReport;

use crate::commands::RegistryArgs;
use crate::commands::desk_review::{Confirmed, confirm};
use crate::failure::or_json;
use crate::harness;
use crate::term::{BOLD, GREEN, RED, Shell, YELLOW};
use crate::{CommonOptions, Exit};

/// Install, configure, upgrade, roll back, enable, disable and remove plugins in a
/// local help desk, and deliver events to them. The desk lives in a data directory
/// (a SQLite database, the key that seals secrets, a lock).
#[derive(Debug, Args)]
pub struct DeskCommand {
    /// The desk's data directory [default: `target/otai-desk` of the package in the
    /// current directory or a parent].
    #[arg(long, value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = DeskFormat::Human, global = true)]
    pub format: DeskFormat,
    #[command(subcommand)]
    #[allow(missing_docs)]
    pub action: DeskAction,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}

/// `desk --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeskFormat {
    /// Lines for people.
    Human,
    /// One JSON object on stdout.
    Json,
}

/// What `desk` does.
#[derive(Debug, Subcommand)]
pub enum DeskAction {
    /// Install a `.wasm` (disabled until configured when a required field has no value).
    Install {
        /// The module: a `.wasm` file, or `oci://REGISTRY/NAMESPACE/NAME[:TAG]` (or
        /// `@sha256:…`) in an OCI registry, pulled by the digest its tag resolves to.
        wasm: PathBuf,
        /// Install it without a valid signature from a trusted key, on a desk that
        /// trusts keys (`desk trust add`).
        #[arg(long)]
        allow_unsigned: bool,
        /// From a registry: install without asking. The module's permissions and
        /// signatures are shown first either way; without `--yes`, a terminal asks
        /// `[y/N]` and anything else installs nothing.
        #[arg(long, short = 'y')]
        yes: bool,
        #[command(flatten)]
        #[allow(missing_docs)]
        registry: RegistryArgs,
    },
    /// List the installed plugins with their version, state and error rate.
    List,
    /// Show a plugin's config form, or set values with `--set KEY=VALUE`.
    Configure {
        /// The plugin id.
        id: String,
        /// A value to set (`KEY=` with nothing after removes it). Repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// A value taken from an environment variable, for secrets that should not be
        /// on a command line. Repeatable.
        #[arg(long = "set-from-env", value_name = "KEY=VAR")]
        set_from_env: Vec<String>,
    },
    /// Replace a plugin with a new version of it; shows the permission diff.
    Upgrade {
        /// The new module: a `.wasm` file or an `oci://` reference, as for `install`.
        wasm: PathBuf,
        /// Approve new permissions (hosts, events, a panel).
        #[arg(long)]
        approve: bool,
        /// Upgrade without a valid signature from a trusted key, on a desk that trusts
        /// keys. An upgrade of a signed plugin must still be signed by a key that
        /// signed it.
        #[arg(long)]
        allow_unsigned: bool,
        /// From a registry: upgrade without asking (new permissions still
        /// need `--approve`; a `y` on a terminal approves them, the diff in sight). The module's permissions and
        /// signatures are shown first either way; without `--yes`, a terminal asks
        /// `[y/N]` and anything else installs nothing.
        #[arg(long, short = 'y')]
        yes: bool,
        #[command(flatten)]
        #[allow(missing_docs)]
        registry: RegistryArgs,
    },
    /// The keys whose signatures the desk accepts: with one or more, `install` and
    /// `upgrade` need a valid signature from one of them.
    Trust {
        #[command(subcommand)]
        #[allow(missing_docs)]
        action: TrustAction,
    },
    /// Go back to the previous version, with its config.
    Rollback {
        /// The plugin id.
        id: String,
    },
    /// Enable a plugin (starts a new health window).
    Enable {
        /// The plugin id.
        id: String,
    },
    /// Disable a plugin.
    Disable {
        /// The plugin id.
        id: String,
    },
    /// Remove a plugin, its versions, config and delivery log.
    Remove {
        /// The plugin id.
        id: String,
    },
    /// Deliver an event about a ticket to the subscribed plugins and show the reports.
    Deliver {
        /// The event, e.g. `ticket.created`.
        event: String,
        /// The ticket.
        #[arg(long, default_value = "T-1")]
        ticket: String,
        /// Send allowed requests for real (default: none leaves the machine).
        #[arg(long)]
        allow_network: bool,
        /// With `--allow-network`, let requests reach internal addresses too: loopback,
        /// private networks, link-local, … Without it, a host name that resolves only to
        /// such addresses is refused with `address_not_allowed`; an IP address written in
        /// the URL (and in `allowed_hosts`) is reached either way.
        #[arg(long, requires = "allow_network")]
        allow_private_network: bool,
    },
    /// Show a plugin's delivery log, newest first.
    Log {
        /// The plugin id.
        id: String,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

/// What `desk trust` does.
#[derive(Debug, Subcommand)]
pub enum TrustAction {
    /// Trust a key: an OpenSSH ed25519 public key file (`KEY.pub`, as `key new` writes
    /// it) or its text (`ssh-ed25519 AAAA… comment`).
    Add {
        /// The public key file, or the key's text.
        key: String,
    },
    /// List the trusted keys with their fingerprints.
    List,
    /// Stop trusting a key. Installed plugins stay.
    Remove {
        /// The key's fingerprint (`SHA256:…`, as `trust list` shows it).
        fingerprint: String,
    },
}

impl DeskCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// Whatever the desk refused, with its reason; [`Exit`]`(1)` when a delivery failed
    /// or an upgrade waits for approval (with `--format json`, after the one document
    /// that says so).
    pub fn exec(self) -> Result<()> {
        let shell = self.common.shell();
        let json = self.format == DeskFormat::Json;
        let result = self.run(&shell);
        // A result printed as a failure ends with status 1, and nothing more on stdout:
        // with `--format json`, stdout holds exactly one document.
        match or_json(json, &shell, result)? {
            Printed::Success => Ok(()),
            Printed::Failure => Err(Exit(1).into()),
        }
    }

    fn run(self, shell: &Shell) -> Result<Printed> {
        let dir = match &self.data_dir {
            Some(dir) => dir.clone(),
            None => default_data_dir()?,
        };
        let mut options = DeskOptions::default();
        if let DeskAction::Deliver {
            allow_network: true,
            allow_private_network,
            ..
        } = self.action
        {
            options.http = Arc::new(harness::real_network(shell, allow_private_network));
        }
        let desk = Desk::open_with(&dir, options)
            .with_context(|| format!("cannot open the desk in `{}`", dir.display()))?;
        let out = Output {
            shell,
            json: self.format == DeskFormat::Json,
        };
        let printed = match self.action {
            DeskAction::Install {
                wasm,
                allow_unsigned,
                yes,
                registry,
            } => install(
                &desk,
                out,
                &wasm,
                InstallOptions { allow_unsigned },
                yes,
                &registry,
            ),
            DeskAction::List => list(&desk, out),
            DeskAction::Configure {
                id,
                set,
                set_from_env,
            } => configure(&desk, out, &id, &set, &set_from_env),
            DeskAction::Upgrade {
                wasm,
                approve,
                allow_unsigned,
                yes,
                registry,
            } => upgrade(
                &desk,
                out,
                &wasm,
                approve,
                InstallOptions { allow_unsigned },
                yes,
                &registry,
            ),
            DeskAction::Trust { action } => trust(&desk, out, action),
            DeskAction::Rollback { id } => rollback(&desk, out, &id),
            DeskAction::Enable { id } => enable(&desk, out, &id),
            DeskAction::Disable { id } => disable(&desk, out, &id),
            DeskAction::Remove { id } => remove(&desk, out, &id),
            DeskAction::Deliver { event, ticket, .. } => deliver(&desk, out, &event, &ticket),
            DeskAction::Log { id, limit } => log(&desk, out, &id, limit),
        };
        warn_cache_problems(shell, &desk);
        printed
    }
}

/// A failure of the cache of compiled modules fails no command (the module was compiled
/// instead), but is said: a damaged entry or a `compiled/` that cannot be written costs
/// every later command a compile.
fn warn_cache_problems(shell: &Shell, desk: &Desk) {
    let Some(stats) = desk.host().disk_cache_stats() else {
        return;
    };
    if let Some(problem) = &stats.last_problem {
        let count = stats.refused + stats.errors;
        let more = if count > 1 {
            format!(" ({count} problems in all)")
        } else {
            String::new()
        };
        shell.warn(format!("the cache of compiled modules: {problem}{more}"));
    }
}

/// Where an action's result goes: one JSON document on stdout, or lines for people.
#[derive(Clone, Copy)]
struct Output<'a> {
    shell: &'a Shell,
    json: bool,
}

impl Output<'_> {
    /// A successful result: `value` as the document with `--format json`, else what
    /// `human` writes.
    fn success(
        self,
        value: &impl serde::Serialize,
        human: impl FnOnce(&Shell) -> Result<()>,
    ) -> Result<Printed> {
        if self.json {
            print_json(self.shell, value)?;
        } else {
            human(self.shell)?;
        }
        Ok(Printed::Success)
    }
}

/// The module of `wasm`: a file, or pulled from a registry for an `oci://` reference
/// (the pull, with its pinned reference, is returned too).
fn module(
    out: &Output<'_>,
    wasm: &Path,
    registry: &RegistryArgs,
) -> Result<(Vec<u8>, Option<Pulled>)> {
    let Some(text) = wasm.to_str().filter(|t| t.starts_with(SCHEME)) else {
        return Ok((read(wasm)?, None));
    };
    let reference = Reference::parse(text)?;
    let pulled = registry.client(&reference)?.pull(&reference)?;
    if !out.json {
        out.shell.status("Pulled", &pulled.reference);
    }
    Ok((pulled.module.clone(), Some(pulled)))
}

fn install(
    desk: &Desk,
    out: Output<'_>,
    wasm: &Path,
    options: InstallOptions,
    yes: bool,
    registry: &RegistryArgs,
) -> Result<Printed> {
    let info = match module(&out, wasm, registry)? {
        (_, Some(pulled)) => match confirm(out.shell, desk, &pulled, options, yes, out.json)? {
            Confirmed::Yes { .. } => desk.install_pulled(&pulled, options)?,
            Confirmed::No => return Ok(Printed::Failure),
        },
        (bytes, None) => desk.install_with(&bytes, options)?,
    };
    out.success(&info, |shell| {
        shell.status(
            "Installed",
            format!("{} {}", info.id, info.manifest.version),
        );
        print_permissions(shell, &info)?;
        print_state(shell, &info);
        Ok(())
    })
}

fn list(desk: &Desk, out: Output<'_>) -> Result<Printed> {
    let list = desk.list()?;
    out.success(&list, |shell| {
        let mut out = shell.out();
        if list.is_empty() {
            writeln!(out, "no plugins installed")?;
        }
        for info in &list {
            writeln!(
                out,
                "{BOLD}{}{BOLD:#} {}  {}  {}/{} failed ({:.0}%)  last delivery: {}  {}{}",
                info.id,
                info.manifest.version,
                state_word(info),
                info.failures,
                info.deliveries,
                info.error_rate() * 100.0,
                info.last_delivery_ago().unwrap_or_else(|| "never".into()),
                signed_by(info),
                from_source(info)
            )?;
        }
        Ok(())
    })
}

/// Shows the config form without values to set; sets them otherwise.
fn configure(
    desk: &Desk,
    out: Output<'_>,
    id: &str,
    set: &[String],
    set_from_env: &[String],
) -> Result<Printed> {
    let form = desk.config_form(id)?;
    if set.is_empty() && set_from_env.is_empty() {
        return out.success(&form, |shell| print_form(shell, &form));
    }
    let mut texts = Vec::new();
    for pair in set {
        let (key, text) = split_pair(pair, "--set")?;
        texts.push((key.to_owned(), text.to_owned()));
    }
    for pair in set_from_env {
        let (key, var) = split_pair(pair, "--set-from-env")?;
        let text = std::env::var(var)
            .with_context(|| format!("`--set-from-env {key}={var}`: `{var}` is not set"))?;
        texts.push((key.to_owned(), text));
    }
    let info = desk.configure_text(id, texts)?;
    out.success(&info, |shell| {
        shell.status("Configured", &info.id);
        print_state(shell, &info);
        Ok(())
    })
}

/// An upgrade that asks for more permissions without `approve` is a failure: the diff
/// is printed, nothing changes.
fn upgrade(
    desk: &Desk,
    out: Output<'_>,
    wasm: &Path,
    approve: bool,
    options: InstallOptions,
    yes: bool,
    registry: &RegistryArgs,
) -> Result<Printed> {
    let upgraded = match module(&out, wasm, registry)? {
        (_, Some(pulled)) => match confirm(out.shell, desk, &pulled, options, yes, out.json)? {
            Confirmed::Yes { approved } => {
                desk.upgrade_pulled(&pulled, approve || approved, options)
            }
            Confirmed::No => return Ok(Printed::Failure),
        },
        (bytes, None) => desk.upgrade_with(&bytes, approve, options),
    };
    match upgraded {
        Ok(up) => out.success(&up, |shell| {
            shell.status(
                "Upgraded",
                format!("{} {} -> {}", up.plugin.id, up.from, up.to),
            );
            writeln!(shell.out(), "{}", up.diff)?;
            writeln!(
                shell.out(),
                "  {}{}",
                signed_by(&up.plugin),
                from_source(&up.plugin)
            )?;
            print_state(shell, &up.plugin);
            Ok(())
        }),
        Err(DeskError::NeedsApproval { plugin_id, diff }) => {
            let shell = out.shell;
            if out.json {
                print_json(
                    shell,
                    &serde_json::json!({"ok": false, "needs_approval": true, "plugin_id": plugin_id, "diff": diff}),
                )?;
            } else {
                writeln!(shell.out(), "{}", diff)?;
                shell.warn(format!(
                    "upgrading `{plugin_id}` asks for more permissions (above); nothing was changed. \
                     Run again with `--approve` to accept them"
                ));
            }
            Ok(Printed::Failure)
        }
        Err(e) => Err(e.into()),
    }
}

/// `trust add` reads a file when `key` names one, else takes `key` as the key's text.
fn trust(desk: &Desk, out: Output<'_>, action: TrustAction) -> Result<Printed> {
    match action {
        TrustAction::Add { key } => {
            let path = Path::new(&key);
            let text = if path.is_file() {
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the key file `{}`", path.display()))?
            } else if !key.trim().contains(char::is_whitespace) {
                bail!(
                    "there is no key file `{key}` (and it is not a key's text either, \
                     `ssh-ed25519 AAAA… comment`)"
                );
            } else {
                key.clone()
            };
            let trusted = desk.trust_add(&text).map_err(|e| {
                let named = if text == key {
                    String::new()
                } else {
                    format!("`{}`: ", path.display())
                };
                anyhow::anyhow!("{named}{e}")
            })?;
            out.success(&trusted, |shell| {
                shell.status("Trusted", &trusted.fingerprint);
                Ok(())
            })
        }
        TrustAction::List => {
            let keys = desk.trust_list()?;
            out.success(&keys, |shell| {
                let mut out = shell.out();
                if keys.is_empty() {
                    writeln!(
                        out,
                        "no trusted keys: the desk installs modules signed or not"
                    )?;
                }
                for key in &keys {
                    writeln!(out, "{BOLD}{}{BOLD:#}  {}", key.fingerprint, key.comment)?;
                }
                Ok(())
            })
        }
        TrustAction::Remove { fingerprint } => {
            let removed = desk.trust_remove(&fingerprint)?;
            out.success(&removed, |shell| {
                shell.status("Removed", &removed.fingerprint);
                Ok(())
            })
        }
    }
}

fn rollback(desk: &Desk, out: Output<'_>, id: &str) -> Result<Printed> {
    let info = desk.rollback(id)?;
    out.success(&info, |shell| {
        shell.status(
            "Rolled back",
            format!("{} to {}", info.id, info.manifest.version),
        );
        print_state(shell, &info);
        Ok(())
    })
}

fn enable(desk: &Desk, out: Output<'_>, id: &str) -> Result<Printed> {
    let info = desk.enable(id)?;
    out.success(&info, |shell| {
        shell.status("Enabled", &info.id);
        Ok(())
    })
}

fn disable(desk: &Desk, out: Output<'_>, id: &str) -> Result<Printed> {
    let info = desk.disable(id)?;
    out.success(&info, |shell| {
        shell.status("Disabled", &info.id);
        Ok(())
    })
}

fn remove(desk: &Desk, out: Output<'_>, id: &str) -> Result<Printed> {
    desk.remove(id)?;
    out.success(&serde_json::json!({"ok": true, "removed": id}), |shell| {
        shell.status("Removed", id);
        Ok(())
    })
}

/// A delivery that did not end `ok` in any plugin is a failure, after every report is
/// printed.
fn deliver(desk: &Desk, out: Output<'_>, event: &str, ticket: &str) -> Result<Printed> {
    let reports = desk.deliver(event, ticket)?;
    // The desk commits deliveries in groups; this one is recorded before anything is
    // printed, or the command fails.
    desk.flush()?;
    let shell = out.shell;
    if out.json {
        print_json(shell, &reports)?;
    } else {
        if reports.is_empty() {
            shell.note(format!("no enabled plugin subscribes to `{event}`"));
        }
        for report in &reports {
            print_report(shell, report)?;
        }
    }
    if reports.iter().any(|r| !r.outcome.is_ok()) {
        return Ok(Printed::Failure);
    }
    Ok(Printed::Success)
}

fn print_report(shell: &Shell, report: &DeliveryReport) -> Result<()> {
    let word = if report.outcome.is_ok() {
        format!("{GREEN}ok{GREEN:#}")
    } else {
        format!("{RED}{}{RED:#}", report.outcome)
    };
    writeln!(shell.out(), "{BOLD}{}{BOLD:#}: {word}", report.plugin_id)?;
    for line in &report.logs {
        writeln!(shell.out(), "  [{}] {}", line.level, line.message)?;
    }
    for x in &report.http {
        writeln!(
            shell.out(),
            "  {} {} -> {}",
            x.request.method,
            x.request.url,
            x.status
        )?;
    }
    for r in &report.replies {
        writeln!(
            shell.out(),
            "  reply{}: {}",
            if r.is_internal { " (internal)" } else { "" },
            r.body
        )?;
    }
    for f in &report.custom_fields {
        writeln!(shell.out(), "  custom field {} = {}", f.key, f.value)?;
    }
    Ok(())
}

fn log(desk: &Desk, out: Output<'_>, id: &str, limit: u32) -> Result<Printed> {
    let log = desk.deliveries(id, limit)?;
    out.success(&log, |shell| {
        for d in &log {
            // Recorded by a desk that counts (`dev`): the cost, as `run` prints it.
            let cost = d
                .report
                .fuel
                .map(|fuel| format!(" ({} fuel)", crate::commands::run::thousands(fuel)))
                .unwrap_or_default();
            writeln!(
                shell.out(),
                "#{} {} {} ticket {}: {}{cost}",
                d.seq,
                d.version,
                d.report.event,
                d.ticket_id,
                d.report.outcome
            )?;
        }
        Ok(())
    })
}

/// How a command that printed its result ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Printed {
    /// Status 0.
    Success,
    /// Status 1: the result says what failed (an upgrade that waits for approval, a
    /// delivery that failed).
    Failure,
}

/// A result as one JSON object on stdout.
fn print_json(shell: &Shell, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).context("failed to encode the result")?;
    writeln!(shell.out(), "{text}").context("failed to write to stdout")
}

/// `target/otai-desk` of the nearest directory with a `Cargo.toml`.
fn default_data_dir() -> Result<PathBuf> {
    let cwd = std::env::current_dir().context("failed to read the current directory")?;
    let Some(root) = cwd.ancestors().find(|a| a.join("Cargo.toml").is_file()) else {
        bail!(
            "no `Cargo.toml` in `{}` or its parents to keep a desk under; give one with `--data-dir DIR`",
            cwd.display()
        );
    };
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("otai-desk"))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))
}

fn split_pair<'a>(pair: &'a str, flag: &str) -> Result<(&'a str, &'a str)> {
    pair.split_once('=')
        .with_context(|| format!("`{flag} {pair}`: expected KEY=VALUE"))
}

fn state_word(info: &PluginInfo) -> String {
    if let Some(e) = &info.load_error {
        return format!("{RED}not loaded{RED:#} ({e})");
    }
    match &info.disabled {
        None => format!("{GREEN}enabled{GREEN:#}"),
        Some(d) => format!("{YELLOW}disabled{YELLOW:#} ({})", d.detail),
    }
}

/// `signed by SHA256:…` or `unsigned`.
fn signed_by(info: &PluginInfo) -> String {
    if info.signers.is_empty() {
        "unsigned".to_owned()
    } else {
        format!("signed by {}", info.signers.join(", "))
    }
}

/// `  from oci://…@sha256:…` for a version pulled from a registry, else nothing.
fn from_source(info: &PluginInfo) -> String {
    info.source
        .as_ref()
        .map(|source| format!("  from {source}"))
        .unwrap_or_default()
}

fn print_state(shell: &Shell, info: &PluginInfo) {
    if let Some(d) = &info.disabled {
        shell.warn(format!("`{}` is disabled: {}", info.id, d.detail));
    }
}

fn print_permissions(shell: &Shell, info: &PluginInfo) -> std::io::Result<()> {
    let mut out = shell.out();
    write_permissions(&mut out, &info.manifest)?;
    writeln!(out, "  signature:     {}", signed_by(info))?;
    if let Some(source) = &info.source {
        writeln!(out, "  source:        {source}")?;
    }
    Ok(())
}

/// What a plugin may do: the events it gets, the hosts it may send requests to, its
/// ticket panel; one line each, as the install and the review before it show them.
pub(crate) fn write_permissions(out: &mut impl Write, m: &Manifest) -> std::io::Result<()> {
    let events: Vec<String> = m.events.iter().map(ToString::to_string).collect();
    writeln!(out, "  events:        {}", events.join(", "))?;
    let hosts = m.allowed_hosts();
    writeln!(
        out,
        "  allowed hosts: {}",
        if hosts.is_empty() {
            "none".to_owned()
        } else {
            hosts.join(", ")
        }
    )?;
    match &m.ui_panel {
        Some(panel) => writeln!(
            out,
            "  ticket panel:  \"{}\" ({} px)",
            panel.title, panel.height
        ),
        None => writeln!(out, "  ticket panel:  none"),
    }
}

fn print_form(shell: &Shell, form: &[ConfigEntry]) -> Result<()> {
    let mut out = shell.out();
    if form.is_empty() {
        writeln!(out, "the plugin has no config fields")?;
    }
    for f in form {
        let value = if f.secret {
            if f.is_set {
                "(secret, set)".to_owned()
            } else {
                "(secret, not set)".to_owned()
            }
        } else {
            match (&f.value, &f.default) {
                (Some(v), _) => v.to_string(),
                (None, Some(d)) => format!("{d} (default)"),
                (None, None) => "(not set)".to_owned(),
            }
        };
        let required = if f.required { " required" } else { "" };
        writeln!(
            out,
            "{BOLD}{}{BOLD:#} ({}{required}): {value}",
            f.key,
            f.ty.as_str()
        )?;
    }
    Ok(())
}

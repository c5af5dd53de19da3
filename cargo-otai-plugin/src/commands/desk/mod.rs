//! `cargo otai-plugin desk`: the local help desk's lifecycle from the command line
//! (`otai-plugin-desk` over a data directory).

mod deliveries;
mod fixture;
mod install;
mod plugins;
mod review;
mod settings;
mod trust;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use otai_plugin_desk::{Desk, DeskOptions, InstallOptions};

use crate::commands::RegistryArgs;
use crate::failure::or_json;
use crate::harness;
use crate::term::Shell;
use crate::{CommonOptions, Exit};

use self::deliveries::{deliver, log};
use self::install::{install, upgrade};
use self::plugins::{configure, disable, enable, list, remove, rollback};
use self::settings::settings;
use self::trust::trust;

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
        #[command(flatten)]
        #[allow(missing_docs)]
        module: ModuleArgs,
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
    // The module's arguments are `install`'s, each said of an upgrade.
    #[command(
        mut_arg("wasm", |a| a.help(
            "The new module: a `.wasm` file or an `oci://` reference, as for `install`"
        )),
        mut_arg("allow_unsigned", |a| a.help(
            "Upgrade without a valid signature from a trusted key, on a desk that trusts \
             keys. An upgrade of a signed plugin must still be signed by a key that signed it"
        )),
        mut_arg("yes", |a| a.help(
            "From a registry: upgrade without asking (new permissions still need \
             `--approve`; a `y` on a terminal approves them, the diff in sight). The \
             module's permissions and signatures are shown first either way; without \
             `--yes`, a terminal asks `[y/N]` and anything else installs nothing"
        )),
    )]
    Upgrade {
        /// Approve new permissions (hosts, events, a panel).
        #[arg(long)]
        approve: bool,
        #[command(flatten)]
        #[allow(missing_docs)]
        module: ModuleArgs,
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
    /// Show the health settings (when a failing plugin is disabled), or change them
    /// with `--set KEY=VALUE`: `failure_percent` (0 to 100), `min_deliveries`,
    /// `window_minutes`.
    Settings {
        /// A setting to change. Repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Show a plugin's delivery log, newest first: each delivery's time, duration and
    /// outcome, and what it did (log lines, requests with their status, replies, custom
    /// fields).
    Log {
        /// The plugin id.
        id: String,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Write delivery N (its `#N`; the newest without one) as a fixture TOML for
        /// `cargo otai-plugin test`, on stdout or to `-o FILE`.
        #[arg(long, value_name = "N", num_args = 0..=1)]
        as_fixture: Option<Option<i64>>,
        /// With `--as-fixture`: the file to write.
        #[arg(short = 'o', long, value_name = "FILE", requires = "as_fixture")]
        output: Option<PathBuf>,
        /// Only the deliveries that did not end `ok`.
        #[arg(long)]
        failed: bool,
    },
}

impl DeskAction {
    /// Whether the action only reads the desk.
    fn only_reads(&self) -> bool {
        match self {
            DeskAction::List
            | DeskAction::Log { .. }
            | DeskAction::Trust {
                action: TrustAction::List,
            } => true,
            DeskAction::Configure {
                set, set_from_env, ..
            } => set.is_empty() && set_from_env.is_empty(),
            DeskAction::Settings { set } => set.is_empty(),
            _ => false,
        }
    }
}

/// The module `desk install` and `desk upgrade` take, and how they take it (the help is
/// `install`'s; `upgrade` words it for an upgrade).
#[derive(Debug, Args)]
pub struct ModuleArgs {
    /// The module: a `.wasm` file, or `oci://REGISTRY/NAMESPACE/NAME[:TAG]` (or
    /// `@sha256:…`) in an OCI registry, pulled by the digest its tag resolves to.
    pub wasm: PathBuf,
    /// Install it without a valid signature from a trusted key, on a desk that trusts
    /// keys (`desk trust add`).
    #[arg(long)]
    pub allow_unsigned: bool,
    /// From a registry: install without asking. The module's permissions and
    /// signatures are shown first either way; without `--yes`, a terminal asks
    /// `[y/N]` and anything else installs nothing.
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub registry: RegistryArgs,
}

impl ModuleArgs {
    /// The signature rule the desk applies to this module.
    fn install_options(&self) -> InstallOptions {
        InstallOptions {
            allow_unsigned: self.allow_unsigned,
        }
    }
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
        // Which desk, said before anything else (a default one lives under `target/`).
        shell.status("Using", format!("the desk in `{}`", dir.display()));
        let mut options = DeskOptions::default();
        if let DeskAction::Deliver {
            allow_network: true,
            allow_private_network,
            ..
        } = self.action
        {
            options.http = Arc::new(harness::real_network(shell, allow_private_network));
        }
        // A command that only reads opens the database beside a desk that may hold it
        // (`dev`), and writes nothing, not even a new desk.
        let desk = if self.action.only_reads() {
            Desk::open_read_only(&dir, options)
        } else {
            Desk::open_with(&dir, options).and_then(|desk| {
                desk.set_holder("cargo otai-plugin desk", None)?;
                Ok(desk)
            })
        }
        .with_context(|| format!("cannot open the desk in `{}`", dir.display()))?;
        let out = Output {
            shell,
            json: self.format == DeskFormat::Json,
        };
        let printed = match self.action {
            DeskAction::Install { module } => install(&desk, out, &module),
            DeskAction::List => list(&desk, out),
            DeskAction::Configure {
                id,
                set,
                set_from_env,
            } => configure(&desk, out, &id, &set, &set_from_env),
            DeskAction::Upgrade { approve, module } => upgrade(&desk, out, &module, approve),
            DeskAction::Trust { action } => trust(&desk, out, action),
            DeskAction::Rollback { id } => rollback(&desk, out, &id),
            DeskAction::Enable { id } => enable(&desk, out, &id),
            DeskAction::Disable { id } => disable(&desk, out, &id),
            DeskAction::Remove { id } => remove(&desk, out, &id),
            DeskAction::Deliver { event, ticket, .. } => deliver(&desk, out, &event, &ticket),
            DeskAction::Log {
                id,
                as_fixture: Some(seq),
                output,
                ..
            } => fixture::write(&desk, out, &id, seq, output.as_deref()),
            DeskAction::Log {
                id, limit, failed, ..
            } => log(&desk, out, &id, limit, failed),
            DeskAction::Settings { set } => settings(&desk, out, &set),
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
pub(crate) fn default_data_dir() -> Result<PathBuf> {
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

#[cfg(test)]
mod tests {
    use clap::{Args, Command};

    use super::DeskCommand;

    /// The help of each of `desk ACTION`'s arguments, by id.
    fn help(action: &str) -> Vec<(String, String)> {
        let desk = DeskCommand::augment_args(Command::new("desk"));
        let action = desk.find_subcommand(action).expect("the action exists");
        action
            .get_arguments()
            .map(|a| {
                let help = a.get_help().map(ToString::to_string).unwrap_or_default();
                (a.get_id().to_string(), help)
            })
            .collect()
    }

    #[test]
    fn install_and_upgrade_share_their_arguments_and_each_words_its_own_help() {
        let install = help("install");
        let upgrade = help("upgrade");
        // Which, not in which order: the help lists them by their display order.
        let ids = |args: &[(String, String)]| -> std::collections::BTreeSet<String> {
            args.iter()
                .map(|(id, _)| id.clone())
                .filter(|id| id != "approve")
                .collect()
        };
        assert_eq!(ids(&install), ids(&upgrade));
        for id in ["wasm", "allow_unsigned", "yes"] {
            let of = |args: &[(String, String)]| {
                args.iter()
                    .find(|(i, _)| i == id)
                    .map(|(_, h)| h.clone())
                    .unwrap()
            };
            let (install, upgrade) = (of(&install), of(&upgrade));
            assert!(
                !install.is_empty() && install != upgrade,
                "{id}: {install:?}"
            );
            assert!(
                upgrade.contains("upgrade") || upgrade.contains("new module"),
                "{id}: {upgrade:?}"
            );
        }
    }
}

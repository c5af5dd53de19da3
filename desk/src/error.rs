//! The desk's errors. Messages name the file, the plugin, the field; none ever holds a
//! secret value.

use std::path::PathBuf;

use otai_plugin_abi::manifest::Diagnostics;
use otai_plugin_abi::module::ProblemKind;
use otai_plugin_abi::module::signature::KeyError;

use crate::diff::PermissionDiff;
use crate::holder::LockHolder;

/// Why a desk operation failed. Nothing is written when an operation fails: each runs
/// in one transaction.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeskError {
    /// The data directory or a file in it could not be created or read.
    #[error("{what} `{}`: {source}", path.display())]
    Io {
        /// What was being done, e.g. "failed to create the data directory".
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Another desk (a `dev` server, a CLI command) has the data directory open.
    #[error("{}", locked_message(path, holder.as_ref()))]
    Locked {
        /// The data directory.
        path: PathBuf,
        /// Who holds it, as its lock file says (`None` when it says nothing usable).
        holder: Option<LockHolder>,
    },
    /// A desk opened to read ([`Desk::open_read_only`](crate::Desk::open_read_only))
    /// found no desk in the directory: it creates nothing.
    #[error(
        "there is no desk in `{}`: {what}; a desk is made by the first command that writes \
         (`cargo otai-plugin desk install PLUGIN.wasm`, or `cargo otai-plugin dev`)",
        path.display()
    )]
    NoDesk {
        /// The data directory.
        path: PathBuf,
        /// What was found instead.
        what: &'static str,
    },
    /// A change asked of a desk opened to read
    /// ([`Desk::open_read_only`](crate::Desk::open_read_only)); nothing was written.
    #[error(
        "the desk database `{}` was opened only to read (beside a desk that has it open); \
         nothing was changed: a change needs the desk that holds the directory, or the \
         directory once it is free",
        path.display()
    )]
    ReadOnly {
        /// The database file.
        path: PathBuf,
    },
    /// The database file is not a desk database, is damaged, or was written by a newer
    /// version.
    #[error("the desk database `{}` cannot be used: {message}", path.display())]
    Database {
        /// The database file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The secret key is missing, malformed, or not the key the database was made with.
    #[error("{message}")]
    Key {
        /// What is wrong and where the key was looked for.
        message: String,
    },
    /// The module does not load (every problem, as `cargo otai-plugin check` lists them).
    #[error("the module cannot be installed: {0}")]
    Load(#[from] otai_plugin_host::LoadError),
    /// No plugin with this id is installed (for `upgrade`: the module's id; a new id
    /// is a new plugin, to install).
    #[error(
        "no plugin `{plugin_id}` is installed (`desk list` shows the installed ones; a module with a new id is a new plugin: install it)"
    )]
    NotInstalled {
        /// The id asked for.
        plugin_id: String,
    },
    /// A delivery asked for that the log does not hold (never made, or older than the
    /// deliveries the log keeps).
    #[error(
        "plugin `{plugin_id}` has {} in the delivery log (`desk log {plugin_id}` lists what it keeps)",
        .seq.map_or_else(|| "no delivery".to_owned(), |n| format!("no delivery #{n}"))
    )]
    NoDelivery {
        /// The plugin.
        plugin_id: String,
        /// The delivery asked for, `None` for the newest.
        seq: Option<i64>,
    },
    /// A delivery with no flame graph: the desk did not record profiles then
    /// ([`DeskOptions::flamegraphs`](crate::DeskOptions::flamegraphs)), the plugin's
    /// code did not run, or the graph was deleted with the older ones.
    #[error(
        "delivery #{seq} of `{plugin_id}` has no flame graph: deliveries get one when the \
         desk records them (`cargo otai-plugin dev --flamegraph`), and only the last few \
         of each plugin are kept"
    )]
    NoFlameGraph {
        /// The plugin.
        plugin_id: String,
        /// The delivery asked for.
        seq: i64,
    },
    /// A delivery that cannot be written as a fixture: logged before the log kept what
    /// a fixture needs, or holding what the fixture format cannot say.
    #[error("delivery #{seq} of `{plugin_id}` cannot be written as a fixture: {why}")]
    NoFixture {
        /// The plugin.
        plugin_id: String,
        /// The delivery.
        seq: i64,
        /// Why.
        why: String,
    },
    /// `install` of an id that is installed already.
    #[error(
        "plugin `{plugin_id}` is installed already (version {version}); use `upgrade` to replace it"
    )]
    AlreadyInstalled {
        /// The id.
        plugin_id: String,
        /// The installed version.
        version: String,
    },
    /// `upgrade` to a lower version.
    #[error(
        "plugin `{plugin_id}` is at version {installed}; {offered} is older: use `rollback` to go back"
    )]
    Downgrade {
        /// The plugin.
        plugin_id: String,
        /// The installed version.
        installed: String,
        /// The module's version.
        offered: String,
    },
    /// The upgrade asks for more permissions than the installed version has.
    #[error("upgrading `{plugin_id}` needs approval, it asks for more permissions:\n{diff}")]
    NeedsApproval {
        /// The plugin.
        plugin_id: String,
        /// What changes (boxed: the error stays small for the common paths).
        diff: Box<PermissionDiff>,
    },
    /// `rollback` of a plugin that has no previous version.
    #[error("plugin `{plugin_id}` has no previous version to roll back to")]
    NoPreviousVersion {
        /// The plugin.
        plugin_id: String,
    },
    /// The config does not match the manifest's `config_schema`.
    #[error("invalid config for plugin `{plugin_id}`:\n{diagnostics}")]
    InvalidConfig {
        /// The plugin.
        plugin_id: String,
        /// Every problem (never quoting a secret value).
        diagnostics: Diagnostics,
    },
    /// Health settings out of their ranges (nothing is saved).
    #[error(
        "the health settings were not saved:\n{}",
        problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
    )]
    InvalidSettings {
        /// Every problem, each naming its setting.
        problems: Vec<crate::settings::SettingProblem>,
    },
    /// `enable` of a plugin whose required config is not set.
    #[error("plugin `{plugin_id}` cannot be enabled: {missing} must be configured first")]
    NeedsConfig {
        /// The plugin.
        plugin_id: String,
        /// The fields, as `` `a`, `b` ``.
        missing: String,
    },
    /// An event or ticket that is not valid.
    #[error("{0}")]
    Event(#[from] otai_plugin_host::EventError),
    /// The desk trusts keys, and the module has no valid signature from one of them
    /// (see [`InstallOptions::allow_unsigned`](crate::InstallOptions::allow_unsigned)).
    #[error(
        "plugin `{plugin_id}` {version} is refused ({kind}): {message}. The desk trusts \
         {trusted} key(s) (`desk trust list`); to install it anyway, allow unsigned \
         modules (`--allow-unsigned`)"
    )]
    Signature {
        /// The module's plugin id.
        plugin_id: String,
        /// The module's version.
        version: String,
        /// Why: `signature_missing`, `signature_untrusted`, `signature_invalid` or
        /// `signature_changed`.
        kind: ProblemKind,
        /// What failed, as a host requiring a trusted signer says it.
        message: String,
        /// How many keys the desk trusts.
        trusted: usize,
    },
    /// An upgrade of a signed plugin without a valid signature from a key that signed
    /// the installed version.
    #[error(
        "upgrading `{plugin_id}` to {version} is refused: the installed version \
         {installed_version} was signed by {installed}, and the new module has no valid \
         signature from that key (its signatures: {offered}). Only a key that \
         signed a plugin may sign its upgrades; to change signers, the new module carries a \
         rotation statement signed by the old key (`cargo otai-plugin key rotate`, then \
         `sign --rotation`), or the plugin is removed and the new module installed"
    )]
    SignerChanged {
        /// The plugin.
        plugin_id: String,
        /// The new module's version.
        version: String,
        /// The installed version.
        installed_version: String,
        /// The fingerprints of the keys that signed the installed version.
        installed: String,
        /// The new module's signatures: each key's fingerprint and what it proves; then,
        /// when it carries rotation statements, why they do not hand the plugin to a key
        /// that signed it.
        offered: String,
    },
    /// Text given to trust that is not an OpenSSH ed25519 public key.
    #[error("cannot trust this key: {0}")]
    TrustedKey(KeyError),
    /// `trust_remove` of a key the desk does not trust.
    #[error(
        "the desk does not trust a key with fingerprint `{fingerprint}` (`desk trust list` shows the trusted ones)"
    )]
    NotTrusted {
        /// The fingerprint asked for.
        fingerprint: String,
    },
    /// A status change to a blank status.
    #[error(
        "ticket `{ticket_id}`: the status to change to is blank; give one, such as `In Progress`, `Resolved` or `Closed`"
    )]
    BlankStatus {
        /// The ticket.
        ticket_id: String,
    },
    /// An installed plugin this host does not load (its stored module or config is
    /// refused), found when it was first used; [`PluginInfo::load_error`](crate::PluginInfo::load_error) says the same.
    #[error("plugin `{plugin_id}` cannot run: {reason}")]
    Unloadable {
        /// The plugin.
        plugin_id: String,
        /// Why, naming the version and where it is stored.
        reason: String,
    },
    /// The host refused to run a plugin (not installed, disabled, no panel).
    #[error("{0}")]
    Deliver(#[from] otai_plugin_host::DeliverError),
}

impl DeskError {
    pub(crate) fn database(path: &std::path::Path, error: impl std::fmt::Display) -> DeskError {
        let message = error.to_string();
        // SQLite's text for `SQLITE_READONLY`: a write through a desk opened to read
        // (`query_only`), wherever in the desk it was tried.
        if message.starts_with("attempt to write a readonly database") {
            return DeskError::ReadOnly {
                path: path.to_owned(),
            };
        }
        DeskError::Database {
            path: path.to_owned(),
            message,
        }
    }
}

/// Who holds the directory and what to do instead: stop it, use its web UI, or read
/// beside it.
fn locked_message(path: &std::path::Path, holder: Option<&LockHolder>) -> String {
    let who = match holder {
        Some(h) => h.to_string(),
        None => "a `cargo otai-plugin dev` server or another command".to_owned(),
    };
    let instead = match holder.and_then(|h| h.url.as_deref()) {
        Some(url) => format!("stop it, or make the change in its web UI at {url}"),
        None => "stop it (or wait for it to end), or give this one its own `--data-dir`".to_owned(),
    };
    format!(
        "the data directory `{}` is in use by another desk: {who}. To change it, {instead}; \
         the commands that only read (`desk list`, `desk log`, `desk configure` without \
         `--set`, `desk trust list`) work beside it",
        path.display()
    )
}

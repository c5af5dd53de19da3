//! [`Desk`]: the data directory opened, the plugins it holds loaded into a host, and
//! what the desk shows about them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use otai_plugin_abi::manifest::{Config, Manifest};
use otai_plugin_host::http::{HttpTransport, MockHttp};
use otai_plugin_host::{HealthPolicy, Host, Plugin};
use rusqlite::OptionalExtension;
use serde_json::{Map, Value};

use crate::config_records::{config_of, stored_config};
use crate::error::DeskError;
use crate::health::DeskHealth;
use crate::plugin_info::{ConfigEntry, PluginInfo};
use crate::recent_events::RecentEvents;
use crate::secrets::{KEY_ENV, SecretKey};
use crate::state::{Disabled, DisabledReason, write_state};
use crate::store::{Store, lock, now_ms};
use crate::ticket_fields::DeskTickets;
use crate::window;

/// How a [`Desk`] runs its plugins. The defaults are safe: no network (every request
/// a plugin is allowed to send gets a network error naming it, until a transport is
/// given), the help desk's limits and health policy, the last 50 deliveries of each
/// plugin kept.
pub struct DeskOptions {
    /// Where allowed requests go. Default: nowhere (a [`MockHttp`] without rules).
    pub http: Arc<dyn HttpTransport>,
    /// When a plugin is disabled automatically. Default: the help desk's (more than
    /// 50% failed in 10 minutes, at least 10 deliveries).
    pub health: HealthPolicy,
    /// How many deliveries of each plugin the log keeps. Default 50.
    pub keep_deliveries: u32,
    /// The key, as 64 hex digits, instead of the key file. Default: the environment
    /// variable `OTAI_DESK_KEY` when set.
    pub key: Option<String>,
}

impl Default for DeskOptions {
    fn default() -> Self {
        DeskOptions {
            http: Arc::new(MockHttp::new().unmatched_hint(
                "the local desk sends no requests unless it is given a transport (`--allow-network`)",
            )),
            health: HealthPolicy::default(),
            keep_deliveries: 50,
            key: std::env::var(KEY_ENV).ok(),
        }
    }
}

impl std::fmt::Debug for DeskOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeskOptions")
            .field("health", &self.health)
            .field("keep_deliveries", &self.keep_deliveries)
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// A local help desk in a data directory: plugins with their versions and config,
/// secrets sealed at rest, tickets, and a log of deliveries.
///
/// Every operation is one SQLite transaction, so a failure leaves the directory as it
/// was; deliveries are committed in groups ([`Desk::deliver`]), before anything else
/// reads or writes. One desk at a time uses a directory (a lock file); a second gets
/// [`DeskError::Locked`].
///
/// ```
/// use otai_plugin_desk::Desk;
///
/// let dir = tempfile::tempdir()?;
/// let desk = Desk::open(dir.path())?;
/// assert!(desk.list()?.is_empty());
/// assert!(Desk::open(dir.path()).is_err()); // in use
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Desk {
    pub(crate) dir: PathBuf,
    /// Shared with the stores the host keeps health and custom fields in.
    pub(crate) store: Arc<Mutex<Store>>,
    /// The host's health store, which the desk sets from the plugins' rows.
    pub(crate) health: Arc<DeskHealth>,
    pub(crate) key: SecretKey,
    pub(crate) host: Host,
    pub(crate) options: DeskOptions,
    /// Plugins whose stored module this host no longer loads, with why.
    pub(crate) unloadable: Mutex<std::collections::BTreeMap<String, String>>,
    /// The last event delivered about each ticket lately ([`crate::recent_events`]).
    pub(crate) recent: Mutex<RecentEvents>,
}

impl Drop for Desk {
    fn drop(&mut self) {
        // See `flush`: an error cannot be reported from here.
        let _ = self.flush();
    }
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// A plugin's row.
pub(crate) struct Row {
    pub(crate) current_seq: i64,
    pub(crate) previous_seq: Option<i64>,
    pub(crate) enabled: bool,
    pub(crate) disabled: Option<Disabled>,
    pub(crate) window_start: i64,
    pub(crate) installed_ms: i64,
}

/// A version's row, without its module: what the lists, forms and checks read (a
/// module is read only to load it, by [`Desk::version_wasm`]).
pub(crate) struct VersionRow {
    pub(crate) version: String,
    pub(crate) manifest: Manifest,
}

impl Desk {
    /// Opens the desk in `dir` (created if needed) with [`DeskOptions::default`].
    ///
    /// # Errors
    /// See [`Desk::open_with`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Desk, DeskError> {
        Desk::open_with(dir, DeskOptions::default())
    }

    /// Opens the desk in `dir`: locks it, brings the database's schema up to date,
    /// checks the key against it, and loads every installed plugin.
    ///
    /// # Errors
    /// [`DeskError::Locked`] when another desk has it open; [`DeskError::Database`] for
    /// a file that is not a desk database (another application's, which is left as it
    /// was: see [`APPLICATION_ID`](crate::APPLICATION_ID)), an empty file beside a key
    /// file, or a database from a newer version;
    /// [`DeskError::Key`] for a missing or wrong key.
    pub fn open_with(dir: impl AsRef<Path>, options: DeskOptions) -> Result<Desk, DeskError> {
        let dir = dir.as_ref().to_owned();
        let (store, is_new) = Store::open(&dir)?;
        let check = store.meta("key_check")?;
        let key = SecretKey::load(&dir, options.key.clone(), is_new || check.is_none())?;
        match check {
            Some(check) => key.verify(&check)?,
            None => store.set_meta("key_check", &key.check_value())?,
        }
        let path = store.path.clone();
        let store = Arc::new(Mutex::new(store));
        let health = Arc::new(DeskHealth::new(store.clone()));
        let host = Host::builder()
            .http(options.http.clone())
            // The host judges health with the desk's policy, and keeps each plugin's
            // window and state in the desk's database, so that an automatic disable and
            // the window survive a restart.
            .health_policy(options.health)
            .health_store(health.clone())
            // Upgrades to the next build of a plugin are the desk's daily work (`dev`
            // swaps one in on every save): only its changed functions are compiled.
            .incremental_compilation(true)
            // The desk's tickets are the record of custom fields.
            .ticket_store(DeskTickets::new(store.clone()))
            .build()
            .map_err(|e| DeskError::database(&path, format!("the host could not start: {e}")))?;
        let desk = Desk {
            dir,
            store,
            health,
            key,
            host,
            options,
            unloadable: Mutex::new(Default::default()),
            recent: Mutex::new(RecentEvents::default()),
        };
        for id in desk.ids()? {
            // A module stored by an earlier, laxer host must not lock the desk: it
            // stays listed, with why, so that it can be upgraded or removed.
            match desk.sync_host(&id) {
                Ok(()) => {}
                Err(DeskError::Load(e)) => {
                    desk.host.uninstall(&id);
                    lock(&desk.unloadable)
                        .insert(id, format!("this host does not load its module: {e}"));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(desk)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The host that runs the plugins (to render panels, for one).
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The database, the deliveries that wait committed first: what is read from it
    /// then includes them.
    pub(crate) fn store(&self) -> Result<MutexGuard<'_, Store>, DeskError> {
        let mut store = lock(&self.store);
        if !store.pending.is_empty() {
            self.commit_pending(&mut store)?;
        }
        // Any operation but a delivery may change a ticket: the copies deliveries read
        // are not used after one (a commit drops them too, but a delivery that reached
        // no plugin leaves nothing to commit).
        store.pending.forget_tickets();
        Ok(store)
    }

    /// Commits the deliveries that wait ([`Desk::deliver`] commits them in groups).
    /// Every other operation of the desk does so first, and so does dropping it, where
    /// an error has nobody to reach: flush first to see it.
    ///
    /// # Errors
    /// [`DeskError::Database`]; the deliveries that waited are not recorded.
    pub fn flush(&self) -> Result<(), DeskError> {
        self.store().map(drop)
    }

    /// Commits the deliveries that wait and disables the plugins the health policy
    /// disabled meanwhile (with why) in one transaction.
    pub(crate) fn commit_pending(&self, store: &mut Store) -> Result<(), DeskError> {
        let waiting = store.pending.len();
        let disable = std::mem::take(&mut store.pending.disable);
        let Store {
            conn,
            path,
            pending,
            windows,
            ..
        } = store;
        let written = conn.transaction().and_then(|tx| {
            pending.write(&tx, self.options.keep_deliveries)?;
            windows.trim(&tx)?;
            for (id, detail) in &disable {
                self.set_state(&tx, id, Some((DisabledReason::Failures, detail.clone())))?;
            }
            tx.commit()
        });
        written.map_err(|e| {
            pending.discard();
            // The windows counted outcomes that the table did not get, and the plugins
            // they disabled are not disabled in the table.
            windows.clear();
            self.health.undo_disable(&disable);
            DeskError::database(
                path,
                format!("{waiting} deliveries could not be recorded: {e}"),
            )
        })
    }

    pub(crate) fn ids(&self) -> Result<Vec<String>, DeskError> {
        let store = self.store()?;
        let mut stmt = store
            .conn
            .prepare("SELECT id FROM plugins ORDER BY id")
            .map_err(|e| store.error(e))?;
        let ids = stmt
            .query_map([], |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(|e| store.error(e))?;
        Ok(ids)
    }

    pub(crate) fn row(&self, store: &Store, id: &str) -> Result<Row, DeskError> {
        store
            .conn
            .query_row(
                "SELECT current_seq, previous_seq, enabled, disabled_reason, disabled_detail,
                        disabled_at, window_start, installed_at
                 FROM plugins WHERE id = ?1",
                [id],
                |r| {
                    let reason: Option<String> = r.get(3)?;
                    Ok(Row {
                        current_seq: r.get(0)?,
                        previous_seq: r.get(1)?,
                        enabled: r.get(2)?,
                        disabled: match reason {
                            Some(reason) => Some(Disabled {
                                reason: DisabledReason::parse(&reason),
                                detail: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                                at_ms: r.get::<_, Option<i64>>(5)?.unwrap_or_default(),
                            }),
                            None => None,
                        },
                        window_start: r.get(6)?,
                        installed_ms: r.get(7)?,
                    })
                },
            )
            .optional()
            .map_err(|e| store.error(e))?
            .ok_or_else(|| DeskError::NotInstalled {
                plugin_id: id.to_owned(),
            })
    }

    pub(crate) fn version_row(&self, store: &Store, seq: i64) -> Result<VersionRow, DeskError> {
        let (version, manifest): (String, String) = store
            .conn
            .prepare_cached("SELECT version, manifest FROM versions WHERE seq = ?1")
            .and_then(|mut s| s.query_row([seq], |r| Ok((r.get(0)?, r.get(1)?))))
            .map_err(|e| store.error(e))?;
        let manifest = serde_json::from_str(&manifest)
            .map_err(|e| store.error(format!("version {seq}'s manifest: {e}")))?;
        Ok(VersionRow { version, manifest })
    }

    /// A version's module, to load it.
    pub(crate) fn version_wasm(&self, store: &Store, seq: i64) -> Result<Vec<u8>, DeskError> {
        store
            .conn
            .prepare_cached("SELECT wasm FROM versions WHERE seq = ?1")
            .and_then(|mut s| s.query_row([seq], |r| r.get(0)))
            .map_err(|e| store.error(e))
    }

    /// Loads a plugin's current version into the host as the database says: installed
    /// with its config when that is complete, enabled or not.
    pub(crate) fn sync_host(&self, id: &str) -> Result<(), DeskError> {
        let (version, wasm, config) = {
            let store = self.store()?;
            let row = self.row(&store, id)?;
            let version = self.version_row(&store, row.current_seq)?;
            let wasm = self.version_wasm(&store, row.current_seq)?;
            let config = config_of(&store, &self.key, id, row.current_seq)?;
            (version, wasm, config)
        };
        let plugin = self.host.load(&wasm)?;
        lock(&self.unloadable).remove(id);
        let config = Value::Object(config);
        let validated = match version.manifest.validate_config(&config) {
            Ok(validated) => validated,
            Err(diagnostics) => {
                self.host.uninstall(id);
                // Missing values are the plugin's wait for config, shown as its state.
                // Values this host refuses (stored by an earlier, laxer one: a value past
                // the size limits) would otherwise leave it listed as enabled and never
                // run.
                let set = |key: &str| config.get(key).is_some_and(|v| !v.is_null());
                if missing_config(&version.manifest, set).is_empty() {
                    let problems: Vec<String> = diagnostics
                        .errors()
                        .map(|d| match d.path.as_str() {
                            "" => d.message.clone(),
                            key => format!("`{key}`: {}", d.message),
                        })
                        .collect();
                    lock(&self.unloadable).insert(
                        id.to_owned(),
                        format!(
                            "its stored config is refused ({}); set the values again",
                            problems.join("; ")
                        ),
                    );
                }
                return Ok(());
            }
        };
        self.run_in_host(&plugin, &validated)
    }

    /// Installs `plugin` in the host with its validated config, enabled or not as the
    /// database says.
    pub(crate) fn run_in_host(&self, plugin: &Plugin, config: &Config) -> Result<(), DeskError> {
        self.host
            .install_config(plugin, config)
            .map_err(|e| match e {
                otai_plugin_host::InstallError::InvalidConfig {
                    plugin_id,
                    diagnostics,
                } => DeskError::InvalidConfig {
                    plugin_id,
                    diagnostics,
                },
                other => DeskError::database(&self.dir, other),
            })?;
        self.sync_health(&plugin.manifest().id)
    }

    /// Sets the health the host reads for plugin `id` from its row, which the desk has
    /// just changed: enabled or not, and when its window began.
    pub(crate) fn sync_health(&self, id: &str) -> Result<(), DeskError> {
        let store = self.store()?;
        self.health
            .sync(&store.conn, id)
            .map_err(|e| store.error(e))
    }

    /// The installed plugins, by id.
    ///
    /// # Errors
    /// [`DeskError::Database`] when the database cannot be read.
    pub fn list(&self) -> Result<Vec<PluginInfo>, DeskError> {
        self.ids()?.iter().map(|id| self.plugin(id)).collect()
    }

    /// One installed plugin.
    ///
    /// # Errors
    /// [`DeskError::NotInstalled`].
    pub fn plugin(&self, id: &str) -> Result<PluginInfo, DeskError> {
        let store = self.store()?;
        let row = self.row(&store, id)?;
        let current = self.version_row(&store, row.current_seq)?;
        let previous_version = match row.previous_seq {
            Some(seq) => Some(self.version_row(&store, seq)?.version),
            None => None,
        };
        // Whether each field is set is all it needs: no secret is opened.
        let config = stored_config(&store, row.current_seq)?;
        let (deliveries, failures, last) = window(&store, id, &row, &self.options.health)?;
        Ok(PluginInfo {
            id: id.to_owned(),
            missing_config: missing_config(&current.manifest, |k| config.is_set(k)),
            manifest: current.manifest,
            previous_version,
            enabled: row.enabled,
            disabled: row.disabled,
            deliveries,
            failures,
            last_delivery_ms: last,
            installed_ms: row.installed_ms,
            load_error: lock(&self.unloadable).get(id).cloned(),
        })
    }

    /// A plugin's config as the admin form shows it: every field of its schema, with
    /// its value, except a secret's (only whether it is set).
    ///
    /// # Errors
    /// [`DeskError::NotInstalled`].
    pub fn config_form(&self, id: &str) -> Result<Vec<ConfigEntry>, DeskError> {
        let store = self.store()?;
        let row = self.row(&store, id)?;
        let version = self.version_row(&store, row.current_seq)?;
        // A secret's value is never shown: none is opened.
        let config = stored_config(&store, row.current_seq)?;
        Ok(version
            .manifest
            .config_schema
            .iter()
            .map(|(key, field)| {
                let value = config.plain.get(key).filter(|v| !v.is_null());
                ConfigEntry {
                    key: key.clone(),
                    ty: field.ty,
                    label: field.label.clone().unwrap_or_else(|| key.clone()),
                    description: field.description.clone(),
                    required: field.required,
                    secret: field.secret,
                    options: field.options.clone().unwrap_or_default(),
                    default: field.default.clone(),
                    value: if field.secret { None } else { value.cloned() },
                    is_set: config.is_set(key),
                }
            })
            .collect())
    }

    /// Sets the enabled state of a plugin's row (and the host's).
    pub(crate) fn set_state(
        &self,
        tx: &rusqlite::Transaction<'_>,
        id: &str,
        disabled: Option<(DisabledReason, String)>,
    ) -> rusqlite::Result<()> {
        write_state(tx, id, disabled, now_ms())
    }
}

/// A plugin's deliveries and failures in its health window (since the window's length
/// ago, or since it was last enabled), and its last delivery.
fn window(
    store: &Store,
    id: &str,
    row: &Row,
    policy: &HealthPolicy,
) -> Result<(u32, u32, Option<i64>), DeskError> {
    let (deliveries, failures) =
        window::counts(&store.conn, id, row.window_start, now_ms(), policy)
            .map_err(|e| store.error(e))?;
    let last = store
        .conn
        .prepare_cached("SELECT max(at) FROM deliveries WHERE plugin_id = ?1")
        .and_then(|mut s| s.query_row([id], |r| r.get(0)))
        .map_err(|e| store.error(e))?;
    Ok((deliveries, failures, last))
}

/// The required fields of `manifest` without a value (a default counts as a value).
pub(crate) fn missing_config(manifest: &Manifest, is_set: impl Fn(&str) -> bool) -> Vec<String> {
    manifest
        .config_schema
        .iter()
        .filter(|(key, field)| field.required && field.default.is_none() && !is_set(key))
        .map(|(key, _)| key.clone())
        .collect()
}

/// Whether `config` gives `key` a value (`null` is none).
pub(crate) fn set_in(config: &Map<String, Value>) -> impl Fn(&str) -> bool + '_ {
    |key| config.get(key).is_some_and(|v| !v.is_null())
}

/// `` `a`, `b` ``.
pub(crate) fn quoted(keys: &[String]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

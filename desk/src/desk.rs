//! [`Desk`]: the data directory opened, the plugins it holds loaded into a host, and
//! what the desk shows about them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use otai_plugin_abi::manifest::{Config, ConfigType, Manifest};
use otai_plugin_host::http::{HttpTransport, MockHttp};
use otai_plugin_host::{HealthPolicy, Host, Plugin};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::deliveries::RecentEvents;
use crate::error::DeskError;
use crate::health::{self, DeskHealth};
use crate::secrets::{KEY_ENV, SecretKey};
use crate::store::{Store, now_ms};
use crate::ticket_fields::DeskTickets;

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

/// Why a plugin is disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisabledReason {
    /// Someone disabled it.
    ByHand,
    /// It failed too often ([`DeskOptions::health`]).
    Failures,
    /// A required config field has no value.
    NeedsConfig,
}

impl DisabledReason {
    fn as_str(self) -> &'static str {
        match self {
            DisabledReason::ByHand => "by_hand",
            DisabledReason::Failures => "failures",
            DisabledReason::NeedsConfig => "needs_config",
        }
    }

    pub(crate) fn parse(s: &str) -> DisabledReason {
        match s {
            "failures" => DisabledReason::Failures,
            "needs_config" => DisabledReason::NeedsConfig,
            _ => DisabledReason::ByHand,
        }
    }
}

/// A disabled plugin's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disabled {
    /// Why.
    pub reason: DisabledReason,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// More about it: the failure counts, the missing fields.
    pub detail: String,
}

/// An installed plugin as the desk lists it.
#[derive(Debug, Clone, Serialize)]
pub struct PluginInfo {
    /// The manifest's id.
    pub id: String,
    /// The installed version's manifest.
    pub manifest: Manifest,
    /// The version a `rollback` returns to.
    pub previous_version: Option<String>,
    /// Whether deliveries reach it.
    pub enabled: bool,
    /// Why not, when it is disabled.
    pub disabled: Option<Disabled>,
    /// Required config fields without a value.
    pub missing_config: Vec<String>,
    /// Deliveries in the health window (since the window opened or the plugin was
    /// last enabled).
    pub deliveries: u32,
    /// Failed deliveries among them.
    pub failures: u32,
    /// When it last got a delivery, in milliseconds since the Unix epoch.
    pub last_delivery_ms: Option<i64>,
    /// When this version was installed.
    pub installed_ms: i64,
    /// Why this host does not run the plugin, when it does not: the stored module, or
    /// the stored config, is one that an earlier version accepted and this one refuses.
    /// It gets no deliveries until it is upgraded (for a module), configured again (for
    /// a config) or removed.
    pub load_error: Option<String>,
}

impl PluginInfo {
    /// How long ago the last delivery was, for people: `12 s ago`, `3 min ago`,
    /// `2 h ago`; `None` before the first.
    pub fn last_delivery_ago(&self) -> Option<String> {
        let seconds = (now_ms() - self.last_delivery_ms?).max(0) / 1000;
        Some(match seconds {
            0..60 => format!("{seconds} s ago"),
            60..3600 => format!("{} min ago", seconds / 60),
            _ => format!("{} h ago", seconds / 3600),
        })
    }

    /// failures / deliveries in the window; 0 without deliveries.
    pub fn error_rate(&self) -> f64 {
        if self.deliveries == 0 {
            0.0
        } else {
            f64::from(self.failures) / f64::from(self.deliveries)
        }
    }
}

/// One config field as the admin form shows it. A secret's value is never here: only
/// whether one is set.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigEntry {
    /// The key.
    pub key: String,
    /// `string`, `boolean`, `integer`, `select`.
    #[serde(rename = "type")]
    pub ty: ConfigType,
    /// The label (the key when the manifest has none).
    pub label: String,
    /// Help text.
    pub description: Option<String>,
    /// Whether a value must be set.
    pub required: bool,
    /// Whether it is a secret (a password input; write-only).
    pub secret: bool,
    /// For a `select`: the choices.
    pub options: Vec<String>,
    /// The manifest's default.
    pub default: Option<Value>,
    /// The value set, for a field that is not secret.
    pub value: Option<Value>,
    /// Whether a value is set (for a secret, the only thing shown).
    pub is_set: bool,
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
    /// The last event delivered about each ticket lately ([`crate::deliveries`]).
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

/// A version's config as the database holds it.
pub(crate) struct StoredConfig {
    /// The values of the fields that are not secret.
    pub(crate) plain: Map<String, Value>,
    /// The secret ones, sealed, by key.
    pub(crate) sealed: Vec<(String, Vec<u8>)>,
}

impl StoredConfig {
    /// Whether `key` has a value (without opening a secret to know).
    pub(crate) fn is_set(&self, key: &str) -> bool {
        self.plain.get(key).is_some_and(|v| !v.is_null())
            || self.sealed.iter().any(|(k, _)| k == key)
    }
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

    /// A version's config as stored: plain values, secrets still sealed.
    pub(crate) fn stored_config(&self, store: &Store, seq: i64) -> Result<StoredConfig, DeskError> {
        let text: String = store
            .conn
            .query_row("SELECT config FROM versions WHERE seq = ?1", [seq], |r| {
                r.get(0)
            })
            .map_err(|e| store.error(e))?;
        let plain: Map<String, Value> = serde_json::from_str(&text)
            .map_err(|e| store.error(format!("version {seq}'s config: {e}")))?;
        let mut stmt = store
            .conn
            .prepare_cached("SELECT key, sealed FROM secrets WHERE version_seq = ?1")
            .map_err(|e| store.error(e))?;
        let sealed = stmt
            .query_map([seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(Iterator::collect)
            .map_err(|e| store.error(e))?;
        Ok(StoredConfig { plain, sealed })
    }

    /// A version's config, secrets opened: what the plugin receives (before defaults).
    pub(crate) fn config_of(
        &self,
        store: &Store,
        id: &str,
        seq: i64,
    ) -> Result<Map<String, Value>, DeskError> {
        let StoredConfig { mut plain, sealed } = self.stored_config(store, seq)?;
        for (key, sealed) in sealed {
            let value = self.key.open(id, &key, &sealed)?;
            plain.insert(key, Value::String(value));
        }
        Ok(plain)
    }

    /// Writes a version's config: plain values as JSON, secret ones sealed.
    pub(crate) fn write_config(
        &self,
        tx: &rusqlite::Transaction<'_>,
        id: &str,
        seq: i64,
        manifest: &Manifest,
        config: &Map<String, Value>,
    ) -> rusqlite::Result<()> {
        tx.execute("DELETE FROM secrets WHERE version_seq = ?1", [seq])?;
        self.update_config(tx, id, seq, manifest, config, &Map::new())
    }

    /// Writes a version's config over `before` (its stored config, secrets opened):
    /// plain values as JSON; only the secrets that changed are sealed anew or removed,
    /// the others keep their sealed bytes.
    pub(crate) fn update_config(
        &self,
        tx: &rusqlite::Transaction<'_>,
        id: &str,
        seq: i64,
        manifest: &Manifest,
        config: &Map<String, Value>,
        before: &Map<String, Value>,
    ) -> rusqlite::Result<()> {
        let is_secret = |k: &str| manifest.config_schema.get(k).is_some_and(|f| f.secret);
        let plain: Map<String, Value> = config
            .iter()
            .filter(|(k, _)| !is_secret(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        tx.execute(
            "UPDATE versions SET config = ?1 WHERE seq = ?2",
            params![Value::Object(plain).to_string(), seq],
        )?;
        for (key, field) in &manifest.config_schema {
            if !field.secret {
                continue;
            }
            let old = before.get(key).and_then(Value::as_str);
            match (old, config.get(key).and_then(Value::as_str)) {
                (old, new) if old == new => {}
                (_, None) => {
                    tx.execute(
                        "DELETE FROM secrets WHERE version_seq = ?1 AND key = ?2",
                        params![seq, key],
                    )?;
                }
                (_, Some(new)) => {
                    let sealed = self.key.seal(id, key, new);
                    tx.execute(
                        "INSERT OR REPLACE INTO secrets (version_seq, key, sealed) VALUES (?1, ?2, ?3)",
                        params![seq, key, sealed],
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Loads a plugin's current version into the host as the database says: installed
    /// with its config when that is complete, enabled or not.
    pub(crate) fn sync_host(&self, id: &str) -> Result<(), DeskError> {
        let (version, wasm, config) = {
            let store = self.store()?;
            let row = self.row(&store, id)?;
            let version = self.version_row(&store, row.current_seq)?;
            let wasm = self.version_wasm(&store, row.current_seq)?;
            let config = self.config_of(&store, id, row.current_seq)?;
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
        let config = self.stored_config(&store, row.current_seq)?;
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
        let config = self.stored_config(&store, row.current_seq)?;
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

/// Sets the enabled state of a plugin's row at `now`: enabling starts a new health
/// window.
pub(crate) fn write_state(
    conn: &rusqlite::Connection,
    id: &str,
    disabled: Option<(DisabledReason, String)>,
    now: i64,
) -> rusqlite::Result<()> {
    match disabled {
        None => conn.execute(
            "UPDATE plugins SET enabled = 1, disabled_reason = NULL, disabled_detail = NULL,
                    disabled_at = NULL, window_start = ?2 WHERE id = ?1",
            params![id, now],
        )?,
        Some((reason, detail)) => conn.execute(
            "UPDATE plugins SET enabled = 0, disabled_reason = ?2, disabled_detail = ?3,
                    disabled_at = ?4 WHERE id = ?1",
            params![id, reason.as_str(), detail, now],
        )?,
    };
    Ok(())
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
        health::counts(&store.conn, id, row.window_start, now_ms(), policy)
            .map_err(|e| store.error(e))?;
    let last = store
        .conn
        .prepare_cached("SELECT max(at) FROM deliveries WHERE plugin_id = ?1")
        .and_then(|mut s| s.query_row([id], |r| r.get(0)))
        .map_err(|e| store.error(e))?;
    Ok((deliveries, failures, last))
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every write is a transaction and the maps are updated in one step: a panic
    // elsewhere cannot leave either half done.
    m.lock().unwrap_or_else(PoisonError::into_inner)
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

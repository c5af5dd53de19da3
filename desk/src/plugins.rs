//! The desk's plugins: their rows, versions, config and secrets, and the host they
//! are loaded into as the database says (at their first use: [`crate::residency`]).
//! The changes to them are in [`crate::lifecycle`].

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use otai_plugin_abi::manifest::{Config, Manifest};
use otai_plugin_abi::module::signature::PublicKey;
use otai_plugin_host::{HealthPolicy, Host, Plugin};
use rusqlite::OptionalExtension;
use serde_json::{Map, Value};

use crate::config_records::stored_config;
use crate::database::Database;
use crate::error::DeskError;
use crate::health::DeskHealth;
use crate::plugin_info::{ConfigEntry, PluginInfo};
use crate::residents::{Uses, Waiting};
use crate::secrets::SecretKey;
use crate::state::{Disabled, DisabledReason, write_state};
use crate::store::{Store, lock, now_ms};
use crate::trust::read_signers;
use crate::window;

/// The installed plugins: versions, config, secrets, their state (enabled, trusted
/// with the permissions approved) and the host that runs them.
pub(crate) struct Plugins {
    pub(crate) dir: PathBuf,
    pub(crate) db: Arc<Database>,
    /// The host's health store, which the desk sets from the plugins' rows.
    pub(crate) health: Arc<DeskHealth>,
    pub(crate) key: SecretKey,
    pub(crate) host: Arc<Host>,
    /// Plugins whose stored module (or config) this host no longer loads, with why:
    /// found at their first use.
    pub(crate) unloadable: Mutex<BTreeMap<String, String>>,
    /// The installed plugins not loaded into the host yet.
    pub(crate) waiting: Mutex<Waiting>,
    /// Held while a plugin is loaded into the host or taken out of it: a load that read
    /// the config before a `configure` committed must not put it in the host after the
    /// `configure` took it out (the web UI serves requests on several threads).
    pub(crate) loading: Mutex<()>,
    /// When each plugin in the host was last used, for unloading the idle
    /// ([`DeskOptions::unload_idle_after`](crate::DeskOptions::unload_idle_after)).
    pub(crate) uses: Mutex<Uses>,
    /// Held (shared) from loading a delivery's or a panel's plugins until the host has
    /// run them, and (alone) while idle plugins are unloaded: a plugin loaded for a
    /// delivery is not taken out before the delivery reaches it.
    pub(crate) in_use: RwLock<()>,
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
/// module is read only to load it, by [`Plugins::version_wasm`]).
pub(crate) struct VersionRow {
    pub(crate) version: String,
    pub(crate) manifest: Manifest,
    /// The keys that signed it, as the desk verified them when it was installed.
    pub(crate) signers: Vec<PublicKey>,
    /// Where its module came from (`oci://…@sha256:…`), empty for a file.
    pub(crate) source: String,
}

impl Plugins {
    /// The database, the deliveries that wait committed first.
    pub(crate) fn store(&self) -> Result<MutexGuard<'_, Store>, DeskError> {
        self.db.store()
    }

    pub(crate) fn row(&self, store: &Store, id: &str) -> Result<Row, DeskError> {
        row(store, id)
    }

    pub(crate) fn version_row(&self, store: &Store, seq: i64) -> Result<VersionRow, DeskError> {
        let (version, manifest, signers, source): (String, String, String, String) = store
            .conn
            .prepare_cached(
                "SELECT version, manifest, signers, source FROM versions WHERE seq = ?1",
            )
            .and_then(|mut s| {
                s.query_row([seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            })
            .map_err(|e| store.error(e))?;
        let manifest = serde_json::from_str(&manifest)
            .map_err(|e| store.error(format!("version {seq}'s manifest: {e}")))?;
        Ok(VersionRow {
            version,
            manifest,
            signers: read_signers(&signers),
            source,
        })
    }

    /// A version's module, to load it.
    pub(crate) fn version_wasm(&self, store: &Store, seq: i64) -> Result<Vec<u8>, DeskError> {
        store
            .conn
            .prepare_cached("SELECT wasm FROM modules WHERE version_seq = ?1")
            .and_then(|mut s| s.query_row([seq], |r| r.get(0)))
            .map_err(|e| store.error(e))
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
        self.loaded(plugin.id());
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

    /// See [`Desk::list`](crate::Desk::list): under one lock, in two queries (the
    /// secrets set, then everything else), not five per plugin; at 1,000 installed the
    /// per-plugin queries were most of `desk list` (issue 41).
    pub(crate) fn list(&self) -> Result<Vec<PluginInfo>, DeskError> {
        let store = self.store()?;
        let mut secrets: HashMap<i64, Vec<String>> = HashMap::new();
        let mut stmt = store
            .conn
            .prepare_cached(
                "SELECT s.version_seq, s.key FROM secrets s
                 JOIN plugins p ON p.current_seq = s.version_seq",
            )
            .map_err(|e| store.error(e))?;
        let set = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(Iterator::collect::<rusqlite::Result<Vec<(i64, String)>>>)
            .map_err(|e| store.error(e))?;
        for (seq, key) in set {
            secrets.entry(seq).or_default().push(key);
        }
        // What `plugin` reads, a row a plugin: its row, its version's, the previous
        // version's number, its health window (as `window::counts`) and last delivery.
        let mut stmt = store
            .conn
            .prepare_cached(&format!(
                "SELECT p.id, {ROW_COLUMNS}, v.version, v.manifest, v.signers, v.source, v.config,
                    (SELECT version FROM versions WHERE seq = p.previous_seq),
                    (SELECT count(*) FROM outcomes
                     WHERE plugin_id = p.id AND at >= max(p.window_start, ?1)),
                    (SELECT coalesce(sum(failed), 0) FROM outcomes
                     WHERE plugin_id = p.id AND at >= max(p.window_start, ?1)),
                    (SELECT max(at) FROM deliveries WHERE plugin_id = p.id)
                 FROM plugins p JOIN versions v ON v.seq = p.current_seq
                 ORDER BY p.id"
            ))
            .map_err(|e| store.error(e))?;
        let read = |r: &rusqlite::Row<'_>| {
            Ok(Listed {
                id: r.get(0)?,
                row: row_at(r, 1)?,
                version: r.get(9)?,
                manifest: r.get(10)?,
                signers: r.get(11)?,
                source: r.get(12)?,
                config: r.get(13)?,
                previous_version: r.get(14)?,
                window: (r.get(15)?, r.get(16)?, r.get(17)?),
            })
        };
        let listed = stmt
            .query_map([window::floor(now_ms(), &self.host.health_policy())], read)
            .and_then(Iterator::collect::<rusqlite::Result<Vec<Listed>>>)
            .map_err(|e| store.error(e))?;
        let unloadable = lock(&self.unloadable);
        listed
            .into_iter()
            .map(|l| {
                let seq = l.row.current_seq;
                let manifest = serde_json::from_str(&l.manifest)
                    .map_err(|e| store.error(format!("version {seq}'s manifest: {e}")))?;
                let plain: Map<String, Value> = serde_json::from_str(&l.config)
                    .map_err(|e| store.error(format!("version {seq}'s config: {e}")))?;
                let sealed = secrets.get(&seq).map_or(&[][..], Vec::as_slice);
                let is_set = |k: &str| set_in(&plain)(k) || sealed.iter().any(|s| s == k);
                let current = VersionRow {
                    version: l.version,
                    manifest,
                    signers: read_signers(&l.signers),
                    source: l.source,
                };
                let load_error = unloadable.get(&l.id).cloned();
                Ok(info(
                    l.id,
                    l.row,
                    current,
                    l.previous_version,
                    is_set,
                    l.window,
                    load_error,
                ))
            })
            .collect()
    }

    /// See [`Desk::plugin`](crate::Desk::plugin).
    pub(crate) fn plugin(&self, id: &str) -> Result<PluginInfo, DeskError> {
        let store = self.store()?;
        let row = self.row(&store, id)?;
        let current = self.version_row(&store, row.current_seq)?;
        let previous_version = match row.previous_seq {
            // Its number only: its manifest is not parsed to show it.
            Some(seq) => Some(
                store
                    .conn
                    .prepare_cached("SELECT version FROM versions WHERE seq = ?1")
                    .and_then(|mut s| s.query_row([seq], |r| r.get(0)))
                    .map_err(|e| store.error(e))?,
            ),
            None => None,
        };
        // Whether each field is set is all it needs: no secret is opened.
        let config = stored_config(&store, row.current_seq)?;
        let window = window(&store, id, &row, &self.host.health_policy())?;
        let load_error = lock(&self.unloadable).get(id).cloned();
        Ok(info(
            id.to_owned(),
            row,
            current,
            previous_version,
            |k| config.is_set(k),
            window,
            load_error,
        ))
    }

    /// See [`Desk::config_form`](crate::Desk::config_form).
    pub(crate) fn config_form(&self, id: &str) -> Result<Vec<ConfigEntry>, DeskError> {
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

/// A plugin's row as [`Plugins::list`] reads it, before its JSON is parsed.
struct Listed {
    id: String,
    row: Row,
    version: String,
    manifest: String,
    signers: String,
    source: String,
    config: String,
    previous_version: Option<String>,
    window: (u32, u32, Option<i64>),
}

/// Plugin `id` as the desk shows it, from what [`Plugins::plugin`] and
/// [`Plugins::list`] read: `is_set` tells which config fields have a value, `window`
/// its deliveries, failures and last delivery.
fn info(
    id: String,
    row: Row,
    current: VersionRow,
    previous_version: Option<String>,
    is_set: impl Fn(&str) -> bool,
    (deliveries, failures, last): (u32, u32, Option<i64>),
    load_error: Option<String>,
) -> PluginInfo {
    PluginInfo {
        id,
        missing_config: missing_config(&current.manifest, is_set),
        signers: current
            .signers
            .iter()
            .map(|k| k.fingerprint().to_string())
            .collect(),
        source: Some(current.source).filter(|s| !s.is_empty()),
        manifest: current.manifest,
        previous_version,
        enabled: row.enabled,
        disabled: row.disabled,
        deliveries,
        failures,
        last_delivery_ms: last,
        installed_ms: row.installed_ms,
        load_error,
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

/// Plugin `id`'s row.
///
/// # Errors
/// [`DeskError::NotInstalled`].
pub(crate) fn row(store: &Store, id: &str) -> Result<Row, DeskError> {
    store
        .conn
        .prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM plugins p WHERE p.id = ?1"
        ))
        .and_then(|mut s| s.query_row([id], |r| row_at(r, 0)).optional())
        .map_err(|e| store.error(e))?
        .ok_or_else(|| DeskError::NotInstalled {
            plugin_id: id.to_owned(),
        })
}

/// The columns of `plugins` that [`row_at`] reads, in its order.
pub(crate) const ROW_COLUMNS: &str = "p.current_seq, p.previous_seq, p.enabled, \
     p.disabled_reason, p.disabled_detail, p.disabled_at, p.window_start, p.installed_at";

/// A plugin's row from [`ROW_COLUMNS`], selected from column `at` of `r` on.
pub(crate) fn row_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Row> {
    let reason: Option<String> = r.get(at + 3)?;
    Ok(Row {
        current_seq: r.get(at)?,
        previous_seq: r.get(at + 1)?,
        enabled: r.get(at + 2)?,
        disabled: match reason {
            Some(reason) => Some(Disabled {
                reason: DisabledReason::parse(&reason),
                detail: r.get::<_, Option<String>>(at + 4)?.unwrap_or_default(),
                at_ms: r.get::<_, Option<i64>>(at + 5)?.unwrap_or_default(),
            }),
            None => None,
        },
        window_start: r.get(at + 6)?,
        installed_ms: r.get(at + 7)?,
    })
}

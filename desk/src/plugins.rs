//! The desk's plugins: their rows, versions, config and secrets, and the host they
//! are loaded into as the database says (at their first use: [`crate::residency`]).
//! The changes to them are in [`crate::lifecycle`].

use std::collections::BTreeMap;
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
use crate::residency::{Uses, Waiting};
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

    /// See [`Desk::list`](crate::Desk::list).
    pub(crate) fn list(&self) -> Result<Vec<PluginInfo>, DeskError> {
        self.ids()?.iter().map(|id| self.plugin(id)).collect()
    }

    /// See [`Desk::plugin`](crate::Desk::plugin).
    pub(crate) fn plugin(&self, id: &str) -> Result<PluginInfo, DeskError> {
        let store = self.store()?;
        let row = self.row(&store, id)?;
        let current = self.version_row(&store, row.current_seq)?;
        let previous_version = match row.previous_seq {
            Some(seq) => Some(self.version_row(&store, seq)?.version),
            None => None,
        };
        // Whether each field is set is all it needs: no secret is opened.
        let config = stored_config(&store, row.current_seq)?;
        let (deliveries, failures, last) = window(&store, id, &row, &self.host.health_policy())?;
        Ok(PluginInfo {
            id: id.to_owned(),
            missing_config: missing_config(&current.manifest, |k| config.is_set(k)),
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
            load_error: lock(&self.unloadable).get(id).cloned(),
        })
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
        .prepare_cached(
            "SELECT current_seq, previous_seq, enabled, disabled_reason, disabled_detail,
                    disabled_at, window_start, installed_at
             FROM plugins WHERE id = ?1",
        )
        .and_then(|mut s| {
            s.query_row([id], |r| {
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
            })
            .optional()
        })
        .map_err(|e| store.error(e))?
        .ok_or_else(|| DeskError::NotInstalled {
            plugin_id: id.to_owned(),
        })
}

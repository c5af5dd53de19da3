//! Installing, configuring, upgrading, rolling back, enabling, disabling and removing
//! plugins.

use otai_plugin_abi::manifest::{Diagnostic, Diagnostics, Manifest};
use otai_plugin_abi::module::signature::{
    PublicKey, SignatureState, Verification, verify_signatures,
};
use rusqlite::params;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::config_input::parse_config_text;
use crate::config_records::{StoredConfig, config_of, stored_config, update_config, write_config};
use crate::diff::PermissionDiff;
use crate::error::DeskError;
use crate::plugin_info::PluginInfo;
use crate::plugins::{Plugins, missing_config, quoted, set_in};
use crate::state::DisabledReason;
use crate::store::now_ms;
use crate::trust::{self, InstallOptions, Installed, Offered, trusted_keys, write_signers};

/// What an upgrade did.
#[derive(Debug, Clone, Serialize)]
pub struct Upgraded {
    /// The version replaced.
    pub from: String,
    /// The version installed.
    pub to: String,
    /// The change in permissions (approved, when it grew).
    pub diff: PermissionDiff,
    /// The plugin after the upgrade (`missing_config` lists new required fields).
    pub plugin: PluginInfo,
}

/// A module as it would be installed: its manifest and permissions, for review before
/// `install` or `upgrade`.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    /// The module's manifest.
    pub manifest: Manifest,
    /// The version installed now, when the id is installed.
    pub installed_version: Option<String>,
    /// What an upgrade would change, when the id is installed.
    pub diff: Option<PermissionDiff>,
    /// The warnings of loading it (unknown manifest fields, …).
    pub warnings: Vec<String>,
    /// Its signatures, checked against the keys the desk trusts (and, for an upgrade,
    /// the keys that signed the installed version).
    pub signatures: Verification,
    /// How many keys the desk trusts (none: the desk installs unsigned modules).
    pub trusted_keys: usize,
    /// The fingerprints of the keys that sign it as it is, of those trusted and those
    /// that signed the installed version: what an install would record.
    pub signers: Vec<String>,
    /// Why the trust rule refuses it unless `allow_unsigned` (the refusal's own words),
    /// or `None` when it takes it as it is.
    pub signature_refusal: Option<String>,
    /// For an upgrade: the fingerprints of the keys that signed the installed version.
    pub installed_signers: Vec<String>,
    /// For an upgrade: why the same-signer rule refuses it (no option lifts that), or
    /// `None` when a key that signed the installed version (or one it rotated to)
    /// signed it, or the installed version is unsigned.
    pub signer_refusal: Option<String>,
}

impl Plugins {
    /// See [`Desk::review`](crate::Desk::review).
    pub(crate) fn review(&self, wasm: &[u8]) -> Result<Review, DeskError> {
        let plugin = self.host.load(wasm)?;
        let manifest = plugin.manifest().clone();
        let (installed, trusted) = {
            let store = self.store()?;
            let installed = match self.row(&store, &manifest.id) {
                Ok(row) => Some(self.version_row(&store, row.current_seq)?),
                Err(DeskError::NotInstalled { .. }) => None,
                Err(e) => return Err(e),
            };
            (installed, trusted_keys(&store)?)
        };
        let offered = Offered {
            id: &manifest.id,
            version: &manifest.version,
            wasm,
        };
        let old = installed.as_ref().map(|v| Installed {
            version: &v.version,
            signers: &v.signers,
        });
        // The two rules apart: the trust rule (which `allow_unsigned` lifts), then the
        // same-signer rule with the trust rule lifted, as an upgrade applies them.
        let signature_refusal =
            match trust::check(&offered, &trusted, old.as_ref(), InstallOptions::default()) {
                Err(e @ DeskError::Signature { .. }) => Some(e.to_string()),
                _ => None,
            };
        let lifted = InstallOptions {
            allow_unsigned: true,
        };
        let mut keys = trusted.clone();
        if let Some(v) = &installed {
            keys.extend(v.signers.iter().filter(|k| !trusted.contains(k)));
        }
        let signatures = verify_signatures(wasm, &keys);
        let fingerprints = |keys: &[PublicKey]| -> Vec<String> {
            keys.iter().map(|k| k.fingerprint().to_string()).collect()
        };
        let (signers, signer_refusal) = match trust::check(&offered, &trusted, old.as_ref(), lifted)
        {
            Ok(signers) => (fingerprints(&signers), None),
            // Refused for the installed version's signers; who signed it still shows.
            Err(e @ DeskError::SignerChanged { .. }) => (
                signatures
                    .signatures
                    .iter()
                    .filter(|s| s.state == SignatureState::Valid)
                    .filter_map(|s| s.key.map(|k| k.to_string()))
                    .collect(),
                Some(e.to_string()),
            ),
            Err(e) => return Err(e),
        };
        Ok(Review {
            signatures,
            trusted_keys: trusted.len(),
            signers,
            signature_refusal,
            installed_signers: installed
                .as_ref()
                .map(|v| fingerprints(&v.signers))
                .unwrap_or_default(),
            signer_refusal,
            diff: installed
                .as_ref()
                .map(|v| PermissionDiff::between(&v.manifest, &manifest)),
            installed_version: installed.map(|v| v.version),
            warnings: plugin.warnings().iter().map(ToString::to_string).collect(),
            manifest,
        })
    }

    /// See [`Desk::install`](crate::Desk::install).
    pub(crate) fn install(
        &self,
        wasm: &[u8],
        options: InstallOptions,
        source: &str,
    ) -> Result<PluginInfo, DeskError> {
        let plugin = self.host.load(wasm)?;
        let manifest = plugin.manifest().clone();
        let id = manifest.id.clone();
        {
            let mut store = self.store()?;
            if let Ok(row) = self.row(&store, &id) {
                let version = self.version_row(&store, row.current_seq)?.version;
                return Err(DeskError::AlreadyInstalled {
                    plugin_id: id,
                    version,
                });
            }
            let offered = Offered {
                id: &id,
                version: &manifest.version,
                wasm,
            };
            let signers = trust::check(&offered, &trusted_keys(&store)?, None, options)?;
            let missing = missing_config(&manifest, |_| false);
            let path = store.path.clone();
            let db = |e: rusqlite::Error| DeskError::database(&path, e);
            let tx = store.conn.transaction().map_err(db)?;
            let seq = insert_version(&tx, &manifest, wasm, &signers, source).map_err(db)?;
            tx.execute(
                "INSERT INTO plugins (id, current_seq, enabled, installed_at) VALUES (?1, ?2, 1, ?3)",
                params![id, seq, now_ms()],
            )
            .map_err(db)?;
            if !missing.is_empty() {
                self.set_state(
                    &tx,
                    &id,
                    Some((DisabledReason::NeedsConfig, needs(&missing))),
                )
                .map_err(db)?;
            }
            tx.commit().map_err(db)?;
        }
        // Loaded above: put in the host as it is, unless another thread changed the
        // version meanwhile.
        self.load_now_with(&id, Some((wasm, &plugin)))?;
        self.plugin(&id)
    }

    /// See [`Desk::configure`](crate::Desk::configure).
    pub(crate) fn configure(
        &self,
        id: &str,
        values: Map<String, Value>,
    ) -> Result<PluginInfo, DeskError> {
        self.configure_with(id, |_, config| {
            for (key, value) in values {
                set(config, key, value);
            }
            Vec::new()
        })
    }

    /// See [`Desk::configure_text`](crate::Desk::configure_text).
    pub(crate) fn configure_text<K, T>(
        &self,
        id: &str,
        texts: impl IntoIterator<Item = (K, T)>,
    ) -> Result<PluginInfo, DeskError>
    where
        K: Into<String>,
        T: AsRef<str>,
    {
        self.configure_with(id, |manifest, config| {
            let mut refused = Vec::new();
            for (key, text) in texts {
                let (key, text) = (key.into(), text.as_ref());
                let value = match manifest.config_schema.get(&key) {
                    Some(field) => match parse_config_text(&key, field, text) {
                        Ok(value) => value,
                        Err(problem) => {
                            refused.push(problem);
                            continue;
                        }
                    },
                    // `validate_config` names it, with the nearest key.
                    None => Value::String(text.to_owned()),
                };
                set(config, key, value);
            }
            refused
        })
    }

    /// Configures with the stored config (secrets opened once) changed by `edit`, which
    /// returns the problems it found: those and the config's own are reported
    /// together, the config's about a field `edit` refused left out (they would be
    /// about the stored value).
    fn configure_with(
        &self,
        id: &str,
        edit: impl FnOnce(&Manifest, &mut Map<String, Value>) -> Vec<Diagnostic>,
    ) -> Result<PluginInfo, DeskError> {
        {
            let mut store = self.store()?;
            let row = self.row(&store, id)?;
            let version = self.version_row(&store, row.current_seq)?;
            let before = config_of(&store, &self.key, id, row.current_seq)?;
            let mut config = before.clone();
            let refused = edit(&version.manifest, &mut config);
            match version
                .manifest
                .validate_config(&Value::Object(config.clone()))
            {
                Ok(_) if refused.is_empty() => {}
                found => {
                    return Err(DeskError::InvalidConfig {
                        plugin_id: id.to_owned(),
                        diagnostics: together(refused, found.err()),
                    });
                }
            }
            let path = store.path.clone();
            let db = |e: rusqlite::Error| DeskError::database(&path, e);
            let tx = store.conn.transaction().map_err(db)?;
            update_config(
                &tx,
                &self.key,
                id,
                row.current_seq,
                &version.manifest,
                &config,
                &before,
            )
            .map_err(db)?;
            let waited = row
                .disabled
                .as_ref()
                .is_some_and(|d| d.reason == DisabledReason::NeedsConfig);
            if waited {
                self.set_state(&tx, id, None).map_err(db)?;
            }
            tx.commit().map_err(db)?;
        }
        // The host takes it with this config: at once when it holds the plugin (its
        // module is cached, nothing compiles), else at its next use.
        self.unload(id)?;
        self.plugin(id)
    }

    /// See [`Desk::upgrade`](crate::Desk::upgrade).
    pub(crate) fn upgrade(
        &self,
        wasm: &[u8],
        approve: bool,
        options: InstallOptions,
        source: &str,
    ) -> Result<Upgraded, DeskError> {
        let plugin = self.host.load(wasm)?;
        let manifest = plugin.manifest().clone();
        let id = manifest.id.clone();
        let (from, diff) = {
            let mut store = self.store()?;
            let row = self.row(&store, &id)?;
            let current = self.version_row(&store, row.current_seq)?;
            if is_older(&manifest.version, &current.version) {
                return Err(DeskError::Downgrade {
                    plugin_id: id,
                    installed: current.version,
                    offered: manifest.version,
                });
            }
            let offered = Offered {
                id: &id,
                version: &manifest.version,
                wasm,
            };
            let installed = Installed {
                version: &current.version,
                signers: &current.signers,
            };
            let signers =
                trust::check(&offered, &trusted_keys(&store)?, Some(&installed), options)?;
            let diff = PermissionDiff::between(&current.manifest, &manifest);
            if diff.grows() && !approve {
                return Err(DeskError::NeedsApproval {
                    plugin_id: id,
                    diff: Box::new(diff),
                });
            }
            // A sealed secret is bound to the plugin and the field, not to the version
            // (see `SecretKey::seal`): one the new version still keeps secret is copied
            // as it is, and only one that is no longer secret is opened.
            let StoredConfig {
                plain: mut config,
                sealed,
            } = stored_config(&store, row.current_seq)?;
            config.retain(|key, _| manifest.config_schema.contains_key(key));
            let mut kept = Vec::new();
            for (key, sealed) in sealed {
                match manifest.config_schema.get(&key) {
                    Some(field) if field.secret => kept.push((key, sealed)),
                    Some(_) => {
                        let value = self.key.open(&id, &key, &sealed)?;
                        config.insert(key, Value::String(value));
                    }
                    None => {}
                }
            }
            let missing = missing_config(&manifest, |key| {
                set_in(&config)(key) || kept.iter().any(|(k, _)| k == key)
            });
            let path = store.path.clone();
            let db = |e: rusqlite::Error| DeskError::database(&path, e);
            let tx = store.conn.transaction().map_err(db)?;
            let seq = insert_version(&tx, &manifest, wasm, &signers, source).map_err(db)?;
            // A plain value the new version makes secret is sealed here.
            write_config(&tx, &self.key, &id, seq, &manifest, &config).map_err(db)?;
            for (key, sealed) in &kept {
                tx.execute(
                    "INSERT INTO secrets (version_seq, key, sealed) VALUES (?1, ?2, ?3)",
                    params![seq, key, sealed],
                )
                .map_err(db)?;
            }
            tx.execute(
                "UPDATE plugins SET current_seq = ?2, previous_seq = ?3, installed_at = ?4 WHERE id = ?1",
                params![id, seq, row.current_seq, now_ms()],
            )
            .map_err(db)?;
            // Only one version back is kept for rollback.
            if let Some(old) = row.previous_seq {
                tx.execute("DELETE FROM versions WHERE seq = ?1", [old])
                    .map_err(db)?;
            }
            self.settle_config_state(&tx, &id, row.disabled.as_ref(), &missing)
                .map_err(db)?;
            tx.commit().map_err(db)?;
            (current.version, diff)
        };
        // Loaded above: put in the host as it is, unless another thread changed the
        // version meanwhile.
        self.load_now_with(&id, Some((wasm, &plugin)))?;
        Ok(Upgraded {
            to: manifest.version,
            from,
            diff,
            plugin: self.plugin(&id)?,
        })
    }

    /// See [`Desk::rollback`](crate::Desk::rollback).
    pub(crate) fn rollback(&self, id: &str) -> Result<PluginInfo, DeskError> {
        {
            let mut store = self.store()?;
            let row = self.row(&store, id)?;
            let Some(previous) = row.previous_seq else {
                return Err(DeskError::NoPreviousVersion {
                    plugin_id: id.to_owned(),
                });
            };
            let version = self.version_row(&store, previous)?;
            let config = config_of(&store, &self.key, id, previous)?;
            let missing = missing_config(&version.manifest, set_in(&config));
            let path = store.path.clone();
            let db = |e: rusqlite::Error| DeskError::database(&path, e);
            let tx = store.conn.transaction().map_err(db)?;
            tx.execute(
                "UPDATE plugins SET current_seq = ?2, previous_seq = ?3, installed_at = ?4 WHERE id = ?1",
                params![id, previous, row.current_seq, now_ms()],
            )
            .map_err(db)?;
            self.settle_config_state(&tx, id, row.disabled.as_ref(), &missing)
                .map_err(db)?;
            tx.commit().map_err(db)?;
        }
        // The previous version is loaded (and so checked) now when the host holds the
        // plugin, else at its next use.
        self.unload(id)?;
        self.plugin(id)
    }

    /// After the version changed: disabled while required config is missing; enabled
    /// again when the wait for config is over (a plugin disabled for another reason
    /// stays disabled).
    fn settle_config_state(
        &self,
        tx: &rusqlite::Transaction<'_>,
        id: &str,
        disabled: Option<&crate::state::Disabled>,
        missing: &[String],
    ) -> rusqlite::Result<()> {
        let waiting = disabled.is_some_and(|d| d.reason == DisabledReason::NeedsConfig);
        if !missing.is_empty() {
            self.set_state(tx, id, Some((DisabledReason::NeedsConfig, needs(missing))))
        } else if waiting {
            self.set_state(tx, id, None)
        } else {
            Ok(())
        }
    }

    /// See [`Desk::enable`](crate::Desk::enable).
    pub(crate) fn enable(&self, id: &str) -> Result<PluginInfo, DeskError> {
        let info = self.plugin(id)?;
        if !info.missing_config.is_empty() {
            return Err(DeskError::NeedsConfig {
                plugin_id: id.to_owned(),
                missing: quoted(&info.missing_config),
            });
        }
        self.update(|desk, tx| desk.set_state(tx, id, None))?;
        // The host reads the state from the desk's health store; a plugin it does not
        // hold yet is loaded at its next use.
        self.sync_health(id)?;
        self.plugin(id)
    }

    /// See [`Desk::disable`](crate::Desk::disable).
    pub(crate) fn disable(&self, id: &str) -> Result<PluginInfo, DeskError> {
        self.plugin(id)?;
        self.update(|desk, tx| {
            desk.set_state(
                tx,
                id,
                Some((DisabledReason::ByHand, "disabled by hand".into())),
            )
        })?;
        self.sync_health(id)?;
        self.plugin(id)
    }

    /// See [`Desk::remove`](crate::Desk::remove).
    pub(crate) fn remove(&self, id: &str) -> Result<(), DeskError> {
        self.plugin(id)?;
        self.update(|_, tx| {
            tx.execute("DELETE FROM plugins WHERE id = ?1", [id])?;
            tx.execute("DELETE FROM versions WHERE plugin_id = ?1", [id])?;
            tx.execute("DELETE FROM deliveries WHERE plugin_id = ?1", [id])?;
            tx.execute("DELETE FROM outcomes WHERE plugin_id = ?1", [id])?;
            Ok(())
        })?;
        self.store()?.windows.forget(id);
        self.health.forget(id);
        self.forget_loaded(id);
        Ok(())
    }

    /// Runs `f` in one transaction.
    pub(crate) fn update(
        &self,
        f: impl FnOnce(&Plugins, &rusqlite::Transaction<'_>) -> rusqlite::Result<()>,
    ) -> Result<(), DeskError> {
        let mut store = self.store()?;
        let path = store.path.clone();
        let db = |e: rusqlite::Error| DeskError::database(&path, e);
        let tx = store.conn.transaction().map_err(db)?;
        f(self, &tx).map_err(db)?;
        tx.commit().map_err(db)
    }
}

fn insert_version(
    tx: &rusqlite::Transaction<'_>,
    manifest: &Manifest,
    wasm: &[u8],
    signers: &[PublicKey],
    source: &str,
) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO versions (plugin_id, version, manifest, config, installed_at, signers, source)
         VALUES (?1, ?2, ?3, '{}', ?4, ?5, ?6)",
        params![
            manifest.id,
            manifest.version,
            serde_json::to_string(manifest).unwrap_or_default(),
            now_ms(),
            write_signers(signers),
            source
        ],
    )?;
    let seq = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO modules (version_seq, wasm) VALUES (?1, ?2)",
        params![seq, wasm],
    )?;
    Ok(seq)
}

fn needs(missing: &[String]) -> String {
    format!("{} must be configured", quoted(missing))
}

/// Whether `offered` is an older semantic version than `installed` (versions that do
/// not parse are never older: the manifest check has already refused them).
fn is_older(offered: &str, installed: &str) -> bool {
    match (
        semver::Version::parse(offered),
        semver::Version::parse(installed),
    ) {
        (Ok(a), Ok(b)) => a < b,
        _ => false,
    }
}

/// Sets `key` to `value` in `config`; `null` removes it.
fn set(config: &mut Map<String, Value>, key: String, value: Value) {
    if value.is_null() {
        config.remove(&key);
    } else {
        config.insert(key, value);
    }
}

/// The problems of text that was refused, then those found in the config except the
/// ones about a refused field (they would be about its stored value).
fn together(refused: Vec<Diagnostic>, found: Option<Diagnostics>) -> Diagnostics {
    let mut all = Diagnostics(refused);
    let found = found.map(|d| d.0).unwrap_or_default();
    let kept: Vec<Diagnostic> = found
        .into_iter()
        .filter(|d| !all.0.iter().any(|r| r.path == d.path))
        .collect();
    all.0.extend(kept);
    all
}

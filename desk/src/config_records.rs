//! A version's config as the database holds it: the plain values as JSON, each secret
//! sealed on its own row.

use otai_plugin_abi::manifest::Manifest;
use rusqlite::params;
use serde_json::{Map, Value};

use crate::error::DeskError;
use crate::secrets::SecretKey;
use crate::store::Store;

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

/// A version's config as stored: plain values, secrets still sealed.
pub(crate) fn stored_config(store: &Store, seq: i64) -> Result<StoredConfig, DeskError> {
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
    store: &Store,
    key: &SecretKey,
    id: &str,
    seq: i64,
) -> Result<Map<String, Value>, DeskError> {
    let StoredConfig { mut plain, sealed } = stored_config(store, seq)?;
    for (field, sealed) in sealed {
        let value = key.open(id, &field, &sealed)?;
        plain.insert(field, Value::String(value));
    }
    Ok(plain)
}

/// Writes a version's config: plain values as JSON, secret ones sealed.
pub(crate) fn write_config(
    tx: &rusqlite::Transaction<'_>,
    secret_key: &SecretKey,
    id: &str,
    seq: i64,
    manifest: &Manifest,
    config: &Map<String, Value>,
) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM secrets WHERE version_seq = ?1", [seq])?;
    update_config(tx, secret_key, id, seq, manifest, config, &Map::new())
}

/// Writes a version's config over `before` (its stored config, secrets opened):
/// plain values as JSON; only the secrets that changed are sealed anew or removed,
/// the others keep their sealed bytes.
pub(crate) fn update_config(
    tx: &rusqlite::Transaction<'_>,
    secret_key: &SecretKey,
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
                let sealed = secret_key.seal(id, key, new);
                tx.execute(
                    "INSERT OR REPLACE INTO secrets (version_seq, key, sealed) VALUES (?1, ?2, ?3)",
                    params![seq, key, sealed],
                )?;
            }
        }
    }
    Ok(())
}

//! The config a fixture written from the log gets: the stored config of the version
//! that received the delivery, each secret a placeholder.

use otai_plugin_abi::manifest::Manifest;
use rusqlite::{OptionalExtension, params};

use crate::config_records::stored_config;
use crate::error::DeskError;
use crate::fixture_export::{FixtureValue, Placeholder};
use crate::secrets::SecretKey;
use crate::store::Store;

/// The newest version row of plugin `id` with this version, if the desk still has it
/// (it keeps the current and the previous one).
pub(crate) fn version_seq(
    store: &Store,
    id: &str,
    version: &str,
) -> Result<Option<i64>, DeskError> {
    store
        .conn
        .query_row(
            "SELECT seq FROM versions WHERE plugin_id = ?1 AND version = ?2
             ORDER BY seq DESC LIMIT 1",
            params![id, version],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| store.error(e))
}

/// Version `seq`'s config in the order of the manifest's fields: plain values as
/// stored, each secret that has a value as its placeholder. A secret is opened only to
/// keep what reports show of it ([`Placeholder::for_secret`]); its value goes no further.
pub(crate) fn config(
    store: &Store,
    key: &SecretKey,
    id: &str,
    seq: i64,
    manifest: &Manifest,
) -> Result<Vec<(String, FixtureValue)>, DeskError> {
    let stored = stored_config(store, seq)?;
    let mut out = Vec::new();
    for (name, field) in &manifest.config_schema {
        if field.secret {
            if let Some((_, sealed)) = stored.sealed.iter().find(|(k, _)| k == name) {
                let secret = key.open(id, name, sealed)?;
                let placeholder = Placeholder::for_secret(name, &secret, manifest.allowed_hosts());
                out.push((name.clone(), FixtureValue::Secret(placeholder)));
            }
        } else if let Some(value) = stored.plain.get(name) {
            out.push((name.clone(), FixtureValue::Plain(value.clone())));
        }
    }
    Ok(out)
}

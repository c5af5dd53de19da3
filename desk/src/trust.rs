//! The keys the desk trusts to sign modules, and the two signature rules of installing
//! and upgrading: a valid signature from a trusted key (when the desk trusts any key),
//! and, for an upgrade of a signed plugin, a valid signature from a key that signed the
//! installed version.

use otai_plugin_abi::module::Acceptance;
use otai_plugin_abi::module::rotation::{Rotation, read_rotations, rotated_signers};
use otai_plugin_abi::module::signature::{
    PublicKey, SignatureState, Verification, verify_signatures,
};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::error::DeskError;
use crate::store::{Store, now_ms};

/// A key the desk trusts to sign modules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedKey {
    /// The key's fingerprint, as `ssh-keygen -l` shows it (`SHA256:…`).
    pub fingerprint: String,
    /// The key as an OpenSSH public key line, without its comment.
    pub key: String,
    /// The comment of the line it was added from (often who holds the key).
    pub comment: String,
    /// When it was added, in milliseconds since the Unix epoch.
    pub added_ms: i64,
}

/// How [`Desk::install_with`](crate::Desk::install_with) and
/// [`Desk::upgrade_with`](crate::Desk::upgrade_with) treat signatures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstallOptions {
    /// Install a module without a valid signature from a trusted key even though the
    /// desk trusts keys. Default `false`. It does not lift the same-signer rule: an
    /// upgrade of a signed plugin must still be signed by a key that signed it.
    pub allow_unsigned: bool,
}

/// The keys the desk trusts, oldest first.
pub(crate) fn trusted(store: &Store) -> Result<Vec<TrustedKey>, DeskError> {
    let mut stmt = store
        .conn
        .prepare_cached(
            "SELECT fingerprint, key, comment, added_at FROM trusted_keys ORDER BY added_at, fingerprint",
        )
        .map_err(|e| store.error(e))?;
    stmt.query_map([], |r| {
        Ok(TrustedKey {
            fingerprint: r.get(0)?,
            key: r.get(1)?,
            comment: r.get(2)?,
            added_ms: r.get(3)?,
        })
    })
    .and_then(Iterator::collect)
    .map_err(|e| store.error(e))
}

/// The keys the desk trusts, to verify with.
pub(crate) fn trusted_keys(store: &Store) -> Result<Vec<PublicKey>, DeskError> {
    trusted(store)?
        .iter()
        .map(|k| {
            PublicKey::from_openssh(&k.key)
                .map_err(|e| store.error(format!("trusted key {}: {e}", k.fingerprint)))
        })
        .collect()
}

/// Trusts the first key in `text` (an OpenSSH public key line); a key trusted already
/// is kept as it was.
pub(crate) fn add(store: &Store, text: &str) -> Result<TrustedKey, DeskError> {
    let key = PublicKey::from_openssh(text).map_err(DeskError::TrustedKey)?;
    let fingerprint = key.fingerprint().to_string();
    // The comment of the line the key was read from: what follows its base64.
    let comment = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().skip(2).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    store
        .conn
        .execute(
            "INSERT INTO trusted_keys (fingerprint, key, comment, added_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (fingerprint) DO NOTHING",
            params![fingerprint, key.to_openssh(""), comment, now_ms()],
        )
        .map_err(|e| store.error(e))?;
    find(store, &fingerprint)?.ok_or_else(|| store.error("the key just added is not there"))
}

/// Stops trusting the key with `fingerprint` (`SHA256:` may be left out).
pub(crate) fn remove(store: &Store, fingerprint: &str) -> Result<TrustedKey, DeskError> {
    let fingerprint = fingerprint.trim();
    let fingerprint = if fingerprint.starts_with("SHA256:") {
        fingerprint.to_owned()
    } else {
        format!("SHA256:{fingerprint}")
    };
    let found = find(store, &fingerprint)?.ok_or_else(|| DeskError::NotTrusted {
        fingerprint: fingerprint.clone(),
    })?;
    store
        .conn
        .execute(
            "DELETE FROM trusted_keys WHERE fingerprint = ?1",
            [&fingerprint],
        )
        .map_err(|e| store.error(e))?;
    Ok(found)
}

fn find(store: &Store, fingerprint: &str) -> Result<Option<TrustedKey>, DeskError> {
    store
        .conn
        .query_row(
            "SELECT fingerprint, key, comment, added_at FROM trusted_keys WHERE fingerprint = ?1",
            [fingerprint],
            |r| {
                Ok(TrustedKey {
                    fingerprint: r.get(0)?,
                    key: r.get(1)?,
                    comment: r.get(2)?,
                    added_ms: r.get(3)?,
                })
            },
        )
        .optional()
        .map_err(|e| store.error(e))
}

/// The signers a version was recorded with, one OpenSSH line each.
pub(crate) fn read_signers(text: &str) -> Vec<PublicKey> {
    text.lines()
        .filter_map(|l| PublicKey::from_openssh(l).ok())
        .collect()
}

/// The signers of a version as they are recorded.
pub(crate) fn write_signers(signers: &[PublicKey]) -> String {
    signers
        .iter()
        .map(|k| k.to_openssh(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A module offered for plugin `id` at `version`.
pub(crate) struct Offered<'a> {
    pub(crate) id: &'a str,
    pub(crate) version: &'a str,
    pub(crate) wasm: &'a [u8],
}

/// The version an upgrade replaces, and the keys that signed it.
pub(crate) struct Installed<'a> {
    pub(crate) version: &'a str,
    pub(crate) signers: &'a [PublicKey],
}

/// Applies the signature rules to `offered`: with trusted keys, a valid signature from
/// one of them (unless `allow_unsigned`); for an upgrade of a signed version, a valid
/// signature from one of its signers. Returns the keys that signed the module as it is
/// (among the trusted keys and the installed version's signers), to record.
pub(crate) fn check(
    offered: &Offered<'_>,
    trusted: &[PublicKey],
    installed: Option<&Installed<'_>>,
    options: InstallOptions,
) -> Result<Vec<PublicKey>, DeskError> {
    if !trusted.is_empty() {
        let verification = verify_signatures(offered.wasm, trusted);
        if !verification.is_trusted() && !options.allow_unsigned {
            let mut verdict = Acceptance::default();
            verification.require(&mut verdict);
            if let Some(problem) = verdict.errors().next() {
                return Err(DeskError::Signature {
                    plugin_id: offered.id.to_owned(),
                    version: offered.version.to_owned(),
                    kind: problem.kind,
                    message: problem.message.clone(),
                    trusted: trusted.len(),
                });
            }
        }
    }
    let old = installed.map_or(&[][..], |i| i.signers);
    let mut keys = trusted.to_vec();
    keys.extend(old.iter().filter(|k| !trusted.contains(k)));
    let verification = verify_signatures(offered.wasm, &keys);
    let mut signers: Vec<PublicKey> = keys
        .iter()
        .filter(|k| signed_by(&verification, k))
        .copied()
        .collect();
    if let Some(installed) = installed.filter(|i| !i.signers.is_empty())
        && !installed.signers.iter().any(|k| signers.contains(k))
    {
        match rotated(offered, installed) {
            Ok(rotated) => {
                for key in rotated {
                    if !signers.contains(&key) {
                        signers.push(key);
                    }
                }
            }
            Err(rotation) => {
                return Err(DeskError::SignerChanged {
                    plugin_id: offered.id.to_owned(),
                    version: offered.version.to_owned(),
                    installed_version: installed.version.to_owned(),
                    installed: fingerprints(installed.signers),
                    offered: describe(&verification) + &rotation,
                });
            }
        }
    }
    Ok(signers)
}

/// The keys that validly sign `offered` and that its rotation statements hand the plugin
/// to from a signer of the installed version; else why there are none (`; …`, empty
/// when the module has no statement).
fn rotated(offered: &Offered<'_>, installed: &Installed<'_>) -> Result<Vec<PublicKey>, String> {
    let rotations = read_rotations(offered.wasm)
        .map_err(|e| format!("; its rotation statements cannot be read: {e}"))?;
    if rotations.is_empty() {
        return Err(String::new());
    }
    let new: Vec<PublicKey> = rotated_signers(offered.id, installed.signers, &rotations)
        .into_iter()
        .filter(|k| !installed.signers.contains(k))
        .collect();
    let verification = verify_signatures(offered.wasm, &new);
    let signed: Vec<PublicKey> = new
        .iter()
        .filter(|k| signed_by(&verification, k))
        .copied()
        .collect();
    if !signed.is_empty() {
        return Ok(signed);
    }
    let why: Vec<String> = rotations
        .iter()
        .map(|r| format!("{r}: {}", why_not(r, offered, installed, &new)))
        .collect();
    Err(format!(
        "; its rotation statements do not lead to a key that signed it: {}",
        why.join("; ")
    ))
}

/// Why one statement does not hand the plugin to a signer of the new module.
fn why_not(
    rotation: &Rotation,
    offered: &Offered<'_>,
    installed: &Installed<'_>,
    reached: &[PublicKey],
) -> &'static str {
    if rotation.plugin_id != offered.id {
        "it is for another plugin"
    } else if !rotation.verifies() {
        "its signature does not verify with its `from` key"
    } else if !installed.signers.contains(&rotation.from) && !reached.contains(&rotation.from) {
        "its `from` key did not sign the installed version"
    } else {
        "its `to` key did not sign the new module as it is"
    }
}

fn signed_by(verification: &Verification, key: &PublicKey) -> bool {
    let fingerprint = key.fingerprint();
    verification
        .signatures
        .iter()
        .any(|s| s.state == SignatureState::Valid && s.key == Some(fingerprint))
}

/// `SHA256:a, SHA256:b`.
pub(crate) fn fingerprints(keys: &[PublicKey]) -> String {
    keys.iter()
        .map(|k| k.fingerprint().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each signature of a module with what it proves, or `no signature`.
fn describe(verification: &Verification) -> String {
    if verification.signatures.is_empty() {
        return "no signature".to_owned();
    }
    verification
        .signatures
        .iter()
        .map(|s| {
            let key = match (&s.key, &s.key_id) {
                (Some(fingerprint), _) => fingerprint.to_string(),
                (None, Some(id)) => format!("key id {id}"),
                (None, None) => "a key without a key id".to_owned(),
            };
            format!("{key} ({})", s.state)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

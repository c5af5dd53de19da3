//! Key rotation statements (feature `signature`): how a plugin moves to a new signing
//! key without losing the same-signer rule of upgrades (docs/ABI.md, section 15).
//!
//! A host that lets only a key that signed the installed version sign an upgrade would
//! otherwise leave an author whose key must change (lost laptop, new owner) with one way
//! out: every help desk removes the plugin and installs it anew. A rotation statement is
//! the old key saying, once, "this plugin is now signed by that key": an ed25519
//! signature by the old key over the plugin's id and both keys. The new module carries
//! the statements in an `ohd_rotation` custom section, which its signature covers like
//! every other section, so the statement cannot be moved to another module without the
//! new key's consent either.
//!
//! ```
//! use otai_plugin_abi::module::rotation::Rotation;
//! use otai_plugin_abi::module::signature::PublicKey;
//!
//! let old = PublicKey::from_bytes([1; 32]);
//! let new = PublicKey::from_bytes([2; 32]);
//! // The bytes the old key signs: they name the plugin and both keys.
//! let message = Rotation::message("com.example.slack", &old, &new);
//! assert!(message.starts_with(b"otai-rotation-v1\0com.example.slack\0"));
//! // A statement whose signature is not the old key's proves nothing.
//! let forged = Rotation::new("com.example.slack", old, new, [0; 64]);
//! assert!(!forged.verifies());
//! ```

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::module::signature::{PublicKey, Reader};

/// The custom section that carries a module's rotation statements: a JSON array of
/// [`Rotation`]s.
pub const ROTATION_SECTION: &str = "ohd_rotation";

/// What the old key signs: this prefix, the plugin id, a NUL, the old key's and the new
/// key's 32 bytes.
const DOMAIN: &[u8] = b"otai-rotation-v1\0";

/// A module carries a chain of statements, not a history: a few are plenty, and each
/// costs an ed25519 check.
pub const MAX_ROTATIONS: usize = 16;
/// The section's size limit, far above what [`MAX_ROTATIONS`] statements take.
const MAX_SECTION_BYTES: usize = 16 * 1024;

/// One statement: the key `from` hands the signing of plugin `plugin_id` to the key `to`.
#[derive(Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The plugin the statement is for: a statement moves one plugin, never every plugin
    /// a key signs.
    pub plugin_id: String,
    /// The key that signed the plugin until now, and signs this statement.
    pub from: PublicKey,
    /// The key that signs the plugin from now on.
    pub to: PublicKey,
    signature: [u8; 64],
}

/// Why a rotation statement (a file or a module's section) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RotationError(String);

/// The statement as JSON: keys as OpenSSH public key lines, the signature in base64.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    plugin_id: String,
    from: String,
    to: String,
    signature: String,
}

impl Rotation {
    /// A statement from its parts; [`Rotation::verifies`] says whether it holds.
    pub fn new(plugin_id: &str, from: PublicKey, to: PublicKey, signature: [u8; 64]) -> Self {
        Rotation {
            plugin_id: plugin_id.to_owned(),
            from,
            to,
            signature,
        }
    }

    /// The bytes `from` signs to hand `plugin_id` to `to`.
    pub fn message(plugin_id: &str, from: &PublicKey, to: &PublicKey) -> Vec<u8> {
        let mut message = Vec::with_capacity(DOMAIN.len() + plugin_id.len() + 65);
        message.extend_from_slice(DOMAIN);
        message.extend_from_slice(plugin_id.as_bytes());
        message.push(0);
        message.extend_from_slice(from.as_bytes());
        message.extend_from_slice(to.as_bytes());
        message
    }

    /// Whether `from` signed this statement.
    pub fn verifies(&self) -> bool {
        self.from.verifies(
            &Rotation::message(&self.plugin_id, &self.from, &self.to),
            &self.signature,
        )
    }

    /// The statement as the JSON object a statement file and the section hold.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.wire()).unwrap_or_default()
    }

    fn wire(&self) -> Wire {
        Wire {
            plugin_id: self.plugin_id.clone(),
            from: self.from.to_openssh(""),
            to: self.to.to_openssh(""),
            signature: STANDARD.encode(self.signature),
        }
    }

    /// Reads one statement, the JSON object of a statement file.
    ///
    /// # Errors
    /// The text is not such an object, a key is not an ed25519 key, or the signature is
    /// not 64 bytes of base64. Whether the statement verifies is [`Rotation::verifies`].
    pub fn from_json(text: &str) -> Result<Rotation, RotationError> {
        let wire: Wire = serde_json::from_str(text).map_err(|e| {
            RotationError(format!(
                "not a rotation statement (a JSON object with `plugin_id`, `from`, `to` and \
                 `signature`, as `cargo otai-plugin key rotate` writes): {e}"
            ))
        })?;
        Rotation::from_wire(wire)
    }

    fn from_wire(wire: Wire) -> Result<Rotation, RotationError> {
        let key = |field: &str, text: &str| {
            PublicKey::from_openssh(text)
                .map_err(|e| RotationError(format!("its `{field}` key: {e}")))
        };
        let from = key("from", &wire.from)?;
        let to = key("to", &wire.to)?;
        let signature = STANDARD
            .decode(&wire.signature)
            .ok()
            .and_then(|raw| <[u8; 64]>::try_from(raw).ok())
            .ok_or_else(|| RotationError("its `signature` is not 64 bytes of base64".to_owned()))?;
        Ok(Rotation {
            from,
            to,
            plugin_id: wire.plugin_id,
            signature,
        })
    }

    /// The payload of an `ohd_rotation` section holding `rotations`.
    pub fn section_payload(rotations: &[Rotation]) -> Vec<u8> {
        let wires: Vec<Wire> = rotations.iter().map(Rotation::wire).collect();
        serde_json::to_vec(&wires).unwrap_or_default()
    }
}

impl fmt::Debug for Rotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Rotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` from {} to {}",
            self.plugin_id,
            self.from.fingerprint(),
            self.to.fingerprint()
        )
    }
}

impl Serialize for Rotation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.wire().serialize(serializer)
    }
}

/// The rotation statements of `bytes` (a core module or a component): those of its
/// top-level `ohd_rotation` section, or none when it has no such section.
///
/// # Errors
/// More than one such section, a section over 16 KiB or of more than
/// [`MAX_ROTATIONS`] statements, or one that is not a JSON array of statements.
pub fn read_rotations(bytes: &[u8]) -> Result<Vec<Rotation>, RotationError> {
    let mut found: Option<&[u8]> = None;
    for (name, payload) in top_level_sections(bytes)?
        .into_iter()
        .filter_map(|s| s.custom)
    {
        if name != ROTATION_SECTION.as_bytes() {
            continue;
        }
        if found.is_some() {
            return Err(RotationError(format!(
                "the module has more than one `{ROTATION_SECTION}` section"
            )));
        }
        found = Some(payload);
    }
    let Some(payload) = found else {
        return Ok(Vec::new());
    };
    if payload.len() > MAX_SECTION_BYTES {
        return Err(RotationError(format!(
            "the `{ROTATION_SECTION}` section has {} bytes, over its limit of {MAX_SECTION_BYTES}",
            payload.len()
        )));
    }
    let wires: Vec<serde_json::Value> = serde_json::from_slice(payload).map_err(|e| {
        RotationError(format!(
            "the `{ROTATION_SECTION}` section is not a JSON array of rotation statements: {e}"
        ))
    })?;
    if wires.len() > MAX_ROTATIONS {
        return Err(RotationError(format!(
            "the `{ROTATION_SECTION}` section has {} statements, over its limit of {MAX_ROTATIONS}",
            wires.len()
        )));
    }
    wires
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            serde_json::from_value::<Wire>(value)
                .map_err(|e| RotationError(e.to_string()))
                .and_then(Rotation::from_wire)
                .map_err(|e| {
                    RotationError(format!(
                        "statement {} of the `{ROTATION_SECTION}` section: {e}",
                        i + 1
                    ))
                })
        })
        .collect()
}

/// The keys that may sign plugin `plugin_id` now, given the keys that signed it
/// (`signers`) and the statements `rotations`: the signers, and every key a verified
/// statement for this plugin hands it to from a key already reached (so `A → B`, `B → C`
/// reaches `C` from `A`). Statements for other plugins, from keys not reached, or that do
/// not verify are ignored.
pub fn rotated_signers(
    plugin_id: &str,
    signers: &[PublicKey],
    rotations: &[Rotation],
) -> Vec<PublicKey> {
    let mut reached: Vec<PublicKey> = signers.to_vec();
    let mut used = BTreeSet::new();
    // At most one pass per statement: each pass either uses a new statement or stops.
    loop {
        let next = rotations.iter().enumerate().find(|(i, r)| {
            !used.contains(i)
                && r.plugin_id == plugin_id
                && reached.contains(&r.from)
                && !reached.contains(&r.to)
                && r.verifies()
        });
        let Some((i, rotation)) = next else {
            return reached;
        };
        used.insert(i);
        reached.push(rotation.to);
    }
}

/// `module` (a core module or a component) with `rotations` as its `ohd_rotation`
/// section: at the end, in place of any it had. Every other byte stays as it was, so a
/// signature made before no longer covers the module: sign after this.
///
/// # Errors
/// The module's sections cannot be read.
pub fn with_rotations(module: &[u8], rotations: &[Rotation]) -> Result<Vec<u8>, RotationError> {
    let mut out = module[..8.min(module.len())].to_vec();
    for section in top_level_sections(module)? {
        if section
            .custom
            .is_some_and(|(name, _)| name == ROTATION_SECTION.as_bytes())
        {
            continue;
        }
        out.extend_from_slice(&module[section.whole]);
    }
    let payload = Rotation::section_payload(rotations);
    let name = ROTATION_SECTION.as_bytes();
    let mut body = Vec::with_capacity(payload.len() + name.len() + 1);
    leb128(&mut body, name.len());
    body.extend_from_slice(name);
    body.extend_from_slice(&payload);
    out.push(0);
    leb128(&mut out, body.len());
    out.extend(body);
    Ok(out)
}

fn leb128(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

struct Section<'a> {
    /// Its bytes in the module, id and length included.
    whole: std::ops::Range<usize>,
    /// A custom section's name and payload.
    custom: Option<(&'a [u8], &'a [u8])>,
}

/// The top-level sections of a module or component, reading every length against the
/// bytes that are there.
fn top_level_sections(bytes: &[u8]) -> Result<Vec<Section<'_>>, RotationError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(RotationError("the file is not WebAssembly".to_owned()));
    }
    let unreadable = |why: String| {
        RotationError(format!(
            "the module's sections cannot be read: a section {why}"
        ))
    };
    let mut reader = Reader::new(bytes, 8);
    let mut sections = Vec::new();
    while !reader.at_end() {
        let start = reader.position();
        let id = reader.byte().map_err(unreadable)?;
        let len = reader.len().map_err(unreadable)?;
        let body = reader.take(len).map_err(unreadable)?;
        let custom = if id == 0 {
            let mut custom = Reader::new(body, 0);
            let name_len = custom.len().map_err(unreadable)?;
            let name = custom.take(name_len).map_err(unreadable)?;
            Some((name, custom.rest()))
        } else {
            None
        };
        sections.push(Section {
            whole: start..reader.position(),
            custom,
        });
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> (PublicKey, ed25519_compact::SecretKey) {
        let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([seed; 32]));
        (PublicKey::from_bytes(*pair.pk), pair.sk)
    }

    fn statement(plugin: &str, from: u8, to: u8) -> Rotation {
        let (from_key, secret) = key(from);
        let (to_key, _) = key(to);
        let signature = secret.sign(Rotation::message(plugin, &from_key, &to_key), None);
        Rotation::new(plugin, from_key, to_key, *signature)
    }

    fn module_with(sections: &[(&str, &[u8])]) -> Vec<u8> {
        let mut bytes = b"\0asm\x01\0\0\0".to_vec();
        for (name, payload) in sections {
            let mut body = vec![name.len() as u8];
            body.extend_from_slice(name.as_bytes());
            body.extend_from_slice(payload);
            bytes.push(0);
            leb128(&mut bytes, body.len());
            bytes.extend(body);
        }
        bytes
    }

    #[test]
    fn a_statement_round_trips_through_a_file_and_a_section() {
        let rotation = statement("com.example.slack", 1, 2);
        assert!(rotation.verifies());
        let file = rotation.to_json().to_string();
        assert_eq!(Rotation::from_json(&file).unwrap(), rotation);
        let payload = Rotation::section_payload(std::slice::from_ref(&rotation));
        let module = module_with(&[("other", b"x"), (ROTATION_SECTION, &payload)]);
        assert_eq!(read_rotations(&module).unwrap(), [rotation]);
        assert_eq!(read_rotations(&module_with(&[])).unwrap(), []);
        // Embedding replaces the section and keeps every other byte.
        let other = statement("com.example.slack", 2, 3);
        let replaced = with_rotations(&module, std::slice::from_ref(&other)).unwrap();
        assert_eq!(read_rotations(&replaced).unwrap(), [other]);
        assert!(replaced.starts_with(&module_with(&[("other", b"x")])));
    }

    #[test]
    fn a_statement_binds_the_plugin_and_both_keys() {
        let good = statement("com.example.slack", 1, 2);
        let (third, _) = key(3);
        let mut other_plugin = good.clone();
        other_plugin.plugin_id = "com.example.jira".to_owned();
        let mut other_target = good.clone();
        other_target.to = third;
        let mut other_source = good.clone();
        other_source.from = third;
        for changed in [other_plugin, other_target, other_source] {
            assert!(!changed.verifies(), "{changed} should not verify");
        }
    }

    #[test]
    fn rotated_signers_follow_verified_chains_for_this_plugin_only() {
        let (a, _) = key(1);
        let (b, _) = key(2);
        let (c, _) = key(3);
        let chain = [statement("p", 2, 3), statement("p", 1, 2)];
        assert_eq!(rotated_signers("p", &[a], &chain), [a, b, c]);
        // From B, A is not reached: a statement goes one way.
        assert_eq!(rotated_signers("p", &[b], &chain), [b, c]);
        assert_eq!(rotated_signers("q", &[a], &chain), [a]);
        let mut forged = statement("p", 1, 2);
        forged.signature[0] ^= 1;
        assert_eq!(rotated_signers("p", &[a], &[forged]), [a]);
    }

    #[test]
    fn hostile_sections_are_refused_with_what_is_wrong() {
        let one = Rotation::section_payload(&[statement("p", 1, 2)]);
        let twice = module_with(&[(ROTATION_SECTION, &one), (ROTATION_SECTION, &one)]);
        assert!(
            read_rotations(&twice)
                .unwrap_err()
                .to_string()
                .contains("more than one")
        );
        let many: Vec<Rotation> = (0..=MAX_ROTATIONS as u8)
            .map(|i| statement("p", i + 1, i + 2))
            .collect();
        let too_many = module_with(&[(ROTATION_SECTION, &Rotation::section_payload(&many))]);
        assert!(
            read_rotations(&too_many)
                .unwrap_err()
                .to_string()
                .contains("over its limit of 16")
        );
        let big = vec![b' '; MAX_SECTION_BYTES + 1];
        let big = module_with(&[(ROTATION_SECTION, &big)]);
        assert!(
            read_rotations(&big)
                .unwrap_err()
                .to_string()
                .contains("bytes, over")
        );
        let garbage = module_with(&[(ROTATION_SECTION, b"{\"not\":1}")]);
        assert!(
            read_rotations(&garbage)
                .unwrap_err()
                .to_string()
                .contains("not a JSON array")
        );
        let bad_key = module_with(&[(
            ROTATION_SECTION,
            br#"[{"plugin_id":"p","from":"ssh-rsa AAAA","to":"x","signature":""}]"#,
        )]);
        let error = read_rotations(&bad_key).unwrap_err().to_string();
        assert!(
            error.contains("statement 1") && error.contains("`from` key"),
            "{error}"
        );
        // A section length past the end of the file: an error, no allocation of it.
        let mut truncated = b"\0asm\x01\0\0\0\0\xff\xff\xff\xff\x0f".to_vec();
        truncated.extend_from_slice(b"\x0cohd_rotation");
        assert!(read_rotations(&truncated).is_err());
        assert!(read_rotations(b"not wasm").is_err());
    }
}

//! Module signatures (feature `signature`): who signed a module, checked against the
//! ed25519 keys a host trusts (docs/ABI.md, section 15).
//!
//! A signed module (core or component) starts with a `signature` custom section in the
//! format of the WebAssembly module-signatures design (what `wasmsign2` writes): sets
//! of SHA-256 hashes, each with the ed25519 signatures over them. A signature covers a
//! module when one of the hashes it signs is the SHA-256 of every byte after that
//! section: the manifest, the ABI marker, the code, every other custom section.
//!
//! [`verify_signatures`] lists each signature with what it proves;
//! [`Verification::require`] is the rule a host that requires a trusted signer applies
//! after [`accept`](crate::module::accept). Signatures are read here with every length
//! bounded by the bytes that are there, so a hostile section costs nothing to refuse.
//!
//! ```
//! use otai_plugin_abi::module::signature::{PublicKey, verify_signatures};
//!
//! let key = PublicKey::from_openssh(
//!     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMX03D6Lvl7lzpXK5kRuPDLmExzgO7VRCrnbn4uPxMVj release@example",
//! )?;
//! assert_eq!(key.fingerprint().to_string(), "SHA256:aVL/i+90HRzwZejTQW6LVC2CGf8d8p71ACYAh9iZqCc");
//! // An unsigned module: no signature, so nothing a host requiring one accepts.
//! let verification = verify_signatures(b"\0asm\x01\x00\x00\x00", &[key]);
//! assert!(verification.signatures.is_empty());
//! assert!(!verification.is_trusted());
//! # Ok::<(), otai_plugin_abi::module::signature::KeyError>(())
//! ```

use std::fmt;
use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::module::problem::{Acceptance, ProblemKind};

/// The custom section that holds a module's signatures: the module's first section.
pub const SIGNATURE_SECTION: &str = "signature";

/// OpenSSH's name for the key type, in a public key line and in the key's wire form.
const SSH_ED25519: &str = "ssh-ed25519";

/// What the design signs: this prefix (domain, format version 1, content type 1 "a
/// WebAssembly module", hash function 1 "SHA-256"), then the hashes.
const SIGNED_PREFIX: &[u8] = b"wasmsig\x01\x01\x01";

/// The design's limits on a section, which `wasmsign2` enforces too.
const MAX_HASH_SETS: usize = 64;
const MAX_HASHES: usize = 64;
const MAX_SIGNATURES: usize = 256;
/// Ours, over the whole section: each signature costs an ed25519 check per trusted key
/// it may be from (some 40 µs), and the design's limits alone allow 64 × 256 of them.
const MAX_SIGNATURES_IN_ALL: usize = 256;

/// An ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey {
    raw: [u8; 32],
}

/// Why a public key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not a line `ssh-ed25519 <base64> [comment]`.
    #[error("not an OpenSSH ed25519 public key (a line `ssh-ed25519 AAAA… comment`): {0}")]
    Syntax(String),
    /// An OpenSSH key of another type (`ssh-rsa`, `ecdsa-sha2-nistp256`, …).
    #[error(
        "an OpenSSH `{0}` key: module signatures are ed25519 (`cargo otai-plugin key new` makes one)"
    )]
    KeyType(String),
}

impl PublicKey {
    /// The key from its 32 bytes.
    pub fn from_bytes(raw: [u8; 32]) -> PublicKey {
        PublicKey { raw }
    }

    /// The key's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.raw
    }

    /// Reads the first key in `text`, OpenSSH's public key form (`ssh-ed25519 AAAA…
    /// comment`, as in `id_ed25519.pub` or `authorized_keys`); blank lines and `#`
    /// comments are skipped.
    ///
    /// # Errors
    /// [`KeyError`] saying what was found instead.
    pub fn from_openssh(text: &str) -> Result<PublicKey, KeyError> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .ok_or_else(|| KeyError::Syntax("the text has no key line".to_owned()))?;
        let mut fields = line.split_whitespace();
        let kind = fields.next().unwrap_or_default();
        let Some(encoded) = fields.next() else {
            return Err(KeyError::Syntax(format!(
                "`{}` has no base64 key after its type",
                shorten(line)
            )));
        };
        if kind != SSH_ED25519 {
            return Err(if kind.starts_with("ssh-") || kind.starts_with("ecdsa-") {
                KeyError::KeyType(kind.to_owned())
            } else {
                KeyError::Syntax(format!(
                    "`{}` does not start with `{SSH_ED25519}`",
                    shorten(line)
                ))
            });
        }
        let blob = STANDARD
            .decode(encoded)
            .map_err(|e| KeyError::Syntax(format!("the key is not base64: {e}")))?;
        PublicKey::from_wire(&blob)
            .ok_or_else(|| KeyError::Syntax("the base64 is not an ed25519 key's".to_owned()))
    }

    /// The key from SSH's wire form: `string "ssh-ed25519"`, `string key`.
    fn from_wire(blob: &[u8]) -> Option<PublicKey> {
        let rest = blob.strip_prefix(&wire_string(SSH_ED25519.as_bytes())[..])?;
        let raw = rest.strip_prefix(&32u32.to_be_bytes())?;
        Some(PublicKey {
            raw: raw.try_into().ok()?,
        })
    }

    /// SSH's wire form of the key, what its fingerprint hashes.
    pub fn to_wire(&self) -> Vec<u8> {
        let mut blob = wire_string(SSH_ED25519.as_bytes());
        blob.extend(wire_string(&self.raw));
        blob
    }

    /// The key as an OpenSSH public key line, `ssh-ed25519 AAAA…`, with `comment` after
    /// it when there is one.
    pub fn to_openssh(&self, comment: &str) -> String {
        let mut line = format!("{SSH_ED25519} {}", STANDARD.encode(self.to_wire()));
        if !comment.is_empty() {
            line.push(' ');
            line.push_str(comment);
        }
        line
    }

    /// The key's fingerprint, as `ssh-keygen -l` shows it.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint(Sha256::digest(self.to_wire()).into())
    }

    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let (Ok(key), Ok(signature)) = (
            ed25519_compact::PublicKey::from_slice(&self.raw),
            ed25519_compact::Signature::from_slice(signature),
        ) else {
            return false;
        };
        key.verify(message, &signature).is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

/// `string` in SSH's wire form: a big-endian `u32` length, then the bytes.
fn wire_string(bytes: &[u8]) -> Vec<u8> {
    let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

fn shorten(line: &str) -> String {
    match line.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_owned(),
    }
}

/// A key's SHA-256 fingerprint, shown as OpenSSH shows it: `SHA256:` and the hash in
/// base64 without padding. The key id `cargo otai-plugin` writes beside each signature
/// is these 32 bytes, so a signature names its key even to a host that does not have it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SHA256:{}", STANDARD_NO_PAD.encode(self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What one signature proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureState {
    /// A trusted key signed the module as it is.
    Valid,
    /// A trusted key signed it, but the module changed after it was signed: the hashes
    /// it signed are not the module's.
    Changed,
    /// It names a trusted key (by its key id) but does not verify with it: a damaged
    /// or forged signature.
    Invalid,
    /// By a key the host does not trust, so it proves nothing (it cannot be checked
    /// without the key).
    Untrusted,
}

impl SignatureState {
    /// `valid`, `changed`, `invalid` or `untrusted`, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureState::Valid => "valid",
            SignatureState::Changed => "changed",
            SignatureState::Invalid => "invalid",
            SignatureState::Untrusted => "untrusted",
        }
    }
}

impl fmt::Display for SignatureState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One signature of a module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureCheck {
    /// The key that verified it, else the key its key id names (a fingerprint), if any.
    pub key: Option<Fingerprint>,
    /// The key id written beside it, in hex, when it is not a fingerprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// What it proves.
    pub state: SignatureState,
    /// Whether one of the hashes it signs is the module's: `false` means the module
    /// changed after it was signed, whoever signed it.
    pub covers_module: bool,
}

/// A module's signatures checked against a host's trusted keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Each signature, in the order of the section.
    pub signatures: Vec<SignatureCheck>,
    /// The bytes of the module the signatures cover (everything after the `signature`
    /// section), when there is one.
    pub signed_bytes: Option<Range<u64>>,
    /// Why the `signature` section (or one found elsewhere) could not be read.
    pub unreadable: Option<String>,
}

impl Verification {
    /// Whether a trusted key signed the module as it is.
    pub fn is_trusted(&self) -> bool {
        self.signatures
            .iter()
            .any(|s| s.state == SignatureState::Valid)
    }

    /// The rule of a host that requires a signature from one of its trusted keys: adds
    /// the error that refuses the module to `verdict` unless [`Verification::is_trusted`].
    ///
    /// In order: a module changed after a trusted key signed it
    /// ([`ProblemKind::SignatureChanged`]), a signature that names a trusted key but does
    /// not verify or a section that cannot be read ([`ProblemKind::SignatureInvalid`]),
    /// signatures by other keys only ([`ProblemKind::SignatureUntrusted`]), no signature
    /// ([`ProblemKind::SignatureMissing`]).
    pub fn require(&self, verdict: &mut Acceptance) {
        if self.is_trusted() {
            return;
        }
        let with = |state| self.signatures.iter().filter(move |s| s.state == state);
        let keys = |state| with(state).map(describe_key).collect::<Vec<_>>().join(", ");
        let bytes = self
            .signed_bytes
            .as_ref()
            .map(|r| format!("bytes {}..{}", r.start, r.end))
            .unwrap_or_default();
        if with(SignatureState::Changed).next().is_some() {
            verdict.error(
                ProblemKind::SignatureChanged,
                format!(
                    "the module changed after it was signed: the signature of {} does not \
                     cover the module as it is (its {bytes}, the manifest, the ABI marker, \
                     the code and every other section, no longer hash to what was signed); \
                     sign it again after the last change (`cargo otai-plugin sign`)",
                    keys(SignatureState::Changed)
                ),
            );
        } else if let Some(why) = &self.unreadable {
            verdict.error(
                ProblemKind::SignatureInvalid,
                format!("the module's signatures cannot be read: {why}"),
            );
        } else if with(SignatureState::Invalid).next().is_some() {
            verdict.error(
                ProblemKind::SignatureInvalid,
                format!(
                    "the signature that names {} does not verify with that key: it is \
                     damaged or forged",
                    keys(SignatureState::Invalid)
                ),
            );
        } else if !self.signatures.is_empty() {
            let changed = if self.signatures.iter().all(|s| !s.covers_module) {
                " (and the module changed after they signed it)"
            } else {
                ""
            };
            verdict.error(
                ProblemKind::SignatureUntrusted,
                format!(
                    "the module is signed only by keys this host does not trust: {}{changed}; \
                     the host requires a signature from one of its trusted keys",
                    keys(SignatureState::Untrusted)
                ),
            );
        } else {
            verdict.error(
                ProblemKind::SignatureMissing,
                "the module is not signed, and this host requires a signature from one of \
                 its trusted keys: sign it with `cargo otai-plugin sign WASM --key KEY` (or \
                 `build --release --sign KEY`)",
            );
        }
    }
}

fn describe_key(check: &SignatureCheck) -> String {
    match (&check.key, &check.key_id) {
        (Some(fingerprint), _) => fingerprint.to_string(),
        (None, Some(id)) => format!("key id {id}"),
        (None, None) => "a key without a key id".to_owned(),
    }
}

/// Checks the signatures of `bytes` (a core module or a component) against `trusted`.
///
/// A module without a `signature` section gets no signatures; a `signature` section
/// that is not the module's first, or that cannot be read, is named in
/// [`Verification::unreadable`].
pub fn verify_signatures(bytes: &[u8], trusted: &[PublicKey]) -> Verification {
    let mut verification = Verification::default();
    let section = match first_section(bytes) {
        Ok(section) => section,
        Err(why) => {
            verification.unreadable = Some(why);
            return verification;
        }
    };
    let Some((payload, content)) = section else {
        if let Some(position) = misplaced_signature(bytes) {
            verification.unreadable = Some(format!(
                "a `{SIGNATURE_SECTION}` section is section {position} of the module: \
                 signatures are read from the first section only"
            ));
        }
        return verification;
    };
    verification.signed_bytes = Some(content as u64..bytes.len() as u64);
    let sets = match parse_signature_data(payload) {
        Ok(sets) => sets,
        Err(why) => {
            verification.unreadable = Some(format!("the `{SIGNATURE_SECTION}` section {why}"));
            return verification;
        }
    };
    let module_hash: [u8; 32] = Sha256::digest(&bytes[content..]).into();
    let fingerprints: Vec<Fingerprint> = trusted.iter().map(PublicKey::fingerprint).collect();
    for set in &sets {
        let covers_module = set.hashes.contains(&module_hash);
        let mut message = SIGNED_PREFIX.to_vec();
        for hash in &set.hashes {
            message.extend_from_slice(hash);
        }
        for signature in &set.signatures {
            let named: Option<Fingerprint> = <[u8; 32]>::try_from(signature.key_id.as_slice())
                .ok()
                .map(Fingerprint);
            // A signature whose key id is a fingerprint is checked with that key only:
            // one naming a key the host does not trust costs nothing.
            let verified_by = trusted
                .iter()
                .zip(&fingerprints)
                .filter(|(_, fingerprint)| named.is_none_or(|n| n == **fingerprint))
                .find(|(key, _)| key.verifies(&message, &signature.signature))
                .map(|(_, fingerprint)| *fingerprint);
            let state = match verified_by {
                Some(_) if covers_module => SignatureState::Valid,
                Some(_) => SignatureState::Changed,
                None if named.is_some_and(|n| fingerprints.contains(&n)) => SignatureState::Invalid,
                None => SignatureState::Untrusted,
            };
            let key = verified_by.or(named);
            verification.signatures.push(SignatureCheck {
                key,
                key_id: (key.is_none() && !signature.key_id.is_empty())
                    .then(|| hex(&signature.key_id)),
                state,
                covers_module,
            });
        }
    }
    verification
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The payload of the module's first section when it is the `signature` custom
/// section, and where the bytes it signs start.
fn first_section(bytes: &[u8]) -> Result<Option<(&[u8], usize)>, String> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err("the file is not WebAssembly".to_owned());
    }
    let mut reader = Reader { bytes, at: 8 };
    if reader.at == bytes.len() {
        return Ok(None);
    }
    let id = reader.byte()?;
    let len = reader.len()?;
    let body = reader.take(len).map_err(|_| {
        format!("the first section says it has {len} bytes, more than the module has")
    })?;
    if id != 0 {
        return Ok(None);
    }
    let mut section = Reader { bytes: body, at: 0 };
    let name_len = section.len()?;
    let name = section.take(name_len)?;
    if name != SIGNATURE_SECTION.as_bytes() {
        return Ok(None);
    }
    Ok(Some((&body[section.at..], reader.at)))
}

/// The position (1-based) of a `signature` custom section that is not the first.
fn misplaced_signature(bytes: &[u8]) -> Option<usize> {
    let parser = wasmparser::Parser::new(0);
    let mut position = 0;
    for payload in parser.parse_all(bytes) {
        let payload = payload.ok()?;
        match payload {
            wasmparser::Payload::Version { .. } => {}
            wasmparser::Payload::CustomSection(c) => {
                position += 1;
                if c.name() == SIGNATURE_SECTION {
                    return Some(position);
                }
            }
            wasmparser::Payload::End(_) => return None,
            _ => position += 1,
        }
    }
    None
}

struct HashSet {
    hashes: Vec<[u8; 32]>,
    signatures: Vec<RawSignature>,
}

struct RawSignature {
    key_id: Vec<u8>,
    signature: Vec<u8>,
}

/// The section's payload: format version, content type and hash function (each 1),
/// then sets of hashes with their signatures, every count and length checked against
/// what is left before anything is allocated.
fn parse_signature_data(payload: &[u8]) -> Result<Vec<HashSet>, String> {
    let mut r = Reader {
        bytes: payload,
        at: 0,
    };
    let header = [r.byte()?, r.byte()?, r.byte()?];
    if header != [1, 1, 1] {
        return Err(format!(
            "is of another format (version {}, content type {}, hash function {}; this host \
             reads 1, 1 and 1: SHA-256 over a WebAssembly module)",
            header[0], header[1], header[2]
        ));
    }
    let sets = r.count(MAX_HASH_SETS, "hash sets")?;
    let mut out = Vec::with_capacity(sets);
    for _ in 0..sets {
        let len = r.len()?;
        let mut set = Reader {
            bytes: r.take(len)?,
            at: 0,
        };
        let count = set.count(MAX_HASHES, "hashes")?;
        let mut hashes = Vec::with_capacity(count);
        for _ in 0..count {
            let hash = set.take(32)?;
            hashes.push(hash.try_into().map_err(|_| "has a short hash".to_owned())?);
        }
        let count = set.count(MAX_SIGNATURES, "signatures")?;
        let so_far: usize = out.iter().map(|s: &HashSet| s.signatures.len()).sum();
        if so_far + count > MAX_SIGNATURES_IN_ALL {
            return Err(format!(
                "has more than {MAX_SIGNATURES_IN_ALL} signatures in all, more than a host checks"
            ));
        }
        let mut signatures = Vec::with_capacity(count);
        for _ in 0..count {
            let len = set.len()?;
            let mut one = Reader {
                bytes: set.take(len)?,
                at: 0,
            };
            let key_id_len = one.len()?;
            let key_id = one.take(key_id_len)?.to_vec();
            let algorithm = one.byte()?;
            if algorithm != 1 {
                return Err(format!(
                    "has a signature of algorithm {algorithm}; only ed25519 (1) is read"
                ));
            }
            let len = one.len()?;
            let signature = one.take(len)?.to_vec();
            signatures.push(RawSignature { key_id, signature });
        }
        out.push(HashSet { hashes, signatures });
    }
    Ok(out)
}

/// Reads a section's bytes with every length checked against what is left.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], at: usize) -> Self {
        Reader { bytes, at }
    }

    pub(crate) fn position(&self) -> usize {
        self.at
    }

    pub(crate) fn at_end(&self) -> bool {
        self.at >= self.bytes.len()
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.bytes[self.at.min(self.bytes.len())..]
    }

    pub(crate) fn byte(&mut self) -> Result<u8, String> {
        let b = *self.bytes.get(self.at).ok_or("ends early")?;
        self.at += 1;
        Ok(b)
    }

    /// An unsigned LEB128 of at most 32 bits.
    pub(crate) fn len(&mut self) -> Result<usize, String> {
        let mut value: u64 = 0;
        for i in 0..5 {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return u32::try_from(value)
                    .map(|v| v as usize)
                    .map_err(|_| "has a length over 32 bits".to_owned());
            }
        }
        Err("has a length over 32 bits".to_owned())
    }

    fn count(&mut self, max: usize, what: &str) -> Result<usize, String> {
        let n = self.len()?;
        if n > max {
            return Err(format!("has {n} {what}, over the format's limit of {max}"));
        }
        Ok(n)
    }

    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or("ends early")?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
}

//! Signing keys in OpenSSH's formats, and signing a module with one: `key new`, `sign`
//! and `build --sign`. The signature is written by `wasmsign2` (the module-signatures
//! design's implementation); hosts check it with `otai_plugin_abi::module::signature`.
//!
//! Only unencrypted ed25519 keys are read: what `key new` writes and what
//! `ssh-keygen -t ed25519 -N ''` writes. Their format is OpenSSH's `PROTOCOL.key`.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use otai_plugin_abi::module::rotation::{
    ROTATION_SECTION, Rotation, read_rotations, rotated_signers, with_rotations,
};
use otai_plugin_abi::module::signature::{PublicKey, SIGNATURE_SECTION, verify_signatures};
use sha2::{Digest, Sha256};

const ARMOR_BEGIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";
const ARMOR_END: &str = "-----END OPENSSH PRIVATE KEY-----";
const MAGIC: &[u8] = b"openssh-key-v1\0";
const SSH_ED25519: &[u8] = b"ssh-ed25519";

/// An ed25519 key pair that signs modules.
pub struct SigningKey {
    secret: ed25519_compact::SecretKey,
    /// Its public half.
    pub public: PublicKey,
    /// The comment stored with it.
    pub comment: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.public.fingerprint())
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate(comment: &str) -> SigningKey {
        let pair = ed25519_compact::KeyPair::generate();
        SigningKey {
            public: PublicKey::from_bytes(*pair.pk),
            secret: pair.sk,
            comment: comment.to_owned(),
        }
    }

    /// Reads a private key file (OpenSSH format, ed25519, no passphrase).
    ///
    /// # Errors
    /// The file cannot be read or is not such a key, saying what it is instead.
    pub fn read(path: &Path) -> Result<SigningKey> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read the key `{}`", path.display()))?;
        SigningKey::from_openssh(&text).with_context(|| {
            format!(
                "`{}` is not a signing key: `cargo otai-plugin key new` makes one, and an \
                 ed25519 key of `ssh-keygen -t ed25519` works as it is",
                path.display()
            )
        })
    }

    /// Parses OpenSSH's private key format.
    ///
    /// # Errors
    /// What the text is instead: a public key, an encrypted key, another key type.
    pub fn from_openssh(text: &str) -> Result<SigningKey> {
        let text = text.trim();
        if PublicKey::from_openssh(text).is_ok() || text.starts_with("ssh-") {
            bail!("it is a public key; signing needs the private key (the file without `.pub`)");
        }
        let Some(body) = text
            .strip_prefix(ARMOR_BEGIN)
            .and_then(|rest| rest.strip_suffix(ARMOR_END))
        else {
            bail!("it does not start with `{ARMOR_BEGIN}` (an OpenSSH private key)");
        };
        let body: String = body.split_whitespace().collect();
        let blob = STANDARD
            .decode(body)
            .map_err(|e| anyhow::anyhow!("its body is not base64: {e}"))?;
        let mut r = Wire(&blob);
        if r.take(MAGIC.len())? != MAGIC {
            bail!("it is not in the `openssh-key-v1` format");
        }
        let cipher = r.string()?;
        if cipher != b"none" {
            bail!(
                "it is protected by a passphrase (cipher `{}`), which cannot be read here: \
                 sign with a key without one, kept where only you can read it",
                String::from_utf8_lossy(cipher)
            );
        }
        let _kdf = r.string()?;
        let _kdf_options = r.string()?;
        if r.u32()? != 1 {
            bail!("it holds more than one key");
        }
        let _public = r.string()?;
        let mut private = Wire(r.string()?);
        if private.u32()? != private.u32()? {
            bail!("its check numbers differ: the file is damaged");
        }
        let kind = private.string()?;
        if kind != SSH_ED25519 {
            bail!(
                "it is a `{}` key: module signatures are ed25519",
                String::from_utf8_lossy(kind)
            );
        }
        let public: [u8; 32] = private
            .string()?
            .try_into()
            .map_err(|_| anyhow::anyhow!("its ed25519 public key is not 32 bytes"))?;
        let secret = ed25519_compact::SecretKey::from_slice(private.string()?)
            .map_err(|_| anyhow::anyhow!("its ed25519 private key is not 64 bytes"))?;
        if *secret.public_key() != public {
            bail!("its public and private halves do not match: the file is damaged");
        }
        let comment = String::from_utf8_lossy(private.string()?).into_owned();
        Ok(SigningKey {
            secret,
            public: PublicKey::from_bytes(public),
            comment,
        })
    }

    /// The private key in OpenSSH's format (what `ssh-keygen` writes without a
    /// passphrase).
    pub fn to_openssh(&self) -> String {
        let mut private = Vec::new();
        let check: [u8; 4] = Sha256::digest(self.public.as_bytes())[..4]
            .try_into()
            .expect("four bytes");
        private.extend_from_slice(&check);
        private.extend_from_slice(&check);
        put_string(&mut private, SSH_ED25519);
        put_string(&mut private, self.public.as_bytes());
        put_string(&mut private, &self.secret[..]);
        put_string(&mut private, self.comment.as_bytes());
        // Padded to the block size of the cipher `none`, 8, with 1, 2, 3, …
        let mut pad = 1u8;
        while private.len() % 8 != 0 {
            private.push(pad);
            pad += 1;
        }
        let mut blob = MAGIC.to_vec();
        put_string(&mut blob, b"none");
        put_string(&mut blob, b"none");
        put_string(&mut blob, b"");
        blob.extend_from_slice(&1u32.to_be_bytes());
        put_string(&mut blob, &self.public.to_wire());
        put_string(&mut blob, &private);
        let encoded = STANDARD.encode(blob);
        let mut text = format!("{ARMOR_BEGIN}\n");
        for line in encoded.as_bytes().chunks(70) {
            text.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            text.push('\n');
        }
        text.push_str(ARMOR_END);
        text.push('\n');
        text
    }

    /// Writes the key pair to `path` (private, mode 0600) and `path.pub`, refusing to
    /// replace either.
    ///
    /// # Errors
    /// Either file exists, or cannot be written.
    pub fn write_new(&self, path: &Path) -> Result<std::path::PathBuf> {
        let public_path = public_path(path);
        for existing in [path, public_path.as_path()] {
            if existing.exists() || existing.symlink_metadata().is_ok() {
                bail!(
                    "`{}` already exists: choose another `--out`, or move it away first (a \
                     key is not replaced, so that one in use is never lost)",
                    existing.display()
                );
            }
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .with_context(|| format!("failed to create `{}`", path.display()))?;
        file.write_all(self.to_openssh().as_bytes())
            .with_context(|| format!("failed to write `{}`", path.display()))?;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&public_path)
            .and_then(|mut f| writeln!(f, "{}", self.public.to_openssh(&self.comment)))
            .with_context(|| format!("failed to write `{}`", public_path.display()))?;
        Ok(public_path)
    }
}

/// Where the public half of the key at `path` goes: `path.pub`, as ssh-keygen does.
pub fn public_path(path: &Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".pub");
    name.into()
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// SSH's wire form, read with every length checked.
struct Wire<'a>(&'a [u8]);

impl<'a> Wire<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.0.len() {
            bail!("it ends early: the file is damaged");
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32> {
        let bytes = self.take(4)?;
        Ok(u32::from_be_bytes(bytes.try_into().expect("four bytes")))
    }

    fn string(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

/// What signing did.
#[derive(Debug)]
pub enum Signed {
    /// The signed module.
    Signed {
        /// Its bytes.
        bytes: Vec<u8>,
        /// How many signatures of other keys it had that still cover it (co-signers).
        kept: usize,
        /// How many signatures were dropped because the module changed after they were
        /// made.
        dropped: usize,
    },
    /// This key had signed the module as it is already.
    AlreadySigned,
}

/// Signs `module` (a core module or a component) with `key`, keeping every signature
/// that still covers it and dropping those made before it last changed.
///
/// # Errors
/// The module is not WebAssembly, or its `signature` section cannot be read.
pub fn sign(module: &[u8], key: &SigningKey) -> Result<Signed> {
    let before = verify_signatures(module, &[key.public]);
    if let Some(why) = before.unreadable {
        bail!("{why}");
    }
    if before.is_trusted() {
        return Ok(Signed::AlreadySigned);
    }
    let mut parsed = wasmsign2::Module::deserialize(&mut std::io::Cursor::new(module))
        .map_err(|e| anyhow::anyhow!("the module cannot be read for signing: {e}"))?;
    let (kept, dropped) = before.signatures.iter().fold((0, 0), |(k, d), s| {
        if s.covers_module {
            (k + 1, d)
        } else {
            (k, d + 1)
        }
    });
    if let Some(range) = &before.signed_bytes {
        // Only the hash sets that are this module's survive.
        let hash = Sha256::digest(&module[range.start as usize..]).to_vec();
        let wasmsign2::Section::Custom(header) = &parsed.sections[0] else {
            bail!("the first section is not the `{SIGNATURE_SECTION}` section");
        };
        let mut data = header
            .signature_data()
            .map_err(|e| anyhow::anyhow!("the `{SIGNATURE_SECTION}` section: {e}"))?;
        data.signed_hashes_set
            .retain(|set| set.hashes.contains(&hash));
        if data.signed_hashes_set.is_empty() {
            parsed.sections.remove(0);
        } else {
            let payload = data
                .serialize()
                .map_err(|e| anyhow::anyhow!("the `{SIGNATURE_SECTION}` section: {e}"))?;
            parsed.sections[0] = wasmsign2::Section::Custom(wasmsign2::CustomSection::new(
                SIGNATURE_SECTION.to_owned(),
                payload,
            ));
        }
    }
    let secret = wasmsign2::SecretKey {
        sk: key.secret.clone(),
    };
    // The key id is the key's fingerprint, so a listing names the signer without the key.
    let key_id = key.public.fingerprint().0.to_vec();
    let (signed, _) = secret
        .sign_multi(parsed, Some(&key_id), false, false)
        .map_err(|e| anyhow::anyhow!("signing failed: {e}"))?;
    let mut bytes = Vec::with_capacity(module.len() + 256);
    signed
        .serialize(&mut bytes)
        .map_err(|e| anyhow::anyhow!("signing failed: {e}"))?;
    Ok(Signed::Signed {
        bytes,
        kept,
        dropped,
    })
}

/// The statement of `from` that hands the signing of plugin `plugin_id` to `to`.
pub fn rotation(from: &SigningKey, to: &PublicKey, plugin_id: &str) -> Rotation {
    let message = Rotation::message(plugin_id, &from.public, to);
    let signature = from.secret.sign(message, None);
    Rotation::new(plugin_id, from.public, *to, *signature)
}

/// Reads a rotation statement file (what `key rotate` writes).
///
/// # Errors
/// The file cannot be read, is not a statement, or its signature does not verify.
pub fn read_rotation(path: &Path) -> Result<Rotation> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read the rotation statement `{}`", path.display()))?;
    let rotation = Rotation::from_json(&text)
        .with_context(|| format!("`{}` is not a rotation statement", path.display()))?;
    if !rotation.verifies() {
        bail!(
            "the rotation statement `{}` ({rotation}) does not verify with its `from` key: it \
             was changed after `key rotate` wrote it",
            path.display()
        );
    }
    Ok(rotation)
}

/// `module` (plugin `plugin_id`) carrying `rotations` for a signature by `key`: each
/// statement must be for this plugin, and together they must hand it to `key`. The
/// module comes back as it was when it carries these statements already.
///
/// # Errors
/// A statement for another plugin, statements that do not reach `key`, or a module
/// whose sections cannot be read.
pub fn embed_rotations(
    module: &[u8],
    rotations: &[Rotation],
    plugin_id: &str,
    key: &PublicKey,
) -> Result<Option<Vec<u8>>> {
    if let Some(other) = rotations.iter().find(|r| r.plugin_id != plugin_id) {
        bail!(
            "the rotation statement {other} is for another plugin than this module's \
             `{plugin_id}`"
        );
    }
    let sources: Vec<PublicKey> = rotations
        .iter()
        .map(|r| r.from)
        .filter(|from| !rotations.iter().any(|r| r.to == *from))
        .collect();
    if !rotated_signers(plugin_id, &sources, rotations).contains(key) {
        bail!(
            "the rotation statements hand `{plugin_id}` to {}, not to the signing key {}",
            rotations
                .iter()
                .map(|r| r.to.fingerprint().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            key.fingerprint()
        );
    }
    let current = read_rotations(module).map_err(|e| anyhow::anyhow!("{e}"))?;
    if current == rotations {
        return Ok(None);
    }
    with_rotations(module, rotations)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("the `{ROTATION_SECTION}` section cannot be written: {e}"))
}

//! Secret config values at rest: sealed with ChaCha20-Poly1305 under the desk's key.
//!
//! The key is 32 random bytes, written as 64 hex digits to `desk.key` in the data
//! directory (created with mode 0600 when the database is new), or given in the
//! environment variable `OTAI_DESK_KEY`. Each value has its own random nonce, and the
//! plugin id and field name are the associated data: a sealed value copied onto
//! another field or plugin does not open.

use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, Generate, Key, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};

use crate::error::DeskError;

/// The environment variable that gives the key instead of the key file.
pub const KEY_ENV: &str = "OTAI_DESK_KEY";
/// The key file's name in the data directory.
pub const KEY_FILE: &str = "desk.key";

const NONCE_LEN: usize = 12;

/// Where the key came from, for messages.
#[derive(Debug, Clone)]
enum KeySource {
    Env,
    File(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env => write!(f, "the environment variable `{KEY_ENV}`"),
            KeySource::File(p) => write!(f, "the key file `{}`", p.display()),
        }
    }
}

/// The desk's key. Its `Debug` shows only where it came from.
pub(crate) struct SecretKey {
    cipher: ChaCha20Poly1305,
    /// The key's bytes, from which the host derives the MAC key of the desk's compiled
    /// modules ([`SecretKey::bytes`]).
    bytes: [u8; 32],
    source: KeySource,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.source)
    }
}

impl SecretKey {
    /// The key from `OTAI_DESK_KEY`, else from `dir/desk.key`; a new key file is
    /// created only when `create` (a new database), never beside existing secrets.
    pub(crate) fn load(
        dir: &Path,
        env: Option<String>,
        create: bool,
    ) -> Result<SecretKey, DeskError> {
        if let Some(text) = env {
            return SecretKey::parse(&text, KeySource::Env);
        }
        let path = dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => SecretKey::parse(&text, KeySource::File(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let key = Key::<ChaCha20Poly1305>::generate();
                write_private(&path, hex(&key).as_bytes())?;
                Ok(SecretKey {
                    cipher: ChaCha20Poly1305::new(&key),
                    bytes: key.into(),
                    source: KeySource::File(path),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(DeskError::Key {
                message: format!(
                    "the key file `{}` is missing: the secrets in this desk's database cannot \
                     be decrypted without it (restore it, or set `{KEY_ENV}`)",
                    path.display()
                ),
            }),
            Err(source) => Err(DeskError::Io {
                what: "failed to read the key file",
                path,
                source,
            }),
        }
    }

    fn parse(text: &str, source: KeySource) -> Result<SecretKey, DeskError> {
        let bytes: [u8; 32] = unhex(text.trim())
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| DeskError::Key {
                message: format!("{source} does not hold a key: expected 64 hexadecimal digits"),
            })?;
        let cipher = ChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| DeskError::Key {
            message: format!("{source} does not hold a 256-bit key"),
        })?;
        Ok(SecretKey {
            cipher,
            bytes,
            source,
        })
    }

    /// The key's bytes, for the host's cache of compiled modules, which derives its own
    /// MAC key from them (`HostBuilder::compile_cache_dir`): an entry another desk (or
    /// anything without this key) wrote is never run.
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// `value` sealed for `plugin_id`'s field `key`: nonce, then ciphertext and tag.
    pub(crate) fn seal(&self, plugin_id: &str, key: &str, value: &str) -> Vec<u8> {
        let nonce = Nonce::generate();
        let aad = associated(plugin_id, key);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: value.as_bytes(),
                    aad: &aad,
                },
            )
            // ChaCha20-Poly1305 fails only for messages over 256 GiB.
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what [`SecretKey::seal`] made for the same plugin and field.
    pub(crate) fn open(
        &self,
        plugin_id: &str,
        key: &str,
        sealed: &[u8],
    ) -> Result<String, DeskError> {
        let wrong = || DeskError::Key {
            message: format!(
                "the secret `{key}` of plugin `{plugin_id}` does not decrypt with {}: it is not \
                 the key this database was made with",
                self.source
            ),
        };
        if sealed.len() < NONCE_LEN {
            return Err(wrong());
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| wrong())?;
        let aad = associated(plugin_id, key);
        let plain = self
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| wrong())?;
        String::from_utf8(plain).map_err(|_| wrong())
    }

    /// Whether this key opens the database's check value (sealed when it was made).
    pub(crate) fn verify(&self, check: &[u8]) -> Result<(), DeskError> {
        self.open("", "key check", check)
            .map(drop)
            .map_err(|_| DeskError::Key {
                message: format!(
                    "{} is not the key this desk's database was made with; its secrets cannot be \
                 decrypted",
                    self.source
                ),
            })
    }

    /// A value sealed under this key, for [`SecretKey::verify`].
    pub(crate) fn check_value(&self) -> Vec<u8> {
        self.seal("", "key check", "otai-plugin-desk")
    }
}

fn associated(plugin_id: &str, key: &str) -> Vec<u8> {
    format!("{plugin_id}\0{key}").into_bytes()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Writes a file only its owner can read, refusing to replace one.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), DeskError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let io = |source| DeskError::Io {
        what: "failed to create the key file",
        path: path.to_owned(),
        source,
    };
    let mut file = options.open(path).map_err(io)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::parse(&"ab".repeat(32), KeySource::Env).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_only_for_its_plugin_and_field_under_its_key() {
        let sealed = key().seal("com.example.a", "token", "xoxb-1");
        assert!(!sealed.windows(6).any(|w| w == b"xoxb-1"));
        assert_eq!(
            key().open("com.example.a", "token", &sealed).unwrap(),
            "xoxb-1"
        );
        assert!(key().open("com.example.b", "token", &sealed).is_err());
        assert!(key().open("com.example.a", "other", &sealed).is_err());
        let other = SecretKey::parse(&"cd".repeat(32), KeySource::Env).unwrap();
        let e = other.open("com.example.a", "token", &sealed).unwrap_err();
        assert!(e.to_string().contains("`OTAI_DESK_KEY`"), "{e}");
        assert!(!e.to_string().contains("xoxb"), "{e}");
        // Two seals of one value differ (a fresh nonce each).
        assert_ne!(key().seal("p", "k", "v"), key().seal("p", "k", "v"));
    }

    #[test]
    fn a_key_that_is_not_64_hex_digits_is_refused() {
        for text in ["", "abc", &"zz".repeat(32), &"ab".repeat(31)] {
            let e = SecretKey::parse(text, KeySource::Env).unwrap_err();
            assert!(
                e.to_string().contains("expected 64 hexadecimal digits"),
                "{e}"
            );
        }
    }

    #[test]
    fn the_key_file_is_created_private_and_only_for_a_new_database() {
        let dir = tempfile::tempdir().unwrap();
        let e = SecretKey::load(dir.path(), None, false).unwrap_err();
        assert!(e.to_string().contains("desk.key` is missing"), "{e}");
        let made = SecretKey::load(dir.path(), None, true).unwrap();
        let again = SecretKey::load(dir.path(), None, false).unwrap();
        again.verify(&made.check_value()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}

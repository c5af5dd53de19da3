//! Registry credentials: from docker's config file (what `docker login`, `oras login`
//! and `spin registry login` write), or given by the caller (the CLI's `--username`
//! with the password from [`PASSWORD_ENV`]). Never from a command line argument, which
//! other users of the machine can read.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::RegistryError;

/// The environment variable the CLI reads a registry password (or token) from.
pub const PASSWORD_ENV: &str = "OTAI_REGISTRY_PASSWORD";

/// A user name and password (or token) for a registry's basic or token authentication.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or access token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// The credentials docker's config file holds for `registry` (`host[:port]`), if any:
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. A missing file is no
    /// credentials; an unreadable or malformed one is an error naming it.
    ///
    /// # Errors
    /// [`RegistryError::Credentials`] naming the file and what is wrong in it.
    pub fn from_docker_config(registry: &str) -> Result<Option<Credentials>, RegistryError> {
        match Credentials::docker_config_path() {
            Some(path) => Credentials::from_docker_config_at(&path, registry),
            None => Ok(None),
        }
    }

    /// Where docker keeps its config: `$DOCKER_CONFIG/config.json`, else
    /// `~/.docker/config.json`; `None` without `HOME`.
    pub fn docker_config_path() -> Option<PathBuf> {
        docker_config_path()
    }

    /// [`Credentials::from_docker_config`] from the docker config file at `path`.
    ///
    /// # Errors
    /// [`RegistryError::Credentials`] naming the file and what is wrong in it.
    pub fn from_docker_config_at(
        path: &Path,
        registry: &str,
    ) -> Result<Option<Credentials>, RegistryError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(RegistryError::Credentials(format!(
                    "cannot read `{}`: {e}",
                    path.display()
                )));
            }
        };
        Credentials::from_docker_config_text(&text, registry, path)
    }

    /// [`Credentials::from_docker_config`] on the file's text (`path` names it in
    /// errors).
    ///
    /// # Errors
    /// [`RegistryError::Credentials`]: not JSON, an `auth` that is not base64 of
    /// `user:password`.
    pub fn from_docker_config_text(
        text: &str,
        registry: &str,
        path: &Path,
    ) -> Result<Option<Credentials>, RegistryError> {
        let bad =
            |what: String| RegistryError::Credentials(format!("`{}`: {what}", path.display()));
        let config: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| bad(format!("not a docker config file: {e}")))?;
        let Some(auths) = config.get("auths").and_then(|a| a.as_object()) else {
            return Ok(None);
        };
        let wanted = normalize(registry);
        let Some((key, entry)) = auths.iter().find(|(key, _)| normalize(key) == wanted) else {
            return Ok(None);
        };
        if let (Some(username), Some(password)) = (
            entry.get("username").and_then(|u| u.as_str()),
            entry.get("password").and_then(|p| p.as_str()),
        ) {
            return Ok(Some(Credentials {
                username: username.to_owned(),
                password: password.to_owned(),
            }));
        }
        let Some(auth) = entry.get("auth").and_then(|a| a.as_str()) else {
            return Ok(None);
        };
        if auth.is_empty() {
            return Ok(None);
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|e| bad(format!("`auths.{key}.auth` is not base64: {e}")))?;
        let decoded = String::from_utf8(decoded)
            .map_err(|_| bad(format!("`auths.{key}.auth` is not UTF-8 once decoded")))?;
        let Some((username, password)) = decoded.split_once(':') else {
            return Err(bad(format!(
                "`auths.{key}.auth` is not base64 of `user:password` (no `:` in it)"
            )));
        };
        Ok(Some(Credentials {
            username: username.to_owned(),
            password: password.to_owned(),
        }))
    }

    /// `Basic …`, the value of an `Authorization` header.
    pub(crate) fn basic(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME")?;
    Some(PathBuf::from(home).join(".docker").join("config.json"))
}

/// docker's keys are `host[:port]` or a URL (`https://index.docker.io/v1/`): both
/// compare by their host and port.
fn normalize(key: &str) -> String {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let key = key.split('/').next().unwrap_or(key);
    key.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, registry: &str) -> Result<Option<Credentials>, RegistryError> {
        Credentials::from_docker_config_text(text, registry, Path::new("config.json"))
    }

    #[test]
    fn docker_config_auths_give_the_registrys_credentials() {
        // base64("otai:s3cr:et"): the password may hold a colon.
        let text = r#"{"auths": {
            "https://registry.example.com/v1/": {"auth": "b3RhaTpzM2NyOmV0"},
            "127.0.0.1:5000": {"username": "u", "password": "p"},
            "ghcr.io": {}
        }}"#;
        let found = read(text, "registry.example.com").unwrap().unwrap();
        assert_eq!(found.username, "otai");
        assert_eq!(found.password, "s3cr:et");
        assert_eq!(found.basic(), "Basic b3RhaTpzM2NyOmV0");
        let found = read(text, "127.0.0.1:5000").unwrap().unwrap();
        assert_eq!(
            (found.username.as_str(), found.password.as_str()),
            ("u", "p")
        );
        assert_eq!(read(text, "ghcr.io").unwrap(), None);
        assert_eq!(read(text, "127.0.0.1:5001").unwrap(), None);
        assert_eq!(
            read(r#"{"credsStore": "desktop"}"#, "ghcr.io").unwrap(),
            None
        );
        let debug = format!("{found:?}");
        assert!(
            debug.contains("<redacted>") && !debug.contains("\"p\""),
            "{debug}"
        );
    }

    #[test]
    fn a_malformed_docker_config_is_an_error_naming_the_file() {
        let message = read("{", "h").unwrap_err().to_string();
        assert!(
            message.contains("`config.json`: not a docker config file"),
            "{message}"
        );
        let message = read(r#"{"auths": {"h": {"auth": "!!"}}}"#, "h")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("`auths.h.auth` is not base64"),
            "{message}"
        );
        // base64("nocolon")
        let message = read(r#"{"auths": {"h": {"auth": "bm9jb2xvbg=="}}}"#, "h")
            .unwrap_err()
            .to_string();
        assert!(message.contains("no `:`"), "{message}");
    }
}

//! `oci://REGISTRY/NAMESPACE/NAME[:TAG][@sha256:DIGEST]`: what a registry reference may
//! hold, read by the grammar of the OCI distribution specification.

use std::fmt;

use super::RegistryError;

/// The scheme every reference starts with: it tells a registry reference from a path.
pub const SCHEME: &str = "oci://";

/// A module in an OCI registry: the registry's host (and port), the repository, and a
/// tag, a digest or both. A reference with a digest is pinned: a pull by it returns
/// those bytes or fails, whatever the tag now points to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    /// Reads `oci://REGISTRY/NAMESPACE/NAME[:TAG][@sha256:HEX]`.
    ///
    /// # Errors
    /// [`RegistryError::Reference`], naming what is wrong: no `oci://`, no repository,
    /// a repository, tag or digest the distribution specification does not allow.
    pub fn parse(text: &str) -> Result<Reference, RegistryError> {
        let bad = |reason: String| RegistryError::Reference {
            reference: text.to_owned(),
            reason,
        };
        let Some(rest) = text.strip_prefix(SCHEME) else {
            return Err(bad(format!("it does not start with `{SCHEME}`")));
        };
        let (registry, path) = rest.split_once('/').unwrap_or((rest, ""));
        check_registry(registry).map_err(&bad)?;
        if path.is_empty() {
            return Err(bad(format!(
                "it names the registry `{registry}` but no repository"
            )));
        }
        let (path, digest) = match path.split_once('@') {
            Some((path, digest)) => {
                check_digest(digest).map_err(&bad)?;
                (path, Some(digest.to_owned()))
            }
            None => (path, None),
        };
        let last_slash = path.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match path[last_slash..].find(':') {
            Some(colon) => {
                let colon = last_slash + colon;
                let tag = &path[colon + 1..];
                check_tag(tag).map_err(&bad)?;
                (&path[..colon], Some(tag.to_owned()))
            }
            None => (path, None),
        };
        check_repository(repository).map_err(&bad)?;
        Ok(Reference {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            tag,
            digest,
        })
    }

    /// The registry's host, with its port when the reference gives one.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository: `NAMESPACE/NAME`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if the reference has one.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`sha256:…`), if the reference is pinned.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// This reference with `tag` when it has none.
    ///
    /// # Errors
    /// [`RegistryError::Reference`] when `tag` is not a tag the registry accepts.
    pub fn or_tag(mut self, tag: &str) -> Result<Reference, RegistryError> {
        if self.tag.is_none() {
            check_tag(tag).map_err(|reason| RegistryError::Reference {
                reference: format!("{self}:{tag}"),
                reason,
            })?;
            self.tag = Some(tag.to_owned());
        }
        Ok(self)
    }

    /// This reference pinned to `digest` (the tag kept, to say where it came from).
    pub fn pinned(&self, digest: &str) -> Reference {
        Reference {
            digest: Some(digest.to_owned()),
            ..self.clone()
        }
    }

    /// What the registry's API names the manifest by: the digest when pinned, else the
    /// tag, else `latest` (as every registry client does).
    pub(crate) fn manifest_name(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// Whether the registry is this machine: `localhost`, 127.0.0.0/8 or `[::1]`. Only
    /// these are spoken to in plain HTTP without `insecure`; a name that merely resolves
    /// to a loopback address is not, since what it resolves to can change.
    pub fn is_loopback(&self) -> bool {
        let host = match self.registry.rsplit_once(':') {
            Some((host, port))
                if !host.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) =>
            {
                host
            }
            _ => &self.registry,
        };
        if host.eq_ignore_ascii_case("localhost") {
            return true;
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

fn check_registry(registry: &str) -> Result<(), String> {
    if registry.is_empty() {
        return Err("it names no registry after `oci://`".to_owned());
    }
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return Err(format!("the registry `{registry}` has an unclosed `[`"));
        };
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`{v6}` is not an IPv6 address"));
        }
        match after.strip_prefix(':') {
            Some(port) => (v6, Some(port)),
            None if after.is_empty() => (v6, None),
            None => {
                return Err(format!(
                    "the registry `{registry}` has `{after}` after its address"
                ));
            }
        }
    } else {
        match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        }
    };
    if !registry.starts_with('[')
        && (host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'))
    {
        return Err(format!(
            "the registry `{registry}` is not a host name (letters, digits, `.` and `-`) with an optional `:PORT`"
        ));
    }
    if let Some(port) = port
        && port.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Err(format!(
            "the registry's port `{port}` is not a port (1 to 65535)"
        ));
    }
    Ok(())
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`, at most 255
/// bytes: the distribution specification's repository names.
fn check_repository(repository: &str) -> Result<(), String> {
    let expected = "a repository is lowercase letters and digits, separated by `.`, `_`, `__` \
                    or dashes, in parts joined by `/`";
    if repository.is_empty() {
        return Err("it names no repository".to_owned());
    }
    if repository.len() > 255 {
        return Err(format!(
            "the repository is {} bytes long, over the 255 a registry accepts",
            repository.len()
        ));
    }
    for part in repository.split('/') {
        let valid = !part.is_empty()
            && part.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            })
            && part.as_bytes()[0].is_ascii_alphanumeric()
            && part.as_bytes()[part.len() - 1].is_ascii_alphanumeric()
            && !part.contains("..")
            && !part.contains("___")
            && !part.contains("._")
            && !part.contains("_.")
            && !part.contains("-.")
            && !part.contains(".-")
            && !part.contains("-_")
            && !part.contains("_-");
        if !valid {
            return Err(format!(
                "`{part}` in the repository `{repository}`: {expected}"
            ));
        }
    }
    Ok(())
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn check_tag(tag: &str) -> Result<(), String> {
    let valid = !tag.is_empty()
        && tag.len() <= 128
        && (tag.as_bytes()[0].is_ascii_alphanumeric() || tag.as_bytes()[0] == b'_')
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "the tag `{tag}` is not one a registry accepts (1 to 128 letters, digits, `_`, `.` \
             and `-`, not starting with `.` or `-`)"
        ))
    }
}

/// Only sha256 digests: the one algorithm every registry serves, and the one we check.
pub(crate) fn check_digest(digest: &str) -> Result<(), String> {
    match digest.strip_prefix("sha256:") {
        Some(hex)
            if hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "the digest `{digest}` is not `sha256:` and 64 lowercase hexadecimal digits"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> String {
        match Reference::parse(text) {
            Err(RegistryError::Reference { reason, .. }) => reason,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn a_reference_has_its_parts() {
        let r = Reference::parse("oci://127.0.0.1:5000/acme/slack:1.2.0").unwrap();
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "acme/slack");
        assert_eq!(r.tag(), Some("1.2.0"));
        assert_eq!(r.digest(), None);
        assert!(r.is_loopback());
        assert_eq!(r.to_string(), "oci://127.0.0.1:5000/acme/slack:1.2.0");

        let digest = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("oci://ghcr.io/a/b/c@{digest}")).unwrap();
        assert_eq!(r.repository(), "a/b/c");
        assert_eq!(r.tag(), None);
        assert_eq!(r.digest(), Some(digest.as_str()));
        assert!(!r.is_loopback());
        assert_eq!(r.manifest_name(), digest);

        let r = Reference::parse("oci://[::1]:5000/x").unwrap();
        assert!(r.is_loopback());
        assert_eq!(r.manifest_name(), "latest");
        assert!(Reference::parse("oci://localhost/x").unwrap().is_loopback());
        // A name that resolves to a loopback address is still a remote registry.
        assert!(
            !Reference::parse("oci://localtest.me:5000/x")
                .unwrap()
                .is_loopback()
        );
    }

    #[test]
    fn a_bad_reference_says_what_is_wrong() {
        assert!(reason("127.0.0.1:5000/acme/slack").contains("does not start with `oci://`"));
        assert!(reason("oci://127.0.0.1:5000").contains("no repository"));
        assert!(reason("oci://127.0.0.1:5000/").contains("no repository"));
        assert!(reason("oci:///acme/slack").contains("no registry"));
        assert!(reason("oci://host:99999/a").contains("not a port"));
        assert!(reason("oci://ho st/a").contains("not a host name"));
        assert!(reason("oci://h/Acme/slack").contains("`Acme`"));
        assert!(reason("oci://h/acme//slack").contains("lowercase"));
        assert!(reason("oci://h/acme/slack:").contains("the tag ``"));
        assert!(reason("oci://h/acme/slack:-x").contains("the tag `-x`"));
        assert!(reason("oci://h/acme/slack:a/b").contains("`slack:a`"));
        assert!(reason("oci://h/a@sha256:abc").contains("64 lowercase"));
        assert!(reason("oci://h/a@md5:abc").contains("`md5:abc`"));
        let long = format!("oci://h/a:{}", "t".repeat(129));
        assert!(reason(&long).contains("1 to 128"));
    }
}

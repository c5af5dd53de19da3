//! Why a registry operation failed, in words that say what to do.

use super::PASSWORD_ENV;

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The reference is not `oci://REGISTRY/NAMESPACE/NAME[:TAG][@sha256:…]`.
    #[error(
        "`{reference}` is not a registry reference: {reason} (expected \
         oci://REGISTRY/NAMESPACE/NAME[:TAG])"
    )]
    Reference {
        /// What was given.
        reference: String,
        /// What is wrong in it.
        reason: String,
    },
    /// Nothing answered at the registry's address (down, refused, no such host, timeout).
    #[error("the registry `{registry}` cannot be reached ({url}): {reason}")]
    Unreachable {
        /// `host[:port]`.
        registry: String,
        /// The URL asked.
        url: String,
        /// What the connection said.
        reason: String,
    },
    /// The registry wants credentials it was not given, or refused those it was.
    #[error(
        "the registry `{registry}` refused {action} `{repository}` ({status}): {detail}; give \
         credentials with `--username USER` and the password in the environment variable \
         {PASSWORD_ENV}, or with `docker login {registry}` (read from $DOCKER_CONFIG/config.json \
         or ~/.docker/config.json)"
    )]
    Unauthorized {
        /// `host[:port]`.
        registry: String,
        /// The repository.
        repository: String,
        /// `pulling from` or `pushing to`.
        action: &'static str,
        /// 401 or 403.
        status: u16,
        /// Whether credentials were sent, and the registry's own words.
        detail: String,
    },
    /// The tag or digest is not in the repository.
    #[error("`{reference}` is not in the registry: {detail}")]
    NotFound {
        /// The reference asked for.
        reference: String,
        /// The registry's words.
        detail: String,
    },
    /// The registry answered something the distribution API does not: an unexpected
    /// status, a body that is not the JSON it should be.
    #[error("the registry `{registry}` answered {what} with {detail}")]
    Protocol {
        /// `host[:port]`.
        registry: String,
        /// The request.
        what: String,
        /// What came back.
        detail: String,
    },
    /// The manifest is not a plugin's (not the CNCF Wasm layout).
    #[error("`{reference}` is not a WebAssembly plugin: {reason}")]
    NotWasm {
        /// The reference.
        reference: String,
        /// How its manifest differs from the layout.
        reason: String,
    },
    /// A manifest or blob is larger than its bound; it was not read past the bound.
    #[error("{what} of `{reference}` is {size}, over the limit of {limit} bytes")]
    TooLarge {
        /// `the manifest`, `the module`, ….
        what: &'static str,
        /// The reference.
        reference: String,
        /// `N bytes` or `more than N bytes`.
        size: String,
        /// The limit.
        limit: u64,
    },
    /// Bytes whose sha256 is not the digest they were asked by.
    #[error("{what} of `{reference}` has the digest {found}, not {expected}: refused")]
    Digest {
        /// `the manifest` or `the module`.
        what: &'static str,
        /// The reference.
        reference: String,
        /// The digest asked for.
        expected: String,
        /// The digest of the bytes received.
        found: String,
    },
    /// The credentials could not be read.
    #[error("registry credentials: {0}")]
    Credentials(String),
}

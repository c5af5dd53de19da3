//! Plugins in OCI registries (feature `registry`): a client of the OCI distribution API
//! that pushes a module in the CNCF Wasm layout ([`manifest`]) and pulls one back, by
//! tag resolved to a digest and then by that digest, every byte checked against the
//! digest that names it and every read bounded.
//!
//! It is written on ureq, the HTTP client the host already has, rather than on the
//! `oci-client` crate, which would add reqwest, oci-spec, chrono and regex (about 70
//! crates) for the five requests a plugin needs. What it speaks: the API's `/v2/`
//! endpoints, monolithic blob uploads, the `Basic` and `Bearer` (token service)
//! challenges of `WWW-Authenticate`. Plain HTTP only to a loopback registry
//! ([`Reference::is_loopback`]) or with [`RegistryOptions::insecure`].
//!
//! The desk and the CLI share it: `cargo otai-plugin publish` pushes, the desk pulls.

mod credentials;
mod error;
pub mod manifest;
mod reference;
mod transport;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use sha2::Digest as _;
use ureq::http::{Method, StatusCode};

use transport::{header, read_bounded};

pub use credentials::{Credentials, PASSWORD_ENV};
pub use error::RegistryError;
pub use manifest::{Descriptor, Manifest};
pub use reference::{Reference, SCHEME};

use manifest::{CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, WasmConfig};

/// The largest manifest read: real ones are a few hundred bytes; the bound stops a
/// registry that answers with an endless body.
pub const MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;

/// How a [`RegistryClient`] speaks to registries.
#[derive(Clone, Debug)]
pub struct RegistryOptions {
    /// Credentials for basic auth and for the token service. `None`: anonymous.
    pub credentials: Option<Credentials>,
    /// Plain HTTP to registries other than loopback ones (as `--insecure` of oras and
    /// Spin). Off: HTTPS, and HTTPS only, for every registry not on this machine.
    pub insecure: bool,
    /// The largest module pulled (default: the host's default module size limit).
    pub max_module_size: u64,
    /// The largest manifest pulled (default [`MAX_MANIFEST_SIZE`]).
    pub max_manifest_size: u64,
    /// Connecting to the registry gives up after this (default 10 s).
    pub connect_timeout: Duration,
    /// A whole request gives up after this (default 5 min).
    pub timeout: Duration,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            credentials: None,
            insecure: false,
            max_module_size: otai_plugin_abi::limits::DEFAULT_MAX_MODULE_SIZE,
            max_manifest_size: MAX_MANIFEST_SIZE,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(300),
        }
    }
}

/// What [`RegistryClient::push`] stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed {
    /// The reference pinned to the manifest's digest.
    pub reference: Reference,
    /// The manifest's digest, `sha256:…`.
    pub digest: String,
    /// The module's digest, `sha256:…`.
    pub module_digest: String,
}

/// A tag resolved: the manifest it points to now, and its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The reference pinned to [`Resolved::digest`].
    pub reference: Reference,
    /// The manifest's digest, `sha256:…`, computed from the bytes received.
    pub digest: String,
    /// The manifest.
    pub manifest: Manifest,
}

/// A module pulled from a registry, its bytes checked against the manifest's digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pulled {
    /// The reference pinned to the manifest's digest: pulling it again gives these bytes.
    pub reference: Reference,
    /// The manifest's digest.
    pub digest: String,
    /// The manifest (its annotations: what the publisher said of the plugin).
    pub manifest: Manifest,
    /// The module.
    pub module: Vec<u8>,
}

/// A client of OCI registries (one per operation or kept: it remembers the token a
/// registry gave it).
pub struct RegistryClient {
    options: RegistryOptions,
    /// The `Authorization` header that last worked, per registry and scope.
    authorization: Mutex<BTreeMap<String, String>>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// `sha256:` and the hex of `bytes`' SHA-256.
pub fn digest_of(bytes: &[u8]) -> String {
    hex_digest(sha2::Sha256::digest(bytes).as_slice())
}

fn hex_digest(hash: &[u8]) -> String {
    format!("sha256:{}", crate::secrets::hex(hash))
}

enum Access {
    Pull,
    Push,
}

impl Access {
    fn scope(&self, repository: &str) -> String {
        match self {
            Access::Pull => format!("repository:{repository}:pull"),
            Access::Push => format!("repository:{repository}:pull,push"),
        }
    }
    fn action(&self) -> &'static str {
        match self {
            Access::Pull => "pulling from",
            Access::Push => "pushing to",
        }
    }
}

impl RegistryClient {
    /// A client with these options.
    pub fn new(options: RegistryOptions) -> RegistryClient {
        RegistryClient {
            options,
            authorization: Mutex::new(BTreeMap::new()),
        }
    }

    fn agent(&self, reference: &Reference) -> ureq::Agent {
        let plain_http = self.plain_http(reference);
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .https_only(!plain_http)
            // A loopback registry is never reached through a proxy from the environment.
            .proxy(if reference.is_loopback() {
                None
            } else {
                ureq::Proxy::try_from_env()
            })
            .timeout_connect(Some(self.options.connect_timeout))
            .timeout_global(Some(self.options.timeout))
            .user_agent(concat!("otai-plugin/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent()
    }

    fn plain_http(&self, reference: &Reference) -> bool {
        self.options.insecure || reference.is_loopback()
    }

    fn base(&self, reference: &Reference) -> String {
        let scheme = if self.plain_http(reference) {
            "http"
        } else {
            "https"
        };
        format!(
            "{scheme}://{}/v2/{}",
            reference.registry(),
            reference.repository()
        )
    }

    /// Resolves `reference` (by its tag, or its digest when pinned) to a manifest and
    /// the manifest's digest; `Ok(None)` when the tag is not there.
    ///
    /// # Errors
    /// The registry cannot be reached or refuses, the manifest is too large, not JSON,
    /// or (by digest) not the bytes of that digest.
    pub fn resolve(&self, reference: &Reference) -> Result<Option<Resolved>, RegistryError> {
        self.fetch_manifest(reference, Access::Pull)
    }

    fn fetch_manifest(
        &self,
        reference: &Reference,
        access: Access,
    ) -> Result<Option<Resolved>, RegistryError> {
        let agent = self.agent(reference);
        let url = format!(
            "{}/manifests/{}",
            self.base(reference),
            reference.manifest_name()
        );
        let mut response = self.send(
            &agent,
            reference,
            &access,
            Method::GET,
            &url,
            &[("accept", MANIFEST_MEDIA_TYPE)],
            &[],
        )?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok(None),
            status => return Err(self.unexpected(reference, "GET", &url, status, &mut response)),
        }
        let bytes = read_bounded(
            &mut response,
            self.options.max_manifest_size,
            "the manifest",
            reference,
            &url,
        )?;
        let digest = digest_of(&bytes);
        if let Some(expected) = reference.digest()
            && expected != digest
        {
            return Err(RegistryError::Digest {
                what: "the manifest",
                reference: reference.to_string(),
                expected: expected.to_owned(),
                found: digest,
            });
        }
        let manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|e| RegistryError::Protocol {
                registry: reference.registry().to_owned(),
                what: format!("GET {url}"),
                detail: format!("a manifest that is not an OCI image manifest's JSON: {e}"),
            })?;
        Ok(Some(Resolved {
            reference: reference.pinned(&digest),
            digest,
            manifest,
        }))
    }

    /// Pulls the module `reference` names: its tag resolved to a digest, then the
    /// manifest by that digest (or by the reference's own digest, when pinned), then
    /// the module, checked against the manifest's digest for it and bounded by
    /// [`RegistryOptions::max_module_size`].
    ///
    /// # Errors
    /// As [`RegistryClient::resolve`]; [`RegistryError::NotFound`]; the manifest is not
    /// the CNCF Wasm layout; the module is too large or not the bytes of its digest.
    pub fn pull(&self, reference: &Reference) -> Result<Pulled, RegistryError> {
        let resolved = self
            .resolve(reference)?
            .ok_or_else(|| RegistryError::NotFound {
                reference: reference.to_string(),
                detail: "no manifest by that name".to_owned(),
            })?;
        self.pull_resolved(resolved)
    }

    /// Pulls the module of a manifest [`RegistryClient::resolve`] gave: what an install
    /// that showed the plugin first uses, so that the bytes installed are the ones shown
    /// even if the tag moved meanwhile.
    ///
    /// # Errors
    /// As [`RegistryClient::pull`].
    pub fn pull_resolved(&self, resolved: Resolved) -> Result<Pulled, RegistryError> {
        let reference = resolved.reference;
        let layer = resolved
            .manifest
            .module_layer()
            .map_err(|reason| RegistryError::NotWasm {
                reference: reference.to_string(),
                reason,
            })?
            .clone();
        reference::check_digest(&layer.digest).map_err(|reason| RegistryError::NotWasm {
            reference: reference.to_string(),
            reason: format!("its layer: {reason}"),
        })?;
        let limit = self.options.max_module_size;
        if layer.size > limit {
            return Err(RegistryError::TooLarge {
                what: "the module",
                reference: reference.to_string(),
                size: format!("{} bytes (as its manifest says)", layer.size),
                limit,
            });
        }
        let agent = self.agent(&reference);
        let url = format!("{}/blobs/{}", self.base(&reference), layer.digest);
        let mut response = self.send(
            &agent,
            &reference,
            &Access::Pull,
            Method::GET,
            &url,
            &[],
            &[],
        )?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => {
                return Err(RegistryError::NotFound {
                    reference: reference.to_string(),
                    detail: format!(
                        "its manifest names the blob {}, which is not there",
                        layer.digest
                    ),
                });
            }
            status => return Err(self.unexpected(&reference, "GET", &url, status, &mut response)),
        }
        let module = read_bounded(&mut response, limit, "the module", &reference, &url)?;
        let found = digest_of(&module);
        if found != layer.digest {
            return Err(RegistryError::Digest {
                what: "the module",
                reference: reference.to_string(),
                expected: layer.digest,
                found,
            });
        }
        if module.len() as u64 != layer.size {
            return Err(RegistryError::Protocol {
                registry: reference.registry().to_owned(),
                what: format!("GET {url}"),
                detail: format!(
                    "{} bytes where the manifest says {}",
                    module.len(),
                    layer.size
                ),
            });
        }
        Ok(Pulled {
            digest: resolved.digest,
            manifest: resolved.manifest,
            reference,
            module,
        })
    }

    /// What `reference`'s tag points to now, for a push to decide whether it would
    /// replace other content (resolved with push access, which a push has anyway).
    ///
    /// # Errors
    /// As [`RegistryClient::resolve`].
    pub fn existing(&self, reference: &Reference) -> Result<Option<Resolved>, RegistryError> {
        self.fetch_manifest(reference, Access::Push)
    }

    /// Pushes `module` to `reference`'s tag in the CNCF Wasm layout with these
    /// annotations on the manifest. The blobs already there are not sent again.
    ///
    /// # Errors
    /// The registry cannot be reached, refuses, or answers outside the API.
    pub fn push(
        &self,
        reference: &Reference,
        module: &[u8],
        annotations: BTreeMap<String, String>,
    ) -> Result<Pushed, RegistryError> {
        let agent = self.agent(reference);
        let module_digest = digest_of(module);
        // A component's preamble has layer 1 where a core module's has version 1.
        let component = module.get(4..8) == Some(&[0x0d, 0x00, 0x01, 0x00][..]);
        let config = serde_json::to_vec(&WasmConfig {
            created: manifest::now_rfc3339(),
            architecture: "wasm",
            os: if component { "wasip2" } else { "wasip1" },
            layer_digests: vec![module_digest.clone()],
        })
        .expect("the config serializes");
        let config_digest = digest_of(&config);
        self.upload_blob(&agent, reference, &config, &config_digest)?;
        self.upload_blob(&agent, reference, module, &module_digest)?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.to_owned()),
            config: Descriptor {
                media_type: CONFIG_MEDIA_TYPE.to_owned(),
                digest: config_digest,
                size: config.len() as u64,
            },
            layers: vec![Descriptor {
                media_type: LAYER_MEDIA_TYPE.to_owned(),
                digest: module_digest.clone(),
                size: module.len() as u64,
            }],
            annotations,
        };
        let body = serde_json::to_vec(&manifest).expect("the manifest serializes");
        let digest = digest_of(&body);
        let url = format!(
            "{}/manifests/{}",
            self.base(reference),
            reference.manifest_name()
        );
        let mut response = self.send(
            &agent,
            reference,
            &Access::Push,
            Method::PUT,
            &url,
            &[("content-type", MANIFEST_MEDIA_TYPE)],
            &body,
        )?;
        if response.status() != StatusCode::CREATED {
            return Err(self.unexpected(reference, "PUT", &url, response.status(), &mut response));
        }
        if let Some(answered) = header(&response, "docker-content-digest")
            && answered != digest
        {
            return Err(RegistryError::Protocol {
                registry: reference.registry().to_owned(),
                what: format!("PUT {url}"),
                detail: format!("the digest {answered} for a manifest whose digest is {digest}"),
            });
        }
        Ok(Pushed {
            reference: reference.pinned(&digest),
            digest,
            module_digest,
        })
    }

    fn upload_blob(
        &self,
        agent: &ureq::Agent,
        reference: &Reference,
        bytes: &[u8],
        digest: &str,
    ) -> Result<(), RegistryError> {
        let base = self.base(reference);
        let url = format!("{base}/blobs/{digest}");
        let mut response = self.send(
            agent,
            reference,
            &Access::Push,
            Method::HEAD,
            &url,
            &[],
            &[],
        )?;
        match response.status() {
            StatusCode::OK => return Ok(()),
            StatusCode::NOT_FOUND => {}
            status => return Err(self.unexpected(reference, "HEAD", &url, status, &mut response)),
        }
        let url = format!("{base}/blobs/uploads/");
        let mut response = self.send(
            agent,
            reference,
            &Access::Push,
            Method::POST,
            &url,
            &[],
            &[],
        )?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(self.unexpected(reference, "POST", &url, response.status(), &mut response));
        }
        let Some(location) = header(&response, "location") else {
            return Err(RegistryError::Protocol {
                registry: reference.registry().to_owned(),
                what: format!("POST {url}"),
                detail: "202 without the upload's `Location`".to_owned(),
            });
        };
        let location = self.absolute(reference, &location);
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{separator}digest={digest}");
        let mut response = self.send(
            agent,
            reference,
            &Access::Push,
            Method::PUT,
            &url,
            &[("content-type", "application/octet-stream")],
            bytes,
        )?;
        if response.status() != StatusCode::CREATED {
            return Err(self.unexpected(reference, "PUT", &url, response.status(), &mut response));
        }
        Ok(())
    }

    /// The upload URL a registry gives may be a path on the registry.
    fn absolute(&self, reference: &Reference, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_owned()
        } else {
            let scheme = if self.plain_http(reference) {
                "http"
            } else {
                "https"
            };
            format!("{scheme}://{}{location}", reference.registry())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha256_in_lowercase_hex() {
        assert_eq!(
            digest_of(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

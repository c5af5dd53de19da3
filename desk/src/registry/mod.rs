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
pub mod manifest;
mod reference;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::sync::Mutex;
use std::time::Duration;

use sha2::Digest as _;
use ureq::http::{self, Method, StatusCode};

pub use credentials::{Credentials, PASSWORD_ENV};
pub use manifest::{Descriptor, Manifest};
pub use reference::{Reference, SCHEME};

use manifest::{CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, WasmConfig};

/// The largest manifest read: real ones are a few hundred bytes; the bound stops a
/// registry that answers with an endless body.
pub const MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;
/// The largest answer of a token service or an error body read.
const MAX_SMALL_BODY: u64 = 64 * 1024;

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
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for byte in hash {
        out.push_str(&format!("{byte:02x}"));
    }
    out
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

    /// Sends a request with the authorization that worked last for this registry and
    /// scope; on a 401, answers the challenge once (basic, or a token from the token
    /// service) and sends it again.
    #[allow(clippy::too_many_arguments)]
    fn send(
        &self,
        agent: &ureq::Agent,
        reference: &Reference,
        access: &Access,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<http::Response<ureq::Body>, RegistryError> {
        // Credentials and tokens go to the registry only: an upload `Location` may name
        // another host (a storage service), which gets the request without them.
        let scheme = if self.plain_http(reference) {
            "http"
        } else {
            "https"
        };
        if !url.starts_with(&format!("{scheme}://{}/", reference.registry())) {
            let response = self.once(agent, reference, &method, url, headers, body, None)?;
            return self.refused(reference, access, response, false);
        }
        let key = format!(
            "{} {}",
            reference.registry(),
            access.scope(reference.repository())
        );
        let remembered = self
            .authorization
            .lock()
            .expect("not poisoned")
            .get(&key)
            .cloned();
        let response = self.once(
            agent,
            reference,
            &method,
            url,
            headers,
            body,
            remembered.as_deref(),
        )?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return self.refused(reference, access, response, remembered.is_some());
        }
        let challenge = header(&response, "www-authenticate").unwrap_or_default();
        let authorization = self.answer(agent, reference, access, &challenge)?;
        let response = self.once(
            agent,
            reference,
            &method,
            url,
            headers,
            body,
            Some(&authorization),
        )?;
        if response.status() != StatusCode::UNAUTHORIZED
            && response.status() != StatusCode::FORBIDDEN
        {
            self.authorization
                .lock()
                .expect("not poisoned")
                .insert(key, authorization);
        }
        self.refused(reference, access, response, true)
    }

    fn refused(
        &self,
        reference: &Reference,
        access: &Access,
        mut response: http::Response<ureq::Body>,
        sent_credentials: bool,
    ) -> Result<http::Response<ureq::Body>, RegistryError> {
        let status = response.status();
        if status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
            return Ok(response);
        }
        let words = small_body(&mut response);
        let detail = match (sent_credentials, self.options.credentials.is_some()) {
            (true, _) => format!("the credentials were refused: {words}"),
            (false, true) => format!("no access with the credentials given: {words}"),
            (false, false) => format!("no credentials were given: {words}"),
        };
        Err(RegistryError::Unauthorized {
            registry: reference.registry().to_owned(),
            repository: reference.repository().to_owned(),
            action: access.action(),
            status: status.as_u16(),
            detail,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn once(
        &self,
        agent: &ureq::Agent,
        reference: &Reference,
        method: &Method,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        authorization: Option<&str>,
    ) -> Result<http::Response<ureq::Body>, RegistryError> {
        let mut request = http::Request::builder().method(method.clone()).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        let request = request.body(body).map_err(|e| RegistryError::Protocol {
            registry: reference.registry().to_owned(),
            what: format!("{method} {url}"),
            detail: format!("a request that cannot be built: {e}"),
        })?;
        agent
            .run(request)
            .map_err(|e| unreachable(reference, url, e))
    }

    /// The `Authorization` that answers a 401's challenge.
    fn answer(
        &self,
        agent: &ureq::Agent,
        reference: &Reference,
        access: &Access,
        challenge: &str,
    ) -> Result<String, RegistryError> {
        let no_credentials = || RegistryError::Unauthorized {
            registry: reference.registry().to_owned(),
            repository: reference.repository().to_owned(),
            action: access.action(),
            status: 401,
            detail: "no credentials were given".to_owned(),
        };
        let (scheme, params) = parse_challenge(challenge);
        if scheme.eq_ignore_ascii_case("basic") {
            return self
                .options
                .credentials
                .as_ref()
                .map(Credentials::basic)
                .ok_or_else(no_credentials);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(RegistryError::Protocol {
                registry: reference.registry().to_owned(),
                what: "401".to_owned(),
                detail: format!("a challenge this client does not answer: `{challenge}`"),
            });
        }
        let Some(realm) = params.get("realm") else {
            return Err(RegistryError::Protocol {
                registry: reference.registry().to_owned(),
                what: "401".to_owned(),
                detail: format!("a Bearer challenge without a realm: `{challenge}`"),
            });
        };
        // The token service gets the credentials: never over plain HTTP to a host that
        // would not get them in the clear otherwise.
        let mut url = url::Url::parse(realm).map_err(|e| RegistryError::Protocol {
            registry: reference.registry().to_owned(),
            what: "401".to_owned(),
            detail: format!("a token realm `{realm}` that is not a URL: {e}"),
        })?;
        if url.scheme() != "https" && !(url.scheme() == "http" && self.plain_http(reference)) {
            return Err(RegistryError::Protocol {
                registry: reference.registry().to_owned(),
                what: "401".to_owned(),
                detail: format!("a token realm `{realm}` that is not HTTPS"),
            });
        }
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = params.get("service") {
                query.append_pair("service", service);
            }
            let scope = params
                .get("scope")
                .cloned()
                .unwrap_or_else(|| access.scope(reference.repository()));
            query.append_pair("scope", &scope);
        }
        let url = url.to_string();
        let basic = self.options.credentials.as_ref().map(Credentials::basic);
        let mut response = self.once(
            agent,
            reference,
            &Method::GET,
            &url,
            &[],
            &[],
            basic.as_deref(),
        )?;
        if response.status() != StatusCode::OK {
            if matches!(
                response.status(),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
            ) {
                let words = small_body(&mut response);
                return Err(RegistryError::Unauthorized {
                    registry: reference.registry().to_owned(),
                    repository: reference.repository().to_owned(),
                    action: access.action(),
                    status: response.status().as_u16(),
                    detail: if basic.is_some() {
                        format!("the token service refused the credentials: {words}")
                    } else {
                        format!("no credentials were given: {words}")
                    },
                });
            }
            return Err(self.unexpected(reference, "GET", &url, response.status(), &mut response));
        }
        let body = read_bounded(&mut response, MAX_SMALL_BODY, "the token", reference, &url)?;
        let token: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| RegistryError::Protocol {
                registry: reference.registry().to_owned(),
                what: format!("GET {url}"),
                detail: format!("a token answer that is not JSON: {e}"),
            })?;
        let token = token
            .get("token")
            .or_else(|| token.get("access_token"))
            .and_then(|t| t.as_str())
            .ok_or_else(|| RegistryError::Protocol {
                registry: reference.registry().to_owned(),
                what: format!("GET {url}"),
                detail: "a token answer without `token` or `access_token`".to_owned(),
            })?;
        Ok(format!("Bearer {token}"))
    }

    fn unexpected(
        &self,
        reference: &Reference,
        method: &str,
        url: &str,
        status: StatusCode,
        response: &mut http::Response<ureq::Body>,
    ) -> RegistryError {
        RegistryError::Protocol {
            registry: reference.registry().to_owned(),
            what: format!("{method} {url}"),
            detail: format!("{status}: {}", small_body(response)),
        }
    }
}

fn unreachable(reference: &Reference, url: &str, error: ureq::Error) -> RegistryError {
    RegistryError::Unreachable {
        registry: reference.registry().to_owned(),
        url: url.to_owned(),
        reason: error.to_string(),
    }
}

fn header(response: &http::Response<ureq::Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The start of an error body, for a message: at most [`MAX_SMALL_BODY`] read, 300
/// characters shown, control characters dropped.
fn small_body(response: &mut http::Response<ureq::Body>) -> String {
    let mut bytes = Vec::new();
    let _ = response
        .body_mut()
        .as_reader()
        .take(MAX_SMALL_BODY)
        .read_to_end(&mut bytes);
    let text: String = String::from_utf8_lossy(&bytes)
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    if text.trim().is_empty() {
        "(no body)".to_owned()
    } else {
        text.trim().to_owned()
    }
}

/// Reads a body of at most `limit` bytes: refused by its `Content-Length` before any
/// byte is read, and by counting when there is none, so a 3 GB answer costs at most
/// `limit + 1` bytes of memory.
fn read_bounded(
    response: &mut http::Response<ureq::Body>,
    limit: u64,
    what: &'static str,
    reference: &Reference,
    url: &str,
) -> Result<Vec<u8>, RegistryError> {
    let too_large = |size: String| RegistryError::TooLarge {
        what,
        reference: reference.to_string(),
        size,
        limit,
    };
    let declared = header(response, "content-length").and_then(|l| l.trim().parse::<u64>().ok());
    if let Some(length) = declared
        && length > limit
    {
        return Err(too_large(format!("{length} bytes (as the registry says)")));
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(limit) as usize);
    response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .reader()
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| RegistryError::Protocol {
            registry: reference.registry().to_owned(),
            what: format!("GET {url}"),
            detail: format!("{what} cut short: {e}"),
        })?;
    if bytes.len() as u64 > limit {
        return Err(too_large(format!("more than {limit} bytes")));
    }
    Ok(bytes)
}

/// `Bearer realm="…",service="…",scope="…"` into its scheme and parameters.
fn parse_challenge(challenge: &str) -> (String, BTreeMap<String, String>) {
    let challenge = challenge.trim();
    let (scheme, rest) = challenge.split_once(' ').unwrap_or((challenge, ""));
    let mut params = BTreeMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((name, after)) = rest.split_once('=') else {
            break;
        };
        let name = name
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        params.insert(name, value.to_owned());
        rest = remainder.trim_start().trim_start_matches(',').trim_start();
    }
    (scheme.to_owned(), params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_are_read_with_commas_inside_quotes() {
        let (scheme, params) = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(scheme, "Bearer");
        assert_eq!(params["realm"], "https://auth.example.com/token");
        assert_eq!(params["service"], "registry.example.com");
        assert_eq!(params["scope"], "repository:a/b:pull,push");
        let (scheme, params) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!(scheme, "Basic");
        assert_eq!(params["realm"], "Registry Realm");
    }

    #[test]
    fn digests_are_sha256_in_lowercase_hex() {
        assert_eq!(
            digest_of(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

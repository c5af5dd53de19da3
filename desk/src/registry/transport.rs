//! The HTTP under the client: requests with the registry's credentials (and only to the
//! registry), the answer to a 401's challenge (basic, or a token from the token service
//! its `Bearer` challenge names), and bounded reads of every body.

use std::collections::BTreeMap;
use std::io::Read as _;

use ureq::http::{self, Method, StatusCode};

use super::{Access, Credentials, Reference, RegistryClient, RegistryError};

/// The largest answer of a token service or an error body read.
const MAX_SMALL_BODY: u64 = 64 * 1024;

impl RegistryClient {
    /// Sends a request with the authorization that worked last for this registry and
    /// scope; on a 401, answers the challenge once (basic, or a token from the token
    /// service) and sends it again.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send(
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
    pub(super) fn once(
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
        // Plain HTTP to the token service as to a registry: on this machine or with
        // `insecure` only, whatever the registry that names it.
        let loopback = match url.host() {
            Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        let plain_allowed = self.options.insecure || loopback;
        if url.scheme() != "https" && !(url.scheme() == "http" && plain_allowed) {
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

    pub(super) fn unexpected(
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

pub(super) fn header(response: &http::Response<ureq::Body>, name: &str) -> Option<String> {
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
pub(super) fn read_bounded(
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
}

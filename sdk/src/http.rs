//! Outbound HTTP through the host (`ohd_http_request`).
//!
//! Only hosts listed in `allowed_hosts` (in `[package.metadata.ohd]`) can be reached;
//! any other host fails with [`HttpError::NotAllowed`] without a connection being made.
//! Redirects are not followed: a 3xx comes back as a [`Response`]. Responses expose the
//! status and the body (no headers in ABI v1).
//!
//! ```
//! use otai_plugin_sdk::http::{self, HttpError};
//! # otai_plugin_sdk::testing::reset();
//! # otai_plugin_sdk::testing::mock_http("POST", "https://hooks.slack.com/services/x", otai_plugin_sdk::testing::MockResponse::ok("ok"));
//!
//! let response = http::post("https://hooks.slack.com/services/x")
//!     .json(&serde_json::json!({ "text": "New ticket" }))
//!     .send()?;
//! if !response.is_success() {
//!     otai_plugin_sdk::warn!("Slack answered HTTP {}", response.status());
//! }
//! # Ok::<(), HttpError>(())
//! ```

use otai_plugin_abi::calls::{HostError, HostErrorKind};
#[cfg(not(all(target_arch = "wasm32", feature = "component")))]
use otai_plugin_abi::status;
use serde::Deserialize;
use serde::Serialize;

use crate::json::JsonError;

/// An HTTP method the host accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl Method {
    /// The method as sent on the wire, e.g. `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// Starts a `GET` request.
pub fn get(url: impl Into<String>) -> Request {
    Request::new(Method::Get, url)
}

/// Starts a `POST` request.
pub fn post(url: impl Into<String>) -> Request {
    Request::new(Method::Post, url)
}

/// Starts a `PUT` request.
pub fn put(url: impl Into<String>) -> Request {
    Request::new(Method::Put, url)
}

/// Starts a `PATCH` request.
pub fn patch(url: impl Into<String>) -> Request {
    Request::new(Method::Patch, url)
}

/// Starts a `DELETE` request.
pub fn delete(url: impl Into<String>) -> Request {
    Request::new(Method::Delete, url)
}

/// An HTTP request being built; [`Request::send`] performs it.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until `.send()` is called"]
pub struct Request {
    method: Method,
    url: String,
    /// Sorted by name, byte for byte, as the contract's `HttpRequest` (a `BTreeMap`)
    /// writes them; no two names equal in any letter case. A list, not a map: a
    /// plugin sets two or three headers, and the map's code was 3.8 to 6.7 KB of each
    /// example that makes requests (docs/PERFORMANCE.md, "Sizes").
    headers: Vec<(String, String)>,
    body: Option<String>,
    /// A `json()` serialization failure, reported by `send()` so that the builder
    /// chain stays infallible (as in `reqwest`).
    error: Option<String>,
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            error: None,
        }
    }

    /// Sets a header. A header of the same name in any letter case is replaced, since
    /// the host rejects a name given twice.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.headers
            .retain(|(existing, _)| !existing.eq_ignore_ascii_case(&name));
        self.insert_header(name, value.into());
        self
    }

    /// Inserts a header whose name is not there in any letter case, in order.
    fn insert_header(&mut self, name: String, value: String) {
        let at = self
            .headers
            .partition_point(|(existing, _)| existing.as_str() < name.as_str());
        self.headers.insert(at, (name, value));
    }

    /// Sets the body (a UTF-8 string, as the ABI carries it).
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets the body to `value` as JSON, and `Content-Type: application/json` unless a
    /// content type is already set. A serialization failure is returned by
    /// [`Request::send`] as [`HttpError::InvalidRequest`].
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match crate::json::to_string(value) {
            Ok(json) => self.body = Some(json),
            Err(err) => self.error = Some(format!("cannot serialize the JSON body: {err}")),
        }
        if !self
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            self.insert_header("Content-Type".to_owned(), "application/json".to_owned());
        }
        self
    }

    /// Performs the request and waits for the response (bounded by the delivery's
    /// deadline).
    ///
    /// # Errors
    /// An [`HttpError`] when no response came from the server: the host refused the
    /// host name or the request, the network failed, the deadline passed, or the
    /// response was too large. A server's own error status (404, 500, and a 403 the
    /// server sent) is an `Ok` [`Response`].
    pub fn send(self) -> Result<Response, HttpError> {
        if let Some(message) = self.error {
            return Err(HttpError::InvalidRequest { message });
        }
        perform(self)
    }
}

/// The core flavour: the request as JSON, the answer as a status and a body.
#[cfg(not(all(target_arch = "wasm32", feature = "component")))]
fn perform(request: Request) -> Result<Response, HttpError> {
    let json = crate::wire::request_json(
        request.method.as_str(),
        &request.url,
        &request.headers,
        request.body.as_deref(),
    );
    let (status, body) = crate::host_functions::ohd_http_request(json.as_bytes());
    response_from_host(status, body)
}

/// The component flavour: the request as a record, the answer as a typed result.
#[cfg(all(target_arch = "wasm32", feature = "component"))]
fn perform(request: Request) -> Result<Response, HttpError> {
    let request = otai_plugin_abi::calls::HttpRequest {
        method: request.method.as_str().to_owned(),
        url: request.url,
        headers: request.headers.into_iter().collect(),
        body: request.body,
    };
    crate::host_functions::ohd_http_request(request)
        .map(|(status, body)| Response { status, body })
        .map_err(host_error)
}

/// Turns what `ohd_http_request` returned into a response or a typed error.
#[cfg(not(all(target_arch = "wasm32", feature = "component")))]
pub(crate) fn response_from_host(status: u32, body: Vec<u8>) -> Result<Response, HttpError> {
    let error = match status {
        status::HTTP_NO_RESPONSE | status::HTTP_HOST_NOT_ALLOWED => {
            crate::wire::host_error_body(&body)
        }
        _ => None,
    };
    if let Some(error) = error {
        return Err(host_error(error));
    }
    match u16::try_from(status) {
        Ok(code) if code != 0 => Ok(Response { status: code, body }),
        _ => Err(HttpError::Unrecognized {
            status,
            message: String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned(),
        }),
    }
}

/// The error for what the host said in place of a response (in either flavour).
fn host_error(error: HostError) -> HttpError {
    let message = error.message;
    match error.kind {
        HostErrorKind::HostNotAllowed => HttpError::NotAllowed {
            host: error.host.unwrap_or_default(),
            message,
        },
        HostErrorKind::AddressNotAllowed => HttpError::AddressNotAllowed {
            host: error.host.unwrap_or_default(),
            message,
        },
        HostErrorKind::InvalidRequest => HttpError::InvalidRequest { message },
        HostErrorKind::Network => HttpError::Network { message },
        HostErrorKind::Timeout => HttpError::Timeout { message },
        HostErrorKind::ResponseTooLarge => HttpError::ResponseTooLarge { message },
    }
}

/// A server's response: status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    status: u16,
    body: Vec<u8>,
}

impl Response {
    /// The HTTP status code, e.g. 200.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body, taking ownership.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// The body as text.
    ///
    /// # Errors
    /// When the body is not UTF-8.
    pub fn text(&self) -> Result<&str, core::str::Utf8Error> {
        core::str::from_utf8(&self.body)
    }

    /// The body decoded from JSON with [`crate::json::from_slice`]: `T` may borrow
    /// strings from the body.
    ///
    /// # Errors
    /// When the body is not JSON of type `T`.
    pub fn json<'a, T: Deserialize<'a>>(&'a self) -> Result<T, JsonError> {
        crate::json::from_slice(&self.body)
    }
}

/// Why an HTTP request produced no response from the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The URL's host is not in `allowed_hosts`; nothing was sent (status 403 with the
    /// host's error body).
    #[error(
        "host `{host}` is not allowed: add it to `allowed_hosts` in `[package.metadata.ohd]` of Cargo.toml"
    )]
    NotAllowed {
        /// The host name that was refused.
        host: String,
        /// The host's explanation.
        message: String,
    },
    /// The host name is allowed, but it resolves only to addresses of the help desk's own
    /// network (loopback, private, link-local, …), which the help desk does not connect
    /// plugins to; nothing was sent (status 0). A plugin built as a component sees
    /// [`HttpError::Network`] instead, with the same message (docs/ABI.md section 14).
    #[error("HTTP request refused: {message}")]
    AddressNotAllowed {
        /// The URL's host.
        host: String,
        /// The host's explanation, naming the addresses.
        message: String,
    },
    /// The host rejected the request before sending it (bad method, URL or headers),
    /// or the SDK could not serialize it.
    #[error("invalid HTTP request: {message}")]
    InvalidRequest {
        /// What is wrong with it.
        message: String,
    },
    /// Connecting, sending or receiving failed.
    #[error("HTTP request failed: {message}")]
    Network {
        /// The host's explanation.
        message: String,
    },
    /// The delivery's deadline passed before the response arrived.
    #[error("HTTP request timed out: {message}")]
    Timeout {
        /// The host's explanation.
        message: String,
    },
    /// The response body was larger than the host accepts (4 MiB).
    #[error("HTTP response too large: {message}")]
    ResponseTooLarge {
        /// The host's explanation.
        message: String,
    },
    /// The host returned a status the SDK cannot interpret (0 without an error body, or
    /// an error kind newer than this SDK).
    #[error("HTTP request failed with host status {status}: {message}")]
    Unrecognized {
        /// The status `ohd_http_request` returned.
        status: u32,
        /// The start of the body, decoded lossily.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u32, body: &str) -> HttpError {
        response_from_host(status, body.as_bytes().to_vec()).unwrap_err()
    }

    #[test]
    fn host_denial_is_an_error_but_a_servers_403_is_a_response() {
        let denial =
            r#"{"ohd_error":{"kind":"host_not_allowed","message":"denied","host":"evil.example"}}"#;
        assert_eq!(
            err(403, denial),
            HttpError::NotAllowed {
                host: "evil.example".into(),
                message: "denied".into()
            }
        );
        let server = response_from_host(403, b"{\"error\":\"forbidden\"}".to_vec()).unwrap();
        assert_eq!(server.status(), 403);
        assert!(!server.is_success());
    }

    #[test]
    fn status_zero_maps_each_kind() {
        let body = |kind: &str| format!(r#"{{"ohd_error":{{"kind":"{kind}","message":"m"}}}}"#);
        assert_eq!(
            err(0, &body("network")),
            HttpError::Network {
                message: "m".into()
            }
        );
        assert_eq!(
            err(0, &body("timeout")),
            HttpError::Timeout {
                message: "m".into()
            }
        );
        assert_eq!(
            err(0, &body("invalid_request")),
            HttpError::InvalidRequest {
                message: "m".into()
            }
        );
        assert_eq!(
            err(0, &body("response_too_large")),
            HttpError::ResponseTooLarge {
                message: "m".into()
            }
        );
        let refused =
            r#"{"ohd_error":{"kind":"address_not_allowed","message":"m","host":"a.example"}}"#;
        assert_eq!(
            err(0, refused),
            HttpError::AddressNotAllowed {
                host: "a.example".into(),
                message: "m".into()
            }
        );
        assert!(matches!(
            err(0, &body("teleport_failed")),
            HttpError::Unrecognized { status: 0, .. }
        ));
        assert!(matches!(
            err(0, ""),
            HttpError::Unrecognized { status: 0, .. }
        ));
    }

    #[test]
    fn header_replaces_any_case_and_json_sets_content_type_once() {
        let r = post("https://a.example/")
            .header("content-type", "text/plain")
            .header("X-Token", "1")
            .header("x-token", "2")
            .json(&[1, 2]);
        let pairs: Vec<(&str, &str)> = r
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(pairs, [("content-type", "text/plain"), ("x-token", "2")]);
        assert_eq!(r.body.as_deref(), Some("[1,2]"));
    }

    /// The order `wire::request_json` writes them in is the contract's map's.
    #[test]
    fn headers_are_kept_in_the_order_of_the_contracts_map() {
        let names = [
            "X-Token",
            "content-type",
            "Authorization",
            "B",
            "a",
            "X-A",
            "é",
            "0",
        ];
        let mut r = post("https://a.example/");
        let mut map = std::collections::BTreeMap::new();
        for (i, name) in names.into_iter().enumerate() {
            r = r.header(name, i.to_string());
            map.insert(name.to_owned(), i.to_string());
        }
        r = r.header("x-token", "again");
        map.remove("X-Token");
        map.insert("x-token".to_owned(), "again".to_owned());
        let in_map: Vec<(String, String)> = map.into_iter().collect();
        assert_eq!(r.headers, in_map);
    }

    #[test]
    fn json_serialization_failure_is_reported_by_send() {
        let mut bad = std::collections::BTreeMap::new();
        bad.insert((1, 2), "tuple keys are not JSON");
        let e = post("https://a.example/").json(&bad).send().unwrap_err();
        assert!(matches!(e, HttpError::InvalidRequest { .. }), "{e:?}");
    }

    #[test]
    fn response_accessors() {
        let r = response_from_host(200, br#"{"id":7}"#.to_vec()).unwrap();
        assert_eq!(r.text().unwrap(), r#"{"id":7}"#);
        let v: serde_json::Value = r.json().unwrap();
        assert_eq!(v["id"], 7);
        assert_eq!(response_from_host(204, Vec::new()).unwrap().body(), b"");
    }
}

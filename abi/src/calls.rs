//! JSON exchanged through host functions.
//!
//! Every request type rejects unknown and duplicate fields, so a typo in a plugin is a
//! [`crate::status::INVALID_REQUEST`] rather than a silently ignored field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The request JSON of `ohd_http_request`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRequest {
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE` or `HEAD` (case-sensitive, as in HTTP).
    pub method: String,
    /// An absolute `http` or `https` URL whose host is in `allowed_hosts`.
    pub url: String,
    /// Request headers. Names are case-insensitive; a name given twice (in any case) is
    /// an invalid request.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "unique_headers"
    )]
    pub headers: BTreeMap<String, String>,
    /// The request body, as a UTF-8 string. Absent means no body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// The HTTP methods a plugin may use.
pub const HTTP_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// Request headers a plugin may not set (compared case-insensitively), because they
/// decide where and how the request travels, which is the host's to decide: `Host` would
/// reach another virtual host of an allowed address, the framing headers would let a
/// plugin smuggle a second request. Every `Proxy-*` header is refused too
/// ([`REFUSED_HEADER_PREFIX`]).
pub const REFUSED_HEADERS: &[&str] = &[
    "Host",
    "Connection",
    "Content-Length",
    "Transfer-Encoding",
    "TE",
    "Trailer",
    "Upgrade",
    "Keep-Alive",
];

/// Every request header whose name starts with this (in any case) is refused.
pub const REFUSED_HEADER_PREFIX: &str = "Proxy-";

/// Whether a plugin may not set the header `name` ([`REFUSED_HEADERS`],
/// [`REFUSED_HEADER_PREFIX`]).
pub fn is_refused_header(name: &str) -> bool {
    REFUSED_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
        || name
            .get(..REFUSED_HEADER_PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(REFUSED_HEADER_PREFIX))
}

/// The payload of `ohd_add_reply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddReply {
    /// The ticket of the event being delivered.
    pub ticket_id: String,
    /// The reply text; must not be empty.
    pub body: String,
    /// `true` for an internal note that the submitter does not see.
    #[serde(default)]
    pub is_internal: bool,
}

/// The payload of `ohd_set_custom_field`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetCustomField {
    /// The ticket of the event being delivered.
    pub ticket_id: String,
    /// The field key: 1 to [`crate::limits::MAX_CUSTOM_FIELD_KEY`] bytes.
    pub key: String,
    /// The value: at most [`crate::limits::MAX_CUSTOM_FIELD_VALUE`] bytes.
    pub value: String,
}

/// The response body the host writes when `ohd_http_request` did not get a response
/// from a server (status 0) or refused the host (status 403):
/// `{"ohd_error":{"kind":"host_not_allowed","message":"…","host":"evil.example"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostErrorBody {
    /// What went wrong.
    pub ohd_error: HostError,
}

/// The error inside a [`HostErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostError {
    /// Which failure this is.
    pub kind: HostErrorKind,
    /// A human-readable explanation, for logs.
    pub message: String,
    /// The URL's host, for `host_not_allowed` and `address_not_allowed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// The kinds of [`HostError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostErrorKind {
    /// Status 403: the URL's host is not in `allowed_hosts`; nothing was sent.
    HostNotAllowed,
    /// Status 0: the URL's host resolved only to addresses of the host's own network
    /// (loopback, private, link-local, …; `rules::address` decides which); nothing was
    /// sent.
    AddressNotAllowed,
    /// Status 0: the request JSON, method, URL or headers are invalid; nothing was sent.
    InvalidRequest,
    /// Status 0: connecting, sending or receiving failed.
    Network,
    /// Status 0: the delivery's deadline ran out before the response arrived.
    Timeout,
    /// Status 0: the response body was larger than [`crate::limits::MAX_HTTP_RESPONSE`].
    ResponseTooLarge,
}

impl HostErrorKind {
    /// Every kind, in the order of docs/ABI.md section 5.
    pub const ALL: [HostErrorKind; 6] = [
        HostErrorKind::HostNotAllowed,
        HostErrorKind::AddressNotAllowed,
        HostErrorKind::InvalidRequest,
        HostErrorKind::Network,
        HostErrorKind::Timeout,
        HostErrorKind::ResponseTooLarge,
    ];

    /// The wire name, e.g. `host_not_allowed`.
    pub fn as_str(self) -> &'static str {
        match self {
            HostErrorKind::HostNotAllowed => "host_not_allowed",
            HostErrorKind::AddressNotAllowed => "address_not_allowed",
            HostErrorKind::InvalidRequest => "invalid_request",
            HostErrorKind::Network => "network",
            HostErrorKind::Timeout => "timeout",
            HostErrorKind::ResponseTooLarge => "response_too_large",
        }
    }

    /// The status code `ohd_http_request` returns with this error.
    pub fn status(self) -> u32 {
        match self {
            HostErrorKind::HostNotAllowed => crate::status::HTTP_HOST_NOT_ALLOWED,
            _ => crate::status::HTTP_NO_RESPONSE,
        }
    }
}

/// Deserializes a header object, rejecting a name that appears twice in any case:
/// serde's map would otherwise keep the last one silently.
fn unique_headers<'de, D>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = BTreeMap<String, String>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of header names to string values")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut headers = BTreeMap::new();
            let mut seen = std::collections::BTreeSet::new();
            while let Some((name, value)) = map.next_entry::<String, String>()? {
                if !seen.insert(name.to_ascii_lowercase()) {
                    return Err(serde::de::Error::custom(format_args!(
                        "header `{name}` is given more than once"
                    )));
                }
                headers.insert(name, value);
            }
            Ok(headers)
        }
    }
    deserializer.deserialize_map(Visitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_headers_in_any_case_are_rejected() {
        let json = r#"{"method":"GET","url":"https://a.example/","headers":{"X-A":"1","x-a":"2"}}"#;
        let err = serde_json::from_str::<HttpRequest>(json).unwrap_err();
        assert!(
            err.to_string()
                .contains("header `x-a` is given more than once"),
            "{err}"
        );
    }

    #[test]
    fn refused_headers_in_any_case() {
        for name in [
            "Host",
            "host",
            "HOST",
            "Content-Length",
            "te",
            "Proxy-Authorization",
            "proxy-x",
        ] {
            assert!(is_refused_header(name), "{name}");
        }
        for name in [
            "Authorization",
            "X-Host",
            "Hostname",
            "Proxy",
            "Content-Type",
            "Tea",
        ] {
            assert!(!is_refused_header(name), "{name}");
        }
    }

    #[test]
    fn duplicate_and_unknown_fields_are_rejected() {
        let dup = r#"{"ticket_id":"t","body":"a","body":"b"}"#;
        assert!(serde_json::from_str::<AddReply>(dup).is_err());
        let unknown = r#"{"ticket_id":"t","key":"k","value":"v","colour":"red"}"#;
        assert!(serde_json::from_str::<SetCustomField>(unknown).is_err());
    }

    #[test]
    fn host_error_body_shape() {
        let body = HostErrorBody {
            ohd_error: HostError {
                kind: HostErrorKind::HostNotAllowed,
                message: "not allowed".into(),
                host: Some("evil.example".into()),
            },
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"ohd_error":{"kind":"host_not_allowed","message":"not allowed","host":"evil.example"}}"#
        );
        assert_eq!(HostErrorKind::Timeout.status(), 0);
        for kind in HostErrorKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert_eq!(HostErrorKind::HostNotAllowed.status(), 403);
    }
}

//! The JSON of the host calls in the core flavour, written and read without serde: the
//! payloads of `ohd_http_request`, `ohd_add_reply` and `ohd_set_custom_field`, and the
//! error body the host answers an HTTP request with when no server responded. The
//! shapes are the contract's (`otai_plugin_abi::calls`); the tests below hold this code
//! to their serde implementations, byte for byte where the SDK writes.
//!
//! Why by hand: serde's derived serializers and the error body's derived deserializer
//! were about 5 KB of every plugin that makes HTTP requests (docs/PERFORMANCE.md,
//! "Sizes"), for fixed shapes of three or four fields.

use otai_plugin_abi::calls::{AddReply, HostError, HostErrorKind, SetCustomField};

use crate::json::{Reader, write_string};

/// The request as the contract's `HttpRequest` serializes it: members in its order,
/// `headers` left out when empty and `body` when absent. `headers` are in the order
/// the contract's map has them (sorted by name).
pub(crate) fn request_json(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&str>,
) -> String {
    let mut out = String::with_capacity(40 + url.len() + body.map_or(0, str::len));
    out.push_str(r#"{"method":"#);
    write_string(&mut out, method);
    out.push_str(r#","url":"#);
    write_string(&mut out, url);
    if !headers.is_empty() {
        out.push_str(r#","headers":"#);
        let mut separator = '{';
        for (name, value) in headers {
            out.push(separator);
            separator = ',';
            write_string(&mut out, name);
            out.push(':');
            write_string(&mut out, value);
        }
        out.push('}');
    }
    if let Some(body) = body {
        out.push_str(r#","body":"#);
        write_string(&mut out, body);
    }
    out.push('}');
    out
}

/// The payload of `ohd_add_reply`, as the contract's `AddReply` serializes it.
pub(crate) fn add_reply_json(payload: &AddReply) -> String {
    let mut out = String::with_capacity(48 + payload.ticket_id.len() + payload.body.len());
    out.push_str(r#"{"ticket_id":"#);
    write_string(&mut out, &payload.ticket_id);
    out.push_str(r#","body":"#);
    write_string(&mut out, &payload.body);
    out.push_str(if payload.is_internal {
        r#","is_internal":true}"#
    } else {
        r#","is_internal":false}"#
    });
    out
}

/// The payload of `ohd_set_custom_field`, as the contract's `SetCustomField` serializes
/// it.
pub(crate) fn set_custom_field_json(payload: &SetCustomField) -> String {
    let mut out = String::with_capacity(
        40 + payload.ticket_id.len() + payload.key.len() + payload.value.len(),
    );
    out.push_str(r#"{"ticket_id":"#);
    write_string(&mut out, &payload.ticket_id);
    out.push_str(r#","key":"#);
    write_string(&mut out, &payload.key);
    out.push_str(r#","value":"#);
    write_string(&mut out, &payload.value);
    out.push('}');
    out
}

/// The error in a host's error body (`{"ohd_error":{"kind":…,"message":…,"host":…}}`),
/// or `None` if `body` is not one, as the contract's `HostErrorBody` decides: other
/// members are ignored, a member written twice or an unknown kind is not one.
pub(crate) fn host_error_body(body: &[u8]) -> Option<HostError> {
    let r = &mut Reader::new(core::str::from_utf8(body).ok()?);
    let mut error = None;
    members(r, &mut |r, key| {
        if key != "ohd_error" {
            return r.skip().ok().map(drop);
        }
        if error.is_some() {
            return None;
        }
        error = Some(host_error(r)?);
        Some(())
    })?;
    r.end().ok()?;
    error
}

fn host_error(r: &mut Reader<'_>) -> Option<HostError> {
    let (mut kind, mut message, mut host) = (None, None, None);
    members(r, &mut |r, key| {
        match key {
            "kind" if kind.is_none() => {
                let name = r.string().ok()?;
                kind = Some(*HostErrorKind::ALL.iter().find(|k| k.as_str() == name)?);
            }
            "message" if message.is_none() => message = Some(r.string().ok()?.into_owned()),
            "host" if host.is_none() => {
                host = Some(if r.null().ok()? {
                    None
                } else {
                    Some(r.string().ok()?.into_owned())
                });
            }
            "kind" | "message" | "host" => return None,
            _ => drop(r.skip().ok()?),
        }
        Some(())
    })?;
    Some(HostError {
        kind: kind?,
        message: message?,
        host: host.flatten(),
    })
}

/// Reads the object next in `r`, handing each member's key to `member` with the cursor
/// at its value; `None` if it is not an object or `member` refuses one.
///
/// Not generic, and out of line: the reader's functions it inlines are in the plugin once.
#[inline(never)]
fn members<'a>(
    r: &mut Reader<'a>,
    member: &mut dyn FnMut(&mut Reader<'a>, &str) -> Option<()>,
) -> Option<()> {
    r.begin_object().ok()?;
    let mut first = true;
    while let Some(key) = r.next_key(first).ok()? {
        first = false;
        member(r, &key)?;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use otai_plugin_abi::calls::{HostErrorBody, HttpRequest};

    use super::*;

    #[test]
    fn requests_are_written_as_the_contract_serializes_them() {
        let headers = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let requests = [
            HttpRequest {
                method: "GET".into(),
                url: "https://example.com/".into(),
                headers: BTreeMap::new(),
                body: None,
            },
            HttpRequest {
                method: "POST".into(),
                url: "https://hooks.slack.com/services/T0/B0/x?q=\"1\"&r=é".into(),
                headers: headers(&[
                    ("Content-Type", "application/json"),
                    ("Authorization", "Bearer a\\b"),
                    ("X-Control", "tab\there\u{1}\u{7f}"),
                ]),
                body: Some(r#"{"text":"line 1\nline 2 \"quoted\" </script>"}"#.into()),
            },
            HttpRequest {
                method: "PUT".into(),
                url: String::new(),
                headers: headers(&[("A", "")]),
                body: Some(String::new()),
            },
        ];
        for request in requests {
            let contract = serde_json::to_string(&request).unwrap();
            // In the map's order, as `http::Request` keeps them.
            let headers: Vec<(String, String)> = request.headers.clone().into_iter().collect();
            let json = request_json(
                &request.method,
                &request.url,
                &headers,
                request.body.as_deref(),
            );
            assert_eq!(json, contract);
            let back: HttpRequest = serde_json::from_str(&json).unwrap();
            assert_eq!(back, request);
        }
    }

    #[test]
    fn ticket_payloads_are_written_as_the_contract_serializes_them() {
        for (text, internal) in [("", false), ("Line 1\n\"quoted\" \\ \u{1} é", true)] {
            let reply = AddReply {
                ticket_id: format!("T-{text}"),
                body: text.to_owned(),
                is_internal: internal,
            };
            assert_eq!(
                add_reply_json(&reply),
                serde_json::to_string(&reply).unwrap()
            );
            let field = SetCustomField {
                ticket_id: format!("T-{text}"),
                key: format!("k{text}"),
                value: text.to_owned(),
            };
            assert_eq!(
                set_custom_field_json(&field),
                serde_json::to_string(&field).unwrap()
            );
        }
    }

    #[test]
    fn error_bodies_are_read_as_the_contract_reads_them() {
        let mut bodies = vec![
            String::new(),
            "not json".into(),
            "{}".into(),
            "null".into(),
            r#"{"ohd_error":null}"#.into(),
            r#"{"ohd_error":{}}"#.into(),
            r#"{"ohd_error":{"kind":"network"}}"#.into(),
            r#"{"ohd_error":{"message":"m"}}"#.into(),
            r#"{"ohd_error":{"kind":"network","message":null}}"#.into(),
            r#"{"ohd_error":{"kind":"networks","message":"m"}}"#.into(),
            r#"{"ohd_error":{"kind":7,"message":"m"}}"#.into(),
            r#"{"ohd_error":{"kind":"network","message":"m","host":null}}"#.into(),
            r#"{"ohd_error":{"kind":"network","message":"m","host":3}}"#.into(),
            r#"{"ohd_error":{"kind":"network","message":"m","kind":"timeout"}}"#.into(),
            r#"{"ohd_error":{"kind":"network","message":"m"},"ohd_error":{}}"#.into(),
            r#"{"ohd_error":{"kind":"network","message":"m"},"ohd_error":{"kind":"network","message":"m"}}"#.into(),
            r#"{"ohd_error":{"kind":"network","message":"m","host":"a","host":"b"}}"#.into(),
            r#"{"ohd_error":{"kind":"network","message":"m","message":"m"}}"#.into(),
            r#"{"ohd_error":{"kind":"network","message":"m","retry":[1,{"a":null}]}}"#.into(),
            r#"{"other":{"x":1},"ohd_error":{"message":"a \"b\"\n","kind":"timeout"}}"#.into(),
            r#"{"ohd_error":{"kind":"network","message":"m"}} trailing"#.into(),
            r#"{"ohd_error":{"kind":"network","message":"m"},}"#.into(),
            r#"{"ohd_error":{"kind":"network","message":"m"}"#.into(),
        ];
        for kind in HostErrorKind::ALL {
            for host in [None, Some("evil.example")] {
                bodies.push(
                    serde_json::to_string(&HostErrorBody {
                        ohd_error: HostError {
                            kind,
                            message: format!("{} happened", kind.as_str()),
                            host: host.map(str::to_owned),
                        },
                    })
                    .unwrap(),
                );
            }
        }
        let mut read = 0;
        for body in &bodies {
            let contract = serde_json::from_str::<HostErrorBody>(body)
                .ok()
                .map(|b| b.ohd_error);
            assert_eq!(host_error_body(body.as_bytes()), contract, "{body}");
            read += usize::from(contract.is_some());
        }
        // Three hand-written bodies, and every kind with and without a host.
        let readable = 3 + 2 * HostErrorKind::ALL.len();
        assert_eq!(read, readable, "the corpus has both kinds of body");
    }
}

//! What the delivery log keeps of a delivery beside its report, so that it can be run
//! again as a fixture ([`crate::fixture_export`]): the payload as the plugin received it
//! without its `config` (the config is the installation's, written from the stored one
//! with every secret a placeholder), and each response body whole.
//!
//! The host is told to report response bodies whole (up to the ABI's 4 MiB); the log
//! keeps each whole up to [`KEPT_BODY_MAX`], and past it the body's SHA-256 and length
//! only, and the report itself keeps the first 16 KiB as it always did, so that the
//! pages and `desk log` read what they read before.

use otai_plugin_host::{DeliveryReport, Event};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::secrets::hex;

/// The largest response body the log keeps whole: 256 KiB. A larger one is kept as its
/// digest, and a fixture written from it asks for the body.
pub const KEPT_BODY_MAX: usize = 256 * 1024;

/// How much of a response body the stored report keeps, as a host does by default.
const REPORT_BODY_MAX: usize = 16 * 1024;

/// A delivery as the log keeps it to run it again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReplayRecord {
    /// The payload the plugin received, without `config`.
    pub(crate) payload: Value,
    /// Each exchange's response body, in the order of the report's `http`.
    pub(crate) bodies: Vec<KeptBody>,
}

/// One response body as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeptBody {
    /// No response (a refused request, a network error, a timeout).
    None,
    /// The body, whole (lossy UTF-8, secrets redacted, as reports write bodies).
    Whole(String),
    /// A body over [`KEPT_BODY_MAX`]: its SHA-256 (of the text as reports write it) and
    /// its length in bytes.
    Digest {
        /// Lower-case hex.
        sha256: String,
        /// Its length in bytes.
        bytes: usize,
    },
}

/// Takes the response bodies out of `report` as the log keeps them, leaving in the
/// report the first 16 KiB of each, as a host reports by default.
pub(crate) fn take_bodies(report: &mut DeliveryReport) -> Vec<KeptBody> {
    report
        .http
        .iter_mut()
        .map(|exchange| {
            let Some(body) = &mut exchange.response_body else {
                return KeptBody::None;
            };
            let kept = if body.len() > KEPT_BODY_MAX {
                KeptBody::Digest {
                    sha256: hex(&Sha256::digest(body.as_bytes())),
                    bytes: body.len(),
                }
            } else {
                KeptBody::Whole(body.clone())
            };
            if body.len() > REPORT_BODY_MAX {
                let mut end = REPORT_BODY_MAX;
                while !body.is_char_boundary(end) {
                    end -= 1;
                }
                body.truncate(end);
            }
            kept
        })
        .collect()
}

/// The payloads of `event` as the host gave it to each plugin of `reports` (in the
/// host's order, plugin id order): without `config`, and with the custom fields the
/// plugins before it set on the event's ticket, which the host merges in from its
/// ticket store. Each is JSON, written once for plugins that received the same.
pub(crate) fn payloads(event: &Event, reports: &[DeliveryReport]) -> Vec<String> {
    let mut payload = event.payload().clone();
    if let Some(map) = payload.as_object_mut() {
        map.remove("config");
    }
    let ticket_id = event.ticket_id().to_owned();
    let mut written = payload.to_string();
    let mut out = Vec::with_capacity(reports.len());
    for report in reports {
        out.push(written.clone());
        let mut set = report
            .custom_fields
            .iter()
            .filter(|f| f.ticket_id == ticket_id)
            .peekable();
        if set.peek().is_some() {
            if let Some(ticket) = payload.get_mut("ticket").and_then(Value::as_object_mut) {
                let fields = ticket
                    .entry("custom_fields")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(fields) = fields.as_object_mut() {
                    for field in set {
                        fields.insert(field.key.clone(), Value::String(field.value.clone()));
                    }
                }
            }
            written = payload.to_string();
        }
    }
    out
}

/// The record's JSON from a payload already written and the bodies.
pub(crate) fn record_json(payload: &str, bodies: &[KeptBody]) -> String {
    // Plain data: serializing cannot fail.
    let bodies = serde_json::to_string(bodies).unwrap_or_else(|_| "[]".to_owned());
    format!(r#"{{"payload":{payload},"bodies":{bodies}}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;
    use otai_plugin_host::{HttpExchange, Outcome, Timings};

    fn report(bodies: &[Option<String>]) -> DeliveryReport {
        DeliveryReport {
            plugin_id: "com.example.a".into(),
            event: "ticket.created".into(),
            outcome: Outcome::Ok,
            logs: Vec::new(),
            http: bodies
                .iter()
                .map(|b| HttpExchange {
                    request: serde_json::from_value(
                        serde_json::json!({"method": "GET", "url": "https://a.example/"}),
                    )
                    .unwrap(),
                    status: 200,
                    blocked: false,
                    error: None,
                    response_body: b.clone(),
                })
                .collect(),
            replies: Vec::new(),
            custom_fields: Vec::new(),
            calls: Vec::new(),
            fuel: None,
            profile: None,
            timings: Timings::default(),
        }
    }

    #[test]
    fn bodies_are_kept_whole_up_to_the_limit_and_as_a_digest_past_it() {
        let small = "é".repeat(10_000); // 20,000 bytes: over what the report keeps
        let large = "x".repeat(KEPT_BODY_MAX + 1);
        let mut r = report(&[None, Some(small.clone()), Some(large.clone())]);
        let kept = take_bodies(&mut r);
        assert_eq!(kept[0], KeptBody::None);
        assert_eq!(kept[1], KeptBody::Whole(small));
        assert_eq!(
            kept[2],
            KeptBody::Digest {
                sha256: hex(&Sha256::digest(large.as_bytes())),
                bytes: KEPT_BODY_MAX + 1
            }
        );
        // The report keeps what it kept before, cut on a character.
        let cut = r.http[1].response_body.as_ref().unwrap();
        assert_eq!(cut.len(), REPORT_BODY_MAX);
        assert_eq!(
            r.http[2].response_body.as_ref().unwrap().len(),
            REPORT_BODY_MAX
        );
        let json = record_json("{}", &kept[..1]);
        let back: ReplayRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back.bodies, [KeptBody::None]);
    }

    #[test]
    fn a_later_plugin_is_recorded_with_the_fields_an_earlier_one_set() {
        let event = Event::ticket_created();
        let mut first = report(&[]);
        first.custom_fields.push(otai_plugin_host::CustomFieldSet {
            ticket_id: event.ticket_id().to_owned(),
            key: "team".into(),
            value: "ops".into(),
        });
        let payloads = payloads(&event, &[first, report(&[])]);
        let a: Value = serde_json::from_str(&payloads[0]).unwrap();
        let b: Value = serde_json::from_str(&payloads[1]).unwrap();
        assert!(a.get("config").is_none());
        assert_eq!(a["ticket"]["custom_fields"], serde_json::json!({}));
        assert_eq!(
            b["ticket"]["custom_fields"],
            serde_json::json!({"team": "ops"})
        );
    }
}

//! PagerDuty: pages the on-call team when a `Critical` ticket is created, and resolves
//! the incident when the ticket is resolved or closed.
//!
//! It speaks the PagerDuty Events API v2 (`POST https://events.pagerduty.com/v2/enqueue`).
//! The incident's dedup key is stored on the ticket as the custom field
//! `pagerduty_dedup_key`, so the later `ticket.resolved`/`ticket.closed` event finds it
//! in its payload: a plugin instance lives for one delivery and remembers nothing.
//! See README.md for the configuration and the failure policy.

use otai_plugin_sdk::prelude::*;
use otai_plugin_sdk::{Ticket, http::Response};

/// The Events API v2 endpoint.
const ENQUEUE_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// The custom field holding the dedup key of the ticket's incident.
pub const DEDUP_KEY_FIELD: &str = "pagerduty_dedup_key";
/// The custom field recording whether the incident was resolved (`triggered` or
/// `resolved`), so that closing a resolved ticket sends nothing.
pub const STATUS_FIELD: &str = "pagerduty_status";

/// The installation's configuration (`[package.metadata.ohd.config]` in Cargo.toml,
/// which `Config` holds it to when the crate compiles). The host fills in the declared
/// defaults, so the fields need no serde defaults.
// No `Debug`: the config holds a decrypted secret, which must not reach a log line.
#[derive(Deserialize, Config)]
pub struct Config {
    /// The Events API v2 integration key of the service to page.
    routing_key: String,
    /// The severity of the incidents opened.
    severity: Severity,
    /// The incident's source; empty means the help desk's host name.
    source: String,
}

/// PagerDuty's four severities (the `severity` select).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// `critical` (the default: the plugin only pages for Critical tickets).
    #[default]
    Critical,
    /// `error`
    Error,
    /// `warning`
    Warning,
    /// `info`
    Info,
}

/// An Events API v2 event (the fields this plugin sends). No `Debug`: it holds the
/// routing key.
#[derive(Serialize)]
struct PdEvent<'a> {
    routing_key: &'a str,
    event_action: &'static str,
    dedup_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<PdPayload<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<PdLink<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_url: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct PdPayload<'a> {
    summary: String,
    source: String,
    severity: Severity,
    timestamp: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    class: Option<&'a str>,
    custom_details: CustomDetails<'a>,
}

#[derive(Debug, Serialize)]
struct CustomDetails<'a> {
    ticket_id: &'a str,
    ticket_url: &'a str,
    priority: &'a str,
    category: Option<&'a str>,
    submitter: &'a str,
}

#[derive(Debug, Serialize)]
struct PdLink<'a> {
    href: &'a str,
    text: String,
}

/// What the Events API answers: `202 {"status":"success","message":"Event processed",
/// "dedup_key":"…"}`, or `400 {"status":"invalid event","message":…,"errors":[…]}`.
#[derive(Debug, Default, Deserialize)]
struct EnqueueResponse {
    #[serde(default)]
    status: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    dedup_key: Option<String>,
    #[serde(default)]
    errors: Vec<String>,
}

/// The plugin. The SDK creates one per event: it keeps no state.
#[derive(Default)]
pub struct PagerDuty;

#[plugin]
impl Plugin for PagerDuty {
    type Config = Config;

    fn on_event(&mut self, event: Event<'_, Config>) -> Result<()> {
        match event.kind {
            EventKind::TicketCreated if is_critical(&event.ticket) => trigger(&event),
            EventKind::TicketCreated => {
                debug!(
                    "ticket {} is {}, not Critical: not paging",
                    event.ticket.id, event.ticket.priority
                );
                Ok(())
            }
            EventKind::TicketResolved | EventKind::TicketClosed => resolve(&event),
            _ => {
                debug!(
                    "ignoring `{}`: not an event this plugin handles",
                    event.name()
                );
                Ok(())
            }
        }
    }
}

fn is_critical(ticket: &Ticket<'_>) -> bool {
    ticket.priority.eq_ignore_ascii_case("critical")
}

/// The dedup key of a ticket's incident: stable, so a repeated delivery of the same
/// `ticket.created` updates the same incident instead of opening a second one.
fn dedup_key(ticket_id: &str) -> String {
    format!("ohd-{ticket_id}")
}

/// Opens (or, for the same dedup key, updates) the incident and records it on the ticket.
fn trigger(event: &Event<'_, Config>) -> Result<()> {
    let ticket = &event.ticket;
    let key = dedup_key(&ticket.id);
    let body = trigger_event(event, &key);
    let response = match http::post(ENQUEUE_URL).json(&body).send() {
        Ok(response) => response,
        Err(err) => return on_http_error(err, "trigger", &ticket.id),
    };
    let answer = check_response(&response, "trigger", &ticket.id)?;
    let Some(answer) = answer else { return Ok(()) };
    // PagerDuty echoes the key it used; it is the one `resolve` must send.
    let key = answer.dedup_key.filter(|k| !k.is_empty()).unwrap_or(key);
    ticket::set_custom_field(&ticket.id, DEDUP_KEY_FIELD, &key)?;
    ticket::set_custom_field(&ticket.id, STATUS_FIELD, "triggered")?;
    ticket::add_reply(
        &ticket.id,
        &format!(
            "Paged the on-call team through PagerDuty (severity {}, dedup key `{key}`). \
             The incident is resolved when this ticket is resolved or closed.",
            severity_name(event.config.severity)
        ),
        true,
    )?;
    info!(
        "triggered PagerDuty incident `{key}` for ticket {}",
        ticket.id
    );
    Ok(())
}

/// Resolves the ticket's incident, if it has one that is not resolved yet.
fn resolve(event: &Event<'_, Config>) -> Result<()> {
    let ticket = &event.ticket;
    let Some(key) = ticket
        .custom_fields
        .get(DEDUP_KEY_FIELD)
        .filter(|k| !k.is_empty())
    else {
        debug!(
            "ticket {} has no PagerDuty incident: nothing to resolve",
            ticket.id
        );
        return Ok(());
    };
    if ticket
        .custom_fields
        .get(STATUS_FIELD)
        .is_some_and(|s| s == "resolved")
    {
        debug!(
            "PagerDuty incident `{key}` of ticket {} is already resolved",
            ticket.id
        );
        return Ok(());
    }
    let body = PdEvent {
        routing_key: &event.config.routing_key,
        event_action: "resolve",
        dedup_key: &key,
        payload: None,
        links: Vec::new(),
        client: None,
        client_url: None,
    };
    let response = match http::post(ENQUEUE_URL).json(&body).send() {
        Ok(response) => response,
        Err(err) => return on_http_error(err, "resolve", &ticket.id),
    };
    if check_response(&response, "resolve", &ticket.id)?.is_none() {
        return Ok(());
    }
    ticket::set_custom_field(&ticket.id, STATUS_FIELD, "resolved")?;
    ticket::add_reply(
        &ticket.id,
        &format!(
            "Resolved the PagerDuty incident `{key}` ({}).",
            event.name()
        ),
        true,
    )?;
    info!(
        "resolved PagerDuty incident `{key}` of ticket {}",
        ticket.id
    );
    Ok(())
}

fn trigger_event<'a>(event: &'a Event<'_, Config>, key: &'a str) -> PdEvent<'a> {
    let ticket = &event.ticket;
    let category = ticket.category.as_deref().filter(|c| !c.is_empty());
    PdEvent {
        routing_key: &event.config.routing_key,
        event_action: "trigger",
        dedup_key: key,
        payload: Some(PdPayload {
            summary: summary(ticket),
            source: source(&event.config.source, &ticket.url),
            severity: event.config.severity,
            timestamp: &event.occurred_at,
            class: category,
            custom_details: CustomDetails {
                ticket_id: &ticket.id,
                ticket_url: &ticket.url,
                priority: &ticket.priority,
                category,
                submitter: &ticket.submitter.name,
            },
        }),
        links: vec![PdLink {
            href: &ticket.url,
            text: format!("Help desk ticket {}", ticket.id),
        }],
        client: Some("Open Help Desk"),
        client_url: Some(&ticket.url),
    }
}

/// PagerDuty's limit on `payload.summary`, in characters.
const MAX_SUMMARY_CHARS: usize = 1024;

fn summary(ticket: &Ticket<'_>) -> String {
    let summary = format!("{} ticket: {}", ticket.priority, ticket.subject);
    if summary.chars().count() <= MAX_SUMMARY_CHARS {
        return summary;
    }
    let mut cut: String = summary.chars().take(MAX_SUMMARY_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// The configured source, else the host name of the ticket URL (where the incident
/// comes from, as PagerDuty means it), else a fixed name.
fn source(configured: &str, ticket_url: &str) -> String {
    let configured = configured.trim();
    if !configured.is_empty() {
        return configured.to_owned();
    }
    url_host(ticket_url).unwrap_or("open-help-desk").to_owned()
}

/// The host of an `http(s)://host[:port]/…` URL.
fn url_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = if host.starts_with('[') {
        host.split_inclusive(']').next()?
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// Sorts an answer of the Events API:
/// - 2xx: `Ok(Some(answer))` (a body that is not the documented JSON is tolerated);
/// - 429 and 5xx: PagerDuty's trouble, logged at error level, `Ok(None)`;
/// - any other status (400 for an invalid event or routing key, …): a configuration
///   fault every delivery would repeat, so `Err` (the delivery fails).
fn check_response(
    response: &Response,
    action: &str,
    ticket: &str,
) -> Result<Option<EnqueueResponse>> {
    let status = response.status();
    let answer: EnqueueResponse = response.json().unwrap_or_default();
    if response.is_success() {
        if answer.status != "success" {
            warn!(
                "PagerDuty accepted the {action} for ticket {ticket} with HTTP {status} but an unexpected body: {}",
                body_excerpt(response.body())
            );
        }
        return Ok(Some(answer));
    }
    let detail = if answer.message.is_empty() && answer.errors.is_empty() {
        body_excerpt(response.body())
    } else {
        let mut detail = answer.message.clone();
        for error in &answer.errors {
            detail.push_str("; ");
            detail.push_str(error);
        }
        detail
    };
    if status == 429 || status >= 500 {
        error!(
            "PagerDuty could not take the {action} for ticket {ticket}: HTTP {status}: {detail}"
        );
        Ok(None)
    } else {
        Err(Error::msg(format!(
            "PagerDuty refused the {action} for ticket {ticket} with HTTP {status}: {detail} (check `routing_key`)"
        )))
    }
}

/// The start of a response body for a log line.
fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    let mut excerpt: String = text.chars().take(200).collect();
    if excerpt.len() < text.len() {
        excerpt.push('…');
    }
    excerpt
}

/// A request the host refused is a fault every delivery would repeat: it fails the
/// delivery. Network errors and timeouts are logged at error level and the delivery
/// succeeds, so that a network outage does not get the plugin disabled.
fn on_http_error(err: HttpError, action: &str, ticket: &str) -> Result<()> {
    match err {
        err @ (HttpError::NotAllowed { .. } | HttpError::InvalidRequest { .. }) => Err(Error::msg(
            format!("could not send the PagerDuty {action} for ticket {ticket}: {err}"),
        )),
        other => {
            error!("could not send the PagerDuty {action} for ticket {ticket}: {other}");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use otai_plugin_sdk::log::Level;
    use otai_plugin_sdk::serde_json::{self, Value, json};
    use otai_plugin_sdk::testing::{self, MockResponse};

    use super::*;

    const KEY: &str = "R0UT1NGKEY0000000000000000000000";

    fn payload(kind: EventKind, config: Value, ticket: Value) -> String {
        let mut payload: Value = serde_json::from_str(&testing::payload(kind, config)).unwrap();
        if let (Some(target), Some(patch)) = (payload["ticket"].as_object_mut(), ticket.as_object())
        {
            for (k, v) in patch {
                target.insert(k.clone(), v.clone());
            }
        }
        payload.to_string()
    }

    fn accepted(dedup_key: &str) -> MockResponse {
        MockResponse::status(
            202,
            json!({ "status": "success", "message": "Event processed", "dedup_key": dedup_key })
                .to_string(),
        )
    }

    fn sent(delivery: &testing::Delivery<()>) -> Value {
        assert_eq!(delivery.http.len(), 1, "{:?}", delivery.http);
        assert_eq!(delivery.http[0].url, ENQUEUE_URL);
        serde_json::from_str(delivery.http[0].body.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn critical_ticket_triggers_and_records_the_dedup_key() {
        testing::mock_http(
            "POST",
            ENQUEUE_URL,
            accepted("ohd-01JQXYZ8K2M4N6P8R0T2V4W6Y8"),
        );
        let delivery = testing::deliver::<PagerDuty>(&payload(
            EventKind::TicketCreated,
            json!({ "routing_key": KEY }),
            json!({ "priority": "Critical" }),
        ));
        assert!(delivery.result.is_ok(), "{:?}", delivery.result);
        assert_eq!(
            sent(&delivery),
            json!({
                "routing_key": KEY,
                "event_action": "trigger",
                "dedup_key": "ohd-01JQXYZ8K2M4N6P8R0T2V4W6Y8",
                "payload": {
                    "summary": "Critical ticket: New laptop request",
                    "source": "helpdesk.example.com",
                    "severity": "critical",
                    "timestamp": "2026-04-05T14:00:00Z",
                    "class": "Hardware",
                    "custom_details": {
                        "ticket_id": "01JQXYZ8K2M4N6P8R0T2V4W6Y8",
                        "ticket_url": "https://helpdesk.example.com/tickets/01JQXYZ8K2M4N6P8R0T2V4W6Y8",
                        "priority": "Critical",
                        "category": "Hardware",
                        "submitter": "Sam Ortiz"
                    }
                },
                "links": [{ "href": "https://helpdesk.example.com/tickets/01JQXYZ8K2M4N6P8R0T2V4W6Y8", "text": "Help desk ticket 01JQXYZ8K2M4N6P8R0T2V4W6Y8" }],
                "client": "Open Help Desk",
                "client_url": "https://helpdesk.example.com/tickets/01JQXYZ8K2M4N6P8R0T2V4W6Y8"
            })
        );
        let fields: Vec<(&str, &str)> = delivery
            .custom_fields
            .iter()
            .map(|f| (f.key.as_str(), f.value.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (DEDUP_KEY_FIELD, "ohd-01JQXYZ8K2M4N6P8R0T2V4W6Y8"),
                (STATUS_FIELD, "triggered")
            ]
        );
        assert_eq!(delivery.replies.len(), 1);
        assert!(delivery.replies[0].is_internal);
        assert!(
            delivery.replies[0]
                .body
                .contains("dedup key `ohd-01JQXYZ8K2M4N6P8R0T2V4W6Y8`")
        );
    }

    #[test]
    fn the_key_pagerduty_answers_is_the_one_stored() {
        testing::mock_http("POST", ENQUEUE_URL, accepted("pd-chosen"));
        let delivery = testing::deliver::<PagerDuty>(&payload(
            EventKind::TicketCreated,
            json!({ "routing_key": KEY, "severity": "warning", "source": "helpdesk-eu" }),
            json!({ "priority": "Critical" }),
        ));
        let body = sent(&delivery);
        assert_eq!(body["payload"]["severity"], "warning");
        assert_eq!(body["payload"]["source"], "helpdesk-eu");
        assert_eq!(delivery.custom_fields[0].value, "pd-chosen");
    }

    #[test]
    fn non_critical_tickets_page_nobody() {
        for priority in ["Low", "Medium", "High"] {
            let delivery = testing::deliver::<PagerDuty>(&payload(
                EventKind::TicketCreated,
                json!({ "routing_key": KEY }),
                json!({ "priority": priority }),
            ));
            assert!(delivery.result.is_ok());
            assert!(delivery.http.is_empty() && delivery.replies.is_empty());
        }
    }

    #[test]
    fn resolving_a_paged_ticket_resolves_the_incident() {
        testing::mock_http(
            "POST",
            ENQUEUE_URL,
            accepted("ohd-01JQXYZ8K2M4N6P8R0T2V4W6Y8"),
        );
        for kind in [EventKind::TicketResolved, EventKind::TicketClosed] {
            let delivery = testing::deliver::<PagerDuty>(&payload(
                kind,
                json!({ "routing_key": KEY }),
                json!({ "custom_fields": { DEDUP_KEY_FIELD: "ohd-01JQXYZ8K2M4N6P8R0T2V4W6Y8", STATUS_FIELD: "triggered" } }),
            ));
            assert!(delivery.result.is_ok(), "{:?}", delivery.result);
            assert_eq!(
                sent(&delivery),
                json!({ "routing_key": KEY, "event_action": "resolve", "dedup_key": "ohd-01JQXYZ8K2M4N6P8R0T2V4W6Y8" })
            );
            assert_eq!(delivery.custom_fields[0].value, "resolved");
        }
    }

    #[test]
    fn resolving_sends_nothing_without_an_open_incident() {
        for fields in [
            json!({}),
            json!({ DEDUP_KEY_FIELD: "ohd-01JQXYZ8K2M4N6P8R0T2V4W6Y8", STATUS_FIELD: "resolved" }),
        ] {
            let delivery = testing::deliver::<PagerDuty>(&payload(
                EventKind::TicketClosed,
                json!({ "routing_key": KEY }),
                json!({ "custom_fields": fields }),
            ));
            assert!(delivery.result.is_ok());
            assert!(delivery.http.is_empty());
        }
    }

    #[test]
    fn an_invalid_event_fails_the_delivery_with_pagerduty_s_reasons() {
        testing::mock_http(
            "POST",
            ENQUEUE_URL,
            MockResponse::status(
                400,
                r#"{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]}"#,
            ),
        );
        let delivery = testing::deliver::<PagerDuty>(&payload(
            EventKind::TicketCreated,
            json!({ "routing_key": "short" }),
            json!({ "priority": "Critical" }),
        ));
        let err = delivery.result.unwrap_err();
        assert_eq!(
            err.message(),
            "PagerDuty refused the trigger for ticket 01JQXYZ8K2M4N6P8R0T2V4W6Y8 with HTTP 400: Event object is invalid; \
             Length of 'routing_key' is incorrect (should be 32 characters) (check `routing_key`)"
        );
        assert!(delivery.custom_fields.is_empty());
    }

    #[test]
    fn outages_are_logged_without_failing_the_delivery() {
        for response in [
            MockResponse::status(503, "upstream unavailable"),
            MockResponse::timeout(),
        ] {
            testing::mock_http("POST", ENQUEUE_URL, response);
            let delivery = testing::deliver::<PagerDuty>(&payload(
                EventKind::TicketCreated,
                json!({ "routing_key": KEY }),
                json!({ "priority": "Critical" }),
            ));
            assert!(delivery.result.is_ok());
            assert_eq!(delivery.logs.last().unwrap().level, Level::Error);
            assert!(delivery.custom_fields.is_empty() && delivery.replies.is_empty());
        }
    }

    #[test]
    fn events_outside_the_manifest_are_not_delivered() {
        // The host does not run the plugin on them, and neither does the stand-in.
        for kind in EventKind::ALL {
            if matches!(
                kind,
                EventKind::TicketCreated | EventKind::TicketResolved | EventKind::TicketClosed
            ) {
                continue;
            }
            let expected = format!("does not subscribe to `{kind}`");
            let delivery = testing::deliver::<PagerDuty>(&payload(
                kind,
                json!({ "routing_key": KEY }),
                json!({ "priority": "Critical", "custom_fields": { DEDUP_KEY_FIELD: "ohd-01JQXYZ8K2M4N6P8R0T2V4W6Y8" } }),
            ));
            let refusal = delivery.result.expect_err("not subscribed");
            assert!(
                refusal.message().contains(&expected),
                "{}",
                refusal.message()
            );
            assert!(delivery.http.is_empty() && delivery.replies.is_empty());
        }
    }

    #[test]
    fn url_host_handles_ports_userinfo_and_ipv6() {
        assert_eq!(
            url_host("https://helpdesk.example.com/tickets/1"),
            Some("helpdesk.example.com")
        );
        assert_eq!(url_host("http://desk.example:8080?x"), Some("desk.example"));
        assert_eq!(url_host("https://u:p@desk.example/"), Some("desk.example"));
        assert_eq!(url_host("http://[::1]:8080/"), Some("[::1]"));
        assert_eq!(url_host("ftp://desk.example/"), None);
        assert_eq!(source("", "not a url"), "open-help-desk");
    }

    #[test]
    fn long_subjects_fit_pagerduty_s_summary_limit() {
        let mut ticket = testing::ticket();
        ticket.subject = "ü".repeat(2000).into();
        let s = summary(&ticket);
        assert_eq!(s.chars().count(), MAX_SUMMARY_CHARS);
        assert!(s.ends_with('…'));
    }
}

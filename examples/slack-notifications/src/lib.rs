//! Slack notifications: posts a message to a Slack incoming webhook when a ticket is
//! created or resolved.
//!
//! The message links to the ticket; a new `Critical` ticket can mention `@channel`
//! (`mention_on_critical`). See README.md for the configuration and the failure policy:
//! a Slack outage is logged but does not fail the delivery, a webhook URL outside
//! `allowed_hosts` does.

use otai_plugin_sdk::prelude::*;
use otai_plugin_sdk::{Ticket, http::Response};

/// The installation's configuration (`[package.metadata.ohd.config]` in Cargo.toml,
/// which `Config` holds it to when the crate compiles). The host fills in the declared
/// defaults, so the fields need no serde defaults.
// No `Debug`: the config holds a decrypted secret, which must not reach a log line.
#[derive(Deserialize, Config)]
pub struct Config {
    /// The incoming webhook URL: a secret, since anyone holding it can post.
    webhook_url: String,
    /// The channel to post to; empty means the webhook's own channel.
    channel: String,
    /// Whether a new `Critical` ticket mentions `@channel`.
    mention_on_critical: bool,
}

/// The JSON body of an incoming webhook call.
#[derive(Debug, Serialize, PartialEq, Eq)]
struct SlackMessage<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    channel: &'a str,
    text: String,
}

/// The plugin. The SDK creates one per event: it keeps no state.
#[derive(Default)]
pub struct SlackNotifications;

#[plugin]
impl Plugin for SlackNotifications {
    type Config = Config;

    fn on_event(&mut self, event: Event<'_, Config>) -> Result<()> {
        let Some(text) = message_text(&event) else {
            // The manifest subscribes to two events only; another one means a host
            // that ignores the subscription, which is not worth a failed delivery.
            debug!(
                "ignoring `{}`: not an event this plugin posts",
                event.name()
            );
            return Ok(());
        };
        let message = SlackMessage {
            channel: event.config.channel.trim(),
            text,
        };
        let ticket = &event.ticket.id;
        match http::post(&event.config.webhook_url).json(&message).send() {
            Ok(response) => {
                log_response(&response, event.name(), ticket);
                Ok(())
            }
            Err(err) => on_http_error(err, ticket),
        }
    }
}

/// The message for an event, or `None` for an event the plugin does not post.
fn message_text(event: &Event<'_, Config>) -> Option<String> {
    let ticket = &event.ticket;
    match &event.kind {
        EventKind::TicketCreated => {
            let mention = event.config.mention_on_critical && is_critical(ticket);
            Some(created_text(ticket, mention))
        }
        EventKind::TicketResolved => {
            let notes = match &event.data {
                EventData::Resolved { resolution_notes } => resolution_notes.as_ref(),
                _ => "",
            };
            Some(resolved_text(ticket, notes))
        }
        _ => None,
    }
}

fn is_critical(ticket: &Ticket<'_>) -> bool {
    ticket.priority.eq_ignore_ascii_case("critical")
}

/// `:ticket: New High ticket: <url|subject>` and, on a second line, the category and
/// the submitter.
fn created_text(ticket: &Ticket<'_>, mention: bool) -> String {
    let mut text = String::new();
    if mention {
        text.push_str("<!channel> ");
    }
    text.push_str(":ticket: New ");
    text.push_str(&escape(&ticket.priority));
    text.push_str(" ticket: ");
    text.push_str(&link(&ticket.url, &ticket.subject));
    text.push('\n');
    if let Some(category) = ticket.category.as_deref().filter(|c| !c.is_empty()) {
        text.push_str(&escape(category));
        text.push_str(" · ");
    }
    text.push_str("from ");
    text.push_str(&escape(&ticket.submitter.name));
    text
}

/// How much of the resolution notes the message quotes: a notification, not a copy.
const MAX_NOTES_CHARS: usize = 300;

/// `:white_check_mark: Resolved: <url|subject>` and the resolution notes, quoted.
fn resolved_text(ticket: &Ticket<'_>, notes: &str) -> String {
    let mut text = String::from(":white_check_mark: Resolved: ");
    text.push_str(&link(&ticket.url, &ticket.subject));
    let notes = notes.trim();
    if !notes.is_empty() {
        let mut quoted = truncate_chars(notes, MAX_NOTES_CHARS);
        if quoted.len() < notes.len() {
            quoted.push('…');
        }
        for line in quoted.lines() {
            text.push_str("\n> ");
            text.push_str(&escape(line));
        }
    }
    text
}

fn truncate_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Slack's link syntax. `<`, `>` and `|` would end the URL early, so they are
/// percent-encoded; the label is escaped as any message text.
fn link(url: &str, label: &str) -> String {
    let url = url
        .replace('<', "%3C")
        .replace('>', "%3E")
        .replace('|', "%7C")
        .replace(' ', "%20");
    format!("<{url}|{}>", escape(label))
}

/// Escapes the three characters Slack treats as markup: `&`, `<`, `>`. Without it a
/// subject such as `<!here> urgent` would notify a whole channel.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Slack answers `200 ok`; anything else is logged with the start of its body, which
/// names the problem (`invalid_token`, `channel_not_found`, `no_service`, …).
fn log_response(response: &Response, event: &str, ticket: &str) {
    if response.status() == 200 {
        info!("posted `{event}` of ticket {ticket} to Slack");
    } else {
        warn!(
            "Slack answered HTTP {} to `{event}` of ticket {ticket}: {}",
            response.status(),
            body_excerpt(response.body())
        );
    }
}

/// The start of a response body for a log line.
fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    let mut excerpt = truncate_chars(text, 200);
    if excerpt.len() < text.len() {
        excerpt.push('…');
    }
    excerpt
}

/// Failure policy: a request the host refused is a configuration fault that every
/// delivery would repeat, so it fails the delivery (and counts against the plugin's
/// health, which alerts the admins). Network errors and timeouts are Slack's or the
/// network's trouble: they are logged at error level and the delivery succeeds, so a
/// Slack outage does not get the plugin disabled.
fn on_http_error(err: HttpError, ticket: &str) -> Result<()> {
    match err {
        HttpError::NotAllowed { host, .. } => Err(Error::msg(format!(
            "the webhook URL's host `{host}` is not allowed: set `webhook_url` to a Slack incoming webhook (https://hooks.slack.com/services/…)"
        ))),
        HttpError::InvalidRequest { message } => Err(Error::msg(format!(
            "the host refused the request to the webhook URL ({message}): check `webhook_url`"
        ))),
        other => {
            error!("could not post ticket {ticket} to Slack: {other}");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use otai_plugin_sdk::log::Level;
    use otai_plugin_sdk::serde_json::{Value, json};
    use otai_plugin_sdk::testing::{self, MockResponse};

    use super::*;

    const HOOK: &str = "https://hooks.slack.com/services/T000/B000/XXXX";

    /// A payload of `kind` with `config`, the ticket patched by `ticket`.
    fn payload(kind: EventKind, config: Value, ticket: Value) -> String {
        let mut payload: Value =
            otai_plugin_sdk::serde_json::from_str(&testing::payload(kind, config)).unwrap();
        if let (Some(target), Some(patch)) = (payload["ticket"].as_object_mut(), ticket.as_object())
        {
            for (k, v) in patch {
                target.insert(k.clone(), v.clone());
            }
        }
        payload.to_string()
    }

    fn sent_json(delivery: &testing::Delivery<()>) -> Value {
        assert_eq!(delivery.http.len(), 1, "{:?}", delivery.http);
        otai_plugin_sdk::serde_json::from_str(delivery.http[0].body.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn created_posts_channel_and_linked_subject() {
        testing::mock_http("POST", HOOK, MockResponse::ok("ok"));
        let delivery = testing::deliver::<SlackNotifications>(&payload(
            EventKind::TicketCreated,
            json!({ "webhook_url": HOOK }),
            json!({}),
        ));
        assert!(delivery.result.is_ok(), "{:?}", delivery.result);
        assert_eq!(
            sent_json(&delivery),
            json!({
                "channel": "#support",
                "text": ":ticket: New Medium ticket: <https://helpdesk.example.com/tickets/01JQXYZ8K2M4N6P8R0T2V4W6Y8|New laptop request>\nHardware · from Sam Ortiz"
            })
        );
        assert_eq!(delivery.http[0].headers["Content-Type"], "application/json");
        assert_eq!(delivery.logs[0].level, Level::Info);
        assert_eq!(
            delivery.logs[0].message,
            "posted `ticket.created` of ticket 01JQXYZ8K2M4N6P8R0T2V4W6Y8 to Slack"
        );
    }

    #[test]
    fn critical_mentions_channel_only_when_configured() {
        testing::mock_http("POST", HOOK, MockResponse::ok("ok"));
        let critical = json!({ "priority": "Critical" });
        let on = testing::deliver::<SlackNotifications>(&payload(
            EventKind::TicketCreated,
            json!({ "webhook_url": HOOK, "mention_on_critical": true }),
            critical.clone(),
        ));
        assert!(
            sent_json(&on)["text"]
                .as_str()
                .unwrap()
                .starts_with("<!channel> :ticket: New Critical")
        );
        let off = testing::deliver::<SlackNotifications>(&payload(
            EventKind::TicketCreated,
            json!({ "webhook_url": HOOK }),
            critical,
        ));
        assert!(
            !sent_json(&off)["text"]
                .as_str()
                .unwrap()
                .contains("<!channel>")
        );
        let high = testing::deliver::<SlackNotifications>(&payload(
            EventKind::TicketCreated,
            json!({ "webhook_url": HOOK, "mention_on_critical": true }),
            json!({ "priority": "High" }),
        ));
        assert!(
            !sent_json(&high)["text"]
                .as_str()
                .unwrap()
                .contains("<!channel>")
        );
    }

    #[test]
    fn resolved_quotes_the_resolution_notes_without_mentioning() {
        testing::mock_http("POST", HOOK, MockResponse::ok("ok"));
        let delivery = testing::deliver::<SlackNotifications>(&payload(
            EventKind::TicketResolved,
            json!({ "webhook_url": HOOK, "channel": "#it-ops", "mention_on_critical": true }),
            json!({ "priority": "Critical" }),
        ));
        assert_eq!(
            sent_json(&delivery),
            json!({
                "channel": "#it-ops",
                "text": ":white_check_mark: Resolved: <https://helpdesk.example.com/tickets/01JQXYZ8K2M4N6P8R0T2V4W6Y8|New laptop request>\n> Replacement laptop delivered."
            })
        );
    }

    #[test]
    fn empty_channel_leaves_the_webhook_default() {
        testing::mock_http("POST", HOOK, MockResponse::ok("ok"));
        let delivery = testing::deliver::<SlackNotifications>(&payload(
            EventKind::TicketCreated,
            json!({ "webhook_url": HOOK, "channel": " " }),
            json!({}),
        ));
        assert!(sent_json(&delivery).get("channel").is_none());
    }

    #[test]
    fn markup_in_ticket_text_is_escaped() {
        assert_eq!(
            escape("<!here> R&D > ops"),
            "&lt;!here&gt; R&amp;D &gt; ops"
        );
        assert_eq!(
            link("https://h.example/t?a=1|b>", "a|b"),
            "<https://h.example/t?a=1%7Cb%3E|a|b>"
        );
    }

    #[test]
    fn long_resolution_notes_are_cut_at_a_char_boundary() {
        let ticket = testing::ticket();
        let notes = "é".repeat(MAX_NOTES_CHARS + 10);
        let text = resolved_text(&ticket, &notes);
        let quoted = text.split("\n> ").nth(1).unwrap();
        assert_eq!(quoted.chars().count(), MAX_NOTES_CHARS + 1);
        assert!(quoted.ends_with("é…"));
    }

    #[test]
    fn non_200_is_a_warning_and_not_a_failed_delivery() {
        testing::mock_http("POST", HOOK, MockResponse::status(404, "no_service"));
        let delivery = testing::deliver::<SlackNotifications>(&payload(
            EventKind::TicketCreated,
            json!({ "webhook_url": HOOK }),
            json!({}),
        ));
        assert!(delivery.result.is_ok());
        assert_eq!(delivery.logs[0].level, Level::Warn);
        assert_eq!(
            delivery.logs[0].message,
            "Slack answered HTTP 404 to `ticket.created` of ticket 01JQXYZ8K2M4N6P8R0T2V4W6Y8: no_service"
        );
    }

    #[test]
    fn network_failure_is_logged_and_not_a_failed_delivery() {
        testing::mock_http("POST", HOOK, MockResponse::timeout());
        let delivery = testing::deliver::<SlackNotifications>(&payload(
            EventKind::TicketCreated,
            json!({ "webhook_url": HOOK }),
            json!({}),
        ));
        assert!(delivery.result.is_ok());
        assert_eq!(delivery.logs[0].level, Level::Error);
        assert!(delivery.logs[0].message.starts_with(
            "could not post ticket 01JQXYZ8K2M4N6P8R0T2V4W6Y8 to Slack: HTTP request timed out"
        ));
    }

    #[test]
    fn a_webhook_on_another_host_fails_the_delivery() {
        let url = "https://evil.example/hook";
        testing::mock_http("POST", url, MockResponse::not_allowed("evil.example"));
        let delivery = testing::deliver::<SlackNotifications>(&payload(
            EventKind::TicketCreated,
            json!({ "webhook_url": url }),
            json!({}),
        ));
        let err = delivery.result.unwrap_err();
        assert!(
            err.message()
                .starts_with("the webhook URL's host `evil.example` is not allowed"),
            "{err}"
        );
    }

    #[test]
    fn events_outside_the_manifest_are_not_delivered() {
        // The host does not run the plugin on them, and neither does the stand-in.
        for kind in EventKind::ALL {
            if matches!(kind, EventKind::TicketCreated | EventKind::TicketResolved) {
                continue;
            }
            let expected = format!("does not subscribe to `{kind}`");
            let delivery = testing::deliver::<SlackNotifications>(&payload(
                kind,
                json!({ "webhook_url": HOOK }),
                json!({}),
            ));
            let refusal = delivery.result.expect_err("not subscribed");
            assert!(
                refusal.message().contains(&expected),
                "{}",
                refusal.message()
            );
            assert!(delivery.http.is_empty());
        }
    }
}

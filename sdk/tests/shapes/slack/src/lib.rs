//! Slack-style shape: typed events with a config that holds a secret, one HTTP POST.

use otai_plugin_sdk::prelude::*;

#[derive(Deserialize)]
struct Config {
    webhook_url: String,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    mention_on_critical: bool,
}

#[derive(Serialize)]
struct Message<'a> {
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
}

#[derive(Default)]
struct Slack;

#[plugin]
impl Plugin for Slack {
    type Config = Config;

    fn on_event(&mut self, event: Event<Config>) -> Result<()> {
        let ticket = &event.ticket;
        let mention = if event.config.mention_on_critical && ticket.priority == "Critical" {
            "<!channel> "
        } else {
            ""
        };
        let text = match &event.data {
            EventData::Resolved { resolution_notes } if !resolution_notes.is_empty() => {
                format!(
                    "{mention}:white_check_mark: *Resolved*: <{}|{}> ({resolution_notes})",
                    ticket.url, ticket.subject
                )
            }
            EventData::Resolved { .. } => {
                format!(
                    "{mention}:white_check_mark: *Resolved*: <{}|{}>",
                    ticket.url, ticket.subject
                )
            }
            _ => format!(
                "{mention}:ticket: *New ticket*: <{}|{}>",
                ticket.url, ticket.subject
            ),
        };
        let message = Message {
            text,
            channel: event.config.channel.as_deref(),
        };
        let response = http::post(&event.config.webhook_url)
            .json(&message)
            .send()?;
        if !response.is_success() {
            return Err(Error::msg(format_args!(
                "Slack answered HTTP {}",
                response.status()
            )));
        }
        info!("posted ticket {} to Slack", ticket.id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use otai_plugin_sdk::serde_json::json;
    use otai_plugin_sdk::testing::{self, MockResponse};

    use super::*;

    const HOOK: &str = "https://hooks.slack.com/services/T0/B0/x";

    #[test]
    fn posts_the_ticket_and_reports_a_server_error() {
        testing::mock_http("POST", HOOK, MockResponse::ok("ok"));
        let payload = testing::payload(
            EventKind::TicketCreated,
            json!({ "webhook_url": HOOK, "channel": "#it" }),
        );
        let d = testing::deliver::<Slack>(&payload);
        d.result.unwrap();
        let body: otai_plugin_sdk::serde_json::Value =
            otai_plugin_sdk::serde_json::from_str(d.http[0].body.as_deref().unwrap()).unwrap();
        assert_eq!(body["channel"], "#it");
        assert_eq!(d.http[0].headers["Content-Type"], "application/json");

        testing::mock_http("POST", HOOK, MockResponse::status(500, "oops"));
        let d = testing::deliver::<Slack>(&payload);
        assert_eq!(d.result.unwrap_err().message(), "Slack answered HTTP 500");
    }
}

//! Slack-style shape: typed events with a config that holds a secret, one HTTP POST.

use otai_plugin_sdk::prelude::*;

#[derive(Deserialize, Config)]
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

    fn on_event(&mut self, event: Event<'_, Config>) -> Result<()> {
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

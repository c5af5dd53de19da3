//! {{display_name}}: posts every new ticket to a Slack incoming webhook.

use otai_plugin_sdk::prelude::*;
use otai_plugin_sdk::serde_json::json;

/// The installation's settings (`[package.metadata.ohd.config]` in Cargo.toml).
/// `Config` checks each field against that table when the plugin compiles. A field
/// with a `default` there needs no `#[serde(default)]` here: the host fills it in.
#[derive(Deserialize, Config)]
struct Config {
    webhook_url: String,
    mention_on_critical: bool,
}

#[derive(Default)]
struct {{type_name}};

#[plugin]
impl Plugin for {{type_name}} {
    type Config = Config;

    fn on_event(&mut self, event: Event<'_, Config>) -> Result<()> {
        if event.kind != EventKind::TicketCreated {
            return Ok(());
        }
        let text = message(&event.ticket, event.config.mention_on_critical);
        let response = http::post(&event.config.webhook_url).json(&json!({ "text": text })).send()?;
        if !response.is_success() {
            // An `Err` fails the delivery: the help desk counts it against the plugin.
            return Err(Error::msg(format_args!("Slack answered HTTP {}", response.status())));
        }
        info!("posted ticket {} to Slack", event.ticket.id);
        Ok(())
    }
}

/// The Slack message for a new ticket.
fn message(ticket: &otai_plugin_sdk::Ticket<'_>, mention_on_critical: bool) -> String {
    let mention = if mention_on_critical && ticket.priority == "Critical" { "<!channel> " } else { "" };
    format!("{mention}New {} ticket: <{}|{}>", ticket.priority, ticket.url, ticket.subject)
}

#[cfg(test)]
mod tests {
    use super::*;
    use otai_plugin_sdk::testing;

    fn ticket(priority: &str) -> otai_plugin_sdk::Ticket<'static> {
        let mut ticket = testing::ticket();
        ticket.priority = priority.to_owned().into();
        ticket
    }

    #[test]
    fn critical_tickets_mention_the_channel_when_configured() {
        assert!(message(&ticket("Critical"), true).starts_with("<!channel> New Critical ticket"));
        assert!(message(&ticket("Critical"), false).starts_with("New Critical ticket"));
        assert!(message(&ticket("Low"), true).starts_with("New Low ticket"));
    }
}

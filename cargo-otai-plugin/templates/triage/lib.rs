//! {{display_name}}: routes every new ticket to a team by its category (the `team` custom
//! field) and adds an internal note to the critical ones.

use otai_plugin_sdk::config::KeyValues;
use otai_plugin_sdk::prelude::*;

/// The installation's settings (`[package.metadata.ohd.config]` in Cargo.toml; the
/// derive checks the two against each other when the plugin compiles). Both fields have a
/// `default` there, which the help desk fills in when the admin leaves them empty: they
/// are always set.
#[derive(Deserialize, Config)]
struct Config {
    /// `Category=team` pairs separated by commas. Text an admin got wrong fails every
    /// delivery, naming the field and the entry, in the log the admin reads.
    teams: KeyValues,
    default_team: String,
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
        let ticket = &event.ticket;
        let team = team_for(&event.config, ticket.category.as_deref());
        // Agents see the field on the ticket; later events carry it in
        // `ticket.custom_fields`.
        ticket::set_custom_field(&ticket.id, "team", team)?;
        if ticket.priority == "Critical" {
            // `true`: an internal note, which the submitter does not see.
            let note = format!("Critical ticket, routed to {team}: answer within the hour.");
            ticket::add_reply(&ticket.id, &note, true)?;
        }
        info!("ticket {} routed to {team}", ticket.id);
        Ok(())
    }
}

/// The team `teams` gives `category`, or the default team.
fn team_for<'c>(config: &'c Config, category: Option<&str>) -> &'c str {
    category
        .and_then(|category| config.teams.get(category))
        .unwrap_or(&config.default_team)
}

#[cfg(test)]
mod tests {
    use super::*;
    use otai_plugin_sdk::testing;

    fn config(teams: &str) -> Config {
        Config {
            teams: KeyValues::parse(teams).unwrap(),
            default_team: "service-desk".to_owned(),
        }
    }

    #[test]
    fn a_category_the_map_names_gives_its_team_and_others_the_default() {
        let config = config("Hardware=it-ops, Network = net-ops,");
        assert_eq!(team_for(&config, Some("Network")), "net-ops");
        assert_eq!(team_for(&config, Some("Facilities")), "service-desk");
        assert_eq!(team_for(&config, None), "service-desk");
    }

    /// A map the admin got wrong fails the delivery before `on_event` runs, naming the
    /// field and the entry (never its text: a field may be secret).
    #[test]
    fn a_map_the_plugin_cannot_read_fails_the_delivery_naming_the_entry() {
        let payload = testing::payload(
            EventKind::TicketCreated,
            otai_plugin_sdk::serde_json::json!({ "teams": "Hardware=it-ops, Network net-ops" }),
        );
        let delivery = testing::deliver::<{{type_name}}>(&payload);
        let error = delivery.result.expect_err("the map does not parse");
        assert!(
            error.message().contains("config: teams: entry 2 (column 18) has no `=`: write `key=value`"),
            "{}",
            error.message()
        );
        assert!(delivery.custom_fields.is_empty());
    }
}

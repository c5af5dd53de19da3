//! {{display_name}}: routes every new ticket to a team by its category (the `team` custom
//! field) and adds an internal note to the critical ones.

use otai_plugin_sdk::prelude::*;

/// The installation's settings (`[package.metadata.ohd.config]` in Cargo.toml). Both
/// fields have a `default` there, which the help desk fills in when the admin leaves
/// them empty: they are always set.
#[derive(Deserialize)]
struct Config {
    teams: String,
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
        let team = team_for(&event.config.teams, ticket.category.as_deref())?
            .unwrap_or(&event.config.default_team);
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

/// The team that `teams` (`Category=team` pairs separated by commas) gives `category`,
/// if it names one.
///
/// # Errors
/// A pair without `=`: the delivery fails with this message in the plugin's log, where
/// the admin who typed it sees it.
fn team_for<'t>(teams: &'t str, category: Option<&str>) -> Result<Option<&'t str>> {
    for pair in teams.split(',').map(str::trim).filter(|pair| !pair.is_empty()) {
        let Some((name, team)) = pair.split_once('=') else {
            return Err(Error::msg(format_args!("config: teams: `{pair}` is not `category=team`")));
        };
        if Some(name.trim()) == category {
            return Ok(Some(team.trim()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_category_the_map_names_gives_its_team() {
        let teams = "Hardware=it-ops, Network = net-ops,";
        assert_eq!(team_for(teams, Some("Network")).unwrap(), Some("net-ops"));
        assert_eq!(team_for(teams, Some("Facilities")).unwrap(), None);
        assert_eq!(team_for(teams, None).unwrap(), None);
    }

    #[test]
    fn a_pair_without_an_equals_sign_is_an_error_that_quotes_it() {
        let err = team_for("Hardware it-ops", Some("Hardware")).unwrap_err();
        assert_eq!(err.to_string(), "config: teams: `Hardware it-ops` is not `category=team`");
    }
}

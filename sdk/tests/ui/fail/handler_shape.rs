use otai_plugin_sdk::prelude::*;

#[derive(Default)]
struct Slack;

#[plugin(cargo_toml = "../../fixtures/good.toml")]
impl RawPlugin for Slack {
    async fn on_event(&self, _event: RawEvent<'_>) {}

    fn render_panel(ticket_id: &str) -> Result<String> {
        Ok(ticket_id.to_owned())
    }
}

fn main() {}

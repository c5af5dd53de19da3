//! Panel shape: `render_panel` becomes `__ohd_render_panel_indirect`, which
//! `cargo otai-plugin build` wraps in the two-value `render_panel` export.

use otai_plugin_sdk::prelude::*;

#[derive(Default)]
struct Panel;

#[plugin]
impl RawPlugin for Panel {
    fn on_event(&mut self, _event: RawEvent<'_>) -> Result<()> {
        Ok(())
    }

    fn render_panel(&mut self, ticket_id: &str) -> Result<String> {
        let mut url = String::from("https://panel.example.com/tickets/");
        url.push_str(ticket_id);
        Ok(url)
    }
}

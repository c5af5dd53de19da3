use otai_plugin_sdk::prelude::*;

#[derive(Default)]
struct Slack;

#[plugin(cargo_toml = "../../fixtures/good.toml")]
impl Slack {
    fn on_event(&mut self) {}
}

fn main() {}

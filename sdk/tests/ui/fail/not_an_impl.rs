use otai_plugin_sdk::prelude::*;

#[plugin(cargo_toml = "../../fixtures/good.toml")]
fn on_event() {}

fn main() {}

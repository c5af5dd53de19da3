//! A type taken for the SDK's `config::List` by its name that is another.
use otai_plugin_sdk::prelude::*;

#[derive(Deserialize)]
struct List(String);

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/config.toml")]
struct Config {
    webhook_url: String,
    channels: Option<List>,
}

fn main() {}

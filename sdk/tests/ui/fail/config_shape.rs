//! What `#[derive(Config)]` goes on, and its argument.
use otai_plugin_sdk::prelude::*;

#[derive(Deserialize, Config)]
enum Severity {
    Critical,
}

#[derive(Deserialize, Config)]
struct Tuple(String);

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/config.toml", manifest = "x.json")]
struct Config {
    #[config(cargo_toml = "../../fixtures/config.toml")]
    webhook_url: String,
}

fn main() {}

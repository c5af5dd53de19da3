//! `manifest_from_cargo_toml`: the manifest of a Rust plugin, from its `Cargo.toml`.

use otai_plugin_abi::event::EventKind;
use otai_plugin_abi::manifest::cargo::{
    manifest_from_cargo_toml, manifest_from_cargo_toml_in_workspace,
};
use otai_plugin_abi::manifest::{ConfigType, Diagnostics};

const SLACK: &str = r##"
[package]
name = "slack-notifications"
version = "1.2.0"
edition = "2024"
description = "Posts a Slack message when a ticket is created or resolved."
authors = ["Ana <ana@example.com>", "Example Corp"]
license = "MIT"
repository = "https://github.com/example/ohd-slack-plugin"

[lib]
crate-type = ["cdylib"]

[package.metadata.ohd]
id = "com.example.slack-notifications"
name = "Slack Notifications"
events = ["ticket.created", "ticket.resolved"]
allowed_hosts = ["hooks.slack.com"]
ui_panel = { title = "JIRA Issue", height = 140 }

[package.metadata.ohd.config.webhook_url]
type = "string"
label = "Slack Webhook URL"
required = true
secret = true

[package.metadata.ohd.config.channel]
type = "string"
default = "#support"

[package.metadata.ohd.config.mention_on_critical]
type = "boolean"
default = false
"##;

fn lines(d: &Diagnostics) -> Vec<String> {
    d.iter().map(ToString::to_string).collect()
}

fn errors_of(toml: &str) -> Vec<String> {
    lines(&manifest_from_cargo_toml(toml).unwrap_err())
}

#[test]
fn builds_the_manifest_from_package_and_metadata() {
    let built = manifest_from_cargo_toml(SLACK).unwrap();
    assert!(built.warnings.is_empty(), "{}", built.warnings);
    let m = built.manifest;
    assert_eq!(m.id, "com.example.slack-notifications");
    assert_eq!(m.name, "Slack Notifications");
    assert_eq!(m.version, "1.2.0");
    assert_eq!(
        m.description,
        "Posts a Slack message when a ticket is created or resolved."
    );
    assert_eq!(
        m.author.as_deref(),
        Some("Ana <ana@example.com>, Example Corp")
    );
    assert_eq!(m.license.as_deref(), Some("MIT"));
    assert_eq!(
        m.homepage.as_deref(),
        Some("https://github.com/example/ohd-slack-plugin")
    );
    assert_eq!(
        m.events,
        [EventKind::TicketCreated, EventKind::TicketResolved]
    );
    assert_eq!(m.allowed_hosts(), ["hooks.slack.com"]);
    assert_eq!(m.ui_panel.as_ref().map(|p| p.height), Some(140));
    // Document order, not alphabetical: it is the order of the admin form.
    let keys: Vec<_> = m.config_schema.keys().map(String::as_str).collect();
    assert_eq!(keys, ["webhook_url", "channel", "mention_on_critical"]);
    assert_eq!(m.config_schema["webhook_url"].ty, ConfigType::String);
    assert!(m.config_schema["webhook_url"].secret);
}

#[test]
fn name_defaults_to_the_package_name_and_homepage_wins_over_repository() {
    let toml = SLACK
        .replace("name = \"Slack Notifications\"\n", "")
        .replace(
            "license = \"MIT\"",
            "license = \"MIT\"\nhomepage = \"https://docs.example.com/slack\"",
        );
    let m = manifest_from_cargo_toml(&toml).unwrap().manifest;
    assert_eq!(m.name, "slack-notifications");
    assert_eq!(
        m.homepage.as_deref(),
        Some("https://docs.example.com/slack")
    );
}

#[test]
fn validation_errors_carry_cargo_toml_key_paths() {
    let toml = SLACK
        .replace("version = \"1.2.0\"", "version = \"1.2\"")
        .replace("\"ticket.resolved\"]", "\"ticket.resolve\"]")
        .replace("[\"hooks.slack.com\"]", "[\"https://hooks.slack.com\"]")
        .replace(
            "repository = ",
            "homepage = \"javascript:x\"\nrepository = ",
        );
    let errors = errors_of(&toml);
    let paths: Vec<_> = errors
        .iter()
        .map(|e| e.split(": ").nth(1).unwrap_or_default())
        .collect();
    assert_eq!(
        paths,
        [
            "package.version",
            "package.homepage",
            "package.metadata.ohd.events[1]",
            "package.metadata.ohd.allowed_hosts[0]"
        ]
    );
    assert_eq!(
        errors[3],
        r#"error: package.metadata.ohd.allowed_hosts[0]: "https://hooks.slack.com" is not a bare hostname; write "hooks.slack.com""#
    );
}

#[test]
fn config_paths_map_to_config_tables() {
    let toml = SLACK.replace("type = \"boolean\"", "type = \"bool\"");
    assert_eq!(
        errors_of(&toml),
        [
            "error: package.metadata.ohd.config.mention_on_critical.type: unknown variant `bool`, expected one of `string`, `boolean`, `integer`, `select`"
        ]
    );
    let toml = SLACK.replace("default = \"#support\"", "default = 3");
    assert_eq!(
        errors_of(&toml),
        [
            "error: package.metadata.ohd.config.channel.default: the default must be a string, found a number"
        ]
    );
    let toml = SLACK.replace("height = 140", "height = 0");
    assert_eq!(
        errors_of(&toml),
        [
            "error: package.metadata.ohd.ui_panel.height: height 0 is out of range; use 1 to 2000 (pixels), e.g. 140"
        ]
    );
}

#[test]
fn workspace_inheritance_is_an_error_without_the_workspace() {
    let toml = SLACK
        .replace("version = \"1.2.0\"", "version.workspace = true")
        .replace(
            "authors = [\"Ana <ana@example.com>\", \"Example Corp\"]",
            "authors = { workspace = true }",
        );
    assert_eq!(
        errors_of(&toml),
        [
            "error: package.version: `version.workspace = true` cannot be resolved from this `Cargo.toml` alone; write `version` in `[package]`",
            "error: package.authors: `authors.workspace = true` cannot be resolved from this `Cargo.toml` alone; write `authors` in `[package]`",
        ]
    );
    let workspace = "[workspace]\nmembers = [\"x\"]\n[workspace.package]\nversion = \"2.0.0\"\nauthors = [\"WS\"]\n";
    let m = manifest_from_cargo_toml_in_workspace(&toml, Some(workspace))
        .unwrap()
        .manifest;
    assert_eq!(
        (m.version.as_str(), m.author.as_deref()),
        ("2.0.0", Some("WS"))
    );
    let err = manifest_from_cargo_toml_in_workspace(&toml, Some("[workspace]\n")).unwrap_err();
    assert!(
        err.to_string()
            .contains("the workspace's `[workspace.package]` has no `version`"),
        "{err}"
    );
}

#[test]
fn missing_metadata_shows_a_minimal_table() {
    let toml = SLACK
        .split("[package.metadata.ohd]")
        .next()
        .unwrap_or_default();
    assert_eq!(
        errors_of(toml),
        [
            "error: package.metadata.ohd: `[package.metadata.ohd]` is missing; add the plugin's help-desk data, e.g.\n\n[package.metadata.ohd]\nid = \"com.example.my-plugin\"\nevents = [\"ticket.created\"]\n"
        ]
    );
}

#[test]
fn missing_package_fields_are_reported_together() {
    let toml = "[package]\nname = \"p\"\n[lib]\ncrate-type = [\"cdylib\"]\n[package.metadata.ohd]\nname = 3\nevents = \"ticket.created\"\n";
    assert_eq!(
        errors_of(toml),
        [
            "error: package.version: `version` is missing; the plugin manifest needs it: write `version = \"0.1.0\"` in `[package]`",
            "error: package.description: `description` is missing; the plugin manifest needs it: write `description = \"Posts a Slack message when a ticket is created.\"` in `[package]`",
            "error: package.metadata.ohd.id: `id` is missing; it is a string, e.g. id = \"com.example.my-plugin\"",
            "error: package.metadata.ohd.name: `name` must be a string, e.g. name = \"Slack Notifications\"",
            "error: package.metadata.ohd.events: `events` must be an array of event names, e.g. events = [\"ticket.created\"]",
        ]
    );
}

#[test]
fn unknown_keys_are_warnings() {
    let toml = SLACK
        .replace(
            "allowed_hosts = ",
            "evnts = []\npermissions = {}\nallowed_hosts = ",
        )
        .replace("default = false", "default = false\nplaceholder = \"x\"");
    let built = manifest_from_cargo_toml(&toml).unwrap();
    assert_eq!(
        lines(&built.warnings),
        [
            "warning: package.metadata.ohd.evnts: unknown key `evnts` is ignored; did you mean `events`?",
            "warning: package.metadata.ohd.permissions: unknown key `permissions` is ignored; write `allowed_hosts = [...]` directly in `[package.metadata.ohd]`",
            "warning: package.metadata.ohd.config.mention_on_critical.placeholder: unknown field `placeholder` is ignored (not part of the ABI v1 manifest)",
        ]
    );
}

#[test]
fn a_crate_that_is_not_a_cdylib_gets_a_warning() {
    let toml = SLACK.replace("[lib]\ncrate-type = [\"cdylib\"]\n", "");
    let built = manifest_from_cargo_toml(&toml).unwrap();
    assert_eq!(
        lines(&built.warnings),
        [
            "warning: lib.crate-type: a plugin crate must build a `cdylib`, or no `.wasm` module is produced; add `[lib]` with `crate-type = [\"cdylib\"]`"
        ]
    );
}

#[test]
fn a_toml_syntax_error_is_one_error_with_line_and_column() {
    let errors = errors_of("[package]\nname = \"p\"\nversion = 1.0.0\n");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .starts_with("error: Cargo.toml is not valid TOML at line 3, column 14: invalid float"),
        "{errors:?}"
    );
}

#[test]
fn missing_package_is_an_error() {
    assert_eq!(
        errors_of("[workspace]\n"),
        [
            "error: package: `[package]` is missing; a plugin is a package with `name`, `version` and `description`"
        ]
    );
}

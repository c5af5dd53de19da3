//! `Manifest::validate`: one test per rule, asserting the exact message users see.

use otai_plugin_abi::manifest::{Manifest, Severity};
use serde_json::{Value, json};

/// The JSON of a valid manifest with `patch` merged in (JSON merge-patch: `null`
/// removes a key).
fn manifest_json(patch: Value) -> String {
    let mut base = json!({
        "id": "com.example.slack-notifications",
        "name": "Slack Notifications",
        "version": "1.2.0",
        "description": "Posts a Slack message when a ticket is created.",
        "events": ["ticket.created"],
    });
    merge(&mut base, patch);
    base.to_string()
}

/// A valid manifest with `patch` merged in.
fn manifest(patch: Value) -> Manifest {
    Manifest::from_json(manifest_json(patch).as_bytes()).unwrap()
}

fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p,
    }
}

/// The diagnostics as displayed, one string per diagnostic.
fn report(patch: Value) -> Vec<String> {
    manifest(patch)
        .validate()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn hosts(list: Value) -> Vec<String> {
    report(json!({ "permissions": { "http": { "allowed_hosts": list } } }))
}

#[test]
fn the_base_manifest_and_the_reference_examples_are_valid() {
    assert_eq!(report(json!({})), Vec::<String>::new());
    for example in [
        include_str!("data/reference-manifest.json"),
        include_str!("data/reference-slack.json"),
    ] {
        let m = Manifest::from_json(example.as_bytes()).unwrap();
        let d = m.validate();
        assert!(d.is_empty(), "{d}");
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let d = manifest(json!({"id": "x", "version": "one", "name": " ", "events": []})).validate();
    let paths: Vec<_> = d.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, ["id", "name", "version", "events"]);
    assert!(d.iter().all(|d| d.severity == Severity::Error));
}

#[test]
fn id_must_be_reverse_domain() {
    assert_eq!(
        report(json!({"id": "slack"})),
        [
            r#"error: id: "slack" is not a valid id: it needs at least two dot-separated labels; use a reverse-domain identifier: two or more dot-separated labels of lowercase letters, digits and hyphens, e.g. "com.example.slack-notifications""#
        ]
    );
    assert_eq!(
        report(json!({"id": "com.Example.my_plugin"})),
        [
            r#"error: id: "com.Example.my_plugin" is not a valid id: it contains uppercase letters; write "com.example.my-plugin""#
        ]
    );
    assert!(report(json!({"id": "com..x"}))[0].contains("empty label"));
    assert!(
        report(json!({"id": "com.-x"}))[0].contains(r#"label "-x" starts or ends with a hyphen"#)
    );
    assert!(report(json!({"id": ""}))[0].contains("`id` is empty"));
    assert!(report(json!({"id": "com.example/x"}))[0].contains("it contains '/'"));
    assert_eq!(
        report(json!({"id": "io.github.user-1.plugin2"})),
        Vec::<String>::new()
    );
}

#[test]
fn version_must_be_semver() {
    assert_eq!(
        report(json!({"version": "1.2"})),
        [
            r#"error: version: "1.2" is not a semantic version (unexpected end of input while parsing minor version number); write "1.2.0""#
        ]
    );
    assert!(report(json!({"version": "v1.0.0"}))[0].ends_with(r#"write "1.0.0""#));
    assert!(
        report(json!({"version": "latest"}))[0].ends_with(r#"use MAJOR.MINOR.PATCH, e.g. "1.0.0""#)
    );
    assert_eq!(
        report(json!({"version": "1.0.0-beta.1+build5"})),
        Vec::<String>::new()
    );
}

#[test]
fn name_and_description_must_not_be_blank() {
    assert_eq!(
        report(json!({"name": "  ", "description": ""})),
        [
            r#"error: name: `name` is empty; write one, e.g. "Slack Notifications""#,
            r#"error: description: `description` is empty; write one, e.g. "Posts a Slack message when a ticket is created.""#,
        ]
    );
}

#[test]
fn blank_author_or_license_is_a_warning() {
    assert_eq!(
        report(json!({"license": ""})),
        ["warning: license: `license` is empty; remove it or fill it in"]
    );
}

#[test]
fn homepage_must_be_http_or_https() {
    assert_eq!(
        report(json!({"homepage": "https://github.com/example/x"})),
        Vec::<String>::new()
    );
    for bad in [
        "javascript:alert(1)",
        "github.com/example/x",
        "https://",
        "ftp://example.com/",
    ] {
        let r = report(json!({ "homepage": bad }));
        assert!(
            r[0].starts_with(&format!("error: homepage: {bad:?} is not an http(s) URL")),
            "{r:?}"
        );
    }
}

#[test]
fn events_must_be_known_unique_and_non_empty() {
    assert_eq!(
        report(json!({"events": ["ticket.created", "ticket.create"]})),
        [r#"error: events[1]: unknown event "ticket.create"; did you mean "ticket.created"?"#]
    );
    assert_eq!(
        report(json!({"events": ["user.signed_up"]})),
        [
            r#"error: events[0]: unknown event "user.signed_up"; the events are "ticket.created", "ticket.assigned", "ticket.status_changed", "ticket.reply_added", "ticket.note_added", "ticket.resolved", "ticket.closed", "ticket.reopened""#
        ]
    );
    assert_eq!(
        report(json!({"events": ["ticket.closed", "ticket.closed"]})),
        [r#"error: events[1]: "ticket.closed" is listed twice (also at events[0]); remove one"#]
    );
    assert!(
        report(json!({"events": []}))[0]
            .starts_with("error: events: no events: subscribe to at least one of")
    );
}

#[test]
fn allowed_hosts_must_be_bare_hostnames_with_the_fix() {
    assert_eq!(
        hosts(json!(["https://hooks.slack.com"])),
        [
            r#"error: permissions.http.allowed_hosts[0]: "https://hooks.slack.com" is not a bare hostname; write "hooks.slack.com""#
        ]
    );
    for (bad, fix) in [
        ("https://hooks.slack.com/services/T0", "hooks.slack.com"),
        ("hooks.slack.com/", "hooks.slack.com"),
        ("api.example.com?x=1", "api.example.com"),
        ("https://user:pw@api.example.com/", "api.example.com"),
        ("HTTPS://API.Example.com", "api.example.com"),
    ] {
        assert_eq!(
            hosts(json!([bad])),
            [format!(
                "error: permissions.http.allowed_hosts[0]: {bad:?} is not a bare hostname; write {fix:?}"
            )]
        );
    }
}

/// A URL whose host is itself wrong gets no suggestion to write that host.
#[test]
fn a_url_suggests_its_host_only_when_the_host_is_valid() {
    for bad in ["https://a..b/path", "https:///path"] {
        assert_eq!(
            hosts(json!([bad])),
            [format!(
                "error: permissions.http.allowed_hosts[0]: {bad:?} is not a bare hostname; write only the host, e.g. \"hooks.slack.com\""
            )]
        );
    }
}

#[test]
fn allowed_hosts_ports_wildcards_and_whitespace_are_errors() {
    assert_eq!(
        hosts(json!(["hooks.slack.com:443"])),
        [
            r#"error: permissions.http.allowed_hosts[0]: "hooks.slack.com:443" is not a bare hostname; write "hooks.slack.com" (ports are not part of the match: every port of an allowed host is allowed)"#
        ]
    );
    assert_eq!(
        hosts(json!(["*.slack.com"])),
        [
            r#"error: permissions.http.allowed_hosts[0]: "*.slack.com": wildcards are not supported; list every host the plugin calls exactly, e.g. "slack.com""#
        ]
    );
    assert_eq!(
        hosts(json!([" hooks.slack.com"])),
        [
            r#"error: permissions.http.allowed_hosts[0]: " hooks.slack.com" has whitespace around it; write "hooks.slack.com""#
        ]
    );
    assert!(hosts(json!(["hooks slack.com"]))[0].contains("contains whitespace"));
    assert!(hosts(json!([""]))[0].contains("the host is empty"));
}

#[test]
fn allowed_hosts_labels_must_be_well_formed() {
    assert!(hosts(json!(["hooks..slack.com"]))[0].contains("has an empty label"));
    assert!(hosts(json!([".slack.com"]))[0].contains("has an empty label"));
    assert!(hosts(json!(["-a.example"]))[0].contains(r#"label "-a" starts or ends with a hyphen"#));
    assert!(hosts(json!(["a$b.example"]))[0].contains("contains '$'"));
    assert!(hosts(json!(["bücher.example"]))[0].contains("punycode"));
    assert!(hosts(json!([format!("{}.example", "a".repeat(64))]))[0].contains("at most 63"));
    assert!(hosts(json!(["127.1"]))[0].contains("is not a dotted quad"));
    // The URL Standard's numbers include hexadecimal: no URL has such a host.
    for entry in ["example.0x10", "a.0X1f", "a.0x"] {
        assert!(
            hosts(json!([entry]))[0].contains("is not a dotted quad"),
            "{entry}"
        );
    }
    assert_eq!(hosts(json!(["a.0xz", "api.x10"])), Vec::<String>::new());
    assert_eq!(
        hosts(json!([
            "localhost",
            "192.0.2.10",
            "xn--bcher-kva.example",
            "my_svc.internal"
        ])),
        Vec::<String>::new()
    );
}

#[test]
fn allowed_hosts_trailing_dot_is_an_error_with_the_fix() {
    assert_eq!(
        hosts(json!(["hooks.slack.com."])),
        [
            r#"error: permissions.http.allowed_hosts[0]: "hooks.slack.com." ends with a dot; write "hooks.slack.com" (URLs with a trailing dot match it too)"#
        ]
    );
}

#[test]
fn allowed_hosts_uppercase_is_a_warning() {
    assert_eq!(
        hosts(json!(["Hooks.Slack.com"])),
        [
            r#"warning: permissions.http.allowed_hosts[0]: hosts are matched case-insensitively; write it in lowercase: "hooks.slack.com""#
        ]
    );
}

#[test]
fn allowed_hosts_ipv6_with_or_without_brackets() {
    assert_eq!(hosts(json!(["::1", "[2001:db8::2]"])), Vec::<String>::new());
    assert_eq!(
        hosts(json!(["[0:0:0:0:0:0:0:1]"])),
        [
            r#"warning: permissions.http.allowed_hosts[0]: write the IPv6 address in its canonical form "::1", the form URLs are compared in"#
        ]
    );
    assert!(hosts(json!(["[::g]"]))[0].contains("is not a valid IPv6 address"));
    assert!(hosts(json!(["[::1]:8080"]))[0].contains(r#"write "[::1]""#));
    // The port is what follows the bracket, however long the address is.
    assert!(hosts(json!(["[2001:db8::1]:8080"]))[0].contains(r#"write "[2001:db8::1]" (ports"#));
}

#[test]
fn allowed_hosts_duplicates_after_case_folding_are_errors() {
    assert_eq!(
        hosts(json!([
            "hooks.slack.com",
            "api.example.com",
            "HOOKS.slack.com"
        ])),
        [
            r#"warning: permissions.http.allowed_hosts[2]: hosts are matched case-insensitively; write it in lowercase: "hooks.slack.com""#,
            r#"error: permissions.http.allowed_hosts[2]: "HOOKS.slack.com" is listed twice (also at allowed_hosts[0], hosts are compared case-insensitively); remove one"#,
        ]
    );
    assert!(hosts(json!(["::1", "[::1]"]))[0].contains("is listed twice"));
}

fn field(def: Value) -> Vec<String> {
    report(json!({ "config_schema": { "f": def } }))
}

#[test]
fn config_keys_must_be_identifiers() {
    assert_eq!(
        report(json!({"config_schema": {"Webhook-URL": {"type": "string"}}})),
        [
            r#"error: config_schema.Webhook-URL: config key "Webhook-URL" is not an identifier: use lowercase letters, digits and underscores, not starting with a digit ([a-z_][a-z0-9_]*); write "webhook_url""#
        ]
    );
    assert!(
        report(json!({"config_schema": {"2fa": {"type": "boolean"}}}))[0]
            .ends_with(r#"write "_2fa""#)
    );
    assert_eq!(
        report(json!({"config_schema": {"_x9": {"type": "boolean"}}})),
        Vec::<String>::new()
    );
}

#[test]
fn secret_only_on_strings() {
    assert_eq!(
        field(json!({"type": "integer", "secret": true})),
        [
            "error: config_schema.f.secret: `secret` applies only to `string` fields, and this one is `integer`; remove `secret`"
        ]
    );
}

#[test]
fn select_needs_unique_options_and_options_need_select() {
    assert_eq!(
        field(json!({"type": "select"})),
        [
            r#"error: config_schema.f: a `select` field needs `options`, the list of choices, e.g. "options": ["low", "high"]"#
        ]
    );
    assert!(
        field(json!({"type": "select", "options": []}))[0]
            .starts_with("error: config_schema.f.options: `options` is empty")
    );
    assert_eq!(
        field(json!({"type": "select", "options": ["a", "b", "a"]})),
        [
            r#"error: config_schema.f.options[2]: option "a" is listed twice (also at options[0]); remove one"#
        ]
    );
    assert_eq!(
        field(json!({"type": "string", "options": ["a"]})),
        [
            "error: config_schema.f.options: `options` applies only to `select` fields, and this one is `string`; remove `options` or make it a `select`"
        ]
    );
}

#[test]
fn defaults_must_have_the_field_type() {
    assert_eq!(
        field(json!({"type": "integer", "default": "3"})),
        ["error: config_schema.f.default: the default must be a whole number, found a string"]
    );
    assert!(
        field(json!({"type": "integer", "default": 2.5}))[0]
            .ends_with("the default must be a whole number")
    );
    assert!(
        field(json!({"type": "integer", "default": u64::MAX}))[0]
            .ends_with("the default is out of range: integers are 64-bit signed")
    );
    assert_eq!(
        field(json!({"type": "integer", "default": i64::MIN})),
        Vec::<String>::new()
    );
    assert!(
        field(json!({"type": "boolean", "default": "false"}))[0]
            .contains("must be `true` or `false`, found a string")
    );
    assert!(
        field(json!({"type": "string", "default": 1}))[0]
            .contains("must be a string, found a number")
    );
    assert_eq!(
        field(json!({"type": "select", "options": ["low", "high"], "default": "hihg"})),
        [
            r#"error: config_schema.f.default: the default "hihg" is not one of the options "low", "high"; did you mean "high"?"#
        ]
    );
}

#[test]
fn required_with_default_is_a_warning() {
    assert_eq!(
        field(json!({"type": "boolean", "required": true, "default": false})),
        [
            "warning: config_schema.f.required: `required` has no effect on a field with a `default` (the default fills it in); remove one of them"
        ]
    );
}

#[test]
fn secret_with_default_is_an_error_that_does_not_echo_it() {
    let r = field(json!({"type": "string", "secret": true, "default": "hunter2"}));
    assert_eq!(r.len(), 1);
    assert!(
        r[0].starts_with("error: config_schema.f.default: a secret field cannot have a `default`"),
        "{r:?}"
    );
    assert!(!r[0].contains("hunter2"));
}

#[test]
fn ui_panel_title_and_height() {
    assert_eq!(
        report(json!({"ui_panel": {"title": "JIRA Issue", "height": 140}})),
        Vec::<String>::new()
    );
    assert_eq!(
        report(json!({"ui_panel": {"title": " ", "height": 0}})),
        [
            r#"error: ui_panel.title: the panel title is empty; write the heading shown above the panel, e.g. "JIRA Issue""#,
            "error: ui_panel.height: height 0 is out of range; use 1 to 2000 (pixels), e.g. 140",
        ]
    );
    assert!(
        report(json!({"ui_panel": {"title": "t", "height": 2001}}))[0]
            .contains("height 2001 is out of range")
    );
}

#[test]
fn unknown_fields_are_warnings_with_clean_paths() {
    let d = manifest(json!({
        "colour": "red",
        "ui_panel": {"title": "t", "height": 1, "resizable": true},
        "permissions": {"http": {"allowed_hosts": [], "methods": ["GET"]}, "fs": {}},
        "config_schema": {"a": {"type": "string", "placeholder": "x"}},
    }))
    .validate();
    assert!(!d.has_errors(), "{d}");
    let mut paths: Vec<_> = d.warnings().map(|d| d.path.clone()).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "colour",
            "config_schema.a.placeholder",
            "permissions.fs",
            "permissions.http.methods",
            "ui_panel.resizable"
        ]
    );
    assert!(
        d.to_string()
            .contains("warning: colour: unknown field `colour` is ignored")
    );
}

#[test]
fn a_manifest_that_is_not_an_object_is_named_as_such() {
    use otai_plugin_abi::manifest::Manifest;
    for (json, found, line, column) in [
        (r#"[{"id": "a.b"}]"#, "an array", 1, 1),
        ("\n  \"com.example.x\"", "a string", 2, 3),
        ("42", "a number", 1, 1),
        ("null", "null", 1, 1),
        ("true", "a boolean", 1, 1),
    ] {
        let err = Manifest::from_json(json.as_bytes()).unwrap_err();
        assert_eq!(
            err.message,
            format!(
                "the manifest must be one JSON object (`{{\"id\": …, \"name\": …, …}}`), not {found}"
            ),
            "{json}"
        );
        assert_eq!((err.line, err.column), (line, column), "{json}");
    }
    // Not JSON at all: serde's message, with its position.
    let err = Manifest::from_json(b"id = 1").unwrap_err();
    assert!(err.message.starts_with("expected value"), "{}", err.message);
}

#[test]
fn license_must_be_an_spdx_expression() {
    for ok in [
        "MIT",
        "MIT OR Apache-2.0",
        "Apache-2.0 WITH LLVM-exception",
        "LicenseRef-Acme",
    ] {
        assert_eq!(
            report(json!({ "license": ok })),
            Vec::<String>::new(),
            "{ok}"
        );
    }
    assert_eq!(
        report(json!({ "license": "Not A License!!" })),
        [
            "error: license: \"Not A License!!\" is not an SPDX license expression (unknown term \
             at \"Not\"); write an SPDX identifier or expression, e.g. \"MIT\" or \"MIT OR \
             Apache-2.0\" (https://spdx.org/licenses/), or \"LicenseRef-…\" for your own"
        ]
    );
    // What cargo still takes is a warning with the form to write.
    assert_eq!(
        report(json!({ "license": "MIT/Apache-2.0" })),
        [
            "warning: license: \"MIT/Apache-2.0\" is an outdated form of SPDX license \
             expression; write \"MIT OR Apache-2.0\""
        ]
    );
}

/// `Manifest::check_json` of the base manifest with `patch` merged in.
fn checked(patch: Value) -> (bool, Vec<String>) {
    let checked = Manifest::check_json(manifest_json(patch).as_bytes()).unwrap();
    let lines = checked
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect();
    (checked.manifest.is_some(), lines)
}

#[test]
fn a_wrong_type_is_one_problem_among_the_others() {
    let (read, lines) = checked(json!({
        "version": "1.0",
        "license": 7,
        "events": ["ticket.created", 5, "ticket.create"],
        "permissions": { "http": { "allowed_hosts": ["https://x.com:443", true] } },
        "config_schema": {
            "channel": { "type": "selectt", "options": ["a", "a"] },
            "token": { "type": "string", "secret": "yes" },
            "team": { "label": "Team" },
            "count": { "type": "integer", "default": "three" }
        },
        "ui_panel": { "title": "P" }
    }));
    assert!(!read, "a manifest with type errors is not returned");
    assert_eq!(
        lines,
        [
            // Wrong types and missing fields, each once, in the order found.
            "error: config_schema.channel.type: unknown variant `selectt`, expected one of \
             `string`, `boolean`, `integer`, `select`",
            "error: config_schema.team.type: the required field `type` is missing",
            "error: config_schema.token.secret: invalid type: string \"yes\", expected a boolean",
            "error: events[1]: invalid type: integer `5`, expected an event name such as \
             \"ticket.created\"",
            "error: license: invalid type: integer `7`, expected a string",
            "error: permissions.http.allowed_hosts[1]: invalid type: boolean `true`, expected a \
             string",
            "error: ui_panel.height: the required field `height` is missing",
            // And the rules, on what could be read.
            "error: version: \"1.0\" is not a semantic version (unexpected end of input while \
             parsing minor version number); write \"1.0.0\"",
            "error: events[2]: unknown event \"ticket.create\"; did you mean \"ticket.created\"?",
            "error: permissions.http.allowed_hosts[0]: \"https://x.com:443\" is not a bare \
             hostname; write \"x.com\" (ports are not part of the match: every port of an \
             allowed host is allowed)",
            "error: config_schema.count.default: the default must be a whole number, found a \
             string",
        ]
    );
}

#[test]
fn missing_required_fields_are_each_named() {
    let (read, lines) =
        checked(json!({ "id": null, "name": null, "events": null, "version": "1.0" }));
    assert!(!read);
    assert_eq!(
        lines,
        [
            "error: id: the required field `id` is missing",
            "error: name: the required field `name` is missing",
            "error: events: the required field `events` is missing",
            // Read on past them: the rules of what is there.
            "error: version: \"1.0\" is not a semantic version (unexpected end of input while \
             parsing minor version number); write \"1.0.0\"",
        ]
    );
    // A valid manifest reads as `from_json` reads it, config order kept.
    let (read, lines) = checked(
        json!({ "config_schema": { "z": { "type": "string" }, "a": { "type": "boolean" } } }),
    );
    assert!(read);
    assert_eq!(lines, Vec::<String>::new());
}

#[test]
fn hostname_lengths_are_checked_at_their_limits() {
    let label = |c: &str, n: usize| c.repeat(n);
    let host = |last: usize| {
        format!(
            "{}.{}.{}.{}",
            label("a", 63),
            label("b", 63),
            label("c", 63),
            label("d", last)
        )
    };
    assert_eq!(host(61).len(), 253);
    assert_eq!(hosts(json!([host(61)])), Vec::<String>::new());
    assert!(hosts(json!([host(62)]))[0].contains("a hostname has at most 253"));
    assert_eq!(
        hosts(json!([format!("{}.example", label("a", 63))])),
        Vec::<String>::new()
    );
}

#[test]
fn a_homepage_with_whitespace_or_control_characters_is_an_error() {
    for homepage in ["https://example.com/a b", "https://example.com/a\u{7}b"] {
        let lines = report(json!({ "homepage": homepage }));
        assert_eq!(lines.len(), 1, "{homepage:?}: {lines:?}");
        assert!(lines[0].starts_with("error: homepage:"), "{lines:?}");
    }
}

#[test]
fn an_id_fix_is_suggested_only_when_it_is_valid() {
    // `My_App` becomes `my-app`, which still lacks a second label: no fix to suggest.
    let lines = report(json!({ "id": "My_App" }));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(!lines[0].contains("write \"my-app\""), "{lines:?}");
    let lines = report(json!({ "id": "Com.Example.My_App" }));
    assert!(
        lines[0].contains("write \"com.example.my-app\""),
        "{lines:?}"
    );
}

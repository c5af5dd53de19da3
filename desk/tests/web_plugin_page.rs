//! The plugin page as an administrator reviews it before enabling: what the manifest
//! says of the plugin, why Enable is not offered, the config form's defaults and its
//! "clear" control for a secret, and when each delivery was.
#![cfg(feature = "web")]

use crate::common;

use common::{module_with, start};
use serde_json::json;

#[test]
fn the_page_shows_what_the_manifest_says_without_markdown_marks() {
    let server = start();
    let manifest = json!({
        "id": "com.example.about", "name": "About", "version": "1.0.0",
        "description": "Posts to **Slack** via `chat.postMessage` <b>now</b>",
        "author": "Example Corp <support@example.com>",
        "license": "MIT OR Apache-2.0",
        "homepage": "https://example.com/about?x=1&y=2",
        "events": ["ticket.created"],
        "config_schema": {"mode": {"type": "string", "description": "See [the docs](https://example.com/d) for `mode`"}}
    });
    server.state.desk.install(&module_with(&manifest)).unwrap();
    let (status, page) = server.get("/plugins/com.example.about");
    assert_eq!(status, 200, "{page}");
    let page = page.replace("&#x2f;", "/");
    for shown in [
        r#"<p id="description">Posts to Slack via chat.postMessage &lt;b&gt;now&lt;/b&gt;</p>"#,
        r#"<td id="author">Example Corp &lt;support@example.com&gt;</td>"#,
        r#"<td id="license">MIT OR Apache-2.0</td>"#,
        r#"<a href="https://example.com/about?x=1&amp;y=2" rel="noopener noreferrer" target="_blank">"#,
        r#"<td id="source" class="wrap">installed from a file</td>"#,
        r#"<div class="note">See the docs (https://example.com/d) for mode</div>"#,
    ] {
        assert!(page.contains(shown), "no {shown} in\n{page}");
    }
}

#[test]
fn enable_is_not_offered_while_a_required_field_is_missing() {
    let server = start();
    let (_, page) = server.get("/plugins/com.example.web");
    assert!(
        page.contains(
            r#"<button type="submit" id="enable" disabled aria-describedby="enable-why">"#
        ) && page.contains(
            r#"id="enable-why">Configure <code>token</code> below first: it is required."#
        ),
        "{page}"
    );
    server.post(
        "/plugins/com.example.web/config",
        &[("token", "xoxb-1"), ("region", "eu")],
    );
    server.post("/plugins/com.example.web/disable", &[]);
    let (_, page) = server.get("/plugins/com.example.web");
    assert!(
        page.contains(r#"<button type="submit" id="enable">Enable</button>"#)
            && !page.contains("enable-why"),
        "{page}"
    );
}

/// A field with a default shows it as its value; sent back unchanged it stays unset
/// (and follows the default), changed it is stored.
#[test]
fn a_default_is_shown_as_the_value_it_takes() {
    let server = start();
    let (_, page) = server.get("/plugins/com.example.web");
    assert!(
        page.contains(
            r##"<input type="text" id="f-channel" name="channel" value="#support" class="defaulted">"##
        ) && page.contains(r#"id="d-channel""#),
        "{page}"
    );
    let config = "/plugins/com.example.web/config";
    let (status, page) = server.post(
        config,
        &[
            ("token", "xoxb-1"),
            ("channel", "#support"),
            ("region", "eu"),
        ],
    );
    assert_eq!(status, 200, "{page}");
    let stored = |key: &str| {
        server
            .state
            .desk
            .config_form("com.example.web")
            .unwrap()
            .into_iter()
            .find(|f| f.key == key)
            .unwrap()
            .value
    };
    assert_eq!(stored("channel"), None);
    assert_eq!(stored("region"), None);
    assert!(page.contains(r#"id="d-channel""#), "{page}");
    let (status, page) = server.post(config, &[("channel", "#ops"), ("region", "us")]);
    assert_eq!(status, 200, "{page}");
    assert_eq!(stored("channel"), Some(json!("#ops")));
    assert_eq!(stored("region"), Some(json!("us")));
    assert!(
        page.contains(r##"name="channel" value="#ops">"##) && !page.contains(r#"id="d-channel""#),
        "{page}"
    );
}

/// An optional secret that is set can be cleared; a required one only replaced.
#[test]
fn a_secret_is_cleared_by_its_box_and_a_hostile_clear_is_refused() {
    let server = start();
    let manifest = json!({
        "id": "com.example.secrets", "name": "Secrets", "version": "1.0.0",
        "description": "d", "events": ["ticket.created"],
        "config_schema": {
            "token": {"type": "string", "required": true, "secret": true},
            "signing": {"type": "string", "secret": true},
            "channel": {"type": "string"}
        }
    });
    server.state.desk.install(&module_with(&manifest)).unwrap();
    let (page_path, config) = (
        "/plugins/com.example.secrets",
        "/plugins/com.example.secrets/config",
    );
    let (_, page) = server.get(page_path);
    assert!(
        !page.contains(r#"name="ohd-clear""#),
        "nothing to clear: {page}"
    );
    let (status, page) = server.post(config, &[("token", "xoxb-1"), ("signing", "whsec-1")]);
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(r#"<input type="checkbox" id="c-signing" name="ohd-clear" value="signing">"#)
            && !page.contains(r#"id="c-token""#),
        "only the optional secret can be cleared: {page}"
    );

    // Typed and ticked at once; a required secret; a field that is not a secret; junk.
    for (form, expected) in [
        (
            vec![("signing", "whsec-2"), ("ohd-clear", "signing")],
            r#"id="e-signing">a new value was typed and &quot;clear&quot; ticked"#,
        ),
        (
            vec![("ohd-clear", "token")],
            r#"id="e-token">it is required: type a new value to replace it"#,
        ),
        (
            vec![("ohd-clear", "channel")],
            "ohd-clear: found &quot;channel&quot;, expected the key of one of this plugin&#x27;s secret fields",
        ),
        (
            vec![("ohd-clear", "<script>")],
            "ohd-clear: found &quot;&lt;script&gt;&quot;",
        ),
    ] {
        let (status, page) = server.post(config, &form);
        assert_eq!(status, 422, "{form:?}: {page}");
        assert!(
            page.contains(expected),
            "{form:?}: no {expected} in\n{page}"
        );
        assert!(page.contains(r#"id="s-signing">set<"#), "{page}");
    }

    let (status, page) = server.post(config, &[("signing", ""), ("ohd-clear", "signing")]);
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(r#"id="s-signing">not set<"#) && page.contains(r#"id="s-token">set<"#),
        "{page}"
    );
}

#[test]
fn each_delivery_shows_when_it_was() {
    let server = start();
    server.post(
        "/plugins/com.example.web/config",
        &[("token", "xoxb-1"), ("region", "eu")],
    );
    server.post("/tickets/T-1/events", &[("event", "ticket.created")]);
    let (_, page) = server.get("/plugins/com.example.web");
    // The time in UTC, then how long ago.
    assert!(
        page.contains(r#"<td class="when">20"#) && page.contains(r#" UTC<div class="note">"#),
        "{page}"
    );
    assert!(
        page.contains(r#"<details class="report"><summary>1 line"#),
        "{page}"
    );
}

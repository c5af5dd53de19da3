//! "Install from registry" in the web UI, against a real registry (Debian's
//! `docker-registry`, started by the test) and loopback servers that answer what no
//! registry should: the review comes before anything is installed, the Install button
//! installs the digest reviewed, unsigned modules need the "install anyway" box, the
//! same-signer rule has no button around it, and bad registries leave nothing installed.
#![cfg(all(feature = "web", feature = "registry"))]

use std::collections::BTreeMap;

use otai_plugin_desk::registry::{Reference, RegistryClient, RegistryOptions, digest_of};
use otai_plugin_test_support::{Registry, public, sign};
use serde_json::json;

use crate::common::{self, Server, module_with, start};
use crate::registry::{Answer, MANIFEST, fake_registry, manifest_with_layer};

const ID: &str = "com.example.shipped";

fn shipped(version: &str, hosts: &[&str]) -> Vec<u8> {
    module_with(&json!({
        "id": ID, "name": "Shipped", "version": version,
        "description": "Shipped from a registry.", "events": ["ticket.created"],
        "permissions": {"http": {"allowed_hosts": hosts}},
        "ui_panel": {"title": "Shipped panel", "height": 120}
    }))
}

fn push(registry: &Registry, tag: &str, module: &[u8]) -> Reference {
    let reference =
        Reference::parse(&format!("oci://{}/acme/shipped:{tag}", registry.address())).unwrap();
    RegistryClient::new(RegistryOptions::default())
        .push(&reference, module, BTreeMap::new())
        .unwrap()
        .reference
}

fn tag_of(registry: &Registry, tag: &str) -> String {
    format!("oci://{}/acme/shipped:{tag}", registry.address())
}

/// The value of the hidden `reference` field of the review's Install form.
fn posted_reference(page: &str) -> String {
    let marker = r#"<input type="hidden" name="reference" value=""#;
    let start = page.find(marker).expect("no Install form") + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// `Server::post`, the page with the slashes minijinja escapes written back.
fn post(server: &Server, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let (status, page) = server.post(path, form);
    (status, page.replace("&#x2f;", "/"))
}

fn installed_version(server: &Server) -> Option<String> {
    server
        .state
        .desk
        .list()
        .unwrap()
        .into_iter()
        .find(|p| p.id == ID)
        .map(|p| p.manifest.version)
}

#[test]
fn a_module_is_reviewed_before_it_is_installed_and_the_reviewed_digest_is_installed() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let server = start();
    let pair = wasmsign2::KeyPair::generate();
    server
        .state
        .desk
        .trust_add(&public(&pair).to_openssh("release@example"))
        .unwrap();
    let reviewed = sign(&pair, &shipped("1.0.0", &["hooks.slack.com"]));
    let pinned = push(&registry, "1.0.0", &reviewed);

    let (status, form) = server.get("/install");
    assert_eq!(status, 200);
    assert!(form.contains(r#"action="/install/review""#), "{form}");
    let (_, list) = server.get("/");
    assert!(list.contains(r#"<a href="/install">"#), "{list}");

    let (status, page) = post(
        &server,
        "/install/review",
        &[("reference", &tag_of(&registry, "1.0.0"))],
    );
    assert_eq!(status, 200, "{page}");
    for shown in [
        ID.to_owned(),
        "1.0.0".to_owned(),
        "ticket.created".to_owned(),
        r#"<td id="hosts">hooks.slack.com</td>"#.to_owned(),
        "Shipped panel".to_owned(),
        pinned.digest().unwrap().to_owned(),
        format!(
            "Signed by {}, a key this desk trusts",
            public(&pair).fingerprint()
        ),
    ] {
        assert!(page.contains(&shown), "no {shown} in\n{page}");
    }
    assert!(!page.contains("allow-unsigned"), "{page}");
    assert_eq!(posted_reference(&page), pinned.to_string());
    assert_eq!(
        installed_version(&server),
        None,
        "a review installs nothing"
    );

    // The tag moves to another module between the review and the click: the button
    // installs the digest that was reviewed.
    push(
        &registry,
        "1.0.0",
        &sign(&pair, &shipped("1.0.1", &["evil.example"])),
    );
    let (status, page) = post(&server, "/install", &[("reference", &pinned.to_string())]);
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(r#"<td id="hosts">hooks.slack.com</td>"#),
        "{page}"
    );
    let info = server.state.desk.plugin(ID).unwrap();
    assert_eq!(info.manifest.version, "1.0.0");
    assert_eq!(info.source, Some(pinned.to_string()));

    // The button posts a pinned reference; a tag alone is sent back to review.
    let (status, page) = post(
        &server,
        "/install",
        &[("reference", &tag_of(&registry, "1.0.0"))],
    );
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("names no digest"), "{page}");
}

#[test]
fn an_unsigned_or_untrusted_module_is_installed_only_with_the_install_anyway_box() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let server = start();
    let trusted = wasmsign2::KeyPair::generate();
    let stranger = wasmsign2::KeyPair::generate();
    let pinned = push(&registry, "1.0.0", &shipped("1.0.0", &[]));

    // A desk that trusts no key: the warning and the box all the same.
    let (status, page) = post(
        &server,
        "/install/review",
        &[("reference", &pinned.to_string())],
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("The module is not signed."), "{page}");
    assert!(page.contains("This desk trusts no key"), "{page}");
    assert!(
        page.contains(r#"name="allow_unsigned" value="true""#),
        "{page}"
    );
    let (status, page) = post(&server, "/install", &[("reference", &pinned.to_string())]);
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("tick \u{201c}install anyway\u{201d}"),
        "{page}"
    );
    assert_eq!(installed_version(&server), None);

    // A desk that trusts a key, a module signed by another: the refusal's own words.
    server
        .state
        .desk
        .trust_add(&public(&trusted).to_openssh(""))
        .unwrap();
    let pinned = push(&registry, "1.0.0", &sign(&stranger, &shipped("1.0.0", &[])));
    let (_, page) = post(
        &server,
        "/install/review",
        &[("reference", &pinned.to_string())],
    );
    assert!(page.contains("untrusted"), "{page}");
    assert!(
        page.contains("only by keys this host does not trust"),
        "{page}"
    );
    let (status, _) = post(&server, "/install", &[("reference", &pinned.to_string())]);
    assert_eq!(status, 422);
    assert_eq!(installed_version(&server), None);

    let (status, page) = post(
        &server,
        "/install",
        &[
            ("reference", &pinned.to_string()),
            ("allow_unsigned", "true"),
        ],
    );
    assert_eq!(status, 200, "{page}");
    assert_eq!(installed_version(&server).as_deref(), Some("1.0.0"));
}

#[test]
fn an_upgrade_shows_its_diff_and_signer_and_another_signer_has_no_button() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let server = start();
    let (first, second) = (
        wasmsign2::KeyPair::generate(),
        wasmsign2::KeyPair::generate(),
    );
    for pair in [&first, &second] {
        server
            .state
            .desk
            .trust_add(&public(pair).to_openssh(""))
            .unwrap();
    }
    let v1 = push(&registry, "1.0.0", &sign(&first, &shipped("1.0.0", &[])));
    let (status, page) = post(&server, "/install", &[("reference", &v1.to_string())]);
    assert_eq!(status, 200, "{page}");

    // Signed by a key the desk trusts, but not by the key that signed 1.0.0.
    let other = push(&registry, "1.1.0", &sign(&second, &shipped("1.1.0", &[])));
    let (status, page) = post(
        &server,
        "/install/review",
        &[("reference", &other.to_string())],
    );
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(r#"id="same-signer""#) && page.contains("Refused"),
        "{page}"
    );
    assert!(
        page.contains(&public(&first).fingerprint().to_string()),
        "{page}"
    );
    assert!(
        page.contains(&public(&second).fingerprint().to_string()),
        "{page}"
    );
    assert!(!page.contains(r#"id="confirm""#), "{page}");
    assert!(
        page.contains(&format!(
            "Signed by {}, a key this desk trusts",
            public(&second).fingerprint()
        )),
        "{page}"
    );
    // A post all the same, box ticked, is refused as `desk upgrade` refuses it.
    let (status, page) = post(
        &server,
        "/install",
        &[
            ("reference", &other.to_string()),
            ("allow_unsigned", "true"),
        ],
    );
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("nothing was installed"), "{page}");
    assert_eq!(installed_version(&server).as_deref(), Some("1.0.0"));

    // The same key, with one more host: the diff, then the upgrade.
    let same = push(
        &registry,
        "1.1.0",
        &sign(&first, &shipped("1.1.0", &["api.example.com"])),
    );
    let (_, page) = post(
        &server,
        "/install/review",
        &[("reference", &same.to_string())],
    );
    assert!(page.contains("asks for more permissions"), "{page}");
    assert!(page.contains("api.example.com"), "{page}");
    assert!(
        page.contains("The installed version 1.0.0 was signed by"),
        "{page}"
    );
    assert!(page.contains("Upgrade to 1.1.0"), "{page}");
    let (status, page) = post(&server, "/install", &[("reference", &same.to_string())]);
    assert_eq!(status, 200, "{page}");
    let info = server.state.desk.plugin(ID).unwrap();
    assert_eq!(info.manifest.version, "1.1.0");
    assert_eq!(info.source, Some(same.to_string()));
}

/// Posts `reference` for review and checks that the form comes back with `status`, an
/// error containing `expected`, and nothing installed.
fn refused(server: &Server, reference: &str, status: u16, expected: &str) {
    let (got, page) = post(server, "/install/review", &[("reference", reference)]);
    assert_eq!(got, status, "{page}");
    assert!(page.contains(r#"id="install-error""#), "{page}");
    assert!(page.contains(expected), "no {expected} in\n{page}");
    assert!(
        page.contains(&format!(r#"value="{reference}""#)),
        "what was typed is kept:\n{page}"
    );
    assert_eq!(installed_version(server), None);
    assert_eq!(
        server.state.desk.list().unwrap().len(),
        1,
        "only the test's own plugin"
    );
}

#[test]
fn hostile_registries_are_clear_errors_and_install_nothing() {
    let server = start();
    refused(
        &server,
        "https://example.com/x",
        422,
        "does not start with `oci://`",
    );

    // 0.0.0.0 reaches this machine but is not one of its loopback names: the desk
    // speaks TLS to it, and a registry in plain HTTP there is refused.
    // (It answers before reading the TLS hello, as a plain-HTTP server does to bytes it
    // cannot read; a server waiting for a request's head would hold the client until
    // its timeout.)
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = std::io::Write::write_all(
                &mut stream,
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    refused(
        &server,
        &format!("oci://0.0.0.0:{port}/acme/shipped:1.0.0"),
        502,
        "HTTPS, and only HTTPS",
    );

    let garbage = fake_registry(|_| Answer::Body(200, MANIFEST, b"<html>hello</html>".to_vec()));
    refused(
        &server,
        &format!("oci://{garbage}/acme/shipped:1.0.0"),
        502,
        "not an OCI image manifest",
    );

    let huge = fake_registry(|head| {
        if head.contains("/manifests/") {
            Answer::Body(
                200,
                MANIFEST,
                manifest_with_layer(&digest_of(b"x"), 3_000_000_000),
            )
        } else {
            Answer::Declares(3_000_000_000)
        }
    });
    refused(
        &server,
        &format!("oci://{huge}/acme/shipped:1.0.0"),
        502,
        "3000000000 bytes (as its manifest says), over the limit",
    );

    let endless = fake_registry(|_| Answer::Endless);
    refused(
        &server,
        &format!("oci://{endless}/acme/shipped:1.0.0"),
        502,
        "over the limit",
    );
}

#[test]
fn a_form_from_another_origin_pulls_nothing() {
    let server = start();
    let response = common::agent()
        .post(&format!("{}/install/review", server.base))
        .header("Origin", "http://127.0.0.1:1")
        .send_form([("reference", "oci://127.0.0.1:9/acme/shipped:1.0.0")])
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
}

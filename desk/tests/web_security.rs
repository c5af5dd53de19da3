//! What the desk's pages accept from the browsers that reach them on the loopback
//! interface, and the headers every answer carries. Requests are written by hand on a
//! TCP connection, so that each one has exactly the `Host`, `Origin` and
//! `Sec-Fetch-Site` a hostile page's browser would send.
#![cfg(feature = "web")]

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::{Server, start};

/// An answer: status, headers (names in lower case), body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}\n{}", self.status, self.headers, self.body)
    }
}

/// Sends `head` (the request line and headers, without the final blank line) and
/// `body` to the server, and reads the answer to the end (`Connection: close`).
fn send(server: &Server, head: &str, body: &str) -> Answer {
    exchange(
        server,
        &format!(
            "{head}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// Sends `request` as it is and reads the answer to the end.
fn exchange(server: &Server, request: &str) -> Answer {
    let address = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn port(server: &Server) -> &str {
    server.base.rsplit(':').next().unwrap()
}

fn get(server: &Server, path: &str, host: &str) -> Answer {
    send(server, &format!("GET {path} HTTP/1.1\r\nHost: {host}"), "")
}

/// A form posted with `headers` (`Host` among them).
fn post(server: &Server, path: &str, headers: &[&str], form: &str) -> Answer {
    send(
        server,
        &format!(
            "POST {path} HTTP/1.1\r\n{}\r\nContent-Type: application/x-www-form-urlencoded",
            headers.join("\r\n")
        ),
        form,
    )
}

/// Whether the plugin was disabled by hand (by a POST that got through).
fn disabled_by_hand(server: &Server) -> bool {
    server
        .get("/plugins/com.example.web")
        .1
        .contains("disabled by hand")
}

#[test]
fn a_request_addressed_to_another_name_is_refused() {
    let server = start();
    let port = port(&server);
    for host in [
        format!("evil.example:{port}"),
        // A name that resolves to 127.0.0.1 is still not one of the desk's.
        format!("localtest.me:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
        // The desk's names at another port, or without the port.
        "127.0.0.1:1".to_owned(),
        "127.0.0.1".to_owned(),
        format!("localhost.:{port}"),
        format!("0.0.0.0:{port}"),
    ] {
        let page = get(&server, "/", &host);
        assert_eq!(page.status, 421, "{host}: {page:?}");
        assert!(
            page.body.contains(&format!("was addressed to `{host}`"))
                && page.body.contains("DNS rebinding")
                && !page.body.contains("Web test"),
            "{page:?}"
        );
        let refused = post(
            &server,
            "/plugins/com.example.web/disable",
            &[&format!("Host: {host}"), &format!("Origin: http://{host}")],
            "",
        );
        assert_eq!(refused.status, 421, "{refused:?}");
    }
    assert!(!disabled_by_hand(&server));

    // No `Host` at all (HTTP/1.0), and an absolute target naming another host.
    let page = send(&server, "GET / HTTP/1.0", "");
    assert_eq!(page.status, 421, "{page:?}");
    assert!(page.body.contains("named no host"), "{page:?}");
    let page = send(
        &server,
        &format!("GET http://evil.example:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}"),
        "",
    );
    assert_eq!(page.status, 421, "{page:?}");
}

#[test]
fn each_loopback_name_at_the_port_is_accepted() {
    let server = start();
    let port = port(&server);
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        format!("LocalHost:{port}"),
    ] {
        let page = get(&server, "/", &host);
        assert_eq!(page.status, 200, "{host}: {page:?}");
        assert!(page.body.contains("Web test"), "{page:?}");
        // Its own pages post with the origin they were loaded from.
        let posted = post(
            &server,
            "/plugins/com.example.web/disable",
            &[&format!("Host: {host}"), &format!("Origin: http://{host}")],
            "",
        );
        assert_eq!(posted.status, 303, "{host}: {posted:?}");
    }
    assert!(disabled_by_hand(&server));
}

#[test]
fn a_change_needs_the_desks_own_origin() {
    let server = start();
    let port = port(&server);
    let host = format!("Host: 127.0.0.1:{port}");
    let path = "/plugins/com.example.web/disable";
    for (headers, why) in [
        (vec![], "a `POST` without an `Origin` header"),
        (
            vec!["Sec-Fetch-Site: cross-site"],
            "(and with `Sec-Fetch-Site: cross-site`)",
        ),
        (vec!["Sec-Fetch-Site: same-site"], "same-site"),
        (
            vec!["Origin: http://evil.example"],
            "a form from http://evil.example",
        ),
        // Another server on the same machine is another origin.
        (vec!["Origin: http://127.0.0.1:1"], "http://127.0.0.1:1"),
        (
            vec![&*format!("Origin: http://localhost:{port}")],
            "only the desk's own pages",
        ),
        // A sandboxed frame, or a page that hides its origin.
        (vec!["Origin: null"], "`Origin: null`"),
        (
            vec!["Origin: null", "Sec-Fetch-Site: cross-site"],
            "and it says `cross-site`",
        ),
        (
            vec!["Origin: http://evil.example", "Sec-Fetch-Site: same-origin"],
            "a form from http://evil.example",
        ),
    ] {
        let mut all = vec![host.as_str()];
        all.extend(headers.iter().copied());
        let refused = post(&server, path, &all, "");
        assert_eq!(refused.status, 403, "{headers:?}: {refused:?}");
        assert!(
            refused.body.contains("refused") && refused.body.contains(why),
            "{headers:?}: {refused:?}"
        );
        assert!(!disabled_by_hand(&server), "{headers:?} got through");
    }
    // The enable form under another method is refused the same way.
    let refused = send(&server, &format!("DELETE {path} HTTP/1.1\r\n{host}"), "");
    assert_eq!(refused.status, 403, "{refused:?}");

    let accepted = post(&server, path, &[&host, "Sec-Fetch-Site: same-origin"], "");
    assert_eq!(accepted.status, 303, "{accepted:?}");
    assert!(disabled_by_hand(&server));
    // What a browser sends with the desk's own forms under `Referrer-Policy: no-referrer`.
    let accepted = post(
        &server,
        "/plugins/com.example.web/config",
        &[&host, "Origin: null", "Sec-Fetch-Site: same-origin"],
        "token=t&region=us",
    );
    assert_eq!(accepted.status, 303, "{accepted:?}");
    let origin = format!("Origin: http://127.0.0.1:{port}");
    let accepted = post(
        &server,
        "/plugins/com.example.web/config",
        &[&host, &origin],
        "token=t&region=eu",
    );
    assert_eq!(accepted.status, 303, "{accepted:?}");
}

/// The headers every answer must carry.
fn assert_protected(what: &str, answer: &Answer) {
    let csp = answer
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy: {answer:?}"));
    for directive in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{what}: {csp}");
    }
    assert!(!csp.contains("unsafe-"), "{what}: {csp}");
    for (name, value) in [
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(answer.header(name), Some(value), "{what}: {answer:?}");
    }
}

#[test]
fn every_answer_forbids_framing_and_sniffing_and_only_the_panels_are_framed() {
    let server = start();
    let port = port(&server);
    let host = format!("127.0.0.1:{port}");
    let origin = format!("Origin: http://{host}");
    let host_line = format!("Host: {host}");
    // Configured, so the plugin is enabled and the ticket page shows its panel.
    server.post(
        "/plugins/com.example.web/config",
        &[("token", "t"), ("region", "eu")],
    );
    let answers = [
        ("the plugin list", get(&server, "/", &host), 200),
        (
            "a plugin page",
            get(&server, "/plugins/com.example.web", &host),
            200,
        ),
        ("a ticket page", get(&server, "/tickets/T-1", &host), 200),
        (
            "a plugin that is not installed",
            get(&server, "/plugins/com.example.none", &host),
            404,
        ),
        ("a path with no page", get(&server, "/nope", &host), 404),
        (
            "a page asked with the wrong method",
            get(&server, "/plugins/com.example.web/enable", &host),
            405,
        ),
        (
            "a refused origin",
            post(
                &server,
                "/plugins/com.example.web/enable",
                &[&host_line, "Origin: http://evil.example"],
                "",
            ),
            403,
        ),
        (
            "a refused host",
            get(&server, "/", &format!("evil.example:{port}")),
            421,
        ),
        (
            "a form that is not one",
            send(
                &server,
                &format!(
                    "POST /tickets/T-1/events HTTP/1.1\r\n{host_line}\r\n{origin}\r\nContent-Type: application/json"
                ),
                "{}",
            ),
            415,
        ),
        (
            "a redirect after a save",
            post(
                &server,
                "/plugins/com.example.web/disable",
                &[&host_line, &origin],
                "",
            ),
            303,
        ),
    ];
    for (what, answer, status) in &answers {
        assert_eq!(answer.status, *status, "{what}: {answer:?}");
        assert_protected(what, answer);
    }
    // Only the ticket page frames anything: its panels' origin, and nothing else.
    let csp = |i: usize| answers[i].1.header("content-security-policy").unwrap();
    assert!(
        csp(2).ends_with("frame-src http://127.0.0.1:9"),
        "{}",
        csp(2)
    );
    assert!(
        answers[2]
            .1
            .body
            .contains(r#"src="http:&#x2f;&#x2f;127.0.0.1:9&#x2f;p?t=1""#)
    );
    for i in [0, 1, 3, 4] {
        assert!(csp(i).ends_with("frame-src 'none'"), "{}", csp(i));
    }
}

#[test]
fn a_path_without_a_page_gets_a_page_that_says_so() {
    let server = start();
    let (status, page) = server.get("/plugin/com.example.web");
    assert_eq!(status, 404);
    assert!(
        page.contains("<h1>Not found</h1>")
            && page.contains("no page at `/plugin/com.example.web`")
            && page.contains(r#"<a href="/">Plugins</a>"#),
        "{page}"
    );
    let (status, page) = server.get("/plugins/com.example.web/enable");
    assert_eq!(status, 405);
    assert!(
        page.contains("`GET` is not accepted at `/plugins/com.example.web/enable`"),
        "{page}"
    );
}

#[test]
fn the_config_form_refuses_a_value_or_config_past_its_limit() {
    use otai_plugin_abi::limits::MAX_CONFIG_VALUE;
    let server = start();
    let secret = format!("XXXXsecretXXXX{}", "s".repeat(MAX_CONFIG_VALUE));
    let (status, page) = server.post(
        "/plugins/com.example.web/config",
        &[("token", &secret), ("region", "eu")],
    );
    assert_eq!(status, 422, "{}", &page[..page.len().min(2000)]);
    assert!(!page.contains("XXXXsecretXXXX"), "the secret came back");
    assert!(
        page.contains(&format!(
            r#"<div class="error" id="e-token">the value is {} bytes long; a config value may be at most 16 KiB (16384 bytes)</div>"#,
            secret.len()
        )),
        "{page}"
    );
    // Values each within its limit, together past the config's, on a plugin with
    // enough text fields for that.
    let keys = ["a", "b", "c", "d", "e"];
    let schema: serde_json::Map<String, serde_json::Value> = keys
        .iter()
        .map(|k| (k.to_string(), serde_json::json!({"type": "string"})))
        .collect();
    server
        .state
        .desk
        .install(&common::module_with(&serde_json::json!({
            "id": "com.example.wide", "name": "Wide", "version": "1.0.0",
            "description": "d", "events": ["ticket.created"], "config_schema": schema
        })))
        .unwrap();
    let value = "v".repeat(MAX_CONFIG_VALUE - 100);
    let form: Vec<(&str, &str)> = keys.iter().map(|k| (*k, value.as_str())).collect();
    let (status, page) = server.post("/plugins/com.example.wide/config", &form);
    assert_eq!(status, 422, "{}", &page[..page.len().min(2000)]);
    let size = 5 * (value.len() + 6) + 4 + 2;
    let largest = value.len() + 2;
    assert!(
        page.contains(&format!(
            r#"<div class="error">the config is {size} bytes as the plugin receives it (JSON, defaults included); a config may be at most 64 KiB (65536 bytes). The largest values: `a` ({largest} bytes), `b` ({largest} bytes), `c` ({largest} bytes)</div>"#
        )),
        "{}",
        &page[..page.len().min(4000)]
    );
    let form_minus_one = &form[..4];
    let (status, page) = server.post("/plugins/com.example.wide/config", form_minus_one);
    assert_eq!(
        status,
        200,
        "four values fit: {}",
        &page[..page.len().min(2000)]
    );

    // A form past what the desk reads at all: refused on its length, before any of it is
    // read, with the limits. (Only the head is sent: the desk answers and closes without
    // reading a body that long, and a client still writing one would see the
    // connection reset.)
    let port = port(&server);
    let page = exchange(
        &server,
        &format!(
            "POST /plugins/com.example.web/config HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Origin: http://127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            2 * 1024 * 1024
        ),
    );
    assert_eq!(page.status, 413, "{page:?}");
    assert!(
        page.body.contains("the form is larger than the 1024 KiB the desk reads; a config value may be at most 16 KiB and a whole config 64 KiB"),
        "{page:?}"
    );
    // Nothing refused was stored.
    let (_, page) = server.get("/plugins/com.example.web");
    assert!(page.contains(r#"id="s-token">not set<"#), "{page}");
}

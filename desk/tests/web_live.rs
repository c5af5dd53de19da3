//! The live reload's stream (`GET /live`) as a browser's `EventSource` reads it: an event
//! at each build result, at once when the page is behind, nothing of the build's text,
//! and only for requests addressed to the desk.
#![cfg(feature = "web")]

use std::io::{BufRead, BufReader, Read, Write};

use crate::common::{self, agent};

/// The next event of a stream: its name and data.
fn next_event(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    seen: &mut Vec<String>,
) -> (String, String) {
    let (mut name, mut data) = (String::new(), String::new());
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.is_empty() && !name.is_empty() {
            return (name, data);
        }
        if let Some(v) = line.strip_prefix("event: ") {
            name = v.to_owned();
        } else if let Some(v) = line.strip_prefix("data: ") {
            data = v.to_owned();
        }
    }
    panic!("the stream ended; it said {seen:?}")
}

/// The status line and headers of `GET path` sent to `address` with `Host: host` and
/// `Origin: origin`.
fn head(address: &str, path: &str, host: &str, origin: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    // The headers only: a stream's body does not end.
    while !answer.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
        answer.push(byte[0]);
    }
    String::from_utf8(answer).unwrap().to_ascii_lowercase()
}

#[test]
fn the_stream_says_each_build_result_and_nothing_else() {
    let server = common::start();
    let (_, page) = server.get("/");
    assert!(page.contains(r#"<body data-live="0">"#), "{page}");

    let mut response = agent()
        .get(&format!("{}/live?seen=0", server.base))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let mut lines = BufReader::new(response.body_mut().as_reader()).lines();
    let mut said = Vec::new();
    // A build swapped in, then one that fails: the compiler's text stays on the pages.
    server.state.set_build_error(None);
    assert_eq!(
        next_event(&mut lines, &mut said),
        ("reload".into(), "1".into())
    );
    server.state.set_build_error(Some(
        "error[E0425]: cannot find value `x` in this scope".into(),
    ));
    assert_eq!(
        next_event(&mut lines, &mut said),
        ("build-failed".into(), "2".into())
    );
    assert!(
        !said.iter().any(|l| l.contains("E0425")),
        "the stream gave the build's text: {said:?}"
    );
    let (_, page) = server.get("/");
    assert!(page.contains(r#"<body data-live="2">"#), "{page}");
    assert!(page.contains("error[E0425]"), "{page}");

    // A page rendered before the last result hears of it at once; one that shows the
    // last result hears only of the next (its first event is number 3).
    let mut behind = agent()
        .get(&format!("{}/live?seen=1", server.base))
        .call()
        .unwrap();
    let mut behind = BufReader::new(behind.body_mut().as_reader()).lines();
    assert_eq!(
        next_event(&mut behind, &mut said),
        ("build-failed".into(), "2".into())
    );
    let mut current = agent()
        .get(&format!("{}/live?seen=2", server.base))
        .call()
        .unwrap();
    let mut current = BufReader::new(current.body_mut().as_reader()).lines();
    server.state.set_build_error(None);
    assert_eq!(
        next_event(&mut current, &mut said),
        ("reload".into(), "3".into())
    );
    assert_eq!(
        next_event(&mut lines, &mut said),
        ("reload".into(), "3".into())
    );

    // Stopping: the streams end, and a new one is told not to come back.
    server.state.end_live_streams();
    assert!(lines.next().is_none(), "the stream did not end");
    let (status, _) = server.get("/live?seen=3");
    assert_eq!(status, 204);
}

#[test]
fn another_site_cannot_read_the_stream() {
    let server = common::start();
    let address = server.base.trim_start_matches("http://");
    let port = address.rsplit(':').next().unwrap();
    // Under a name of its own (DNS rebinding): refused before any stream.
    let rebound = head(
        address,
        "/live",
        &format!("evil.example:{port}"),
        "http://evil.example",
    );
    assert!(rebound.starts_with("http/1.1 421"), "{rebound}");
    // By the desk's own name from a page of another origin: answered, but without a
    // header that lets that page's script read it.
    let foreign = head(address, "/live?seen=0", address, "http://127.0.0.1:9");
    assert!(foreign.starts_with("http/1.1 200"), "{foreign}");
    assert!(!foreign.contains("access-control-allow"), "{foreign}");
    // The pages may connect only to the desk itself.
    let page = head(address, "/", address, "http://127.0.0.1:9");
    assert!(page.contains("connect-src 'self'"), "{page}");
    server.state.end_live_streams();
}

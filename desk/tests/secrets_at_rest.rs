//! What the desk writes to its data directory holds no secret in any form: a plugin
//! requests webhook URLs that are secret config values and that the URL parser rewrites,
//! logs them and the server's echo, and every file of the directory (the database, its
//! WAL and shared memory, the key) is searched byte by byte.

use std::path::Path;
use std::sync::Arc;

use otai_plugin_desk::{Desk, DeskOptions};
use otai_plugin_host::http::MockHttp;
use otai_plugin_test_support::{HTTP, LOG, Module, wat_string};
use serde_json::{Map, Value, json};

const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// In every secret below, in some letter case, and so in every form of them
/// (percent-encoding and punycode keep ASCII letters and digits); long enough not to
/// turn up by chance in the sealed values' random bytes.
const MARK: &[u8] = b"s3cr3tq7";

/// Config field, secret webhook URL, and that URL as the URL Standard serializes it
/// (what the host sends and reports).
const HOOKS: [(&str, &str, &str); 5] = [
    (
        "hook_space",
        "https://hooks.slack.com/services/T000/B000/Sp4ce s3cr3tq7",
        "https://hooks.slack.com/services/T000/B000/Sp4ce%20s3cr3tq7",
    ),
    (
        "hook_upper",
        "https://HOOKS.slack.com/services/T000/B000/Upp3rS3cr3tq7",
        "https://hooks.slack.com/services/T000/B000/Upp3rS3cr3tq7",
    ),
    (
        "hook_port",
        "https://hooks.slack.com:443/services/T000/B000/P0rtS3cr3tq7",
        "https://hooks.slack.com/services/T000/B000/P0rtS3cr3tq7",
    ),
    (
        "hook_path",
        "https://hooks.slack.com/services/T000/B000/Ünï-s3cr3tq7",
        "https://hooks.slack.com/services/T000/B000/%C3%9Cn%C3%AF-s3cr3tq7",
    ),
    (
        "hook_host",
        "https://BÜCHER.example/hooks/s3cr3tq7",
        "https://xn--bcher-kva.example/hooks/s3cr3tq7",
    ),
];

/// `"method":"POST","url":"` and `"}` around a URL make the request JSON.
const REQUEST_HEAD: &str = r#"{"method":"POST","url":""#;
const REQUEST_TAIL: &str = r#""}"#;

/// A plugin that, for each field of [`HOOKS`], reads its value from the payload's
/// config (the URLs contain no `"` or `\`, so the JSON string is the value), logs it,
/// posts to it, and logs the answer. The module itself holds no secret.
fn module() -> Vec<u8> {
    let schema: Map<String, Value> = HOOKS
        .iter()
        .map(|(key, _, _)| {
            (
                (*key).to_owned(),
                json!({"type": "string", "required": true, "secret": true}),
            )
        })
        .collect();
    let manifest = json!({
        "id": "com.example.hooks", "name": "Hooks", "version": "1.0.0",
        "description": "Posts to secret webhooks.", "events": ["ticket.created"],
        "permissions": {"http": {"allowed_hosts": ["hooks.slack.com", "xn--bcher-kva.example"]}},
        "config_schema": schema
    });
    let mut calls = String::new();
    let mut datas = format!(
        r#"(data (i32.const 0) "{}") (data (i32.const 64) "{}")"#,
        wat_string(REQUEST_HEAD),
        wat_string(REQUEST_TAIL)
    );
    for (i, (key, _, _)) in HOOKS.iter().enumerate() {
        let needle = format!(r#""{key}":""#);
        let at = 128 + 64 * i;
        datas.push_str(&format!(
            r#"(data (i32.const {at}) "{}")"#,
            wat_string(&needle)
        ));
        calls.push_str(&format!(
            r#"(local.set $v (call $find (local.get $p) (local.get $n) (i32.const {at}) (i32.const {len})))
               (call $post (local.get $v) (call $quote_len (local.get $v)))"#,
            len = needle.len()
        ));
    }
    let body = format!(
        r#";; Where the `$k`-byte needle at `$needle` ends in the `$n` bytes at `$p`; traps if absent.
  (func $find (param $p i32) (param $n i32) (param $needle i32) (param $k i32) (result i32)
    (local $i i32) (local $j i32)
    (loop $at
      (if (i32.gt_u (i32.add (local.get $i) (local.get $k)) (local.get $n)) (then unreachable))
      (local.set $j (i32.const 0))
      (block $differs
        (loop $same
          (if (i32.eq (local.get $j) (local.get $k))
            (then (return (i32.add (i32.add (local.get $p) (local.get $i)) (local.get $k)))))
          (br_if $differs
            (i32.ne (i32.load8_u (i32.add (i32.add (local.get $p) (local.get $i)) (local.get $j)))
                    (i32.load8_u (i32.add (local.get $needle) (local.get $j)))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $same)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $at))
    unreachable)
  ;; The bytes from `$p` to the next `"`.
  (func $quote_len (param $p i32) (result i32)
    (local $i i32)
    (loop $more
      (if (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 34))
        (then (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $more))))
    (local.get $i))
  ;; Logs the URL, posts to it (the request JSON built at 32768), logs the answer.
  (func $post (param $url i32) (param $len i32)
    (call $log (local.get $url) (local.get $len) (i32.const 1))
    (memory.copy (i32.const 32768) (i32.const 0) (i32.const {head}))
    (memory.copy (i32.const {after_head}) (local.get $url) (local.get $len))
    (memory.copy (i32.add (i32.const {after_head}) (local.get $len)) (i32.const 64) (i32.const {tail}))
    (drop (call $http (i32.const 32768) (i32.add (local.get $len) (i32.const {wrap})) (i32.const 512) (i32.const 516)))
    (call $log (i32.load (i32.const 512)) (i32.load (i32.const 516)) (i32.const 1)))
  (func (export "on_event") (param $p i32) (param $n i32)
    (local $v i32)
    {calls})
  {datas}"#,
        head = REQUEST_HEAD.len(),
        after_head = 32768 + REQUEST_HEAD.len(),
        tail = REQUEST_TAIL.len(),
        wrap = REQUEST_HEAD.len() + REQUEST_TAIL.len(),
    );
    Module::new()
        .imports(&[LOG, HTTP])
        .pages(4)
        .body(&body)
        .manifest(&manifest.to_string())
        .wasm()
}

/// The files of `dir` and its directories (the compiled modules') that hold [`MARK`]
/// in any letter case.
fn files_with_the_mark(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_with_the_mark(&path));
            continue;
        }
        let bytes = std::fs::read(&path).unwrap().to_ascii_lowercase();
        if bytes.windows(MARK.len()).any(|w| w == MARK) {
            found.push(path.display().to_string());
        }
    }
    found
}

#[test]
fn no_file_of_the_data_directory_holds_a_secret_the_url_parser_rewrote() {
    // A server that echoes the URL it got, as is and in JSON with `/` escaped.
    let mut mock = MockHttp::new();
    for (_, _, sent) in HOOKS {
        let json = serde_json::to_string(sent).unwrap().replace('/', "\\/");
        mock = mock
            .on("POST", sent)
            .respond(200, format!("got {sent} {{\"url\":{json}}}"));
    }
    let dir = tempfile::tempdir().unwrap();
    let options = DeskOptions {
        http: Arc::new(mock.clone()),
        key: Some(KEY.into()),
        ..DeskOptions::default()
    };
    let desk = Desk::open_with(dir.path(), options).unwrap();
    desk.install(&module()).unwrap();
    let values: Map<String, Value> = HOOKS
        .iter()
        .map(|(key, secret, _)| ((*key).to_owned(), json!(secret)))
        .collect();
    desk.configure("com.example.hooks", values).unwrap();
    let reports = desk.deliver("ticket.created", "T-1").unwrap();
    assert!(reports[0].outcome.is_ok(), "{:?}", reports[0]);

    // The server got each URL as the parser wrote it, secret and all.
    let received: Vec<String> = mock.requests().into_iter().map(|r| r.url).collect();
    let sent: Vec<&str> = HOOKS.iter().map(|(_, _, sent)| *sent).collect();
    assert_eq!(received, sent);
    // The log holds the deliveries, with every URL redacted.
    desk.flush().unwrap();
    let logged = desk.deliveries("com.example.hooks", 10).unwrap();
    let report = &logged[0].report;
    assert_eq!(report.http.len(), HOOKS.len());
    for (exchange, (_, _, sent)) in report.http.iter().zip(HOOKS) {
        assert_eq!(exchange.status, 200);
        // The allowed host is in the manifest, for anyone to read; what follows it is
        // the admin's secret.
        let host = &sent[..sent[8..].find('/').unwrap() + 9];
        let shown = format!("{host}[redacted]");
        assert_eq!(exchange.request.url, shown);
        assert_eq!(
            exchange.response_body.as_deref(),
            Some(format!(r#"got {shown} {{"url":"[redacted]"}}"#).as_str())
        );
    }
    assert!(report.logs.iter().all(|l| l.message.contains("[redacted]")));

    // Open, with the WAL written, and after the desk is closed.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n == "desk.sqlite3-wal"),
        "the WAL is searched too: {names:?}"
    );
    assert_eq!(files_with_the_mark(dir.path()), Vec::<String>::new());
    drop(desk);
    assert_eq!(files_with_the_mark(dir.path()), Vec::<String>::new());
}

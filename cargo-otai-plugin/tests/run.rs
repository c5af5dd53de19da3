//! `run` on hand-written WAT plugins: delivery reports, mocks, no network by default,
//! traps with the panic message, panels; with `--allow-network`, loopback servers
//! reached only as the address rules allow, and proxy variables not used.

mod support;

use otai_plugin_test_support::{HTTP, LOG, Loopback, Module};
use predicates::prelude::*;
use support::{
    Project, TICKET, cli, stdout_of, wat_get_plugin, wat_panel_plugin, wat_panicking_plugin,
    wat_plugin,
};

#[test]
fn run_delivers_an_event_with_mocked_http_and_prints_the_report_as_json() {
    let project = Project::empty();
    let wasm = project.write("plugin.wasm", wat_plugin());
    let mocks = project.write(
        "mocks.toml",
        "[[http]]\nmethod = \"POST\"\nurl = \"https://hooks.example.com/in\"\nstatus = 202\nbody = \"queued\"\n",
    );
    let output = cli()
        .args([
            "run",
            "--event",
            "ticket.created",
            "--format",
            "json",
            "--http-mock",
        ])
        .arg(&mocks)
        .arg(&wasm)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", support::stderr_of(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["plugin_id"], "com.example.wat");
    assert_eq!(report["event"], "ticket.created");
    assert_eq!(report["outcome"]["status"], "ok");
    assert_eq!(report["logs"][0]["message"], "event arrived");
    assert_eq!(
        report["http"][0]["request"]["url"],
        "https://hooks.example.com/in"
    );
    assert_eq!(report["http"][0]["status"], 202);
    assert_eq!(report["replies"][0]["ticket_id"], TICKET);
    assert_eq!(report["replies"][0]["is_internal"], true);
}

#[test]
fn without_allow_network_an_unmocked_request_fails_and_says_why() {
    let project = Project::empty();
    let wasm = project.write("plugin.wasm", wat_plugin());
    let output = cli()
        .args(["run", "--event", "ticket.created"])
        .arg(&wasm)
        .output()
        .unwrap();
    // The plugin ignores the status, so the delivery itself succeeds.
    assert!(output.status.success());
    let stdout = stdout_of(&output);
    assert!(stdout.contains("outcome: ok"), "{stdout}");
    assert!(
        stdout.contains("POST https://hooks.example.com/in -> 0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("`--allow-network` was not given"),
        "{stdout}"
    );
    assert!(
        stdout.contains("internal note on 01JQXYZ8K2M4N6P8R0T2V4W6Y8: noted"),
        "{stdout}"
    );
}

#[test]
fn a_trapping_plugin_leads_with_its_own_reason_and_exits_with_1() {
    let project = Project::empty();
    let wasm = project.write("panics.wasm", wat_panicking_plugin());
    let run = |verbose: bool| {
        let mut command = cli();
        command.args(["run", "--event", "ticket.created"]);
        if verbose {
            command.arg("-v");
        }
        let output = command.arg(&wasm).output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        stdout_of(&output)
    };
    let stdout = run(false);
    assert!(
        stdout.starts_with(
            "outcome: trapped: panicked at src/lib.rs:7:9:\nthe webhook URL is empty\n  \
             trap: wasm trap: wasm `unreachable` instruction executed\n  \
             (run with -v to see the wasm backtrace)\n"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("0x"), "no frames without -v: {stdout}");
    let verbose = run(true);
    let frames = verbose
        .split_once("  wasm backtrace:\n")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("{verbose}"));
    assert!(frames.starts_with("    0: "), "{verbose}");
}

#[test]
fn run_renders_a_panel() {
    let project = Project::empty();
    let wasm = project.write("panel.wasm", wat_panel_plugin());
    cli()
        .args(["run", "--panel", "T-1"])
        .arg(&wasm)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "panel url: https://panel.example.com/t/1",
        ));
}

#[test]
fn run_refuses_an_unknown_event_and_a_non_module() {
    let project = Project::empty();
    let wasm = project.write("plugin.wasm", wat_plugin());
    cli()
        .args(["run", "--event", "ticket.exploded"])
        .arg(&wasm)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "unknown event `ticket.exploded`; the events are ticket.created,",
        ));
    let text = project.write("text.wasm", "(module)");
    cli()
        .args(["run", "--event", "ticket.created"])
        .arg(&text)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "this is WebAssembly text (WAT), not a binary module",
        ));
}

#[test]
fn run_takes_config_and_reports_config_errors() {
    let project = Project::empty();
    let manifest = support::wat_string(
        r#"{"id":"com.example.cfg","name":"Cfg","version":"1.0.0","description":"d","events":["ticket.created"],"config_schema":{"token":{"type":"string","required":true,"secret":true}}}"#,
    );
    let wasm = wat::parse_str(format!(
        r#"(module (memory (export "memory") 1)
            (func (export "ohd_alloc") (param i32) (result i32) (i32.const 1024))
            (func (export "ohd_free") (param i32 i32))
            (func (export "on_event") (param i32 i32))
            (@custom "ohd_manifest" "{manifest}"))"#
    ))
    .unwrap();
    let wasm = project.write("cfg.wasm", wasm);
    cli()
        .args(["run", "--event", "ticket.created"])
        .arg(&wasm)
        .assert()
        .failure()
        .stderr(predicate::str::contains("the host refused the config"))
        .stderr(predicate::str::contains("token"));
    let config = project.write("config.toml", "token = \"s3cret\"\n");
    cli()
        .args(["run", "--event", "ticket.created", "--config"])
        .arg(&config)
        .arg(&wasm)
        .assert()
        .success();
}

#[test]
fn an_event_file_gives_only_what_it_cares_about_and_names_what_is_wrong() {
    let project = Project::empty();
    let wasm = project.write("plugin.wasm", wat_plugin());
    let run = |payload: &str| {
        let file = project.write("event.json", payload);
        cli()
            .args(["run", "--format", "json", "--event"])
            .arg(&file)
            .arg(&wasm)
            .output()
            .unwrap()
    };
    // The ticket id and everything else come from the sample: the plugin's reply to the
    // sample ticket is accepted.
    let output = run(r#"{"event": "ticket.created", "ticket": {"priority": "Critical"}}"#);
    assert!(output.status.success(), "{}", support::stderr_of(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["replies"][0]["ticket_id"], TICKET);

    for (payload, expected) in [
        (
            r#"{"ticket": {"priority": "Critical"}}"#,
            "the payload has no `event` field",
        ),
        (
            r#"{"event": "ticket.creatd"}"#,
            "unknown event `ticket.creatd`",
        ),
        (
            r#"{"event": "ticket.created", "ticket": {"priority": 5}}"#,
            "ticket.priority: invalid type: integer `5`",
        ),
    ] {
        let output = run(payload);
        assert_eq!(output.status.code(), Some(1), "{payload}");
        let error: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let message = error.to_string();
        assert!(
            message.contains("event.json` is not an event payload"),
            "{message}"
        );
        assert!(message.contains(expected), "{payload}: {message}");
    }
}

/// A plugin whose config has a required `webhook_url`; it logs the payload.
fn plugin_with_required_config() -> Vec<u8> {
    let manifest = support::wat_string(
        r#"{"id":"com.example.needs-config","name":"Needs config","version":"1.0.0","description":"Logs its payload.","events":["ticket.created"],"config_schema":{"webhook_url":{"type":"string","required":true}}}"#,
    );
    wat::parse_str(format!(
        r#"(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  (func (export "ohd_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "ohd_free") (param i32 i32))
  (func (export "on_event") (param i32 i32) (call $log (local.get 0) (local.get 1) (i32.const 1)))
  (@custom "ohd_manifest" "{manifest}"))"#
    ))
    .unwrap()
}

#[test]
fn a_fixture_gives_run_its_event_config_and_mocks() {
    let project = Project::empty();
    let wasm = project.write("plugin.wasm", plugin_with_required_config());
    project.write(
        "tests/fixtures/critical.toml",
        "[event]\nkind = \"ticket.created\"\n[event.ticket]\npriority = \"Critical\"\n\
         [config]\nwebhook_url = \"https://hooks.example.com/in\"\n",
    );
    let run = |args: &[&str]| {
        cli()
            .current_dir(&project.root)
            .arg("run")
            .args(args)
            .arg(&wasm)
            .output()
            .unwrap()
    };

    // Without config, the error says how to give it, and which fixtures there are.
    let output = run(&["--event", "ticket.created"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = support::stderr_of(&output);
    assert!(stderr.contains("webhook_url"), "{stderr}");
    assert!(
        stderr.contains(
            "the plugin needs config values: give them with `--config FILE` (JSON or TOML), or \
             take a fixture's with `--fixture NAME`; the fixtures are critical"
        ),
        "{stderr}"
    );

    // With the fixture: its config, and its event (the payload shows its override).
    let output = run(&["--fixture", "critical", "--format", "json"]);
    assert!(output.status.success(), "{}", support::stderr_of(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let payload: serde_json::Value =
        serde_json::from_str(report["logs"][0]["message"].as_str().unwrap()).unwrap();
    assert_eq!(payload["ticket"]["priority"], "Critical");
    assert_eq!(
        payload["config"]["webhook_url"],
        "https://hooks.example.com/in"
    );
    // `--event` overrides the fixture's event and keeps its config.
    let output = run(&[
        "--fixture",
        "critical",
        "--event",
        "ticket.created",
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "{}", support::stderr_of(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let payload: serde_json::Value =
        serde_json::from_str(report["logs"][0]["message"].as_str().unwrap()).unwrap();
    assert_ne!(payload["ticket"]["priority"], "Critical");

    // An unknown name lists the fixtures there are.
    let output = run(&["--fixture", "critcal"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = support::stderr_of(&output);
    assert!(stderr.contains("no fixture `critcal`"), "{stderr}");
    assert!(stderr.contains("the fixtures are critical"), "{stderr}");
}

#[test]
fn a_fixtures_mocks_answer_the_plugins_requests() {
    let project = Project::empty();
    let wasm = project.write("plugin.wasm", wat_plugin());
    let fixture = project.write(
        "mocked.toml",
        "[event]\nkind = \"ticket.created\"\n[[http]]\nmethod = \"POST\"\n\
         url = \"https://hooks.example.com/in\"\nstatus = 202\n",
    );
    let output = cli()
        .args(["run", "--format", "json", "--fixture"])
        .arg(&fixture)
        .arg(&wasm)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", support::stderr_of(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["http"][0]["status"], 202);
}

#[test]
fn a_panel_of_zero_zero_is_no_panel_and_no_failure() {
    let project = Project::empty();
    let manifest = support::wat_string(
        r#"{"id":"com.example.nopanel","name":"No panel","version":"1.0.0","description":"Never a panel.","events":["ticket.created"],"ui_panel":{"title":"P","height":100}}"#,
    );
    let wasm = wat::parse_str(format!(
        r#"(module
  (memory (export "memory") 1)
  (func (export "ohd_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "ohd_free") (param i32 i32))
  (func (export "on_event") (param i32 i32))
  (func (export "render_panel") (param i32 i32) (result i32 i32) (i32.const 0) (i32.const 0))
  (@custom "ohd_manifest" "{manifest}"))"#
    ))
    .unwrap();
    let path = project.write("nopanel.wasm", wasm);
    let output = cli()
        .args(["run", "--panel", "T-1"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", support::stderr_of(&output));
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains("panel: none for this ticket (render_panel returned (0, 0))"),
        "{stdout}"
    );
    assert!(!stdout.contains("refused"), "{stdout}");
}

// ---- `--allow-network` against servers these tests start on loopback ----

/// Answers one request to `server` with 200 and `body`; the thread returns the request
/// head.
fn answer_once(server: Loopback, body: &str) -> std::thread::JoinHandle<Vec<u8>> {
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    server.serve_once(Some(response.into_bytes()))
}

/// `run --event ticket.created WASM` with `args` before the module and no proxy
/// variables of the caller's.
fn run_with(wasm: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut command = cli();
    for name in [
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        command.env_remove(name);
    }
    command
        .args(["run", "--event", "ticket.created"])
        .args(args)
        .arg(wasm)
        .output()
        .unwrap()
}

/// `localhost` is resolved by the system from its hosts file (no DNS query), to
/// loopback: a name that resolves to an internal address.
#[test]
fn a_name_resolving_to_loopback_needs_allow_private_network() {
    let project = Project::empty();
    let server = Loopback::new();
    let url = format!("http://localhost:{}/x", server.port());
    let wasm = project.write("get.wasm", wat_get_plugin("localhost", &url));

    let refused = run_with(&wasm, &["--allow-network"]);
    assert!(refused.status.success(), "{}", support::stderr_of(&refused));
    let stdout = stdout_of(&refused);
    assert!(
        stdout.contains(&format!("GET {url} -> 0 (address_not_allowed: host `localhost` resolves only to internal addresses (")),
        "{stdout}"
    );
    assert!(stdout.contains("127.0.0.1: loopback"), "{stdout}");
    assert!(
        stdout.contains("hint: `--allow-private-network` lets `run` reach internal addresses"),
        "{stdout}"
    );
    server.assert_untouched("run --allow-network");

    let served = answer_once(server, "from loopback");
    let allowed = run_with(&wasm, &["--allow-network", "--allow-private-network"]);
    assert!(allowed.status.success(), "{}", support::stderr_of(&allowed));
    let stdout = stdout_of(&allowed);
    assert!(stdout.contains(&format!("GET {url} -> 200")), "{stdout}");
    assert!(stdout.contains("info  from loopback"), "{stdout}");
    assert!(served.join().unwrap().starts_with(b"GET /x HTTP/1.1"));
}

#[test]
fn allow_private_network_needs_allow_network() {
    let project = Project::empty();
    let wasm = project.write("get.wasm", wat_get_plugin("localhost", "http://localhost/"));
    let output = run_with(&wasm, &["--allow-private-network"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = support::stderr_of(&output);
    assert!(stderr.contains("--allow-network"), "{stderr}");
    for command in [&["run"][..], &["dev"], &["desk", "deliver"]] {
        let help = cli().args(command).arg("--help").output().unwrap();
        let help = stdout_of(&help);
        assert!(
            help.contains("--allow-private-network")
                && help.contains("let requests reach internal addresses too"),
            "{command:?}: {help}"
        );
    }
}

/// A proxy variable does not reroute a plugin's requests (the proxy would resolve names
/// where the host cannot check their addresses), and `run` says it is not used.
#[test]
fn proxy_variables_are_not_used_and_run_says_so() {
    let project = Project::empty();
    let proxy = Loopback::new();
    let server = Loopback::new();
    let url = format!("http://127.0.0.1:{}/direct", server.port());
    let wasm = project.write("get.wasm", wat_get_plugin("127.0.0.1", &url));
    let served = answer_once(server, "direct");
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port());
    let mut command = cli();
    command
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env("HTTP_PROXY", &proxy_url)
        .env("ALL_PROXY", &proxy_url)
        .args(["run", "--event", "ticket.created", "--allow-network"])
        .arg(&wasm);
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", support::stderr_of(&output));
    let stdout = stdout_of(&output);
    assert!(stdout.contains(&format!("GET {url} -> 200")), "{stdout}");
    assert!(served.join().unwrap().starts_with(b"GET /direct HTTP/1.1"));
    proxy.assert_untouched("the proxy");
    let stderr = support::stderr_of(&output);
    assert!(
        stderr.contains("warning: `ALL_PROXY`, `HTTP_PROXY` are set, and not used"),
        "{stderr}"
    );
}

/// Secret webhook URLs and the forms the URL parser sends them in (a space, an
/// upper-case host, the default port, non-ASCII in the path and in the host). Each holds
/// `s3cr3tq7` in some letter case, and so does every form of it.
const SECRET_HOOKS: [(&str, &str, &str); 5] = [
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
        "https://BÜCHER-s3cr3tq7.example/hooks/T000",
        "https://xn--bcher-s3cr3tq7-gsb.example/hooks/T000",
    ),
];

/// A plugin whose config holds [`SECRET_HOOKS`]: for each it logs the URL, posts to it
/// and logs the answer at error level, then traps (the last answer is its reason).
fn wat_secret_hooks_plugin() -> Vec<u8> {
    let schema: serde_json::Map<String, serde_json::Value> = SECRET_HOOKS
        .iter()
        .map(|(key, _, _)| {
            (
                (*key).to_owned(),
                serde_json::json!({"type": "string", "secret": true}),
            )
        })
        .collect();
    let manifest = serde_json::json!({
        "id": "com.example.hooks", "name": "Hooks", "version": "1.0.0",
        "description": "Posts to secret webhooks.", "events": ["ticket.created"],
        "permissions": {"http": {"allowed_hosts": ["hooks.slack.com", "xn--bcher-s3cr3tq7-gsb.example"]}},
        "config_schema": schema
    });
    let mut calls = String::new();
    let mut datas = String::new();
    for (i, (_, url, _)) in SECRET_HOOKS.iter().enumerate() {
        let (line, request) = (1024 + 512 * i, 4096 + 512 * i);
        let json = serde_json::json!({"method": "POST", "url": url}).to_string();
        calls.push_str(&format!(
            r#"(call $log (i32.const {line}) (i32.const {line_len}) (i32.const 1))
               (drop (call $http (i32.const {request}) (i32.const {json_len}) (i32.const 512) (i32.const 516)))
               (call $log (i32.load (i32.const 512)) (i32.load (i32.const 516)) (i32.const 3))"#,
            line_len = url.len(),
            json_len = json.len(),
        ));
        datas.push_str(&format!(
            r#"(data (i32.const {line}) "{}") (data (i32.const {request}) "{}")"#,
            support::wat_string(url),
            support::wat_string(&json)
        ));
    }
    Module::new()
        .imports(&[LOG, HTTP])
        .body(&format!(
            r#"(func (export "on_event") (param i32 i32) {calls} unreachable)
  {datas}"#
        ))
        .manifest(&manifest.to_string())
        .wasm()
}

#[test]
fn run_prints_no_secret_in_any_form_the_url_parser_writes() {
    let project = Project::empty();
    let wasm = project.write("hooks.wasm", wat_secret_hooks_plugin());
    let config: serde_json::Map<String, serde_json::Value> = SECRET_HOOKS
        .iter()
        .map(|(key, secret, _)| ((*key).to_owned(), serde_json::json!(secret)))
        .collect();
    let config = project.write("config.json", serde_json::to_string(&config).unwrap());
    // A server that echoes the URL it got, as is and in JSON with `/` escaped.
    let mut mocks = String::new();
    for (_, _, sent) in SECRET_HOOKS {
        let json = serde_json::to_string(sent).unwrap().replace('/', "\\/");
        let body = format!("got {sent} {{\"url\":{json}}}");
        mocks.push_str(&format!(
            "[[http]]\nmethod = \"POST\"\nurl = {}\nstatus = 200\nbody = {}\n",
            toml_string(sent),
            toml_string(&body)
        ));
    }
    let mocks = project.write("mocks.toml", mocks);
    for format in ["human", "json"] {
        let output = cli()
            .args([
                "run",
                "--event",
                "ticket.created",
                "--format",
                format,
                "--config",
            ])
            .arg(&config)
            .arg("--http-mock")
            .arg(&mocks)
            .arg(&wasm)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{format}: the plugin traps");
        let stdout = stdout_of(&output);
        let stderr = support::stderr_of(&output);
        // Each request reached its mock, and the report shows its URL with the secret
        // redacted: the allowed host, which the manifest shows anyway, and no more.
        let shown: Vec<String> = SECRET_HOOKS
            .iter()
            .map(|(_, _, sent)| format!("{}[redacted]", public_start(sent)))
            .collect();
        if format == "json" {
            let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            let http = report["http"].as_array().unwrap();
            assert_eq!(http.len(), SECRET_HOOKS.len(), "{stdout}");
            for (exchange, shown) in http.iter().zip(&shown) {
                assert_eq!(exchange["status"], 200, "{stdout}");
                assert_eq!(exchange["request"]["url"], *shown, "{stdout}");
            }
        } else {
            for shown in &shown {
                assert!(
                    stdout.contains(&format!("  POST {shown} -> 200\n")),
                    "{shown}: {stdout}"
                );
            }
        }
        for text in [&stdout, &stderr] {
            // One allowed host holds the mark: that one is public.
            let text = text
                .to_lowercase()
                .replace("xn--bcher-s3cr3tq7-gsb.example/", "");
            assert!(
                !text.contains("s3cr3tq7"),
                "{format}: a secret in the output: {text}"
            );
        }
    }
}

/// `https://host/` of a URL.
fn public_start(url: &str) -> &str {
    let after_scheme = url.find("://").unwrap() + 3;
    &url[..after_scheme + url[after_scheme..].find('/').unwrap() + 1]
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// `run` counts the delivery's fuel: the same in two runs (two processes, two hosts),
/// printed beside the time, and in the JSON report.
#[test]
fn run_prints_the_cost_of_a_delivery_the_same_in_two_runs() {
    let project = Project::empty();
    let wasm = project.write("plugin.wasm", wat_plugin());
    let fuel = || {
        let output = cli()
            .args(["run", "--event", "ticket.created", "--format", "json"])
            .arg(&wasm)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", support::stderr_of(&output));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        report["fuel"]
            .as_u64()
            .unwrap_or_else(|| panic!("no `fuel` in {report}"))
    };
    let first = fuel();
    assert!(first > 0);
    assert_eq!(fuel(), first);

    let output = cli()
        .args(["run", "--event", "ticket.created"])
        .arg(&wasm)
        .output()
        .unwrap();
    let stdout = stdout_of(&output);
    let time = stdout
        .lines()
        .find(|l| l.starts_with("time: "))
        .unwrap_or_else(|| panic!("no time line in {stdout}"));
    assert!(time.ends_with(&format!(", cost: {first} fuel")), "{time}");
}

//! `new` for each template, then `build` and `test` passing; the output is checked
//! like a host would check it. These build real plugins with the SDK of this
//! workspace, sharing one target directory.

mod support;

use support::{Project, shared_target_dir, stdout_of};

fn built_wasm(crate_name: &str) -> std::path::PathBuf {
    shared_target_dir()
        .join("wasm32-unknown-unknown/debug")
        .join(format!("{crate_name}.wasm"))
}

fn new_build_and_test(name: &str, template: &str, fixtures: &[&str]) {
    let project = Project::plugin(name, template);
    for file in [
        "Cargo.toml",
        "src/lib.rs",
        "README.md",
        ".gitignore",
        ".cargo/config.toml",
    ] {
        assert!(
            project.root.join(file).is_file(),
            "`new` did not write {file}"
        );
    }
    let cargo_toml = project.read("Cargo.toml");
    assert!(
        cargo_toml.contains(&format!("id = \"com.example.{name}\"")),
        "{cargo_toml}"
    );
    assert!(
        cargo_toml.contains("crate-type = [\"cdylib\"]\n")
            && cargo_toml.contains("\n[workspace]\n")
    );

    let output = project.cmd(&["test"]).output().unwrap();
    let stdout = stdout_of(&output);
    let stderr = support::stderr_of(&output);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for fixture in fixtures {
        assert!(
            stdout.contains(&format!("test fixtures/{fixture} ... ok\n")),
            "{stdout}"
        );
    }
    assert!(
        stdout.contains("test tests::"),
        "the crate's own tests did not run:\n{stdout}"
    );
    let closing = stdout.trim_end().lines().last().unwrap_or_default();
    assert!(
        closing.ends_with(" passed, 0 failed"),
        "closing line {closing:?}"
    );
    assert!(
        stderr.contains(&format!("    Finished `{name}` plugin: ")),
        "{stderr}"
    );
    assert!(
        !stderr.contains("warning:"),
        "a fresh plugin builds without warnings:\n{stderr}"
    );

    let wasm = std::fs::read(built_wasm(&name.replace('-', "_"))).unwrap();
    wasmparser::Validator::new()
        .validate_all(&wasm)
        .expect("the built plugin is valid wasm");
    support::cli()
        .arg("check")
        .arg(built_wasm(&name.replace('-', "_")))
        .assert()
        .success();
}

#[test]
fn minimal_template_builds_and_passes() {
    new_build_and_test("hello-tickets", "minimal", &["created"]);
}

#[test]
fn http_template_builds_and_passes() {
    new_build_and_test(
        "webhook-poster",
        "http",
        &["created", "critical", "slack_down"],
    );
}

#[test]
fn triage_template_builds_and_passes() {
    new_build_and_test(
        "ticket-triage",
        "triage",
        &["created", "critical", "other_category", "bad_teams"],
    );
}

#[test]
fn panel_template_builds_with_the_adapter_and_passes() {
    new_build_and_test("ticket-panel", "panel", &["created", "panel"]);
    let wasm = std::fs::read(built_wasm("ticket_panel")).unwrap();
    let exports: Vec<String> = wasmparser::Parser::new(0)
        .parse_all(&wasm)
        .filter_map(|p| match p.unwrap() {
            wasmparser::Payload::ExportSection(s) => Some(
                s.into_iter()
                    .map(|e| e.unwrap().name.to_owned())
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(exports.contains(&"render_panel".to_owned()), "{exports:?}");
    assert!(
        !exports.contains(&"__ohd_render_panel_indirect".to_owned()),
        "{exports:?}"
    );
}

#[test]
fn a_wrong_expectation_fails_with_a_readable_diff_and_junit_parses() {
    let project = Project::plugin("diffed", "minimal");
    project
        .cmd(&["test", "--bless", "fixtures/"])
        .assert()
        .success();
    let snapshot = project.read("tests/snapshots/created.json");
    assert!(
        snapshot.contains("\"plugin_id\": \"com.example.diffed\"") && !snapshot.contains("timings"),
        "{snapshot}"
    );

    project.edit(
        "tests/fixtures/created.toml",
        "subject = \"Printer on fire\"",
        "subject = \"Printer on ice\"",
    );
    let output = project.cmd(&["test", "created"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = stdout_of(&output);
    for expected in [
        "test fixtures/created ... FAILED",
        "---- fixtures/created ----",
        "logs: expected a line at level `info` containing \"Printer on fire (priority Critical)\"; the plugin logged:",
        "info: new ticket 01JQXYZ8K2M4N6P8R0T2V4W6Y8: Printer on ice (priority Critical)",
        "the report differs from the snapshot (run with `--bless` to accept it):",
        "+++ actual report",
        "-      \"message\": \"new ticket 01JQXYZ8K2M4N6P8R0T2V4W6Y8: Printer on fire (priority Critical)\"",
        "+      \"message\": \"new ticket 01JQXYZ8K2M4N6P8R0T2V4W6Y8: Printer on ice (priority Critical)\"",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    assert!(stdout.trim_end().ends_with("passed, 1 failed"), "{stdout}");

    let output = project
        .cmd(&["test", "--format", "junit"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let xml = stdout_of(&output);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("not XML ({e}):\n{xml}"));
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("name"), Some("diffed"));
    assert_eq!(suite.attribute("failures"), Some("1"));
    let failed = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("created"))
        .unwrap();
    assert_eq!(failed.attribute("classname"), Some("diffed.fixtures"));
    let failure = failed
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(
        failure
            .text()
            .unwrap_or_default()
            .contains("Printer on fire")
    );
    assert!(
        doc.descendants()
            .any(|n| n.has_tag_name("testcase") && n.attribute("classname") == Some("diffed.rust"))
    );

    let output = project
        .cmd(&["test", "--format", "json", "fixtures/"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["failed"], 1);
    assert_eq!(json["tests"][0]["name"], "fixtures/created");
    assert_eq!(json["tests"][0]["status"], "failed");
}

/// A fixture's cost budget: over it, the fixture fails naming both numbers; `--bless`
/// records the cost with its margin, and the fixture passes; `--add-budgets` gives one
/// to a fixture without.
#[test]
fn a_fixture_over_its_fuel_budget_fails_and_bless_records_one_that_passes() {
    let project = Project::plugin("budgeted", "minimal");
    project.edit(
        "tests/fixtures/created.toml",
        "[expect]\n",
        "[expect]\nmax_fuel = 100 # far too little\n",
    );
    let output = project.cmd(&["test", "fixtures/"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = stdout_of(&output);
    let message = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("max_fuel: "))
        .unwrap_or_else(|| panic!("no budget failure in:\n{stdout}"));
    let consumed: u64 = message
        .split("consumed ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{message}"));
    assert!(consumed > 100, "{message}");
    assert!(message.contains("over its budget of 100"), "{message}");

    let json = |args: &[&str]| {
        let output = project.cmd(args).output().unwrap();
        let json: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", support::stderr_of(&output)));
        (output.status.code(), json["tests"][0].clone())
    };
    let (code, blessed) = json(&["test", "--bless", "--format", "json", "fixtures/"]);
    assert_eq!(code, Some(0), "{blessed}");
    // The same delivery: the same cost as in the failed run.
    assert_eq!(blessed["fuel"], consumed);
    let budget = blessed["max_fuel"].as_u64().unwrap();
    assert!(
        budget >= consumed + consumed / 10 && budget < consumed + consumed / 5,
        "{budget} for {consumed}"
    );
    let fixture = project.read("tests/fixtures/created.toml");
    assert!(
        fixture.contains(&format!("[expect]\nmax_fuel = {budget} # far too little\n")),
        "{fixture}"
    );
    let (code, passed) = json(&["test", "--format", "json", "fixtures/"]);
    assert_eq!(
        (code, &passed["status"]),
        (Some(0), &"passed".into()),
        "{passed}"
    );

    // Without a budget, `--bless` adds none, and `--add-budgets` does.
    project.edit(
        "tests/fixtures/created.toml",
        &format!("max_fuel = {budget} # far too little\n"),
        "",
    );
    let (_, plain) = json(&["test", "--bless", "--format", "json", "fixtures/"]);
    assert_eq!(plain["max_fuel"], serde_json::Value::Null, "{plain}");
    assert!(
        !project
            .read("tests/fixtures/created.toml")
            .contains("max_fuel")
    );
    let (_, added) = json(&[
        "test",
        "--bless",
        "--add-budgets",
        "--format",
        "json",
        "fixtures/",
    ]);
    assert_eq!(added["max_fuel"], budget, "{added}");
    assert!(
        project
            .read("tests/fixtures/created.toml")
            .contains(&format!("[expect]\nmax_fuel = {budget}\n"))
    );
}

/// The `test NAME ... ok` lines print names a filter takes back: the crate's own tests
/// under the names libtest gives them, fixtures as `fixtures/NAME`, which no Rust test
/// name can be.
#[test]
fn each_printed_test_name_is_libtests_or_a_fixtures_and_selects_that_test_alone() {
    let project = Project::plugin("named-tests", "minimal");
    let output = project.cmd(&["test"]).output().unwrap();
    let stdout = stdout_of(&output);
    assert!(output.status.success(), "{stdout}");
    let printed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test ")?.strip_suffix(" ... ok"))
        .collect();
    let (fixtures, rust): (Vec<&str>, Vec<&str>) =
        printed.iter().partition(|n| n.starts_with("fixtures/"));
    assert_eq!(fixtures, ["fixtures/created"], "{stdout}");

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut list = std::process::Command::new(cargo);
    list.current_dir(&project.root)
        .env("CARGO_TARGET_DIR", support::shared_target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .args(["test", "--quiet", "--", "--list"]);
    let listed = list.output().unwrap();
    assert!(listed.status.success(), "{}", support::stderr_of(&listed));
    let mut libtest: Vec<String> = stdout_of(&listed)
        .lines()
        .filter_map(|l| l.strip_suffix(": test").map(str::to_owned))
        .collect();
    libtest.sort();
    let mut rust: Vec<String> = rust.into_iter().map(str::to_owned).collect();
    rust.sort();
    assert!(!rust.is_empty(), "{stdout}");
    assert_eq!(rust, libtest, "the names `cargo test` knows");

    for name in printed {
        let output = project
            .cmd(&["test", "--format", "json", name])
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let ran: Vec<&str> = json["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(ran, [name], "`test {name}`");
    }
}

/// `test` says which build it tests, and, after `build --release`, that the release
/// build is another one.
#[test]
fn test_names_the_build_it_tests_and_a_newer_release_build() {
    let project = Project::plugin("profiled", "minimal");
    let tested_line = "Testing `profiled`: 1 fixture on the debug build";
    let note = "is a newer release build than the debug build tested here; the help desk runs the release build: `cargo otai-plugin test --release` tests it";
    let test = || {
        let output = project.cmd(&["test"]).output().unwrap();
        let stderr = support::stderr_of(&output);
        assert!(output.status.success(), "{stderr}");
        assert!(stderr.contains(tested_line), "{stderr}");
        stderr
    };
    let stderr = test();
    assert!(!stderr.contains("newer release build"), "{stderr}");

    // A release module newer than the debug one, as `build --release` leaves it (made
    // here by copying, with the times set, rather than by a release build).
    let debug = built_wasm("profiled");
    let release = support::shared_target_dir().join("wasm32-unknown-unknown/release/profiled.wasm");
    std::fs::create_dir_all(release.parent().unwrap()).unwrap();
    std::fs::copy(&debug, &release).unwrap();
    let set_release_time = |from_debug: std::time::Duration, later: bool| {
        let debug_time = std::fs::metadata(&debug).unwrap().modified().unwrap();
        let time = if later {
            debug_time + from_debug
        } else {
            debug_time - from_debug
        };
        let file = std::fs::File::options().write(true).open(&release).unwrap();
        file.set_modified(time).unwrap();
    };
    set_release_time(std::time::Duration::from_secs(60), true);
    let stderr = test();
    assert!(
        stderr.contains(&format!("note: `{}` {note}", release.display())),
        "{stderr}"
    );
    // Tested since: no note.
    set_release_time(std::time::Duration::from_secs(60), false);
    let stderr = test();
    assert!(!stderr.contains("newer release build"), "{stderr}");
    std::fs::remove_file(&release).unwrap();
}

#[test]
fn build_cross_checks_sources_replays_warnings_and_enforces_max_size_then_run_uses_the_package() {
    let project = Project::plugin("cross-checked", "http");
    project.edit(
        "src/lib.rs",
        "#[derive(Default)]",
        "#[allow(dead_code)]\nconst STATUS_PAGE: &str = \"https://status.example.org/v1\";\n\n#[derive(Default)]",
    );
    project.edit(
        "Cargo.toml",
        "events = [\"ticket.created\"]",
        "events = [\"ticket.created\", \"ticket.reopened\"]",
    );
    let url_warning = "warning: `cross-checked`: `src/lib.rs:";
    let url_text = "`https://status.example.org/v1` is on host `status.example.org`, which is not in `package.metadata.ohd.allowed_hosts`";
    let event_warning = "`package.metadata.ohd.events[1]` subscribes to `ticket.reopened`, but no file under `src/` mentions it";
    for round in ["first build", "no-op build (warnings replayed)"] {
        let output = project.cmd(&["build"]).output().unwrap();
        let stderr = support::stderr_of(&output);
        assert!(output.status.success(), "{round}:\n{stderr}");
        for expected in [url_warning, url_text, event_warning] {
            assert!(
                stderr.contains(expected),
                "{round}: missing {expected:?} in:\n{stderr}"
            );
        }
    }
    // `--message-format json`: cargo's messages as they came, then one line per plugin
    // with what the text output said.
    let output = project
        .cmd(&["build", "--message-format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", support::stderr_of(&output));
    let stderr = support::stderr_of(&output);
    assert!(
        !stderr.contains("warning:"),
        "problems are in the JSON only:\n{stderr}"
    );
    let lines: Vec<serde_json::Value> = stdout_of(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let reasons: Vec<&str> = lines.iter().filter_map(|l| l["reason"].as_str()).collect();
    assert!(reasons.contains(&"compiler-artifact"), "{reasons:?}");
    assert_eq!(
        &reasons[reasons.len() - 2..],
        ["build-finished", "otai-plugin-artifact"]
    );
    let artifact = lines.last().unwrap();
    let wasm = built_wasm("cross_checked");
    assert_eq!(artifact["wasm"], wasm.display().to_string());
    assert_eq!(artifact["size"], std::fs::metadata(&wasm).unwrap().len());
    assert_eq!(artifact["plugin"]["id"], "com.example.cross-checked");
    assert_eq!(artifact["fresh"], true);
    assert_eq!(artifact["success"], true);
    let problems = artifact["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().all(|p| p["level"] == "warning"));
    assert!(
        problems
            .iter()
            .any(|p| p["message"].as_str().unwrap().contains(url_text))
    );

    project
        .cmd(&["build", "--max-size", "1000"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "over the `--max-size` budget of 1000 bytes",
        ));

    project.write(
        "config.json",
        r#"{"webhook_url": "https://hooks.slack.com/services/T1/B1/SECRET"}"#,
    );
    project.write(
        "mocks.toml",
        "[[http]]\nmethod = \"POST\"\nurl = \"https://hooks.slack.com/services/T1/B1/SECRET\"\nbody = \"ok\"\n",
    );
    let output = project
        .cmd(&[
            "run",
            "--event",
            "ticket.created",
            "--config",
            "config.json",
            "--http-mock",
            "mocks.toml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", support::stderr_of(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["outcome"]["status"], "ok", "{report:#}");
    assert_eq!(report["http"][0]["status"], 200);
    // The webhook URL is a secret: reports show only its host, which the manifest
    // allows for anyone to read.
    assert_eq!(
        report["http"][0]["request"]["url"],
        "https://hooks.slack.com/[redacted]"
    );
}

#[test]
fn an_embedded_manifest_that_cargo_toml_contradicts_fails_the_build() {
    // The macro reads `ohd.toml`; Cargo.toml keeps its own `[package.metadata.ohd]`.
    let project = Project::plugin("twin-manifest", "minimal");
    project.write("ohd.toml", project.read("Cargo.toml"));
    project.edit(
        "src/lib.rs",
        "#[plugin]",
        "#[plugin(cargo_toml = \"../ohd.toml\")]",
    );
    let output = project.cmd(&["build"]).output().unwrap();
    assert!(output.status.success(), "{}", support::stderr_of(&output));

    // Cargo does not track `[package.metadata]`: the module may stay as it was, and the
    // build must still notice that Cargo.toml now says something else.
    project.edit(
        "Cargo.toml",
        "events = [\"ticket.created\"]",
        "events = [\"ticket.created\", \"ticket.resolved\"]",
    );
    let output = project.cmd(&["build"]).output().unwrap();
    let stderr = support::stderr_of(&output);
    assert!(!output.status.success(), "{stderr}");
    for expected in [
        "the `ohd_manifest` section of `",
        "twin_manifest.wasm` differs from the manifest `[package.metadata.ohd]` in `",
        "`events`: the module has [\"ticket.created\"], Cargo.toml has [\"ticket.created\",\"ticket.resolved\"]",
        "help: the help desk reads the module's copy",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
}

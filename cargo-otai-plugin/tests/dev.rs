//! `cargo otai-plugin dev`: the plugin served in a local help desk, swapped on save.

mod support;

use std::process::Command;

use support::{Project, Running, shared_target_dir};

/// A form posted to `base` as the desk's own pages post it: with their origin.
fn post(base: &str, path: &str, form: &[(&str, &str)]) -> String {
    ureq::post(&format!("{base}{path}"))
        .header("Origin", base)
        .send_form(form.iter().copied())
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

/// The status line of `GET /` sent to `address` with `Host: host`.
fn status_line(address: &str, host: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn dev_serves_the_plugin_and_swaps_in_each_saved_build() {
    let project = Project::plugin("dev-demo", "minimal");
    let data = project.root.join("desk-data");
    support::fetch_locked();
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("cargo-otai-plugin"));
    command
        .args(["dev", "--color", "never", "--data-dir"])
        .arg(&data)
        .current_dir(&project.root)
        .env("CARGO_TARGET_DIR", shared_target_dir())
        .env("CARGO_NET_OFFLINE", "true");
    // Lines of both streams, as they come: the test waits for what `dev` says.
    let mut dev = Running::spawn(command);
    let base = dev.dev_base();
    let mut wait_for = |needle: &str| dev.wait_for(needle);
    let list = ureq::get(&base)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        list.contains("Dev Demo") && list.contains("state-enabled"),
        "{list}"
    );

    // The server knows its port: a page that reaches it under another name (DNS
    // rebinding) is refused, its own names at that port are not.
    let address = base.trim_start_matches("http://");
    let port = address.rsplit(':').next().unwrap();
    assert!(
        status_line(address, &format!("evil.example:{port}")).contains(" 421 "),
        "a foreign Host was answered"
    );
    assert!(status_line(address, &format!("localhost:{port}")).contains(" 200 "));

    let page = post(
        &base,
        "/tickets/T-1/events",
        &[("event", "ticket.created"), ("subject", "Printer down")],
    );
    assert!(
        page.contains("[info] new ticket T-1: Printer down"),
        "{page}"
    );

    // Beside `dev`, the commands that only read work on its data directory, and one
    // that writes is told which process holds it and where its pages are.
    let desk = |args: &[&str]| {
        Command::new(assert_cmd::cargo::cargo_bin("cargo-otai-plugin"))
            .args(["desk", "--color", "never", "--data-dir"])
            .arg(&data)
            .args(args)
            .output()
            .unwrap()
    };
    let list = desk(&["list", "--format", "json"]);
    assert!(list.status.success(), "{}", support::stderr_of(&list));
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let log = desk(&["log", &id]);
    assert!(
        support::stdout_of(&log).contains("[info] new ticket T-1: Printer down"),
        "{}{}",
        support::stdout_of(&log),
        support::stderr_of(&log)
    );
    let refused = desk(&["disable", &id]);
    assert!(!refused.status.success());
    let said = support::stderr_of(&refused);
    assert!(
        said.contains("(`cargo otai-plugin dev`), serving http://127.0.0.1:")
            && said.contains(&format!("its web UI at {base}")),
        "{said}"
    );

    // A saved change is rebuilt and swapped in; the next delivery runs it.
    let lib = project.root.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, source.replace("new ticket {}", "fresh ticket {}")).unwrap();
    wait_for("Swapped");
    let page = post(&base, "/tickets/T-1/events", &[("event", "ticket.created")]);
    assert!(
        page.contains("[info] fresh ticket T-1: Printer down"),
        "{page}"
    );

    // `Cargo.toml` saved as vim and most IDEs save it, by writing a new file and renaming
    // it over the old one: every such save is seen, not only the first.
    let manifest = project.root.join("Cargo.toml");
    for (from, to) in [("0.1.0", "0.1.1"), ("0.1.1", "0.1.2")] {
        let text = std::fs::read_to_string(&manifest).unwrap();
        let old = format!("version = \"{from}\"");
        assert!(text.contains(&old), "{text}");
        let replacement = project.root.join(".Cargo.toml.swp");
        std::fs::write(
            &replacement,
            text.replacen(&old, &format!("version = \"{to}\""), 1),
        )
        .unwrap();
        std::fs::rename(&replacement, &manifest).unwrap();
        wait_for(&format!("{from} -> {to}"));
    }

    // A build that fails is shown, and the last good build keeps running.
    std::fs::write(&lib, format!("{source}\nfn broken( {{\n")).unwrap();
    wait_for("the build failed");
    let page = post(&base, "/tickets/T-1/events", &[("event", "ticket.created")]);
    assert!(page.contains(r#"id="build-error""#), "{page}");
    // The compiler's error itself, where it is and what it expected, not a pointer to
    // the terminal.
    assert!(page.contains("error"), "{page}");
    assert!(page.contains("lib.rs:"), "{page}");
    assert!(page.contains("fn broken("), "{page}");
    assert!(page.contains("[info] fresh ticket T-1"), "{page}");
}

/// The text of every `<title>` of an SVG that must parse as XML.
fn svg_titles(svg: &str) -> Vec<String> {
    // inferno writes the SVG 1.1 doctype.
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(svg, options)
        .unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{svg}"));
    doc.descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text().map(str::to_owned))
        .collect()
}

#[test]
fn dev_with_flamegraph_links_each_deliverys_graph_from_the_log() {
    let project = Project::plugin("dev-flame", "minimal");
    let data = project.root.join("desk-data");
    support::fetch_locked();
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("cargo-otai-plugin"));
    command
        .args(["dev", "--no-watch", "--flamegraph", "--color", "never"])
        .arg("--data-dir")
        .arg(&data)
        .current_dir(&project.root)
        .env("CARGO_TARGET_DIR", shared_target_dir())
        .env("CARGO_NET_OFFLINE", "true");
    let mut dev = Running::spawn(command);
    // Both status lines are on stderr, in this order.
    let serving = dev.wait_for("Serving http://127.0.0.1:");
    let base = serving
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();
    let said = dev.wait_for("Profiling");
    let graphs = data.join("flamegraphs");
    assert!(
        said.contains(&graphs.display().to_string()) && said.contains("the last 20"),
        "{said}"
    );

    post(
        &base,
        "/tickets/T-1/events",
        &[("event", "ticket.created"), ("subject", "Printer down")],
    );
    let plugins: Vec<_> = std::fs::read_dir(&graphs).unwrap().collect();
    let [plugin] = plugins.as_slice() else {
        panic!("{plugins:?}")
    };
    let id = plugin.as_ref().unwrap().file_name().into_string().unwrap();
    let page = ureq::get(&format!("{base}/plugins/{id}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
        .replace("&#x2f;", "/");
    let link = page
        .split("href=\"")
        .map(|rest| rest.split('"').next().unwrap())
        .find(|href| href.ends_with("/flamegraph.svg"))
        .unwrap_or_else(|| panic!("no flame graph link in\n{page}"))
        .to_owned();
    let mut response = ureq::get(&format!("{base}{link}")).call().unwrap();
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "image/svg+xml"
    );
    let svg = response.body_mut().read_to_string().unwrap();
    let titles = svg_titles(&svg);
    assert!(
        titles.iter().any(|t| t.starts_with("on_event ")),
        "the plugin's own function is named: {titles:?}"
    );
    let seq = link
        .trim_end_matches("/flamegraph.svg")
        .rsplit('/')
        .next()
        .unwrap();
    assert!(graphs.join(&id).join(format!("{seq}.json")).is_file());
}

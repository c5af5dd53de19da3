//! docs/CONFIG.md shows only what the `#[derive(Config)]` UI tests compile: each of its
//! code blocks is quoted from one of their files, so a snippet that stops compiling, or
//! an error message that changes, fails here until the guide follows.
//!
//! The UI tests point `#[plugin]` and `#[derive(Config)]` at their manifest with a
//! `cargo_toml` argument and name it by its path; a plugin does neither, so the quotes
//! are compared with those arguments dropped and the path written `Cargo.toml`.

use std::path::{Path, PathBuf};

const GUIDE: &str = include_str!("../../docs/CONFIG.md");

fn ui(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sdk/tests")
        .join(path)
}

/// A UI test file as the plugin of the guide would have it.
fn as_a_plugin_writes_it(path: &str) -> String {
    let text = std::fs::read_to_string(ui(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|line| !line.trim_start().starts_with("#[config(cargo_toml"))
        .map(|line| {
            if line.starts_with("#[plugin(cargo_toml") {
                "#[plugin]"
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        .replace("../../fixtures/config_guide.toml", "Cargo.toml")
        .replace("tests/ui/fail/config_guide.rs", "src/lib.rs")
        + "\n"
}

/// The fenced blocks of the guide: their language and text.
fn blocks() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = GUIDE.lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.strip_prefix("```").filter(|l| !l.is_empty()) {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            out.push((lang.to_owned(), body.join("\n") + "\n"));
        }
    }
    out
}

#[test]
fn every_block_of_the_config_guide_is_quoted_from_a_compiled_ui_test() {
    let sources = [
        ("toml", as_a_plugin_writes_it("fixtures/config_guide.toml")),
        ("rust", as_a_plugin_writes_it("ui/pass/config_guide.rs")),
        ("text", as_a_plugin_writes_it("ui/fail/config_guide.stderr")),
    ];
    let blocks = blocks();
    for (lang, text) in &blocks {
        let (_, source) = sources
            .iter()
            .find(|(l, _)| l == lang)
            .unwrap_or_else(|| panic!("docs/CONFIG.md has a `{lang}` block, which this test does not know where to find:\n{text}"));
        assert!(
            source.contains(text.as_str()),
            "this `{lang}` block of docs/CONFIG.md is not in its UI test (sdk/tests): update one of them\n{text}"
        );
    }
    let count = |lang: &str| blocks.iter().filter(|(l, _)| l == lang).count();
    assert_eq!(
        (count("toml"), count("rust"), count("text")),
        (1, 2, 1),
        "the guide's blocks changed: update this test"
    );
}

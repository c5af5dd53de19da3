//! The workspace as `cargo publish` sees it: which crates are published, the metadata
//! crates.io and docs.rs show for each, and the workspace files a published crate
//! carries a copy of (a packaged crate holds only its own folder). That the packages
//! build, from a registry and outside this checkout, is
//! `cargo-otai-plugin/tests/install.rs`'s test.

mod common;

use std::path::Path;

use common::{members, workspace};
use serde_json::Value;

/// The crates a user depends on or installs.
const PUBLISHED: [&str; 6] = [
    "cargo-otai-plugin",
    "otai-plugin-abi",
    "otai-plugin-desk",
    "otai-plugin-host",
    "otai-plugin-macros",
    "otai-plugin-sdk",
];

/// crates.io's category slugs that these crates may use (crates.io ignores, with only a
/// warning at upload, a slug it does not know: a typo would go unseen).
const CATEGORIES: [&str; 7] = [
    "api-bindings",
    "command-line-utilities",
    "development-tools",
    "development-tools::cargo-plugins",
    "development-tools::procedural-macro-helpers",
    "development-tools::testing",
    "wasm",
];

/// `(copy, source of truth)`: files a crate needs when it is built from its package,
/// kept in its folder.
const COPIES: [(&str, &str); 3] = [
    // `wit_bindgen::generate!` in sdk/src/sys/component.rs.
    ("sdk/wit", "wit"),
    // `wasmtime::component::bindgen!` in host/src/functions/mod.rs.
    ("host/wit", "wit"),
    // The conformance runner's component cases (cargo-otai-plugin/src/conformance/component.rs).
    ("cargo-otai-plugin/wit", "wit"),
];

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn the_crates_carry_their_copies_of_workspace_files_unchanged() {
    let root = workspace();
    for (copy, source) in COPIES {
        let list = |dir: &str| -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(root.join(dir))
                .unwrap_or_else(|e| panic!("{dir}: {e}"))
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        assert_eq!(
            list(copy),
            list(source),
            "`{copy}/` does not hold the files of `{source}/`: copy them (`cp {source}/* {copy}/`)"
        );
        for name in list(source) {
            let read = |dir: &str| std::fs::read(root.join(dir).join(&name)).unwrap();
            assert!(
                read(copy) == read(source),
                "`{copy}/{name}` differs from `{source}/{name}`, which is the one to edit: copy \
                 it (`cp {source}/{name} {copy}/`)"
            );
        }
    }
}

#[test]
fn the_published_crates_say_what_crates_io_shows() {
    let members = members();
    let mut published: Vec<&str> = members
        .iter()
        .filter(|p| p["publish"] != serde_json::json!([]))
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    published.sort_unstable();
    assert_eq!(
        published, PUBLISHED,
        "the crates that may be published changed: the test crates and examples are \
         `publish = false`"
    );

    let workspace_manifest: toml::Table = std::fs::read_to_string(workspace().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let rust_version = workspace_manifest["workspace"]["package"]["rust-version"]
        .as_str()
        .expect("[workspace.package] rust-version");

    for package in members
        .iter()
        .filter(|p| PUBLISHED.contains(&p["name"].as_str().unwrap()))
    {
        let name = package["name"].as_str().unwrap();
        let manifest_path = Path::new(package["manifest_path"].as_str().unwrap());
        let dir = manifest_path.parent().unwrap();
        let manifest: toml::Table = std::fs::read_to_string(manifest_path)
            .unwrap()
            .parse()
            .unwrap();
        let problem = |what: &str| format!("{}: {what}", manifest_path.display());

        for key in ["description", "license"] {
            assert!(
                package[key].as_str().is_some_and(|v| !v.is_empty()),
                "{}",
                problem(&format!("no `{key}`"))
            );
        }
        assert_eq!(
            package["rust_version"],
            rust_version,
            "{}",
            problem("rust-version")
        );
        assert_eq!(
            package["documentation"],
            format!("https://docs.rs/{name}"),
            "{}",
            problem("`documentation` is not its docs.rs page")
        );
        let readme = package["readme"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", problem("no `readme`")));
        let readme = dir.join(readme);
        assert!(
            readme.starts_with(dir) && readme.is_file(),
            "{}",
            problem("its `readme` is not a file of its own folder")
        );
        // No placeholder: a crate without a public repository says none.
        if let Some(repository) = package["repository"].as_str() {
            assert!(
                !repository.contains("example."),
                "{}",
                problem(&format!("`repository` is a placeholder: {repository}"))
            );
        }

        let keywords = strings(&package["keywords"]);
        assert!(
            (1..=5).contains(&keywords.len()),
            "{}",
            problem("crates.io takes 1 to 5 keywords")
        );
        for keyword in keywords {
            let valid = keyword.len() <= 20
                && keyword.starts_with(|c: char| c.is_ascii_lowercase())
                && keyword
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            assert!(valid, "{}", problem(&format!("keyword `{keyword}`")));
        }
        let categories = strings(&package["categories"]);
        assert!(
            (1..=5).contains(&categories.len()),
            "{}",
            problem("crates.io takes 1 to 5 categories")
        );
        for category in categories {
            assert!(
                CATEGORIES.contains(&category),
                "{}",
                problem(&format!(
                    "`{category}` is not one of the crates.io categories this test knows"
                ))
            );
        }

        // What the package holds is chosen, not everything in the folder: tests,
        // benches and fixtures read files of the workspace and stay out.
        let include = manifest["package"]
            .get("include")
            .and_then(|i| i.as_array())
            .unwrap_or_else(|| panic!("{}", problem("no `include`")));
        assert!(
            include.iter().any(|i| i.as_str() == Some("src/**")),
            "{}",
            problem("`include` does not hold `src/**`")
        );
        for (copy, _) in COPIES {
            let folder = format!("{}/", dir.file_name().unwrap().to_str().unwrap());
            if let Some(own) = copy.strip_prefix(&folder) {
                let pattern = format!("{own}/**");
                assert!(
                    include.iter().any(|i| i.as_str() == Some(pattern.as_str())),
                    "{}",
                    problem(&format!("`include` does not hold `{pattern}`"))
                );
            }
        }
    }
}

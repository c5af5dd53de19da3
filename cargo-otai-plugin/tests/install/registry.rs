//! A cargo registry on disk that stands in for crates.io: the crates this workspace
//! packages, beside every package of its `Cargo.lock` at the locked version.
//!
//! Cargo reads a `local-registry` source as it reads crates.io: an index (one file of
//! JSON lines per crate, in crates.io's layout) and the `.crate` files beside it,
//! checked against the index's checksums. A build downloads only the packages it
//! compiles, so the `.crate` files are those `cargo fetch` already has for this machine
//! and wasm32; resolution reads the index of all of them (a Windows-only crate too),
//! which cargo's own cache of the crates.io index holds. Each crate of the lock has
//! its locked version and no other, so a crate resolved against this registry (a new
//! plugin) gets the versions the workspace is tested with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Where cargo keeps its crates.io data on this machine.
pub(crate) fn cargo_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return PathBuf::from(home);
    }
    let home = std::env::var_os("HOME").expect("HOME or CARGO_HOME is set");
    Path::new(&home).join(".cargo")
}

/// A registry being written in `root`: `root/index/…` and `root/NAME-VERSION.crate`.
pub(crate) struct Registry {
    root: PathBuf,
    /// Index file (relative path) → its JSON lines.
    index: BTreeMap<String, Vec<String>>,
}

impl Registry {
    pub(crate) fn new(root: &Path) -> Registry {
        std::fs::create_dir_all(root).expect("create the registry folder");
        Registry {
            root: root.to_path_buf(),
            index: BTreeMap::new(),
        }
    }

    /// Every crates.io package of `lock` (a `Cargo.lock`), at its locked version, read
    /// from cargo's caches under `cargo_home`. Returns how many had no `.crate` there
    /// (packages for other platforms, which no build here compiles).
    pub(crate) fn mirror_lock(&mut self, lock: &str, cargo_home: &Path) -> usize {
        let lock: toml::Table = lock.parse().expect("Cargo.lock is TOML");
        let index_caches = subfolders(&cargo_home.join("registry/index"), ".cache");
        let crate_caches = subfolders(&cargo_home.join("registry/cache"), "");
        let mut without_crate = 0;
        for package in lock["package"].as_array().expect("[[package]]") {
            let source = package.get("source").and_then(|s| s.as_str());
            if source != Some("registry+https://github.com/rust-lang/crates.io-index") {
                continue;
            }
            let name = package["name"].as_str().expect("name");
            let version = package["version"].as_str().expect("version");
            let checksum = package["checksum"].as_str().expect("checksum");
            let line = index_caches
                .iter()
                .find_map(|cache| cached_index_line(&cache.join(index_path(name)), version))
                .unwrap_or_else(|| {
                    panic!(
                        "cargo's index cache under {} has no entry for {name} {version}: run \
                         `cargo fetch --locked` in the workspace first",
                        cargo_home.display()
                    )
                });
            let entry: Value = serde_json::from_str(&line).expect("an index line is JSON");
            assert_eq!(
                entry["cksum"], checksum,
                "the index cache's checksum of {name} {version} is not the lock's"
            );
            self.add_line(name, line);
            let file = format!("{name}-{version}.crate");
            match crate_caches
                .iter()
                .map(|d| d.join(&file))
                .find(|p| p.is_file())
            {
                Some(path) => link_or_copy(&path, &self.root.join(&file)),
                None => without_crate += 1,
            }
        }
        without_crate
    }

    /// One of our packaged crates: `package` is its `cargo metadata` entry, `crate_file`
    /// what `cargo package` wrote for it.
    pub(crate) fn add_packaged(&mut self, package: &Value, crate_file: &Path) {
        let bytes = std::fs::read(crate_file)
            .unwrap_or_else(|e| panic!("read {}: {e}", crate_file.display()));
        let name = package["name"].as_str().expect("name");
        let version = package["version"].as_str().expect("version");
        // As crates.io writes an index line: dev-dependencies are left out here, since
        // cargo never resolves those of a registry package; features that name a
        // dependency with `dep:` or `?/` go in `features2`, which needs `"v": 2`.
        let dependencies: Vec<Value> = package["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"] != "dev")
            .map(|d| {
                let mut dependency = json!({
                    "name": d["rename"].as_str().or(d["name"].as_str()),
                    "req": d["req"],
                    "features": d["features"],
                    "optional": d["optional"],
                    "default_features": d["uses_default_features"],
                    "target": d["target"],
                    "kind": d["kind"].as_str().unwrap_or("normal"),
                    "registry": null,
                });
                if d["rename"].is_string() {
                    dependency["package"] = d["name"].clone();
                }
                dependency
            })
            .collect();
        let (mut features, mut features2) = (serde_json::Map::new(), serde_json::Map::new());
        for (feature, enables) in package["features"].as_object().expect("features") {
            let new_syntax = enables
                .as_array()
                .expect("a feature's list")
                .iter()
                .any(|e| {
                    e.as_str()
                        .is_some_and(|e| e.starts_with("dep:") || e.contains("?/"))
                });
            let table = if new_syntax {
                &mut features2
            } else {
                &mut features
            };
            table.insert(feature.clone(), enables.clone());
        }
        let mut entry = json!({
            "name": name,
            "vers": version,
            "deps": dependencies,
            "cksum": format!("{:x}", Sha256::digest(&bytes)),
            "features": features,
            "yanked": false,
            "links": package["links"],
            "rust_version": package["rust_version"],
        });
        if !features2.is_empty() {
            entry["features2"] = Value::Object(features2);
            entry["v"] = json!(2);
        }
        self.add_line(name, entry.to_string());
        std::fs::write(self.root.join(format!("{name}-{version}.crate")), bytes)
            .expect("write a .crate");
    }

    fn add_line(&mut self, name: &str, line: String) {
        self.index.entry(index_path(name)).or_default().push(line);
    }

    /// Writes the index.
    pub(crate) fn finish(self) {
        for (path, lines) in &self.index {
            let path = self.root.join("index").join(path);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("index dirs");
            std::fs::write(&path, lines.join("\n") + "\n").expect("write an index file");
        }
    }
}

/// Where crates.io's index keeps a crate: `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd…`.
fn index_path(name: &str) -> String {
    let name = name.to_ascii_lowercase();
    match name.len() {
        1 | 2 => format!("{}/{name}", name.len()),
        3 => format!("3/{}/{name}", &name[..1]),
        _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
    }
}

/// The index line of `version` in one of cargo's index cache files: a version byte, a
/// 4-byte index format version, then NUL-terminated strings: a header, then each
/// version followed by its JSON line. (Cargo's own format; the test fails, saying so,
/// if a cargo release changes it.)
fn cached_index_line(file: &Path, version: &str) -> Option<String> {
    let bytes = std::fs::read(file).ok()?;
    assert_eq!(
        bytes.first(),
        Some(&3),
        "{}: not the index cache format this test reads (version 3)",
        file.display()
    );
    let mut fields = bytes.get(5..)?.split(|b| *b == 0).skip(1);
    while let (Some(v), Some(line)) = (fields.next(), fields.next()) {
        if v == version.as_bytes() {
            return Some(String::from_utf8(line.to_vec()).expect("UTF-8 JSON"));
        }
    }
    None
}

/// The subfolders of `dir` (each joined with `inner`), if it exists.
fn subfolders(dir: &Path, inner: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path().join(inner))
        .filter(|p| p.is_dir())
        .collect()
}

fn link_or_copy(from: &Path, to: &Path) {
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
    }
}

#[test]
fn index_paths_are_those_of_crates_io() {
    assert_eq!(index_path("a"), "1/a");
    assert_eq!(index_path("ab"), "2/ab");
    assert_eq!(index_path("syn"), "3/s/syn");
    assert_eq!(index_path("Serde_JSON"), "se/rd/serde_json");
}

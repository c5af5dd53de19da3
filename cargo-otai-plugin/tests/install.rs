//! The toolkit as its users get it: every publishable crate of the workspace packaged
//! and served from a local registry in place of crates.io, `cargo install
//! cargo-otai-plugin` from it, then a new plugin taken from `new` through `build`,
//! `test` and `dev` in a folder outside this checkout that nothing points back to.
//!
//! Everything runs under a cargo home of its own whose only source is that registry,
//! offline: a crate that `cargo package` left out, a file read from the checkout, a
//! dependency on an unpublished crate or on a path fails here as it would for a user.
//!
//! Cost: the install compiles the CLI and its dependencies once (`--debug`, without
//! debug info: the tested binary is the same code, and a release build takes several
//! times as long); the plugin builds as a user's would.

#[path = "install/registry.rs"]
mod registry;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use serde_json::Value;

use registry::Registry;
use support::{Running, fetch_locked, stderr_of, stdout_of};

/// The checkout this test runs in.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the CLI's crate has a parent")
        .canonicalize()
        .expect("the workspace exists")
}

fn cargo_exe() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn text(output: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        stdout_of(output),
        stderr_of(output)
    )
}

fn succeed(command: &mut Command, what: &str) -> Output {
    let started = Instant::now();
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(output.status.success(), "{what} failed:\n{}", text(&output));
    eprintln!("{what}: {:.0} s", started.elapsed().as_secs_f64());
    output
}

/// The workspace's members that may be published (no `publish = false`), as `cargo
/// metadata` describes them.
fn publishable_members() -> Vec<Value> {
    let output = succeed(
        Command::new(cargo_exe())
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
            ])
            .current_dir(workspace()),
        "cargo metadata",
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["publish"] != serde_json::json!([]))
        .cloned()
        .collect()
}

/// A temporary folder with a cargo home whose crates.io is `registry`, offline.
struct Outside {
    cargo_home: PathBuf,
    /// Where `cargo install` puts the CLI (`bin/` goes first on `PATH`).
    install_root: PathBuf,
}

impl Outside {
    fn new(root: &Path, registry: &Path) -> Outside {
        let cargo_home = root.join("cargo-home");
        std::fs::create_dir_all(&cargo_home).unwrap();
        std::fs::write(
            cargo_home.join("config.toml"),
            format!(
                "[source.crates-io]\nreplace-with = \"test-registry\"\n\n\
                 [source.test-registry]\nlocal-registry = {}\n\n[net]\noffline = true\n",
                toml::Value::String(registry.display().to_string())
            ),
        )
        .unwrap();
        Outside {
            cargo_home,
            install_root: root.join("installed"),
        }
    }

    /// `cargo ARGS` run in `dir`, with this cargo home and the installed CLI first on
    /// `PATH`. No debug info and no incremental compilation, as CI builds: nothing here
    /// is debugged, and both only add work to a build that is thrown away.
    fn cargo(&self, dir: &Path, args: &[&str]) -> Command {
        let mut path = vec![self.install_root.join("bin")];
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let mut command = Command::new(cargo_exe());
        command
            .args(args)
            .current_dir(dir)
            .env("CARGO_HOME", &self.cargo_home)
            .env("PATH", std::env::join_paths(path).unwrap())
            .env("CARGO_NET_OFFLINE", "true")
            .env("CARGO_INCREMENTAL", "0")
            .env("CARGO_PROFILE_DEV_DEBUG", "0")
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            // The plugin's builds go to its own `target/`, as a user's do.
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET_DIR");
        command
    }
}

/// The release module's size budget of the minimal template, the one
/// `tests/tests/examples.rs` holds the checkout's build to.
fn minimal_budget() -> u64 {
    let wasm_opt = std::env::var("WASM_OPT")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "wasm-opt".to_owned());
    let found = Command::new(wasm_opt)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found { 20_000 } else { 25_000 }
}

/// Removes a folder this test made and no longer needs.
fn remove(dir: &Path) {
    std::fs::remove_dir_all(dir).unwrap_or_else(|e| panic!("remove {}: {e}", dir.display()));
}

/// Every file under `dir` but `target/`.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                files_under(&path, out);
            }
        } else {
            out.push(path);
        }
    }
}

#[test]
fn a_plugin_built_with_the_cli_installed_from_a_registry_outside_the_checkout() {
    let checkout = workspace();
    let temp = tempfile::tempdir().expect("a temporary folder");
    let root = temp.path().canonicalize().unwrap();
    assert!(
        !root.starts_with(&checkout),
        "the temporary folder {} is inside the checkout {}: set TMPDIR to a folder outside it",
        root.display(),
        checkout.display()
    );

    // 1. Package every publishable crate as `cargo publish` would, from the sources as
    // they are (uncommitted changes too), into a target folder of the test's own.
    fetch_locked();
    let members = publishable_members();
    let names: Vec<&str> = members
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let package_target = root.join("package-target");
    let mut package = Command::new(cargo_exe());
    package
        .args([
            "package",
            "--no-verify",
            "--locked",
            "--allow-dirty",
            "--target-dir",
        ])
        .arg(&package_target)
        .current_dir(&checkout)
        .env("CARGO_NET_OFFLINE", "true");
    for name in &names {
        package.args(["--package", name]);
    }
    succeed(&mut package, "cargo package");

    // 2. The registry: those crates, and every package of the workspace's lock file.
    let registry_root = root.join("registry");
    let mut registry = Registry::new(&registry_root);
    let lock = std::fs::read_to_string(checkout.join("Cargo.lock")).unwrap();
    let without_crate = registry.mirror_lock(&lock, &registry::cargo_home());
    for member in &members {
        let file = package_target.join("package").join(format!(
            "{}-{}.crate",
            member["name"].as_str().unwrap(),
            member["version"].as_str().unwrap()
        ));
        eprintln!(
            "packaged {}: {} bytes",
            file.file_name().unwrap().to_string_lossy(),
            std::fs::metadata(&file)
                .map(|m| m.len())
                .unwrap_or_default()
        );
        registry.add_packaged(member, &file);
    }
    registry.finish();
    eprintln!("registry: {without_crate} packages of the lock file without a .crate here");
    remove(&package_target);

    // 3. `cargo install cargo-otai-plugin` from it.
    let outside = Outside::new(&root, &registry_root);
    let work = root.join("work");
    std::fs::create_dir(&work).unwrap();
    let install_target = root.join("install-target");
    succeed(
        outside
            .cargo(
                &work,
                &["install", "cargo-otai-plugin", "--locked", "--debug"],
            )
            .arg("--root")
            .arg(&outside.install_root)
            .env("CARGO_TARGET_DIR", &install_target),
        "cargo install cargo-otai-plugin",
    );
    // The install's build (a debug build of the CLI and wasmtime, about a gigabyte) is not
    // needed once the binary is in place; the plugin's builds below take as much again, and
    // CI machines may have little disk to spare. `cargo install` without `--target-dir`
    // removes it too.
    remove(&install_target);

    // 4. A new plugin, as a user starts one: no `--sdk-path`, nothing of the checkout.
    let output = succeed(
        &mut outside.cargo(&work, &["otai-plugin", "new", "my-plugin"]),
        "cargo otai-plugin new",
    );
    let plugin = work.join("my-plugin");
    let manifest = std::fs::read_to_string(plugin.join("Cargo.toml")).unwrap();
    let dependency = format!("otai-plugin-sdk = \"{}\"\n", env!("CARGO_PKG_VERSION"));
    assert!(
        manifest.contains(&dependency),
        "the new plugin does not depend on the SDK by version:\n{manifest}"
    );
    assert!(
        stderr_of(&output).contains("the plugin depends on otai-plugin-sdk"),
        "{}",
        text(&output)
    );

    let output = succeed(
        &mut outside.cargo(&plugin, &["otai-plugin", "build", "--release"]),
        "cargo otai-plugin build --release",
    );
    let wasm = plugin.join("target/wasm32-unknown-unknown/release/my_plugin.wasm");
    let size = std::fs::metadata(&wasm)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", wasm.display(), text(&output)))
        .len();
    eprintln!("the minimal template built against the registry's SDK: {size} bytes");
    // The SDK's files are under the cargo home, whose path (the author's home folder)
    // must not ship in the module: `build` remaps it (src/path_remap.rs).
    let module = std::fs::read(&wasm).unwrap();
    let home = outside.cargo_home.display().to_string();
    assert!(
        !module
            .windows(home.len())
            .any(|window| window == home.as_bytes()),
        "{} holds the path of the cargo home {home}",
        wasm.display()
    );
    let sdk_file = format!("otai-plugin-sdk-{}/src/", env!("CARGO_PKG_VERSION"));
    assert!(
        module
            .windows(sdk_file.len())
            .any(|window| window == sdk_file.as_bytes()),
        "the module names no file of the SDK: this test no longer sees what it checks"
    );
    assert!(
        size <= minimal_budget(),
        "the minimal template is {size} bytes, over its budget of {}",
        minimal_budget()
    );

    let output = succeed(
        &mut outside.cargo(&plugin, &["otai-plugin", "test"]),
        "cargo otai-plugin test",
    );
    let stdout = stdout_of(&output);
    assert!(stdout.contains("test fixtures/created ... ok"), "{stdout}");
    assert!(stdout.trim_end().ends_with(" passed, 0 failed"), "{stdout}");

    // 5. `dev`: built, installed into the local desk and served; a delivery runs it.
    let started = Instant::now();
    let mut dev = Running::spawn(outside.cargo(
        &plugin,
        &["otai-plugin", "dev", "--no-watch", "--color", "never"],
    ));
    let base = dev.dev_base();
    let list = ureq::get(&base)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        list.contains("My Plugin") && list.contains("state-enabled"),
        "{list}"
    );
    let page = ureq::post(&format!("{base}/tickets/T-1/events"))
        .header("Origin", &base)
        .send_form([("event", "ticket.created"), ("subject", "Printer down")])
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        page.contains("[info] new ticket T-1: Printer down"),
        "{page}"
    );
    eprintln!(
        "cargo otai-plugin dev --no-watch, to a delivery: {:.0} s",
        started.elapsed().as_secs_f64()
    );

    // 6. Nothing the user got names the checkout; the SDK came from the registry.
    let mut files = Vec::new();
    files_under(&plugin, &mut files);
    let checkout_text = checkout.display().to_string();
    for file in &files {
        let contents = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        assert!(
            !contents.contains(&checkout_text),
            "{} names the checkout {checkout_text}:\n{contents}",
            file.display()
        );
    }
    let lock: toml::Table = std::fs::read_to_string(plugin.join("Cargo.lock"))
        .expect("the plugin has a Cargo.lock")
        .parse()
        .unwrap();
    let sdk = lock["package"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str() == Some("otai-plugin-sdk"))
        .expect("the lock file has the SDK");
    assert_eq!(
        sdk.get("source").and_then(|s| s.as_str()),
        Some("registry+https://github.com/rust-lang/crates.io-index"),
        "{sdk:?}"
    );
}

//! Mistakes an author makes, each answered with a message that names the file, key or
//! package and says what to do. None of these compiles a plugin (one compiles an empty
//! crate).

mod support;

use std::path::Path;

use predicates::prelude::*;
use support::{Project, cli, stderr_of};

#[test]
fn malformed_ohd_metadata_names_the_key_and_the_file() {
    let project = Project::plugin("bad-meta", "minimal");
    project.edit(
        "Cargo.toml",
        "events = [\"ticket.created\"]",
        "events = [\"ticket.created\", \"ticket.resolve\"]",
    );
    project
        .cmd(&["build"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("invalid plugin manifest in `"))
        .stderr(predicate::str::contains("bad-meta/Cargo.toml`"))
        .stderr(predicate::str::contains("`package.metadata.ohd.events[1]`"))
        .stderr(predicate::str::contains("ticket.resolved"));
}

#[test]
fn a_crate_that_is_not_a_cdylib_is_refused() {
    let project = Project::empty();
    project.write(
        "Cargo.toml",
        "[package]\nname = \"lib-only\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
    );
    project.write("src/lib.rs", "");
    project
        .cmd(&["build"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "package `lib-only` is not a plugin: its library is not a `cdylib`",
        ))
        .stderr(predicate::str::contains("crate-type = [\"cdylib\"]"));
}

#[test]
fn an_unknown_package_is_refused_with_the_plugins_there_are() {
    let project = Project::plugin("only-one", "minimal");
    project
        .cmd(&["build", "-p", "nope"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "package `nope` is not a member of the workspace at `",
        ))
        .stderr(predicate::str::contains("(plugin packages: only-one)"));
}

#[test]
fn a_fixture_that_does_not_parse_names_file_and_line() {
    let project = Project::plugin("typo-fixture", "minimal");
    project.write(
        "tests/fixtures/broken.toml",
        "[event]\nkind = \"ticket.created\"\n\n[expect]\noutcom = \"ok\"\n",
    );
    project
        .cmd(&["test"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "tests/fixtures/broken.toml:5:1: unknown field `outcom`",
        ));
}

#[test]
fn new_refuses_to_overwrite_and_rejects_bad_names() {
    let project = Project::empty();
    std::fs::create_dir(project.root.join("taken")).unwrap();
    cli()
        .current_dir(&project.root)
        .args(["new", "taken"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "destination `taken` already exists; `cargo otai-plugin new` never overwrites",
        ));
    cli()
        .current_dir(&project.root)
        .args(["new", "2fast"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "the package name `2fast` cannot start with a digit",
        ));
    cli()
        .current_dir(&project.root)
        .args(["new", "pub-plugin", "--sdk-version", "latest"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "`--sdk-version latest` is not a version requirement (",
        ));
    assert!(!project.root.join("pub-plugin").exists());
}

#[test]
fn new_depends_on_the_sdk_of_its_own_version_from_crates_io() {
    let project = Project::empty();
    let version = env!("CARGO_PKG_VERSION");
    let output = cli()
        .current_dir(&project.root)
        .args(["new", "published"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains(&format!(
            "note: the plugin depends on otai-plugin-sdk `{version}` from crates.io"
        )),
        "{}",
        stderr_of(&output)
    );
    let cargo_toml = std::fs::read_to_string(project.root.join("published/Cargo.toml")).unwrap();
    assert!(
        cargo_toml.contains(&format!("\notai-plugin-sdk = \"{version}\"\n")),
        "{cargo_toml}"
    );
    // Nothing generated names the checkout this CLI was built from.
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .canonicalize()
        .unwrap();
    let mut dirs = vec![project.root.join("published")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(
                    !text.contains(&checkout.display().to_string()),
                    "{} names the checkout:\n{text}",
                    path.display()
                );
            }
        }
    }

    // Another requirement, which the templates may not build with: said so.
    let output = cli()
        .current_dir(&project.root)
        .args(["new", "older", "--sdk-version", "0.0.9"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let cargo_toml = std::fs::read_to_string(project.root.join("older/Cargo.toml")).unwrap();
    assert!(
        cargo_toml.contains("\notai-plugin-sdk = \"0.0.9\"\n"),
        "{cargo_toml}"
    );
    assert!(
        stderr_of(&output).contains(&format!(
            "warning: `--sdk-version 0.0.9` does not admit otai-plugin-sdk {version}"
        )),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn new_with_an_sdk_path_without_the_sdk_says_so() {
    let project = Project::empty();
    cli()
        .current_dir(&project.root)
        .args(["new", "lost", "--sdk-path"])
        .arg(&project.root)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "holds no otai-plugin-sdk: pass a checkout of otai-plugin or its `sdk/` directory",
        ));
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    cli()
        .current_dir(&project.root)
        .args(["new", "found", "--sdk-path"])
        .arg(&sdk)
        .assert()
        .success();
    let cargo_toml = std::fs::read_to_string(project.root.join("found/Cargo.toml")).unwrap();
    let expected = format!(
        "otai-plugin-sdk = {{ path = \"{}\" }}",
        sdk.canonicalize().unwrap().display()
    );
    assert!(cargo_toml.contains(&expected), "{cargo_toml}");
}

#[test]
fn new_tells_the_author_to_change_the_generated_id() {
    let project = Project::empty();
    cli()
        .current_dir(&project.root)
        .args(["new", "hello", "--template", "http"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "the plugin id is `com.example.hello`: change `package.metadata.ohd.id`",
        ));
    let fixture =
        std::fs::read_to_string(project.root.join("hello/tests/fixtures/created.toml")).unwrap();
    assert!(fixture.contains("[[http]]"));
}

/// How the stand-in toolchain comes with rustup.
enum Rustup {
    Absent,
    /// A `rustup` of its own, beside `rustc`.
    Beside,
    /// One executable, as rustup installs it: `rustc` is a link to `rustup`.
    Proxy,
}

/// A stand-in toolchain whose sysroot lacks wasm32, in `bin/` (returned); its rustup
/// logs its arguments to `rustup.log`.
fn toolchain_without_wasm32(project: &Project, rustup: Rustup) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = project.root.join("bin");
    let sysroot = project.root.join("sysroot");
    std::fs::create_dir_all(sysroot.join("lib/rustlib")).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    let script = |name: &str, body: String| {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    // `--print sysroot` names the stand-in sysroot. While that lacks wasm32, a wasm32
    // compile gets it too and fails as a real toolchain would ("can't find crate for
    // `std`"); everything else (and everything once rustup has "added" the target) goes
    // to the real rustc, so cargo still works.
    let real = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let real = Path::new(String::from_utf8(real.stdout).unwrap().trim()).join("bin/rustc");
    let rustc = format!(
        "if [ \"$1\" = --print ] && [ \"$2\" = sysroot ]; then echo {sysroot}; exit; fi\n\
         if [ ! -d {sysroot}/lib/rustlib/wasm32-unknown-unknown ]; then\n\
         case \" $* \" in *\" --target wasm32-unknown-unknown \"*\" --crate-type cdylib \"*|\
         *\" --crate-type cdylib \"*\" --target wasm32-unknown-unknown \"*)\n\
         exec {real} --sysroot {sysroot} \"$@\";; esac\nfi\nexec {real} \"$@\"\n",
        sysroot = sysroot.display(),
        real = real.display()
    );
    // Adding a target takes a second here, as a download does: a build that the
    // check did not stop fails meanwhile, for want of it.
    let rustup_body = format!(
        "echo \"$@\" >> {log}\n\
         if [ \"$1\" = which ]; then echo {sysroot}/bin/$2; fi\n\
         if [ \"$1\" = target ]; then sleep 1; mkdir -p {sysroot}/lib/rustlib/$3; fi\n",
        log = project.root.join("rustup.log").display(),
        sysroot = sysroot.display()
    );
    match rustup {
        Rustup::Absent => script("rustc", rustc),
        Rustup::Beside => {
            script("rustc", rustc);
            script("rustup", rustup_body);
        }
        Rustup::Proxy => {
            // The real cargo, not its proxy, which would start the real rustc.
            let cargo = real.with_file_name("cargo");
            script(
                "rustup",
                format!(
                    "case \"$(basename \"$0\")\" in\n\
                     cargo) exec {cargo} \"$@\";;\n\
                     rustc)\n{rustc};;\n\
                     esac\n{rustup_body}",
                    cargo = cargo.display()
                ),
            );
            for proxy in ["cargo", "rustc"] {
                std::os::unix::fs::symlink(bin.join("rustup"), bin.join(proxy)).unwrap();
            }
        }
    }
    bin
}

#[cfg(unix)]
#[test]
fn a_missing_wasm32_target_without_rustup_gives_the_command() {
    let project = Project::empty();
    let bin = toolchain_without_wasm32(&project, Rustup::Absent);
    project
        .cmd(&["build"])
        .env("RUSTC", bin.join("rustc"))
        .env("PATH", &bin)
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "the `wasm32-unknown-unknown` target is not installed",
        ))
        .stderr(predicate::str::contains(
            "install it with `rustup target add wasm32-unknown-unknown`",
        ));
}

#[cfg(unix)]
#[test]
fn a_missing_wasm32_target_is_added_with_rustup() {
    let project = Project::empty();
    let bin = toolchain_without_wasm32(&project, Rustup::Beside);
    // Not a plugin: the command stops right after the target check, without compiling.
    project.write(
        "Cargo.toml",
        "[package]\nname = \"not-yet\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
    );
    project.write("src/lib.rs", "");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    project
        .cmd(&["build"])
        .env("RUSTC", bin.join("rustc"))
        .env("PATH", path)
        .assert()
        .failure()
        .stderr(predicate::str::contains("Installing the `wasm32-unknown-unknown` target (`rustup target add wasm32-unknown-unknown`)"))
        .stderr(predicate::str::contains("is not a plugin"));
    let log = std::fs::read_to_string(project.root.join("rustup.log")).unwrap();
    assert!(log.contains("target add wasm32-unknown-unknown"), "{log}");
    assert!(
        Path::new(
            &project
                .root
                .join("sysroot/lib/rustlib/wasm32-unknown-unknown")
        )
        .is_dir()
    );
}

/// Builds an empty `cdylib` with the stand-in toolchain in `bin`: first with `cargo`
/// alone, which must fail with rustc's own error, then with the CLI, which must add the
/// target before cargo can fail for want of it. `env` sets (or, with `None`, removes)
/// variables for both. Returns rustup's log.
#[cfg(unix)]
fn build_without_wasm32(
    project: &Project,
    bin: &Path,
    cargo: &std::ffi::OsStr,
    env: &[(&str, Option<std::ffi::OsString>)],
) -> String {
    project.write(
        "Cargo.toml",
        "[package]\nname = \"no-target-yet\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n[workspace]\n",
    );
    project.write("src/lib.rs", "");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let target_dir = project.root.join("target");
    let raw = "can't find crate for `std`";
    let mut plain = std::process::Command::new(cargo);
    plain
        .args(["build", "--target", "wasm32-unknown-unknown"])
        .current_dir(&project.root)
        .env("PATH", &path)
        .env("CARGO_TARGET_DIR", &target_dir);
    let mut ours = project.cmd(&["build"]);
    ours.env("PATH", &path).env("CARGO_TARGET_DIR", &target_dir);
    for (name, value) in env {
        match value {
            Some(value) => {
                plain.env(name, value);
                ours.env(name, value);
            }
            None => {
                plain.env_remove(name);
                ours.env_remove(name);
            }
        }
    }
    let plain = plain.output().unwrap();
    let plain_stderr = String::from_utf8_lossy(&plain.stderr);
    assert!(
        !plain.status.success() && plain_stderr.contains(raw),
        "{plain_stderr}"
    );

    let built = ours.output().unwrap();
    let stderr = String::from_utf8_lossy(&built.stderr);
    assert!(
        stderr.contains(
            "Installing the `wasm32-unknown-unknown` target (`rustup target add wasm32-unknown-unknown`)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains(raw), "{stderr}");
    // Compiled after the install: the empty module then fails the ABI lint.
    assert!(stderr.contains("no_target_yet.wasm"), "{stderr}");
    std::fs::read_to_string(project.root.join("rustup.log")).unwrap()
}

/// With `$RUSTC`, `rustc --print sysroot` decides, before the build starts.
#[cfg(unix)]
#[test]
fn a_missing_wasm32_target_is_added_before_cargo_can_fail_for_it() {
    let project = Project::empty();
    let bin = toolchain_without_wasm32(&project, Rustup::Beside);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let log = build_without_wasm32(
        &project,
        &bin,
        &cargo,
        &[("RUSTC", Some(bin.join("rustc").into()))],
    );
    assert!(!log.contains("which"), "{log}");
    assert!(log.contains("target add wasm32-unknown-unknown"), "{log}");
}

/// Run directly (no `$CARGO`), with rustup's proxy as `rustc`, the check asks
/// `rustup which rustc` rather than starting rustc, beside the build, which it stops
/// before rustc's own error reaches the author.
#[cfg(unix)]
#[test]
fn a_missing_wasm32_target_is_found_through_rustups_proxy() {
    let project = Project::empty();
    let bin = toolchain_without_wasm32(&project, Rustup::Proxy);
    let log = build_without_wasm32(
        &project,
        &bin,
        bin.join("cargo").as_os_str(),
        &[("CARGO", None), ("RUSTC", None), ("RUSTUP_TOOLCHAIN", None)],
    );
    assert!(log.starts_with("which rustc\n"), "{log}");
    assert!(log.contains("target add wasm32-unknown-unknown"), "{log}");
}

/// Usage lines name the program as the author ran it, never a bare `cargo build`,
/// which is another command.
#[test]
fn usage_names_the_command_as_it_was_run() {
    cli()
        .args(["build", "--bogus"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "Usage: cargo-otai-plugin build [OPTIONS]",
        ));
    cli()
        .args(["otai-plugin", "build", "--bogus"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "Usage: cargo otai-plugin build [OPTIONS]",
        ));
    cli()
        .args(["test", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Usage: cargo-otai-plugin test"));
}

#[test]
fn a_virtual_workspace_needs_a_choice_and_workspace_needs_a_plugin() {
    let project = Project::empty();
    project.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"a\", \"b\"]\nresolver = \"3\"\n",
    );
    for name in ["a", "b"] {
        project.write(
            &format!("{name}/Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n"),
        );
        project.write(&format!("{name}/src/lib.rs"), "");
    }
    project
        .cmd(&["build"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "is a virtual workspace manifest: choose a plugin with `-p` (plugin packages: none)",
        ));
    project
        .cmd(&["build", "--workspace"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("has no plugin (`cdylib`) package"));
}

//! `publish oci://…` against a real registry (Debian's `docker-registry`, started by the
//! test on a free loopback port): what is pushed is pulled back byte for byte, with its
//! annotations; the refusals (unsigned, a tag with other content, no credentials, a
//! registry that is down, a bad reference) each say what to do; `desk install oci://…`
//! installs what the tag resolves to, pinned to its digest, by the desk's trust rules.

mod support;

use std::path::{Path, PathBuf};

use otai_plugin_desk::registry::{Reference, RegistryClient, RegistryOptions, digest_of};
use otai_plugin_test_support::{REGISTRY_PASSWORD, REGISTRY_USER, Registry};
use support::{Project, cli, new_key, sign, stderr_of, wat_panicking_plugin, wat_plugin};

/// `cargo-otai-plugin publish ARGS` with docker's config in `project` (empty unless a
/// test writes one), so that the user's own logins never take part.
fn publish(project: &Project, args: &[&str]) -> std::process::Output {
    cli()
        .current_dir(&project.root)
        .env("DOCKER_CONFIG", project.root.join("docker"))
        .env_remove("OTAI_REGISTRY_PASSWORD")
        .env_remove("CARGO_TARGET_DIR")
        .arg("publish")
        .args(args)
        .output()
        .unwrap()
}

/// A project with a signing key and `plugin.wasm` (the WAT plugin), signed by it unless
/// `signed` is false.
fn project_with_plugin(wasm: &[u8], signed: bool) -> (Project, PathBuf) {
    let project = Project::empty();
    let path = project.write("plugin.wasm", wasm);
    if signed {
        let key = project.root.join("release");
        new_key(&key);
        let output = sign(&path, &key).output().unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
    }
    (project, path)
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The registry's manifest for `reference`, as it stores it.
fn raw_manifest(address: &str, repository: &str, tag: &str) -> serde_json::Value {
    let body = ureq::get(&format!("http://{address}/v2/{repository}/manifests/{tag}"))
        .header("accept", "application/vnd.oci.image.manifest.v1+json")
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

#[test]
fn a_signed_plugin_is_published_and_pulled_back_with_its_annotations() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let (project, wasm) = project_with_plugin(&wat_plugin(), true);
    let signed = std::fs::read(&wasm).unwrap();
    let target = format!("oci://{}/acme/wat", registry.address());
    let output = publish(&project, &[&target, arg(&wasm)]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    // The manifest's version is the default tag.
    assert!(
        stderr.contains(&format!(
            "Publishing com.example.wat 1.0.0 to {target}:1.0.0"
        )),
        "{stderr}"
    );
    let published = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("Published {target}:1.0.0@")))
        .unwrap_or_else(|| panic!("no `Published` line: {stderr}"))
        .to_owned();

    let client = RegistryClient::new(RegistryOptions::default());
    let pulled = client
        .pull(&Reference::parse(&format!("{target}:1.0.0")).unwrap())
        .unwrap();
    assert_eq!(
        pulled.module, signed,
        "the bytes pulled are the bytes published"
    );
    assert_eq!(
        pulled.digest, published,
        "the digest printed is the manifest's"
    );
    assert_eq!(pulled.reference.digest(), Some(published.as_str()));

    let manifest = raw_manifest(&registry.address(), "acme/wat", "1.0.0");
    let annotations = &manifest["annotations"];
    assert_eq!(annotations["dev.otai.plugin.id"], "com.example.wat");
    assert_eq!(annotations["org.opencontainers.image.title"], "WAT");
    assert_eq!(annotations["org.opencontainers.image.version"], "1.0.0");
    assert_eq!(
        annotations["org.opencontainers.image.description"],
        "Written by hand."
    );
    assert_eq!(annotations["dev.otai.plugin.events"], "ticket.created");
    assert_eq!(
        annotations["dev.otai.plugin.allowed-hosts"],
        "hooks.example.com"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(manifest["layers"][0]["digest"], digest_of(&signed));
}

#[test]
fn an_unsigned_plugin_is_refused_unless_allowed() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let (project, wasm) = project_with_plugin(&wat_plugin(), false);
    let target = format!("oci://{}/acme/wat:unsigned", registry.address());
    let output = publish(&project, &[&target, arg(&wasm)]);
    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("is not signed"), "{stderr}");
    assert!(stderr.contains("--allow-unsigned"), "{stderr}");
    let client = RegistryClient::new(RegistryOptions::default());
    let reference = Reference::parse(&target).unwrap();
    assert_eq!(
        client.resolve(&reference).unwrap(),
        None,
        "nothing was pushed"
    );

    let output = publish(&project, &[&target, arg(&wasm), "--allow-unsigned"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(client.pull(&reference).unwrap().module, wat_plugin());
}

#[test]
fn a_tag_that_holds_another_module_is_replaced_only_with_force() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let (project, first) = project_with_plugin(&wat_plugin(), true);
    let target = format!("oci://{}/acme/wat:1.0.0", registry.address());
    assert!(publish(&project, &[&target, arg(&first)]).status.success());

    // The same module again: already there, and a success.
    let output = publish(&project, &[&target, arg(&first)]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("already holds this module"), "{stderr}");

    // Another module (signed again: the same key, other bytes) under the same tag.
    let second = project.write("other.wasm", wat_panicking_plugin());
    let output = sign(&second, &project.root.join("release"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let output = publish(&project, &[&target, arg(&second)]);
    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("already holds another module"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    let client = RegistryClient::new(RegistryOptions::default());
    let reference = Reference::parse(&target).unwrap();
    assert_eq!(
        client.pull(&reference).unwrap().module,
        std::fs::read(&first).unwrap()
    );

    let output = publish(&project, &[&target, arg(&second), "--force"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        client.pull(&reference).unwrap().module,
        std::fs::read(&second).unwrap()
    );
}

#[test]
fn a_registry_with_htpasswd_takes_the_username_and_the_password_from_the_environment() {
    let Some(registry) = Registry::with_htpasswd() else {
        return;
    };
    let (project, wasm) = project_with_plugin(&wat_plugin(), true);
    let target = format!("oci://{}/acme/wat:1.0.0", registry.address());

    let output = publish(&project, &[&target, arg(&wasm)]);
    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("no credentials were given"), "{stderr}");
    assert!(stderr.contains("--username USER"), "{stderr}");
    assert!(stderr.contains("OTAI_REGISTRY_PASSWORD"), "{stderr}");

    // `--username` without the variable says which variable.
    let output = publish(
        &project,
        &[&target, arg(&wasm), "--username", REGISTRY_USER],
    );
    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("in the environment variable OTAI_REGISTRY_PASSWORD"),
        "{stderr}"
    );

    let output = cli()
        .current_dir(&project.root)
        .env("DOCKER_CONFIG", project.root.join("docker"))
        .env("OTAI_REGISTRY_PASSWORD", REGISTRY_PASSWORD)
        .args(["publish", &target, arg(&wasm), "--username", REGISTRY_USER])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));

    // docker's config file, as `docker login` writes it: base64 of `otai:s3cret`.
    project.write(
        "docker/config.json",
        format!(
            r#"{{"auths": {{"{}": {{"auth": "b3RhaTpzM2NyZXQ="}}}}}}"#,
            registry.address()
        ),
    );
    let output = publish(&project, &[&target, arg(&wasm)]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("already holds this module"), "{stderr}");
}

#[test]
fn a_registry_that_is_down_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (project, wasm) = project_with_plugin(&wat_plugin(), true);
    let output = publish(
        &project,
        &[&format!("oci://127.0.0.1:{port}/acme/wat"), arg(&wasm)],
    );
    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!(
            "the registry `127.0.0.1:{port}` cannot be reached"
        )),
        "{stderr}"
    );
}

#[test]
fn a_bad_reference_is_refused_before_anything_is_read() {
    let project = Project::empty();
    for (reference, expected) in [
        ("127.0.0.1:5000/acme/wat", "does not start with `oci://`"),
        ("oci://127.0.0.1:5000", "no repository"),
        ("oci://127.0.0.1:5000/acme/wat:-bad", "the tag `-bad`"),
        ("oci://127.0.0.1:5000/Acme/wat", "`Acme`"),
    ] {
        let output = publish(&project, &[reference, "missing.wasm"]);
        let stderr = stderr_of(&output);
        assert!(!output.status.success(), "{reference}");
        assert!(stderr.contains(expected), "{reference}: {stderr}");
        assert!(!stderr.contains("missing.wasm"), "{reference}: {stderr}");
    }
}

#[test]
fn without_a_module_the_packages_release_build_is_published() {
    let (project, wasm) = project_with_plugin(&wat_plugin(), true);
    project.write(
        "Cargo.toml",
        "[package]\nname = \"wat-plugin\"\nversion = \"1.0.0\"\nedition = \"2024\"\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n[workspace]\n",
    );
    project.write("src/lib.rs", "");
    let output = publish(&project, &["oci://127.0.0.1:1/acme/wat"]);
    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("wasm32-unknown-unknown/release/wat_plugin.wasm` does not exist"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cargo otai-plugin build --release --sign KEY"),
        "{stderr}"
    );

    let Some(registry) = Registry::start() else {
        return;
    };
    let built = project
        .root
        .join("target/wasm32-unknown-unknown/release/wat_plugin.wasm");
    std::fs::create_dir_all(built.parent().unwrap()).unwrap();
    std::fs::copy(&wasm, &built).unwrap();
    let target = format!("oci://{}/acme/wat", registry.address());
    let output = publish(&project, &[&target]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let client = RegistryClient::new(RegistryOptions::default());
    let pulled = client
        .pull(&Reference::parse(&format!("{target}:1.0.0")).unwrap())
        .unwrap();
    assert_eq!(pulled.module, std::fs::read(&wasm).unwrap());
}

/// `cargo-otai-plugin desk --data-dir DIR ARGS --format json`, with docker's config in
/// `project`.
fn desk(project: &Project, args: &[&str]) -> std::process::Output {
    cli()
        .current_dir(&project.root)
        .env("DOCKER_CONFIG", project.root.join("docker"))
        .env("OTAI_DESK_KEY", "ab".repeat(32))
        .arg("desk")
        .arg("--data-dir")
        .arg(project.root.join("desk"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn desk_install_pulls_by_the_digest_the_tag_resolves_to_and_records_it() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let (project, wasm) = project_with_plugin(&wat_plugin(), true);
    let target = format!("oci://{}/acme/wat:1.0.0", registry.address());
    assert!(publish(&project, &[&target, arg(&wasm)]).status.success());
    let pinned = RegistryClient::new(RegistryOptions::default())
        .resolve(&Reference::parse(&target).unwrap())
        .unwrap()
        .unwrap()
        .reference
        .to_string();

    // The desk trusts another key only: the module is refused, nothing is installed.
    let other = project.root.join("other");
    new_key(&other);
    let output = desk(
        &project,
        &["trust", "add", &format!("{}.pub", other.display())],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let output = desk(&project, &["install", &target]);
    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert!(stderr.contains("signature_untrusted"), "{stderr}");
    let list = desk(&project, &["list", "--format", "json"]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&list.stdout).unwrap(),
        serde_json::json!([])
    );

    // Trusting the publisher's key installs it, from the digest the tag resolved to.
    let output = desk(
        &project,
        &[
            "trust",
            "add",
            &format!("{}.pub", project.root.join("release").display()),
        ],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let output = desk(&project, &["install", &target, "--yes"]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("Pulled {pinned}")), "{stderr}");
    let list = desk(&project, &["list", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list[0]["id"], "com.example.wat");
    assert_eq!(list[0]["source"], pinned.as_str());
    assert_eq!(list[0]["signers"].as_array().unwrap().len(), 1);
    let human = desk(&project, &["list"]);
    assert!(
        String::from_utf8_lossy(&human.stdout).contains(&format!("from {pinned}")),
        "{}",
        String::from_utf8_lossy(&human.stdout)
    );
}

#[test]
fn a_pinned_reference_installs_the_bytes_it_names_after_the_tag_moved() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let (project, first) = project_with_plugin(&wat_plugin(), true);
    let target = format!("oci://{}/acme/wat:1.0.0", registry.address());
    assert!(publish(&project, &[&target, arg(&first)]).status.success());
    let client = RegistryClient::new(RegistryOptions::default());
    let pinned = client
        .resolve(&Reference::parse(&target).unwrap())
        .unwrap()
        .unwrap()
        .reference;

    // The tag now holds another plugin.
    let second = project.write("other.wasm", wat_panicking_plugin());
    assert!(
        publish(
            &project,
            &[&target, arg(&second), "--force", "--allow-unsigned"]
        )
        .status
        .success()
    );
    let output = desk(
        &project,
        &["install", &pinned.to_string(), "--format", "json", "--yes"],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let installed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        installed["id"], "com.example.wat",
        "the pinned digest wins over the tag"
    );
    assert_eq!(installed["source"], pinned.to_string());
}

#[test]
fn desk_install_from_a_registry_that_is_down_installs_nothing() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let project = Project::empty();
    let output = desk(
        &project,
        &["install", &format!("oci://127.0.0.1:{port}/acme/wat:1.0.0")],
    );
    let stderr = stderr_of(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!(
            "the registry `127.0.0.1:{port}` cannot be reached"
        )),
        "{stderr}"
    );
    let list = desk(&project, &["list", "--format", "json"]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&list.stdout).unwrap(),
        serde_json::json!([])
    );
}

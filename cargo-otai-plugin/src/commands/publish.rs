//! `cargo otai-plugin publish oci://REGISTRY/NAMESPACE/NAME[:TAG] [WASM]`: pushes a signed
//! plugin to an OCI registry in the CNCF Wasm layout.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use otai_plugin_abi::module::signature::verify_signatures;
use otai_plugin_abi::module::{AcceptOptions, accept};
use otai_plugin_desk::registry::{
    Credentials, PASSWORD_ENV, Reference, RegistryClient, RegistryOptions, digest_of,
};

use crate::CommonOptions;
use crate::cargo::{self, PackageOptions};

/// The annotation keys a registry's UI shows: the OCI ones where they exist, ours for
/// the rest.
pub(crate) const ANNOTATION_TITLE: &str = "org.opencontainers.image.title";
pub(crate) const ANNOTATION_VERSION: &str = "org.opencontainers.image.version";
pub(crate) const ANNOTATION_DESCRIPTION: &str = "org.opencontainers.image.description";
pub(crate) const ANNOTATION_AUTHORS: &str = "org.opencontainers.image.authors";
pub(crate) const ANNOTATION_LICENSES: &str = "org.opencontainers.image.licenses";
pub(crate) const ANNOTATION_URL: &str = "org.opencontainers.image.url";
pub(crate) const ANNOTATION_ID: &str = "dev.otai.plugin.id";
pub(crate) const ANNOTATION_EVENTS: &str = "dev.otai.plugin.events";
pub(crate) const ANNOTATION_ALLOWED_HOSTS: &str = "dev.otai.plugin.allowed-hosts";

/// Push a signed plugin to an OCI registry (the CNCF layout for Wasm artifacts), tagged
/// with its manifest's `version` unless the reference has a tag, with the manifest's id,
/// name, version, events and allowed hosts as annotations. Credentials come from
/// docker's config file (`docker login`), or from `--username` with the password in the
/// environment variable OTAI_REGISTRY_PASSWORD. A registry on this machine
/// (`localhost`, 127.0.0.1, `[::1]`) is spoken to in plain HTTP, any other in HTTPS only
/// unless `--insecure`.
#[derive(Debug, Args)]
pub struct PublishCommand {
    /// Where to publish: `oci://REGISTRY/NAMESPACE/NAME[:TAG]`.
    #[arg(value_name = "REFERENCE")]
    pub reference: String,
    /// The module to publish (default: the package's release build,
    /// `target/wasm32-unknown-unknown/release/<lib>.wasm`, as `build --release --sign KEY`
    /// writes it).
    #[arg(value_name = "WASM")]
    pub wasm: Option<PathBuf>,
    /// Path to the plugin's Cargo.toml, to find its release build.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Publish a module that no key signed (a help desk that trusts keys refuses it).
    #[arg(long)]
    pub allow_unsigned: bool,
    /// Replace a tag that holds another module.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}

/// How to reach a registry: `publish`'s and `desk install oci://…`'s options.
#[derive(Debug, Clone, Default, Args)]
pub struct RegistryArgs {
    /// The registry user; the password (or token) is read from the environment variable
    /// OTAI_REGISTRY_PASSWORD, never from the command line. Without it, docker's config
    /// file (`docker login`) gives the credentials, if it has some.
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// Plain HTTP to a registry that is not on this machine.
    #[arg(long)]
    pub insecure: bool,
}

impl RegistryArgs {
    /// A client for `reference`'s registry with these credentials.
    ///
    /// # Errors
    /// `--username` without [`PASSWORD_ENV`]; a docker config file that cannot be read.
    pub(crate) fn client(&self, reference: &Reference) -> Result<RegistryClient> {
        let credentials = match &self.username {
            Some(username) => {
                let password = std::env::var(PASSWORD_ENV).map_err(|_| {
                    anyhow::anyhow!(
                        "`--username {username}` needs the password (or token) in the environment \
                         variable {PASSWORD_ENV}"
                    )
                })?;
                Some(Credentials {
                    username: username.clone(),
                    password,
                })
            }
            None => Credentials::from_docker_config(reference.registry())?,
        };
        Ok(RegistryClient::new(RegistryOptions {
            credentials,
            insecure: self.insecure,
            ..RegistryOptions::default()
        }))
    }
}

impl PublishCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// A bad reference, a module that is missing, not one a host loads, or unsigned
    /// (without `--allow-unsigned`), a tag that holds another module (without
    /// `--force`), missing credentials, or the registry's refusal.
    pub fn exec(self) -> Result<()> {
        let shell = self.common.shell();
        let reference = Reference::parse(&self.reference)?;
        if reference.digest().is_some() {
            bail!(
                "`{reference}` names a digest: publish to a tag (`oci://REGISTRY/NAMESPACE/NAME[:TAG]`); \
                 the digest is the registry's to give"
            );
        }
        let wasm = match &self.wasm {
            Some(path) => path.clone(),
            None => self.release_build()?,
        };
        let bytes =
            std::fs::read(&wasm).with_context(|| format!("failed to read `{}`", wasm.display()))?;
        let verdict = accept(&bytes, &AcceptOptions::default());
        if verdict.has_errors() {
            let mut message = format!(
                "`{}` is not a module a host loads, so it is not published (`cargo otai-plugin \
                 check` explains):",
                wasm.display()
            );
            for problem in verdict.errors() {
                message.push_str(&format!("\n  - error[{}]: {problem}", problem.kind));
            }
            bail!(message);
        }
        let manifest = verdict
            .manifest
            .as_ref()
            .context("a module a host loads has a manifest")?;
        self.require_signature(&bytes, &wasm)?;
        let reference = reference.or_tag(&manifest.version)?;

        let client = self.registry.client(&reference)?;

        shell.status(
            "Publishing",
            format!("{} {} to {reference}", manifest.id, manifest.version),
        );
        let module_digest = digest_of(&bytes);
        if let Some(existing) = client.existing(&reference)? {
            let same = existing
                .manifest
                .module_layer()
                .is_ok_and(|layer| layer.digest == module_digest);
            if same {
                shell.status(
                    "Published",
                    format!("{reference} already holds this module @{}", existing.digest),
                );
                return Ok(());
            }
            if !self.force {
                bail!(
                    "`{reference}` already holds another module ({}): publish under another tag \
                     (a new `version`), or replace it with `--force`",
                    existing.digest
                );
            }
            shell.warn(format!("replacing {reference}@{}", existing.digest));
        }
        let pushed = client.push(&reference, &bytes, annotations(manifest))?;
        shell.status("Published", format!("{reference}@{}", pushed.digest));
        Ok(())
    }

    /// `target/wasm32-unknown-unknown/release/<lib>.wasm` of the package.
    fn release_build(&self) -> Result<PathBuf> {
        let options = PackageOptions {
            manifest_path: self.manifest_path.clone(),
            ..PackageOptions::default()
        };
        let metadata = cargo::load_metadata(&options)?;
        let plugins = cargo::select_plugins(&metadata, &options)?;
        let [plugin] = plugins.as_slice() else {
            bail!("more than one plugin is selected: give the module to publish (WASM)");
        };
        let path = metadata
            .target_directory
            .join(cargo::WASM_TARGET)
            .join("release")
            .join(format!("{}.wasm", plugin.lib_name));
        if !path.exists() {
            bail!(
                "`{path}` does not exist: build it with `cargo otai-plugin build --release --sign KEY` \
                 first, or give the module to publish (WASM)"
            );
        }
        Ok(path.into_std_path_buf())
    }

    fn require_signature(&self, bytes: &[u8], wasm: &std::path::Path) -> Result<()> {
        let verification = verify_signatures(bytes, &[]);
        if let Some(why) = &verification.unreadable {
            bail!(
                "the signatures of `{}` cannot be read: {why}",
                wasm.display()
            );
        }
        let covering = verification
            .signatures
            .iter()
            .filter(|s| s.covers_module)
            .count();
        if covering > 0 || self.allow_unsigned {
            return Ok(());
        }
        if verification.signatures.is_empty() {
            bail!(
                "`{}` is not signed: sign it (`cargo otai-plugin build --release --sign KEY` or \
                 `cargo otai-plugin sign WASM --key KEY`), or publish it unsigned with \
                 `--allow-unsigned` (help desks that trust keys refuse it)",
                wasm.display()
            );
        }
        bail!(
            "`{}` changed after it was signed: none of its {} signature(s) covers it as it is; \
             sign it again, or publish it with `--allow-unsigned`",
            wasm.display(),
            verification.signatures.len()
        )
    }
}

fn annotations(manifest: &otai_plugin_abi::manifest::Manifest) -> BTreeMap<String, String> {
    let mut annotations = BTreeMap::from([
        (ANNOTATION_ID.to_owned(), manifest.id.clone()),
        (ANNOTATION_TITLE.to_owned(), manifest.name.clone()),
        (ANNOTATION_VERSION.to_owned(), manifest.version.clone()),
        (
            ANNOTATION_EVENTS.to_owned(),
            manifest
                .events
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
        (
            ANNOTATION_ALLOWED_HOSTS.to_owned(),
            manifest
                .permissions
                .http
                .as_ref()
                .map(|http| http.allowed_hosts.join(","))
                .unwrap_or_default(),
        ),
    ]);
    for (key, value) in [
        (ANNOTATION_DESCRIPTION, Some(&manifest.description)),
        (ANNOTATION_AUTHORS, manifest.author.as_ref()),
        (ANNOTATION_LICENSES, manifest.license.as_ref()),
        (ANNOTATION_URL, manifest.homepage.as_ref()),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            annotations.insert(key.to_owned(), value.clone());
        }
    }
    annotations
}

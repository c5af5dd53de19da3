//! `cargo otai-plugin new <path>`: a plugin crate from a template.
//!
//! The templates are compiled into the CLI, and the generated crate depends on
//! `otai-plugin-sdk` from crates.io at the CLI's own version (`"0.1.0"` is `^0.1.0`): the
//! templates are written against the SDK released with this CLI, and any later 0.1.x
//! runs them. `--sdk-version` asks for another requirement; `--sdk-path` depends on a
//! checkout's SDK by path instead, to work on the SDK itself. Nothing in the generated
//! files names the place this CLI was built or installed from.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use crate::CommonOptions;

/// Create a plugin crate: Cargo.toml with the manifest in `[package.metadata.ohd]`, a
/// working handler in src/lib.rs, fixtures that pass, a README.
#[derive(Debug, Args)]
pub struct NewCommand {
    /// Directory to create; its last component is the package name unless `--name` is given.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// Package name (default: the directory name).
    #[arg(long)]
    pub name: Option<String>,
    /// What the plugin starts as.
    #[arg(long, value_enum, default_value_t = Template::Minimal)]
    pub template: Template,
    /// Depend on the SDK of a checkout of otai-plugin (or its `sdk/` directory) by path,
    /// instead of on crates.io: to work on the SDK itself.
    #[arg(long, value_name = "DIR")]
    pub sdk_path: Option<PathBuf>,
    /// The version requirement on `otai-plugin-sdk` from crates.io
    /// [default: this CLI's version].
    #[arg(long, value_name = "VERSION", conflicts_with = "sdk_path")]
    pub sdk_version: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}

/// `--template`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Template {
    /// Logs every new ticket, reading only the members it logs (`RawEvent`): the smallest, no config, no HTTP.
    Minimal,
    /// Posts new tickets to a Slack webhook: config with a secret, `allowed_hosts`, HTTP mocks in fixtures.
    Http,
    /// A UI panel (`ui_panel` + `render_panel`) and a custom field.
    Panel,
    /// Routes new tickets to a team by category: a custom field, an internal note on critical tickets, a map in config.
    Triage,
}

impl Template {
    fn as_str(self) -> &'static str {
        match self {
            Template::Minimal => "minimal",
            Template::Http => "http",
            Template::Panel => "panel",
            Template::Triage => "triage",
        }
    }

    fn cargo_toml(self) -> &'static str {
        match self {
            Template::Minimal => include_str!("../../templates/minimal/Cargo.toml.in"),
            Template::Http => include_str!("../../templates/http/Cargo.toml.in"),
            Template::Panel => include_str!("../../templates/panel/Cargo.toml.in"),
            Template::Triage => include_str!("../../templates/triage/Cargo.toml.in"),
        }
    }

    fn lib_rs(self) -> &'static str {
        match self {
            Template::Minimal => include_str!("../../templates/minimal/lib.rs"),
            Template::Http => include_str!("../../templates/http/lib.rs"),
            Template::Panel => include_str!("../../templates/panel/lib.rs"),
            Template::Triage => include_str!("../../templates/triage/lib.rs"),
        }
    }

    fn fixtures(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Template::Minimal => &[(
                "created.toml",
                include_str!("../../templates/minimal/fixtures/created.toml"),
            )],
            Template::Http => &[
                (
                    "created.toml",
                    include_str!("../../templates/http/fixtures/created.toml"),
                ),
                (
                    "critical.toml",
                    include_str!("../../templates/http/fixtures/critical.toml"),
                ),
                (
                    "slack_down.toml",
                    include_str!("../../templates/http/fixtures/slack_down.toml"),
                ),
            ],
            Template::Panel => &[
                (
                    "created.toml",
                    include_str!("../../templates/panel/fixtures/created.toml"),
                ),
                (
                    "panel.toml",
                    include_str!("../../templates/panel/fixtures/panel.toml"),
                ),
            ],
            Template::Triage => &[
                (
                    "created.toml",
                    include_str!("../../templates/triage/fixtures/created.toml"),
                ),
                (
                    "critical.toml",
                    include_str!("../../templates/triage/fixtures/critical.toml"),
                ),
                (
                    "other_category.toml",
                    include_str!("../../templates/triage/fixtures/other_category.toml"),
                ),
                (
                    "bad_teams.toml",
                    include_str!("../../templates/triage/fixtures/bad_teams.toml"),
                ),
            ],
        }
    }
}

const README: &str = include_str!("../../templates/common/README.md");
const GITIGNORE: &str = include_str!("../../templates/common/gitignore");
const CARGO_CONFIG: &str = include_str!("../../templates/common/cargo-config.toml");

/// This CLI's version, which is also the SDK's: the workspace releases them together.
const VERSION: &str = env!("CARGO_PKG_VERSION");

impl NewCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// An invalid name, an existing destination, an `--sdk-path` without the SDK, an
    /// `--sdk-version` that is no version requirement, or a write failure.
    pub fn exec(self) -> Result<()> {
        let shell = self.common.shell();
        let name = match &self.name {
            Some(name) => name.clone(),
            None => self
                .path
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_owned)
                .with_context(|| {
                    format!(
                        "cannot take a package name from `{}`; pass `--name`",
                        self.path.display()
                    )
                })?,
        };
        validate_name(&name)?;
        let sdk = match (&self.sdk_path, &self.sdk_version) {
            (Some(path), _) => Sdk::Path(resolve_sdk(path)?),
            (None, Some(requirement)) => Sdk::Version(sdk_requirement(requirement)?),
            (None, None) => Sdk::Version(VERSION.to_owned()),
        };
        if self.path.exists() {
            bail!(
                "destination `{}` already exists; `cargo otai-plugin new` never overwrites: choose \
                 another path or remove it first",
                self.path.display()
            );
        }

        let id = format!(
            "com.example.{}",
            name.to_ascii_lowercase().replace('_', "-")
        );
        let vars = Vars {
            name: &name,
            crate_name: &name.replace('-', "_"),
            id: &id,
            display_name: &display_name(&name),
            type_name: &type_name(&name),
            template: self.template.as_str(),
            sdk_dependency: &sdk.dependency(),
        };
        let files: Vec<(PathBuf, String)> = [
            (
                PathBuf::from("Cargo.toml"),
                vars.fill(self.template.cargo_toml()),
            ),
            (
                PathBuf::from("src/lib.rs"),
                vars.fill(self.template.lib_rs()),
            ),
            (PathBuf::from("README.md"), vars.fill(README)),
            (PathBuf::from(".gitignore"), GITIGNORE.to_owned()),
            (PathBuf::from(".cargo/config.toml"), CARGO_CONFIG.to_owned()),
        ]
        .into_iter()
        .chain(
            self.template
                .fixtures()
                .iter()
                .map(|(file, text)| (Path::new("tests/fixtures").join(file), vars.fill(text))),
        )
        .collect();

        for (relative, contents) in &files {
            let path = self.path.join(relative);
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)
                    .with_context(|| format!("failed to create `{}`", dir.display()))?;
            }
            fs::write(&path, contents)
                .with_context(|| format!("failed to write `{}`", path.display()))?;
        }

        shell.status(
            "Created",
            format!(
                "`{}` plugin `{name}` in `{}`",
                self.template.as_str(),
                self.path.display()
            ),
        );
        shell.note(format!(
            "the plugin id is `{id}`: change `package.metadata.ohd.id` in `{}` to a reverse-domain \
             name you own before publishing (the help desk identifies the plugin by it)",
            self.path.join("Cargo.toml").display()
        ));
        let cwd = std::env::current_dir().unwrap_or_default();
        let reach = Reach::find(std::env::var_os("PATH").as_deref(), &cwd);
        match &sdk {
            Sdk::Path(path) => {
                shell.note(format!(
                    "the plugin depends on the SDK at `{}`",
                    path.display()
                ));
            }
            Sdk::Version(requirement) => {
                if let Some(version) = self.sdk_version.as_deref()
                    && !version_matches(requirement, VERSION)
                {
                    shell.warn(format!(
                        "`--sdk-version {version}` does not admit otai-plugin-sdk {VERSION}, the \
                         version this CLI's templates are written for: the plugin may need changes \
                         to build"
                    ));
                }
                shell.note(format!(
                    "the plugin depends on otai-plugin-sdk `{requirement}` from crates.io"
                ));
                if let Reach::Alias(checkout) = &reach
                    && checkout.join("sdk/Cargo.toml").is_file()
                {
                    shell.note(format!(
                        "to build it with the SDK of the checkout at `{}` instead, create it with \
                         `--sdk-path {}`",
                        checkout.display(),
                        checkout.display()
                    ));
                }
            }
        }
        shell.note(reach.next_step(&self.path));
        Ok(())
    }
}

/// Where the generated crate gets the SDK from.
enum Sdk {
    /// crates.io, with this version requirement.
    Version(String),
    /// The SDK crate in this directory.
    Path(PathBuf),
}

impl Sdk {
    /// The line of `[dependencies]`.
    fn dependency(&self) -> String {
        match self {
            Sdk::Version(requirement) => format!("otai-plugin-sdk = {}", toml_string(requirement)),
            Sdk::Path(path) => format!(
                "otai-plugin-sdk = {{ path = {} }}",
                toml_string(&path.display().to_string())
            ),
        }
    }
}

/// `--sdk-version`, checked as cargo reads a dependency's `version`.
fn sdk_requirement(given: &str) -> Result<String> {
    let requirement = given.trim();
    semver::VersionReq::parse(requirement).map_err(|err| {
        anyhow::anyhow!(
            "`--sdk-version {given}` is not a version requirement ({err}): write one as in \
             `Cargo.toml`, e.g. `{VERSION}` or `~{VERSION}`"
        )
    })?;
    Ok(requirement.to_owned())
}

/// Whether `version` meets `requirement` (both already checked).
fn version_matches(requirement: &str, version: &str) -> bool {
    match (
        semver::VersionReq::parse(requirement),
        semver::Version::parse(version),
    ) {
        (Ok(requirement), Ok(version)) => requirement.matches(&version),
        _ => false,
    }
}

struct Vars<'a> {
    name: &'a str,
    crate_name: &'a str,
    id: &'a str,
    display_name: &'a str,
    type_name: &'a str,
    template: &'a str,
    sdk_dependency: &'a str,
}

impl Vars<'_> {
    fn fill(&self, template: &str) -> String {
        template
            .replace("{{name}}", self.name)
            .replace("{{crate_name}}", self.crate_name)
            .replace("{{id}}", self.id)
            .replace("{{display_name}}", self.display_name)
            .replace("{{type_name}}", self.type_name)
            .replace("{{template}}", self.template)
            .replace("{{sdk_dependency}}", self.sdk_dependency)
    }
}

/// A TOML basic string (paths may hold backslashes or quotes).
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// Finds the SDK crate of `--sdk-path`: a checkout or its `sdk/`.
fn resolve_sdk(base: &Path) -> Result<PathBuf> {
    for candidate in [base.join("sdk"), base.to_path_buf()] {
        let manifest = candidate.join("Cargo.toml");
        if let Ok(text) = fs::read_to_string(&manifest)
            && text.contains("name = \"otai-plugin-sdk\"")
        {
            return candidate
                .canonicalize()
                .with_context(|| format!("cannot resolve `{}`", candidate.display()));
        }
    }
    bail!(
        "`--sdk-path {}` holds no otai-plugin-sdk: pass a checkout of otai-plugin or its `sdk/` \
         directory, or leave `--sdk-path` out to depend on otai-plugin-sdk {VERSION} from crates.io",
        base.display()
    )
}

/// How `cargo otai-plugin` reaches this CLI from where the user is, which decides the
/// command the `next:` note can give.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reach {
    /// `cargo-otai-plugin` is on `PATH`: it works from any folder.
    Installed,
    /// Only as the alias of a checkout's `.cargo/config.toml` (in this folder), which
    /// cargo reads in this folder and its parents: it works here, not from the plugin's
    /// folder.
    Alias(PathBuf),
    /// Not at all (the binary was run by its path).
    Neither,
}

impl Reach {
    fn find(path_var: Option<&std::ffi::OsStr>, cwd: &Path) -> Reach {
        let exe = format!("cargo-otai-plugin{}", std::env::consts::EXE_SUFFIX);
        if path_var.is_some_and(|p| std::env::split_paths(p).any(|dir| dir.join(&exe).is_file())) {
            return Reach::Installed;
        }
        let has_alias = |dir: &Path| {
            fs::read_to_string(dir.join(".cargo/config.toml"))
                .ok()
                .and_then(|text| text.parse::<toml::Table>().ok())
                .is_some_and(|config| {
                    config
                        .get("alias")
                        .and_then(|a| a.get("otai-plugin"))
                        .is_some()
                })
        };
        match cwd.ancestors().find(|dir| has_alias(dir)) {
            Some(checkout) => Reach::Alias(checkout.to_path_buf()),
            None => Reach::Neither,
        }
    }

    /// A command that works where the user is, for a plugin created at `plugin`.
    fn next_step(&self, plugin: &Path) -> String {
        // From a checkout, its own CLI (the `tools` profile is the workspace's); from
        // anywhere else, the published one, with the versions it was tested with.
        let install = match self {
            Reach::Alias(checkout) if checkout.join("cargo-otai-plugin/Cargo.toml").is_file() => {
                format!(
                    "cargo install --path {} --profile tools",
                    checkout.join("cargo-otai-plugin").display()
                )
            }
            _ => "cargo install cargo-otai-plugin --locked".to_owned(),
        };
        let plugin = plugin.display();
        match self {
            Reach::Installed => format!("next: `cd {plugin} && cargo otai-plugin test`"),
            Reach::Alias(_) => format!(
                "next: `cargo otai-plugin test --manifest-path {plugin}/Cargo.toml`, from this \
                 folder, where `cargo otai-plugin` is the checkout's alias; to run it from the \
                 plugin's folder, install the CLI first: `{install}`"
            ),
            Reach::Neither => format!(
                "next: install the CLI with `{install}`, then `cd {plugin} && cargo otai-plugin test`"
            ),
        }
    }
}

/// Cargo's package name rules, plus ASCII only (the name also becomes the plugin id).
fn validate_name(name: &str) -> Result<()> {
    const KEYWORDS: &[&str] = &[
        "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
        "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
        "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
        "ref", "return", "self", "static", "struct", "super", "trait", "true", "try", "type",
        "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
    ];
    const RESERVED: &[&str] = &[
        "alloc",
        "core",
        "std",
        "test",
        "proc_macro",
        "proc-macro",
        "deps",
        "examples",
        "build",
        "incremental",
        "con",
        "prn",
        "aux",
        "nul",
        "com1",
        "lpt1",
    ];
    if name.is_empty() {
        bail!("the package name cannot be empty");
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        bail!(
            "invalid character `{bad}` in package name `{name}`: use ASCII letters, digits, `-` and `_`"
        );
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        bail!("the package name `{name}` cannot start with a digit");
    }
    if name.len() > 64 {
        bail!("the package name `{name}` is longer than 64 characters");
    }
    let lower = name.to_ascii_lowercase();
    if KEYWORDS.contains(&name) || RESERVED.contains(&lower.as_str()) {
        bail!("`{name}` cannot be used as a package name: it is a Rust keyword or a reserved name");
    }
    Ok(())
}

fn words(name: &str) -> impl Iterator<Item = &str> {
    name.split(['-', '_']).filter(|w| !w.is_empty())
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// `slack-notify` → `SlackNotify`.
fn type_name(name: &str) -> String {
    words(name).map(capitalised).collect()
}

/// `slack-notify` → `Slack Notify`.
fn display_name(name: &str) -> String {
    words(name).map(capitalised).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_cargo_rules() {
        assert!(validate_name("slack-notify").is_ok());
        assert!(validate_name("a_b2").is_ok());
        for bad in ["", "2fa", "my plugin", "héllo", "test", "fn", "a.b"] {
            assert!(validate_name(bad).is_err(), "{bad:?} should be refused");
        }
        let err = validate_name("my plugin").unwrap_err().to_string();
        assert!(
            err.contains("invalid character ` ` in package name `my plugin`"),
            "{err}"
        );
    }

    #[test]
    fn the_next_step_works_where_the_user_is() {
        let dir = tempfile::tempdir().unwrap();
        let (bin, checkout, elsewhere) = (
            dir.path().join("bin"),
            dir.path().join("checkout"),
            dir.path().join("elsewhere"),
        );
        for d in [
            &bin,
            &checkout.join(".cargo"),
            &checkout.join("sub"),
            &elsewhere,
        ] {
            fs::create_dir_all(d).unwrap();
        }
        fs::write(
            checkout.join(".cargo/config.toml"),
            "[alias]\notai-plugin = \"run -p cargo-otai-plugin --\"\n",
        )
        .unwrap();
        let empty_path = std::env::join_paths([&elsewhere]).unwrap();
        assert_eq!(
            Reach::find(Some(&empty_path), &checkout.join("sub")),
            Reach::Alias(checkout.clone())
        );
        assert_eq!(Reach::find(Some(&empty_path), &elsewhere), Reach::Neither);
        assert_eq!(Reach::find(None, &elsewhere), Reach::Neither);
        fs::write(
            bin.join(format!("cargo-otai-plugin{}", std::env::consts::EXE_SUFFIX)),
            "",
        )
        .unwrap();
        let with_bin = std::env::join_paths([&elsewhere, &bin]).unwrap();
        assert_eq!(Reach::find(Some(&with_bin), &elsewhere), Reach::Installed);

        let plugin = Path::new("../ticket-to-slack");
        assert_eq!(
            Reach::Installed.next_step(plugin),
            "next: `cd ../ticket-to-slack && cargo otai-plugin test`"
        );
        // A folder with the alias that is no checkout of otai-plugin: the published CLI.
        let alias = Reach::Alias(checkout.clone()).next_step(plugin);
        assert!(
            alias.starts_with(
                "next: `cargo otai-plugin test --manifest-path ../ticket-to-slack/Cargo.toml`"
            ),
            "{alias}"
        );
        assert!(
            alias.ends_with("`cargo install cargo-otai-plugin --locked`"),
            "{alias}"
        );
        // A checkout: its own CLI.
        fs::create_dir_all(checkout.join("cargo-otai-plugin")).unwrap();
        fs::write(checkout.join("cargo-otai-plugin/Cargo.toml"), "").unwrap();
        let alias = Reach::Alias(checkout.clone()).next_step(plugin);
        assert!(
            alias.ends_with(&format!(
                "`cargo install --path {} --profile tools`",
                checkout.join("cargo-otai-plugin").display()
            )),
            "{alias}"
        );
        assert_eq!(
            Reach::Neither.next_step(plugin),
            "next: install the CLI with `cargo install cargo-otai-plugin --locked`, then `cd \
             ../ticket-to-slack && cargo otai-plugin test`"
        );
    }

    #[test]
    fn the_sdk_is_a_version_requirement_or_a_path() {
        assert_eq!(
            Sdk::Version(VERSION.to_owned()).dependency(),
            format!("otai-plugin-sdk = \"{VERSION}\"")
        );
        // A path with quotes and a backslash reads back as written.
        let path = r#"/src/a "b"\c/sdk"#;
        let line = Sdk::Path(PathBuf::from(path)).dependency();
        let table: toml::Table = line.parse().unwrap();
        assert_eq!(
            table["otai-plugin-sdk"]["path"].as_str(),
            Some(path),
            "{line}"
        );
        assert_eq!(sdk_requirement(" 0.1 ").unwrap(), "0.1");
        assert_eq!(sdk_requirement("~0.1.2").unwrap(), "~0.1.2");
        let err = sdk_requirement("latest").unwrap_err().to_string();
        assert!(
            err.starts_with("`--sdk-version latest` is not a version requirement ("),
            "{err}"
        );
        assert!(version_matches(VERSION, VERSION));
        assert!(!version_matches("0.0.1", VERSION));
    }

    #[test]
    fn derived_names() {
        assert_eq!(type_name("slack-notify_v2"), "SlackNotifyV2");
        assert_eq!(display_name("slack-notify"), "Slack Notify");
    }

    #[test]
    fn every_placeholder_is_filled() {
        let vars = Vars {
            name: "n",
            crate_name: "n",
            id: "com.example.n",
            display_name: "N",
            type_name: "N",
            template: "minimal",
            sdk_dependency: "otai-plugin-sdk = { path = \"/sdk\" }",
        };
        for t in Template::value_variants().iter().copied() {
            let texts = [t.cargo_toml(), t.lib_rs(), README];
            for text in texts
                .into_iter()
                .chain(t.fixtures().iter().map(|(_, f)| *f))
            {
                let filled = vars.fill(text);
                assert!(
                    !filled.contains("{{"),
                    "unfilled placeholder in {t:?}: {filled}"
                );
            }
        }
    }
}

//! `cargo otai-plugin dev`: the plugin in a local help desk, rebuilt and swapped in on
//! every save.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use otai_plugin_desk::web::{PanelHost, PendingUpgrade, WebState};
use otai_plugin_desk::{Desk, DeskError, DeskOptions, FLAMEGRAPH_DIR, FlameGraphs};
use otai_plugin_host::http::HttpTransport;

use crate::CommonOptions;
use crate::PackageOptions;
use crate::cargo::CompilerErrors;
use crate::commands::build::{self, Output};
use crate::fixture;
use crate::flamegraph;
use crate::harness;
use crate::mock::HttpMock;
use crate::term::{CYAN, Shell};

/// `dev` builds as `build` does, and keeps the compiler's errors to show them.
const KEEP_ERRORS: Output<'static> = Output {
    max_size: None,
    format: crate::message_format::MessageFormat::Human,
    keep_errors: true,
    sign: None,
    rotations: &[],
};

/// Build the plugin, install it into a local help desk and serve the desk's web UI:
/// the admin's pages (config form, permissions, delivery log) and the agent's ticket
/// view with the plugin's panel. Rebuilds and swaps the plugin in on every save; a
/// failed build is shown in the UI while the last good version keeps running.
#[derive(Debug, Args)]
pub struct DevCommand {
    /// The port to serve on, on 127.0.0.1 [default: a free one].
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Send the plugin's allowed requests for real; by default they are answered by
    /// the `[[http]]` mocks of `tests/fixtures/*.toml`.
    #[arg(long)]
    pub allow_network: bool,
    /// With `--allow-network`, let requests reach internal addresses too: loopback,
    /// private networks, link-local, … (for a server on this machine or network).
    /// Without it, a host name that resolves only to such addresses is refused with
    /// `address_not_allowed`, as on the help desk; an IP address written in the URL (and
    /// in `allowed_hosts`) is reached either way.
    #[arg(long, requires = "allow_network")]
    pub allow_private_network: bool,
    /// Answer requests with the `[[http]]` mocks of this fixture only (its file name
    /// without `.toml`) [default: those of every fixture, in file order, the first
    /// matching rule answering].
    #[arg(long, value_name = "FIXTURE", conflicts_with = "allow_network")]
    pub mocks: Option<String>,
    /// Show the panel URLs of HOST from URL instead, e.g.
    /// `panel.example.com=http://127.0.0.1:8080` for a panel under development.
    #[arg(long = "panel-host", value_name = "HOST=URL")]
    pub panel_hosts: Vec<String>,
    /// The desk's data directory [default: `otai-desk` in the package's target directory].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Build and serve once, without watching the sources.
    #[arg(long)]
    pub no_watch: bool,
    /// Profile every delivery and link its flame graph from the plugin page's delivery
    /// log; the SVG and the Firefox Profiler JSON are written in the data directory, in
    /// `flamegraphs/PLUGIN/SEQ.svg`, the last 20 of each plugin kept. The plugin's code
    /// runs hundreds of times slower while it is recorded; its fuel is the same.
    #[arg(long)]
    pub flamegraph: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub package: PackageOptions,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}

impl DevCommand {
    /// Runs the command until it is interrupted.
    ///
    /// # Errors
    /// The first build fails, the desk cannot be opened, the port is taken.
    pub fn exec(self) -> Result<()> {
        let shell = self.common.shell();
        let panel_hosts = self
            .panel_hosts
            .iter()
            .map(|pair| parse_panel_host(pair))
            .collect::<Result<Vec<_>>>()?;
        let built = build::build(&shell, &self.package, KEEP_ERRORS)?;
        let [plugin] = built.as_slice() else {
            bail!(
                "`dev` serves one plugin, and this selects {}; choose one with `-p NAME`",
                built.len()
            );
        };
        let root = plugin.package.root().as_std_path().to_owned();
        let data_dir = match &self.data_dir {
            Some(dir) => dir.clone(),
            None => crate::cargo::load_metadata(&self.package)?
                .target_directory
                .join("otai-desk")
                .into_std_path_buf(),
        };
        let http: Arc<dyn HttpTransport> = if self.allow_network {
            Arc::new(harness::real_network(&shell, self.allow_private_network))
        } else {
            Arc::new(harness::transport(
                &fixture_mocks(&root, self.mocks.as_deref())?,
                "no `[[http]]` mock of tests/fixtures/*.toml answers it; add one, or run `dev --allow-network`",
                None,
            ))
        };
        let desk = Desk::open_with(
            &data_dir,
            DeskOptions {
                http,
                // The delivery log gives each delivery's cost beside its time, as `run`
                // and `test` do.
                count_fuel: true,
                flamegraphs: self.flamegraph.then(|| {
                    FlameGraphs::new(|profile, title| {
                        flamegraph::draw(profile, title).map_err(|e| format!("{e:#}"))
                    })
                }),
                ..DeskOptions::default()
            },
        )
        .with_context(|| format!("cannot open the desk in `{}`", data_dir.display()))?;
        let state = WebState::new(Arc::new(desk), panel_hosts);
        let wasm = std::fs::read(&plugin.wasm)
            .with_context(|| format!("failed to read `{}`", plugin.wasm))?;
        swap_in(&shell, &state, &wasm)?;

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("failed to start the web server's runtime")?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", self.port)))
            .with_context(|| format!("cannot listen on 127.0.0.1:{}", self.port))?;
        let address = listener
            .local_addr()
            .context("the listener has no address")?;
        // A desk command kept out of the data directory names this server and its URL.
        state
            .desk
            .set_holder("cargo otai-plugin dev", Some(&format!("http://{address}")))?;
        // On stdout, for tools and tests that start `dev` and wait for it.
        println!("listening on http://{address}");
        shell.status_styled(
            "Serving",
            CYAN,
            format!("http://{address} (plugin data in `{}`)", data_dir.display()),
        );
        if self.flamegraph {
            shell.status(
                "Profiling",
                format_args!(
                    "each delivery: its flame graph in `{}`, linked from the plugin's page \
                     (the last {} of each plugin; profiling slows the plugin's code)",
                    data_dir.join(FLAMEGRAPH_DIR).display(),
                    FlameGraphs::DEFAULT_KEEP
                ),
            );
        }

        if !self.no_watch {
            let watch = Watch {
                shell,
                package: self.package.clone(),
                root,
                wasm: plugin.wasm.clone().into_std_path_buf(),
                state: state.clone(),
            };
            std::thread::Builder::new()
                .name("otai-dev-watch".into())
                .spawn(move || watch.run())
                .context("failed to start watching the sources")?;
        }
        runtime
            .block_on(otai_plugin_desk::web::serve(listener, state))
            .context("the web server stopped")
    }
}

fn parse_panel_host(pair: &str) -> Result<PanelHost> {
    let (host, url) = pair.split_once('=').with_context(|| {
        format!(
            "`--panel-host {pair}`: expected HOST=URL, e.g. panel.example.com=http://127.0.0.1:8080"
        )
    })?;
    let base = url::Url::parse(url)
        .with_context(|| format!("`--panel-host {pair}`: `{url}` is not a URL"))?;
    if !matches!(base.scheme(), "http" | "https") {
        bail!("`--panel-host {pair}`: `{url}` is not an http(s) URL");
    }
    Ok(PanelHost {
        host: host.trim().to_ascii_lowercase(),
        base,
    })
}

/// The `[[http]]` mocks of `only` (a fixture's name), or of every fixture in file order.
fn fixture_mocks(root: &Path, only: Option<&str>) -> Result<Vec<HttpMock>> {
    let mut mocks = Vec::new();
    let mut names = Vec::new();
    for path in fixture::discover(&root.join("tests/fixtures"))? {
        let loaded = fixture::load(&path)?;
        if only.is_none_or(|name| name == loaded.name) {
            mocks.extend(loaded.fixture.http);
        }
        names.push(loaded.name);
    }
    if let Some(name) = only
        && !names.iter().any(|n| n == name)
    {
        bail!(
            "`--mocks {name}`: there is no tests/fixtures/{name}.toml; the fixtures are {}",
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        );
    }
    Ok(mocks)
}

/// Installs the module, or upgrades to it; an upgrade that asks for more permissions
/// waits for approval on the plugin's page. The pages stop showing the last build's
/// failure before the terminal says what happened, so a page reloaded on reading that
/// line is already the new one.
fn swap_in(shell: &Shell, state: &WebState, wasm: &[u8]) -> Result<()> {
    // The host compiles the module here (the install or upgrade below finds it in its
    // cache): after cargo's build, the longest part of a swap.
    let compiling = std::time::Instant::now();
    let review = state.desk.review(wasm)?;
    let compiled = compiling.elapsed();
    let id = review.manifest.id.clone();
    if review.installed_version.is_none() {
        let info = state.desk.install(wasm)?;
        state.set_build_error(None);
        shell.status("Installed", format!("{id} {}", info.manifest.version));
        if let Some(disabled) = info.disabled {
            shell.warn(format!(
                "`{id}` is disabled: {}; configure it on its page",
                disabled.detail
            ));
        }
        return Ok(());
    }
    match state.desk.upgrade(wasm, false) {
        Ok(up) => {
            state.set_pending(&id, None);
            state.set_build_error(None);
            shell.status(
                "Swapped",
                format!(
                    "{id} {} -> {} (module compiled in {:.2}s)",
                    up.from,
                    up.to,
                    compiled.as_secs_f64()
                ),
            );
            Ok(())
        }
        Err(DeskError::NeedsApproval { diff, .. }) => {
            state.set_build_error(None);
            shell.warn(format!(
                "the new build of `{id}` asks for more permissions; approve them on its page:\n{diff}"
            ));
            state.set_pending(
                &id,
                Some(PendingUpgrade {
                    wasm: wasm.to_vec(),
                    version: review.manifest.version,
                    diff: *diff,
                }),
            );
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether `event` changes what the plugin is built from: anything under `src/`, or
/// the package's `Cargo.toml` or `build.rs`. The rest of the package's folder is not:
/// the build itself writes `Cargo.lock` and `target/` there, and would rebuild forever.
fn is_source_change(root: &Path, event: &notify::Event) -> bool {
    if matches!(event.kind, notify::EventKind::Access(_)) {
        return false;
    }
    let src = root.join("src");
    event.paths.iter().any(|path| {
        path.starts_with(&src)
            || path.parent() == Some(root)
                && path
                    .file_name()
                    .is_some_and(|name| name == "Cargo.toml" || name == "build.rs")
    })
}

/// Rebuilds on every change of the package's sources.
struct Watch {
    shell: Shell,
    package: PackageOptions,
    root: PathBuf,
    wasm: PathBuf,
    state: Arc<WebState>,
}

impl Watch {
    fn run(self) {
        let (tx, rx) = mpsc::channel();
        let root = self.root.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if event.is_ok_and(|e| is_source_change(&root, &e)) {
                let _ = tx.send(());
            }
        });
        let mut watcher = match watcher {
            Ok(w) => w,
            Err(e) => {
                self.shell.warn(format!(
                    "cannot watch the sources, so no rebuild on save: {e}"
                ));
                return;
            }
        };
        use notify::RecursiveMode::{NonRecursive, Recursive};
        use notify::Watcher as _;
        // The package's folder, not `Cargo.toml` itself: an editor that saves by writing
        // a new file and renaming it over the old one (vim, many IDEs, `sed -i`) replaces
        // the file, and a watch on the old one would see no later save.
        for (path, mode) in [
            (self.root.join("src"), Recursive),
            (self.root.clone(), NonRecursive),
        ] {
            if let Err(e) = watcher.watch(&path, mode) {
                self.shell
                    .warn(format!("cannot watch `{}`: {e}", path.display()));
            }
        }
        while rx.recv().is_ok() {
            // An editor's save is several events: wait until they stop for a moment.
            while rx.recv_timeout(Duration::from_millis(50)).is_ok() {}
            self.rebuild();
        }
    }

    fn rebuild(&self) {
        self.shell
            .status_styled("Rebuilding", CYAN, "after a change");
        let built = build::build(&self.shell, &self.package, KEEP_ERRORS).and_then(|_| {
            std::fs::read(&self.wasm)
                .with_context(|| format!("failed to read `{}`", self.wasm.display()))
        });
        if let Err(e) = built.and_then(|wasm| swap_in(&self.shell, &self.state, &wasm)) {
            // The terminal has the compiler's messages already; the pages get its
            // errors, or cargo's own complaint (a bad Cargo.toml), which is in the
            // terminal only. The pages get it before the terminal says the build
            // failed: someone (or a test) who reloads a page on reading that line
            // sees the error, not the page of before.
            let (message, warning) = if let Some(errors) = e.downcast_ref::<CompilerErrors>() {
                (
                    errors.to_string(),
                    "the build failed; the last good version keeps running".to_owned(),
                )
            } else {
                let message = match e.downcast_ref::<crate::Exit>() {
                    Some(crate::Exit(code)) => format!(
                        "cargo build failed (exit status {code}); its messages are in the terminal that runs `cargo otai-plugin dev`"
                    ),
                    None => format!("{e:#}"),
                };
                let warning =
                    format!("the build failed; the last good version keeps running: {message}");
                (message, warning)
            };
            self.state.set_build_error(Some(message));
            self.shell.warn(warning);
        }
    }
}

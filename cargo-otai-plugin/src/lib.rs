//! `cargo otai-plugin`: scaffold, build, test, run and check Open Help Desk plugins.
//!
//! The binary `cargo-otai-plugin` parses the command line into [`Cli`] and calls
//! [`Cli::exec`]; everything else lives in this library so that it can be tested and
//! reused. Cargo runs an installed subcommand as `cargo-otai-plugin otai-plugin <args>`;
//! [`Cli`] accepts that form and the direct `cargo-otai-plugin <args>` alike.
//!
//! ```
//! use clap::Parser;
//! use cargo_otai_plugin::{Cli, Exit};
//!
//! // What cargo passes for `cargo otai-plugin check plugin.wasm`, and a direct call:
//! let via_cargo = Cli::try_parse_from(["cargo-otai-plugin", "otai-plugin", "check", "plugin.wasm"])?;
//! let direct = Cli::try_parse_from(["cargo-otai-plugin", "check", "plugin.wasm"])?;
//! assert_eq!(via_cargo.command().name(), "check");
//! assert_eq!(direct.command().name(), "check");
//!
//! // `check` on a module a host loads: it prints the report and succeeds.
//! let dir = tempfile::tempdir()?;
//! let good = dir.path().join("hello.wasm");
//! std::fs::write(&good, wat::parse_str(r#"(module
//!   (memory (export "memory") 1)
//!   (func (export "ohd_alloc") (param i32) (result i32) (i32.const 1024))
//!   (func (export "ohd_free") (param i32 i32))
//!   (func (export "on_event") (param i32 i32))
//!   (@custom "ohd_manifest" "{\"id\":\"com.example.hello\",\"name\":\"Hello\",\"version\":\"1.0.0\",\"description\":\"Does nothing.\",\"events\":[\"ticket.created\"]}")
//! )"#)?)?;
//! let check = |wasm: &std::path::Path| {
//!     let args: [&std::ffi::OsStr; 3] = ["cargo-otai-plugin".as_ref(), "check".as_ref(), wasm.as_ref()];
//!     Cli::try_parse_from(args).map(Cli::exec)
//! };
//! check(&good)??;
//!
//! // The same module without its manifest: a host refuses it, so `check` prints why
//! // and exits with status 1.
//! let bad = dir.path().join("no-manifest.wasm");
//! std::fs::write(&bad, wat::parse_str(r#"(module
//!   (memory (export "memory") 1)
//!   (func (export "ohd_alloc") (param i32) (result i32) (i32.const 1024))
//!   (func (export "ohd_free") (param i32 i32))
//!   (func (export "on_event") (param i32 i32))
//! )"#)?)?;
//! let error = check(&bad)?.unwrap_err();
//! assert_eq!(error.downcast_ref::<Exit>(), Some(&Exit(1)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

use std::fmt;

use clap::{Args, Parser, Subcommand};

// The commands are the library's API (the binary and `Cli` name them); the modules
// below are their support, private to the crate.
pub mod commands;
pub mod message_format;
pub mod signing;
pub mod term;

mod cargo;
mod conformance;
mod crosscheck;
mod event;
mod expect;
mod failure;
mod fixture;
mod flamegraph;
mod harness;
mod mock;
mod path_remap;
mod payload;
mod postprocess;
mod results;
mod values;
mod wasm_opt;

pub use cargo::PackageOptions;

use commands::{
    BuildCommand, CheckCommand, ConformanceCommand, DeskCommand, DevCommand, KeyCommand,
    NewCommand, PublishCommand, ReplayCommand, RunCommand, SampleCommand, SignCommand, TestCommand,
};
use term::{Color, Shell, Verbosity};

/// The program's name, in `--version` and usage lines.
const PROGRAM: &str = "cargo-otai-plugin";

/// The command line.
#[derive(Debug, Parser)]
#[command(
    bin_name = "cargo",
    version,
    propagate_version = true,
    arg_required_else_help = true,
    about = "Scaffold, build, test, run and check Open Help Desk plugins"
)]
pub enum Cli {
    /// Open Help Desk plugins: scaffold, build, test, run and check.
    #[command(subcommand, hide = true, name = "otai-plugin")]
    OtaiPlugin(Command),
    /// The same commands, for `cargo-otai-plugin <command>` without cargo.
    #[command(flatten)]
    Command(Command),
}

impl Cli {
    /// Parses the process's arguments (exiting with clap's message on a bad one). Usage
    /// lines name the program as the author ran it: `cargo otai-plugin` when cargo ran
    /// us, `cargo-otai-plugin` otherwise, never a bare `cargo`, whose `build` and `test`
    /// are other commands.
    pub fn parse_env() -> Cli {
        let via_cargo = std::env::args_os()
            .nth(1)
            .is_some_and(|arg| arg == "otai-plugin");
        let matches = Cli::clap_command(via_cargo).get_matches();
        <Cli as clap::FromArgMatches>::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
    }

    /// The clap command as [`Cli::parse_env`] runs it: usage lines name the program as
    /// it was run, and `--version` prints `cargo-otai-plugin <version>` whichever
    /// subcommand it is given to, as cargo's own subcommands print cargo's version.
    fn clap_command(via_cargo: bool) -> clap::Command {
        fn program_name(command: &mut clap::Command) {
            for sub in command.get_subcommands_mut() {
                *sub = std::mem::take(sub).display_name(PROGRAM);
                program_name(sub);
            }
        }
        let mut command = <Cli as clap::CommandFactory>::command();
        if !via_cargo {
            command = command.bin_name(PROGRAM);
        }
        program_name(&mut command);
        command
    }

    /// The command to run, however it was spelled.
    pub fn command(&self) -> &Command {
        match self {
            Cli::OtaiPlugin(c) | Cli::Command(c) => c,
        }
    }

    /// Runs the command.
    ///
    /// # Errors
    /// Whatever went wrong, with context; an [`Exit`] when only the exit status is left
    /// to report (cargo or a test already printed why).
    pub fn exec(self) -> anyhow::Result<()> {
        match self {
            Cli::OtaiPlugin(c) | Cli::Command(c) => c.exec(),
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a plugin crate from a template.
    New(NewCommand),
    /// Build plugins to WebAssembly, embed their manifest, run wasm-opt on optimized
    /// builds and check them against the ABI.
    Build(BuildCommand),
    /// Build, then run the declarative fixtures and the crate's own tests.
    Test(TestCommand),
    /// Deliver one event (or render the panel) with the reference host and show the report.
    Run(RunCommand),
    /// Run a recorded delivery (a fixture, or one from the desk's log) against the
    /// current build and show what changed.
    Replay(ReplayCommand),
    /// Print the JSON payload a plugin receives for an event, with a fixture's changes.
    Sample(SampleCommand),
    /// Inspect any `.wasm` and report every ABI problem.
    Check(CheckCommand),
    /// Create the ed25519 key that signs plugins.
    Key(KeyCommand),
    /// Sign a built plugin with an ed25519 key.
    Sign(SignCommand),
    /// Push a signed plugin to an OCI registry.
    Publish(PublishCommand),
    /// Run the ABI v1 conformance kit against the reference host or another host's driver.
    Conformance(ConformanceCommand),
    /// A local help desk: install, configure, upgrade, roll back and watch plugins.
    Desk(DeskCommand),
    /// Serve the plugin in a local help desk's web UI, rebuilt on every save.
    Dev(DevCommand),
}

impl Command {
    /// The subcommand's name.
    pub fn name(&self) -> &'static str {
        match self {
            Command::New(_) => "new",
            Command::Build(_) => "build",
            Command::Test(_) => "test",
            Command::Run(_) => "run",
            Command::Replay(_) => "replay",
            Command::Sample(_) => "sample",
            Command::Check(_) => "check",
            Command::Key(_) => "key",
            Command::Sign(_) => "sign",
            Command::Publish(_) => "publish",
            Command::Conformance(_) => "conformance",
            Command::Desk(_) => "desk",
            Command::Dev(_) => "dev",
        }
    }

    /// The options every command shares.
    pub fn common(&self) -> &CommonOptions {
        match self {
            Command::New(c) => &c.common,
            Command::Build(c) => &c.common,
            Command::Test(c) => &c.common,
            Command::Run(c) => &c.common,
            Command::Replay(c) => &c.common,
            Command::Sample(c) => &c.common,
            Command::Check(c) => &c.common,
            Command::Key(c) => &c.common,
            Command::Sign(c) => &c.common,
            Command::Publish(c) => &c.common,
            Command::Conformance(c) => &c.common,
            Command::Desk(c) => &c.common,
            Command::Dev(c) => &c.common,
        }
    }

    /// Runs the command.
    ///
    /// # Errors
    /// See [`Cli::exec`].
    pub fn exec(self) -> anyhow::Result<()> {
        match self {
            Command::New(c) => c.exec(),
            Command::Build(c) => c.exec(),
            Command::Test(c) => c.exec(),
            Command::Run(c) => c.exec(),
            Command::Replay(c) => c.exec(),
            Command::Sample(c) => c.exec(),
            Command::Check(c) => c.exec(),
            Command::Key(c) => c.exec(),
            Command::Sign(c) => c.exec(),
            Command::Publish(c) => c.exec(),
            Command::Conformance(c) => c.exec(),
            Command::Desk(c) => c.exec(),
            Command::Dev(c) => c.exec(),
        }
    }
}

/// Options every command accepts.
#[derive(Debug, Clone, Default, Args)]
pub struct CommonOptions {
    /// Print only warnings and errors.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print the commands run.
    #[arg(short, long)]
    pub verbose: bool,
    /// Coloring: auto, always, never (`auto` honours `NO_COLOR` and whether stderr is a terminal).
    #[arg(long, value_name = "WHEN", value_enum, default_value_t)]
    pub color: Color,
}

impl CommonOptions {
    /// The shell these options ask for.
    pub fn shell(&self) -> Shell {
        let verbosity = if self.quiet {
            Verbosity::Quiet
        } else if self.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        Shell::new(self.color, verbosity)
    }
}

/// An error that carries only an exit status: whoever failed already printed why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(pub i32);

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exited with status {}", self.0)
    }
}

impl std::error::Error for Exit {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_the_program_whatever_the_subcommand() {
        let expected = format!("{PROGRAM} {}\n", env!("CARGO_PKG_VERSION"));
        for (via_cargo, args) in [
            (false, &["cargo-otai-plugin", "--version"][..]),
            (false, &["cargo-otai-plugin", "build", "--version"][..]),
            (true, &["cargo-otai-plugin", "otai-plugin", "--version"][..]),
            (
                true,
                &["cargo-otai-plugin", "otai-plugin", "test", "--version"][..],
            ),
        ] {
            let err = Cli::clap_command(via_cargo)
                .try_get_matches_from(args)
                .unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::DisplayVersion,
                "{args:?}"
            );
            assert_eq!(err.to_string(), expected, "{args:?}");
        }
    }
}

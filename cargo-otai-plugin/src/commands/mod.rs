//! One module per subcommand; each is a `clap::Args` struct with `exec(self)`.

pub mod build;
pub mod check;
pub mod new;
pub mod run;
pub mod test;

pub use build::BuildCommand;
pub use check::CheckCommand;
pub use new::NewCommand;
pub use run::RunCommand;
pub use test::TestCommand;

//! One module per subcommand; each is a `clap::Args` struct with `exec(self)`.

pub(crate) mod build;
mod check;
mod conformance;
pub(crate) mod desk;
mod dev;
mod key;
mod new;
mod publish;
mod replay;
mod run;
mod sample;
pub(crate) mod sign;
pub(crate) mod test;

pub use build::BuildCommand;
pub use check::{CheckCommand, CheckFormat};
pub use conformance::{ConformanceCommand, ConformanceFormat};
pub use desk::{DeskAction, DeskCommand, DeskFormat};
pub use dev::DevCommand;
pub use key::{KeyAction, KeyCommand};
pub use new::{NewCommand, Template};
pub use publish::{PublishCommand, RegistryArgs};
pub use replay::ReplayCommand;
pub use run::{RunCommand, RunFormat};
pub use sample::SampleCommand;
pub use sign::SignCommand;
pub use test::{TestCommand, TestFormat};

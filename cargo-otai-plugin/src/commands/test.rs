//! WIP
use clap::Args;
use crate::CommonOptions;
/// WIP
#[derive(Debug, Args)]
pub struct TestCommand {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}
impl TestCommand {
    /// WIP
    pub fn exec(self) -> anyhow::Result<()> { anyhow::bail!("WIP") }
}

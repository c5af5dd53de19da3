//! WIP
use clap::Args;
use crate::CommonOptions;
/// WIP
#[derive(Debug, Args)]
pub struct RunCommand {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}
impl RunCommand {
    /// WIP
    pub fn exec(self) -> anyhow::Result<()> { anyhow::bail!("WIP") }
}

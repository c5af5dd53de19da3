//! `Manifest::validate`: every rule of docs/ABI.md, all problems at once.
// PLACEHOLDER: the abi helper replaces this file with the full rule set.

use super::{Diagnostics, Manifest};

impl Manifest {
    /// Checks every rule of the manifest and returns all problems at once, each with
    /// its JSON path. The manifest is usable only when there are no errors.
    pub fn validate(&self) -> Diagnostics {
        Diagnostics::default()
    }
}

//! `cargo otai-plugin`: parses the command line and hands over to the library.

use std::process::ExitCode;

use cargo_otai_plugin::{Cli, Exit};

fn main() -> ExitCode {
    let cli = Cli::parse_env();
    let shell = cli.command().common().shell();
    match cli.exec() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(Exit(code)) = err.downcast_ref::<Exit>() {
                // Cargo's own statuses fit in a byte; anything else is plain failure.
                return ExitCode::from(u8::try_from(*code).unwrap_or(1));
            }
            shell.error(&err);
            ExitCode::FAILURE
        }
    }
}

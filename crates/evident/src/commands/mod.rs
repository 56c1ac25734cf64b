//! One module per subcommand.

mod checks;
mod controls;
mod init;
mod rules;
mod scan;

use crate::cli::{Cli, Command, RulesCommand, ScanCommand};
use crate::{Failure, Outcome};

pub fn run(cli: Cli) -> Result<Outcome, Failure> {
    match cli.command {
        Command::Scan(ScanCommand::Secrets(args)) => {
            scan::secrets(cli.evident_config.as_deref(), &args)
        }
        Command::Init(args) => init::run(&args),
        Command::Checks(args) => checks::run(&args),
        Command::Controls(args) => controls::run(&args),
        Command::Rules(RulesCommand::Check { config }) => rules::check(config.as_deref()),
    }
}

/// Writes `text` to standard output, treating a closed pipe as success.
pub fn print(text: &str) -> Result<(), Failure> {
    use std::io::Write as _;
    let mut out = anstream::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

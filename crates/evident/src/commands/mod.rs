//! One module per subcommand.

mod checks;
mod context;
mod controls;
mod deps;
mod exception;
mod export;
mod gate;
mod gate_render;
mod iac;
mod import;
mod init;
mod keys;
mod ledger;
mod pipeline;
pub mod policy;
mod push;
mod record;
mod rules;
mod scan;
mod serve;
mod token;
mod verified;

use crate::cli::{Cli, Command, RulesCommand, ScanCommand};
use crate::{Failure, Outcome};

pub fn run(cli: Cli) -> Result<Outcome, Failure> {
    context::set_database_url(cli.database_url.clone());
    context::set_blob_url(cli.blob_url.clone());
    match cli.command {
        Command::Scan(ScanCommand::Secrets(args)) => {
            scan::secrets(cli.evident_config.as_deref(), cli.store.as_deref(), &args)
        }
        Command::Scan(ScanCommand::Settings(args)) => {
            pipeline::settings(cli.store.as_deref(), cli.evident_config.as_deref(), &args)
        }
        Command::Drift(command) => pipeline::drift(
            cli.store.as_deref(),
            cli.evident_config.as_deref(),
            &command,
        ),
        Command::Scan(ScanCommand::Pipeline(args)) => {
            pipeline::scan(cli.store.as_deref(), cli.evident_config.as_deref(), &args)
        }
        Command::Scan(ScanCommand::Iac(args)) => {
            iac::scan(cli.store.as_deref(), cli.evident_config.as_deref(), &args)
        }
        Command::Scan(ScanCommand::Deps(args)) => {
            deps::scan_deps(cli.store.as_deref(), cli.evident_config.as_deref(), &args)
        }
        Command::Init(args) => init::run(&args),
        Command::Checks(args) => checks::run(&args),
        Command::Controls(args) => controls::run(&args),
        Command::Rules(RulesCommand::Check { config }) => rules::check(config.as_deref()),
        Command::Keys(command) => keys::run(cli.store.as_deref(), &command),
        Command::Record(args) => {
            record::record(cli.store.as_deref(), cli.evident_config.as_deref(), &args)
        }
        Command::Evidence(command) => record::evidence(cli.store.as_deref(), &command),
        Command::Ledger(command) => ledger::run(
            cli.store.as_deref(),
            cli.evident_config.as_deref(),
            &command,
        ),
        Command::Export(args) => {
            export::export(cli.store.as_deref(), cli.evident_config.as_deref(), &args)
        }
        Command::VerifyPackage(args) => export::verify_package(&args),
        Command::Policy(command) => policy::run(&command),
        Command::Sbom(args) => {
            deps::sbom_command(cli.store.as_deref(), cli.evident_config.as_deref(), &args)
        }
        Command::Db(command) => deps::db_command(
            cli.store.as_deref(),
            cli.evident_config.as_deref(),
            &command,
        ),
        Command::Gate(args) => {
            gate::run(cli.store.as_deref(), cli.evident_config.as_deref(), &args)
        }
        Command::Exception(command) => exception::run(
            cli.store.as_deref(),
            cli.evident_config.as_deref(),
            &command,
        ),
        Command::Import(args) => {
            import::run(cli.store.as_deref(), cli.evident_config.as_deref(), &args)
        }
        Command::Serve(args) => {
            serve::run(cli.store.as_deref(), cli.evident_config.as_deref(), &args)
        }
        Command::Token(command) => token::run(
            cli.store.as_deref(),
            cli.evident_config.as_deref(),
            &command,
        ),
        Command::Push(args) => push::run(&args),
    }
}

/// Writes `text` to standard output, treating a closed pipe as success.
pub fn print(text: &str) -> Result<(), Failure> {
    use std::io::Write as _;
    if text.as_bytes().contains(&0x1b) {
        // Colour escapes: anstream strips them when stdout is not a terminal or NO_COLOR is set.
        let mut out = anstream::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
    } else {
        // Plain text (JSON, SARIF, JUnit, uncoloured human output) goes out as is, without
        // the byte-by-byte escape filter.
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
    }
    Ok(())
}

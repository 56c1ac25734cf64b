//! `evident`: the command-line entry point.

/// Returns early with an error that ends the run with exit code 2.
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err(anyhow::anyhow!($($arg)*).into())
    };
}

mod cli;
mod commands;
mod render;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

/// The allocator: parsing, checking and signing log entries makes and drops many small buffers
/// per entry, which mimalloc serves markedly faster than the system allocator (see
/// `bench/README.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How a command ended, mapped to the exit-code contract.
pub enum Outcome {
    /// Exit 0.
    Clean,
    /// Exit 1: findings at or above the failing threshold.
    Findings,
}

/// An error that ends the run with exit code 2.
#[derive(Debug)]
pub struct Failure(pub anyhow::Error);

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure(e)
    }
}

/// The errors `?` turns into a [`Failure`]. A blanket `impl<E: Into<anyhow::Error>>` would be
/// simpler, but a dependency's impl over a projected type makes it incoherent.
macro_rules! failure_from {
    ($($t:ty),* $(,)?) => {
        $(impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Failure(e.into())
            }
        })*
    };
}

failure_from!(
    std::io::Error,
    std::string::FromUtf8Error,
    serde_json::Error,
    evident_core::ConfigError,
    evident_gate::GateError,
    evident_gate::conftest::InputError,
    evident_gate::rego::RegoError,
    evident_import::ImportError,
    evident_secrets::RuleError,
    evident_secrets::ScannerError,
    evident_server::tokens::TokenError,
    evident_store::StoreError,
    evident_store::blob::BlobError,
    evident_store::draft::DraftError,
    evident_store::keys::KeyError,
);

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match commands::run(cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(Failure(e)) => {
            // A closed pipe (`evident … | head`) is not an error.
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let mut stderr = anstream::stderr();
            let red = anstyle::Style::new()
                .bold()
                .fg_color(Some(anstyle::AnsiColor::Red.into()));
            let _ = writeln!(stderr, "{red}error{red:#}: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

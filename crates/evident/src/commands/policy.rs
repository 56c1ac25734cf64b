//! `evident policy check|test`: Rego policies, Conftest-compatible.

use clap::Subcommand;

use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {}

pub fn run(command: &PolicyCommand) -> Result<Outcome, Failure> {
    match *command {}
}

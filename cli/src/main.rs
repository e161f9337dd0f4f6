//! `repro`: sample, inspect and compare reproducible parameter streams.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod sample;

/// Reproducible parameter initialisation, from the command line.
#[derive(Debug, Parser)]
#[command(name = "repro", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the initial values of one parameter, exactly as a model would get them.
    Sample(sample::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sample(args) => sample::run(&args, &mut std::io::stdout().lock()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

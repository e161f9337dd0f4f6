//! `repro`: sample, inspect and compare reproducible parameter streams.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod diff;
mod explain;
mod input;
mod kernel;
mod lock;
mod pieces;
mod report;
mod sample;
#[cfg(unix)]
mod signals;

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
    /// Measure generation speed against the machine's fill rate and candle, and whole-model init times.
    Bench(bench::Args),
    /// Compare two lockfiles or checkpoints: which parameters' initial values changed, and why (exit 0 same, 1 different).
    Diff(diff::Args),
    /// Write the init lockfile of a checkpoint.
    Lock(lock::Args),
    /// Explain how one parameter of a checkpoint was made, and check it against the spec (exit 0 match, 1 differs).
    Explain(explain::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    #[cfg(unix)]
    signals::install();
    let result = match cli.command {
        Command::Sample(args) => sample::run(&args, &mut std::io::stdout().lock()),
        Command::Bench(args) => bench::run(&args, &mut std::io::stdout().lock()),
        // These exit 1 for "differs", so they report their own errors and exit codes.
        Command::Diff(args) => return diff::main(&args),
        Command::Lock(args) => return lock::main(&args),
        Command::Explain(args) => return explain::main(&args),
    };
    report::exit(result.map(|()| true))
}

//! `repro lock`: write a lockfile from a checkpoint; and how every subcommand
//! reads its inputs (lockfile or checkpoint) and reports errors.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use reproducible::manifest::{Manifest, ParamRecord, StoredCheckpoint};
use reproducible::Error;
use serde_json::{json, Value};

/// Arguments of `repro lock`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A safetensors checkpoint with reproducible metadata (or a lockfile, rewritten canonically).
    input: PathBuf,
    /// Write the lockfile here (atomically) instead of to standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Print the manifest as JSON instead of a lockfile.
    #[arg(long)]
    json: bool,
}

/// Runs `repro lock`: 0 on success, 2 on error.
pub fn main(args: &Args) -> ExitCode {
    exit(run(args, &mut std::io::stdout().lock()).map(|()| true))
}

/// Writes the lockfile (or JSON) of `args.input`.
pub fn run(args: &Args, out: &mut impl Write) -> Result<(), String> {
    let manifest = load(&args.input)?;
    if args.json {
        let text = serde_json::to_string_pretty(&manifest_json(&manifest)).map_err(|e| e.to_string())?;
        return writeln!(out, "{text}").map_err(|e| format!("writing output: {e}"));
    }
    match &args.output {
        Some(file) => reproducible::lock::write(file, &manifest).map_err(message),
        None => out
            .write_all(reproducible::lock::render(&manifest).as_bytes())
            .map_err(|e| format!("writing output: {e}")),
    }
}

/// The exit code of a command's result: `Ok(true)` same or matching (0),
/// `Ok(false)` differs (1), `Err` error (2, message on standard error).
pub fn exit(result: Result<bool, String>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// An error as the user reads it: the file first, and for a lockfile its line
/// as `file:line:`, the form editors and terminals turn into a link.
pub fn message(e: Error) -> String {
    match e {
        Error::Checkpoint { file, reason } => format!("{file}: {reason}"),
        Error::Lockfile {
            file,
            line: Some(line),
            reason,
        } => format!("{file}:{line}: {reason}"),
        Error::Lockfile {
            file,
            line: None,
            reason,
        } => format!("{file}: {reason}"),
        other => other.to_string(),
    }
}

/// Whether `file` starts like a safetensors file: an 8-byte little-endian
/// header length that fits the file, then `{`.
fn is_checkpoint(file: &Path) -> Result<bool, String> {
    let f = std::fs::File::open(file).map_err(|e| format!("{}: reading: {e}", file.display()))?;
    let len = f
        .metadata()
        .map_err(|e| format!("{}: reading: {e}", file.display()))?
        .len();
    let mut head = Vec::with_capacity(9);
    f.take(9)
        .read_to_end(&mut head)
        .map_err(|e| format!("{}: reading: {e}", file.display()))?;
    if head.len() < 9 {
        return Ok(false);
    }
    let n = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
    Ok(head[8] == b'{' && n <= len - 8)
}

/// Opens a checkpoint, with a readable error.
pub fn open_checkpoint(file: &Path) -> Result<StoredCheckpoint, String> {
    StoredCheckpoint::open(file).map_err(message)
}

/// The manifest of a lockfile or a checkpoint (told apart by content). Hashing
/// a checkpoint shows a progress bar when standard error is a terminal.
pub fn load(file: &Path) -> Result<Manifest, String> {
    if !is_checkpoint(file)? {
        return reproducible::lock::read(file).map_err(message);
    }
    let checkpoint = open_checkpoint(file)?;
    let bar = if std::io::stderr().is_terminal() {
        let style = ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})")
            .expect("a valid template")
            .progress_chars("=> ");
        let bar = ProgressBar::new(checkpoint.data_len()).with_style(style);
        bar.set_message(format!("hashing {}", file.display()));
        bar
    } else {
        ProgressBar::hidden()
    };
    let manifest = checkpoint.manifest(&mut |done, _| bar.set_position(done));
    bar.finish_and_clear();
    manifest.map_err(message)
}

/// A record as JSON.
pub fn record_json(r: &ParamRecord) -> Value {
    json!({
        "path": r.path,
        "alias": r.alias,
        "shape": r.shape,
        "dtype": r.dtype.as_str(),
        "init": r.scheme.to_string(),
        "version": r.version,
        "seed": r.seed,
        "trainable": r.trainable,
        "spec_version": r.spec_version,
        "blake3": r.digest.to_string(),
    })
}

/// A manifest as JSON.
pub fn manifest_json(m: &Manifest) -> Value {
    json!({
        "seed": m.seed,
        "model_version": m.model_version,
        "params": m.params().iter().map(record_json).collect::<Vec<_>>(),
    })
}

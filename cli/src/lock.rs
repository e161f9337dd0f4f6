//! `repro lock`: the lockfile of a checkpoint (or a lockfile rewritten canonically).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::input::load;
use crate::report::{exit, manifest_json, message, print};

/// Arguments of `repro lock`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A safetensors checkpoint with reproducible metadata (or a lockfile,
    /// rewritten canonically); `-` reads standard input.
    input: PathBuf,
    /// Write the lockfile here (atomically, keeping the file's permissions; a
    /// FIFO or device is written in place) instead of to standard output. It
    /// may not be the input itself.
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
    let output = args.output.as_deref().filter(|o| o.as_os_str() != "-");
    if let Some(o) = output {
        refuse_input(&args.input, o)?;
    }
    let manifest = load(&args.input)?;
    if args.json {
        let text = serde_json::to_string_pretty(&manifest_json(&manifest)).map_err(|e| e.to_string())?;
        return print(out, &(text + "\n"));
    }
    match output {
        Some(file) => reproducible::lock::write(file, &manifest).map_err(message),
        None => print(out, &reproducible::lock::render(&manifest)),
    }
}

/// An error, before anything is read or written, when `output` is `input`
/// (the same file under any name: a hard link or a symlink to it). Compared
/// by device and inode, without opening either: opening a FIFO would block.
fn refuse_input(input: &Path, output: &Path) -> Result<(), String> {
    if input.as_os_str() != "-" && same_file(input, output) {
        return Err(format!(
            "{}: is the input {}: writing the lockfile there would destroy it; choose another -o",
            output.display(),
            input.display()
        ));
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(a), Ok(b)) if a == b)
}

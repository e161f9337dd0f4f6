//! `repro lock`: the lockfile of a checkpoint (or a lockfile rewritten canonically).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::input::load;
use crate::report::{exit, manifest_json, message, print, shown};

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

/// An error, before anything is read or written, when `output` is the file
/// read (under any name: a hard link, a symlink to it, or standard input
/// redirected from it). Compared by device and inode, without opening either
/// path: opening a FIFO would block.
fn refuse_input(input: &Path, output: &Path) -> Result<(), String> {
    let stdin = input.as_os_str() == "-";
    let read = if stdin { stdin_identity() } else { identity(input) };
    if read.is_some() && read == identity(output) {
        let input = if stdin {
            "(standard input)".to_owned()
        } else {
            shown(input)
        };
        return Err(format!(
            "{}: is the input {input}: writing the lockfile there would destroy it; choose another -o",
            shown(output),
        ));
    }
    Ok(())
}

/// What tells two files apart: device and inode (`None` if `file` cannot be
/// looked up, as an output that does not exist yet).
#[cfg(unix)]
fn identity(file: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(file).ok().map(|m| (m.dev(), m.ino()))
}

/// The identity of what standard input reads.
#[cfg(unix)]
fn stdin_identity() -> Option<(u64, u64)> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let fd = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
    std::fs::File::from(fd).metadata().ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(file: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(file).ok()
}

// Without file identities, standard input cannot be told apart from a file.
#[cfg(not(unix))]
fn stdin_identity() -> Option<PathBuf> {
    None
}

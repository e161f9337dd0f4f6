//! How every command reports: exit codes (0 same or matching, 1 differs, 2
//! error), errors naming the file (and the line, for lockfiles), JSON records,
//! and text that is safe for a terminal whatever the files held.

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use reproducible::error::printable;
use reproducible::manifest::{Manifest, ParamRecord};
use reproducible::Error;
use serde_json::{json, Value};

/// The exit code of a command's result: `Ok(true)` same or matching (0),
/// `Ok(false)` differs (1), `Err` error (2, message on standard error).
pub fn exit(result: Result<bool, String>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            report(&e);
            ExitCode::from(2)
        }
    }
}

/// Writes `error: {e}` on standard error. A closed standard error is no
/// reason to panic: the exit code still tells.
pub fn report(e: &str) {
    let _ = writeln!(std::io::stderr().lock(), "error: {}", terminal_safe(e));
}

/// A note on standard error (as [`report`], errors writing it are ignored).
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{}", terminal_safe(text));
}

/// A file's name as messages show it: every control character escaped, the
/// newline included (a name is one line).
pub fn shown(file: &Path) -> String {
    printable(&file.display().to_string()).into_owned()
}

/// An error as the user reads it: the file first, and for a lockfile its line
/// as `file:line:`, the form editors and terminals turn into a link.
pub fn message(e: Error) -> String {
    match e {
        Error::Checkpoint { file, reason } => format!("{}: {reason}", printable(&file)),
        Error::Lockfile {
            file,
            line: Some(line),
            reason,
        } => format!("{}:{line}: {reason}", printable(&file)),
        Error::Lockfile {
            file,
            line: None,
            reason,
        } => format!("{}: {reason}", printable(&file)),
        other => other.to_string(),
    }
}

/// `text` with every control character but newline and tab escaped: the last
/// guard between what a file holds and the terminal.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    // Control characters are C0 and DEL (single bytes) and C1 (0xc2 0x80..0x9f).
    let suspect = |b: &u8| (*b < 0x20 && *b != b'\n' && *b != b'\t') || *b == 0x7f || *b == 0xc2;
    if !text.as_bytes().iter().any(suspect) || !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if unsafe_char(c) {
                    c.escape_default().collect()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// Writes `text` to `out` through [`terminal_safe`].
pub fn print(out: &mut impl Write, text: &str) -> Result<(), String> {
    out.write_all(terminal_safe(text).as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("writing output: {e}"))
}

/// A record as JSON.
pub fn record_json(r: &ParamRecord) -> Value {
    json!({
        "path": r.path,
        "alias": r.alias,
        "rule": r.rule,
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

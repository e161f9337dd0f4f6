//! Init lockfiles: a reviewable text record of every parameter's initial values, checked in CI.
//!
//! A lockfile is a [`Manifest`] as text: a short header (format, number of
//! parameters, seed, model version), then one `[[param]]` block per parameter,
//! sorted by path, each line one fact (path, shape, dtype, init, version,
//! trainable, spec version, BLAKE3 of the exact bits; the alias and the init
//! rule when there are). It is valid TOML, so any
//! TOML reader can load it, and a change to the model shows in code review as a
//! change to the few lines it touches.
//!
//! [`check`] is the helper for a test suite: it passes when the model agrees
//! with the lockfile and fails with the semantic diff ([`crate::diff`]) when it
//! does not. It rewrites the file only when the environment variable
//! `REPRODUCIBLE_LOCK=overwrite` asks for it (as `INSTA_UPDATE` and
//! `TRYBUILD=overwrite` do for snapshots), and never a file it cannot parse.
//! Writes go to a temporary file in the same directory that is then renamed
//! over the lockfile, so an interrupted run never leaves half a lockfile.
//!
//! ```
//! use reproducible::layers::{linear, Linear};
//! use reproducible::lock::{self, Checked, Mode};
//! use reproducible::manifest::Manifest;
//! use reproducible::Init;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let file = dir.path().join("model.lock");
//! let manifest = Manifest::init::<Linear>(&linear(4, 2), &Init::new(42))?;
//! // First run: create the lockfile (in a test suite, REPRODUCIBLE_LOCK=overwrite does this).
//! assert_eq!(lock::check_with(&file, &manifest, Mode::Overwrite)?, Checked::Created);
//! assert_eq!(lock::check_with(&file, &manifest, Mode::Check)?, Checked::Matches);
//! // A wider layer no longer matches, and the error says how.
//! let wider = Manifest::init::<Linear>(&linear(4, 3), &Init::new(42))?;
//! let err = lock::check_with(&file, &wider, Mode::Check).unwrap_err().to_string();
//! assert!(err.contains("changed: weight: shape [2, 4] -> [3, 4]"));
//! assert!(lock::read(&file)?.get("bias").unwrap().trainable);
//! # Ok::<(), reproducible::Error>(())
//! ```

use std::fmt::Write as _;
use std::path::Path;

mod parse;

pub use parse::{parse, parse_bytes};

use crate::diff::{diff, Diff};
use crate::error::{Error, Result};
use crate::manifest::Manifest;

/// The lockfile format version this crate writes and reads.
pub const FORMAT: u32 = 1;

/// The environment variable [`check`] reads: `overwrite` rewrites a lockfile
/// that differs from the model (or creates a missing one).
pub const ENV: &str = "REPRODUCIBLE_LOCK";

/// What [`check_with`] does when the model and the lockfile differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Fail with the diff (the default, and what CI runs).
    Check,
    /// Write the model's manifest over the lockfile (or create it).
    Overwrite,
}

impl Mode {
    /// The mode [`ENV`] asks for: unset or empty is [`Mode::Check`], `overwrite`
    /// is [`Mode::Overwrite`]; anything else is an error naming the variable.
    pub fn from_env() -> Result<Self> {
        Self::parse(std::env::var(ENV).ok().as_deref())
    }

    /// The mode a value of [`ENV`] asks for.
    pub fn parse(value: Option<&str>) -> Result<Self> {
        match value.map(str::trim) {
            None | Some("") | Some("check") => Ok(Mode::Check),
            Some("overwrite") => Ok(Mode::Overwrite),
            Some(other) => Err(Error::Config {
                path: ENV.to_owned(),
                layer: "environment variable".to_owned(),
                reason: format!("unknown value `{other}`; expected `overwrite` or nothing"),
            }),
        }
    }
}

/// What [`check_with`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Checked {
    /// The lockfile and the model agree.
    Matches,
    /// There was no lockfile; it was written ([`Mode::Overwrite`]).
    Created,
    /// The lockfile differed and was rewritten ([`Mode::Overwrite`]); the diff.
    Updated(Diff),
}

/// Compares `manifest` with the lockfile `file`, rewriting it only if [`ENV`]
/// says `overwrite`. Fails with the semantic diff when they differ, and on a
/// missing, unreadable or malformed lockfile (which is never rewritten).
pub fn check(file: impl AsRef<Path>, manifest: &Manifest) -> Result<Checked> {
    check_with(file, manifest, Mode::from_env()?)
}

/// [`check`], panicking with the error's readable message: for tests, where an
/// unwrapped error would print its `Debug` form.
#[track_caller]
pub fn assert_locked(file: impl AsRef<Path>, manifest: &Manifest) {
    if let Err(e) = check(file, manifest) {
        panic!("{e}");
    }
}

/// [`check`] with an explicit mode instead of the environment's.
pub fn check_with(file: impl AsRef<Path>, manifest: &Manifest, mode: Mode) -> Result<Checked> {
    let file = file.as_ref();
    let old = match std::fs::read(file) {
        Ok(bytes) => Some(parse_bytes(&bytes, &file.display().to_string())?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(lock_error(file, None, format!("reading: {e}"))),
    };
    match (old, mode) {
        (None, Mode::Check) => Err(lock_error(
            file,
            None,
            format!("does not exist; run the test with {ENV}=overwrite to create it, then commit it"),
        )),
        (None, Mode::Overwrite) => {
            write(file, manifest)?;
            Ok(Checked::Created)
        }
        (Some(old), mode) => {
            let d = diff(&old, manifest);
            if d.is_same() {
                Ok(Checked::Matches)
            } else if mode == Mode::Overwrite {
                write(file, manifest)?;
                Ok(Checked::Updated(d))
            } else {
                Err(lock_error(
                    file,
                    None,
                    format!(
                        "the model's initialisation differs from the lockfile:\n{d}\
                         If the change is intended, rerun with {ENV}=overwrite and commit the updated lockfile."
                    ),
                ))
            }
        }
    }
}

/// Reads and parses the lockfile `file`.
pub fn read(file: impl AsRef<Path>) -> Result<Manifest> {
    let file = file.as_ref();
    let bytes = std::fs::read(file).map_err(|e| lock_error(file, None, format!("reading: {e}")))?;
    parse_bytes(&bytes, &file.display().to_string())
}

/// Writes `manifest` to `file` as a lockfile, atomically (temporary file, sync, rename).
pub fn write(file: impl AsRef<Path>, manifest: &Manifest) -> Result<()> {
    let file = file.as_ref();
    let text = render(manifest);
    crate::atomic::write(file, text.as_bytes()).map_err(|e| lock_error(file, None, format!("writing: {e}")))
}

/// The lockfile text of `manifest`.
pub fn render(manifest: &Manifest) -> String {
    let mut s = String::new();
    s.push_str(
        "# reproducible init lockfile: how every parameter's initial values were made.\n\
         # Compared by reproducible::lock::check and `repro diff`; after an intended change,\n\
         # rerun the test with REPRODUCIBLE_LOCK=overwrite and review this file's diff.\n",
    );
    let _ = writeln!(s, "lockfile = {FORMAT}");
    let _ = writeln!(s, "parameters = {}", manifest.len());
    if let Some(seed) = manifest.seed {
        let _ = writeln!(s, "seed = {seed}");
    }
    let _ = writeln!(s, "model_version = {}", manifest.model_version);
    for p in manifest.params() {
        let _ = writeln!(s, "\n[[param]]");
        let _ = writeln!(s, "path = {}", quote(&p.path));
        if let Some(alias) = &p.alias {
            let _ = writeln!(s, "alias = {}", quote(alias));
        }
        if let Some(rule) = &p.rule {
            let _ = writeln!(s, "rule = {}", quote(rule));
        }
        let dims: Vec<String> = p.shape.iter().map(usize::to_string).collect();
        let _ = writeln!(s, "shape = [{}]", dims.join(", "));
        let _ = writeln!(s, "dtype = {}", quote(p.dtype.as_str()));
        let _ = writeln!(s, "init = {}", quote(&p.scheme.to_string()));
        let _ = writeln!(s, "version = {}", p.version);
        if manifest.seed != Some(p.seed) {
            let _ = writeln!(s, "seed = {}", p.seed);
        }
        let _ = writeln!(s, "trainable = {}", p.trainable);
        let _ = writeln!(s, "spec_version = {}", p.spec_version);
        let _ = writeln!(s, "blake3 = {}", quote(&p.digest.to_string()));
    }
    s
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('"');
    if !text.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
        s.push_str(text);
        s.push('"');
        return s;
    }
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            '\r' => s.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(s, "\\u{:04X}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// An error about the lockfile `file`, at a 1-based line when there is one.
fn lock_error(file: &Path, line: Option<usize>, reason: String) -> Error {
    named_error(&file.display().to_string(), line, reason)
}

fn named_error(file: &str, line: Option<usize>, reason: String) -> Error {
    Error::Lockfile {
        file: file.to_owned(),
        line,
        reason,
    }
}

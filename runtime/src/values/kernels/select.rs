//! Which path generation uses: a choice made in code ([`select`]), else the
//! environment variable `REPRODUCIBLE_KERNEL`, else detection.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use super::check;
use super::Path;
use crate::error::{Error, Result};

/// The environment variable naming a path (`scalar`, `avx2`, ..., or `auto`).
pub const ENV: &str = "REPRODUCIBLE_KERNEL";

/// `Path::ALL`'s index of the path chosen with [`select`], or `NONE`.
static CHOSEN: AtomicU8 = AtomicU8::new(NONE);
const NONE: u8 = u8::MAX;

/// Uses `path` for all generation in this process from now on, or, with
/// `None`, drops an earlier choice (back to `REPRODUCIBLE_KERNEL`, else
/// [`Path::detect`]). A path this machine does not support, or one that fails
/// its check against the reference, is an error and changes nothing.
///
/// Every path gives the same bits: choosing one changes speed only, or rules
/// out a path a user suspects.
pub fn select(path: Option<Path>) -> Result<()> {
    match path {
        None => CHOSEN.store(NONE, Ordering::Relaxed),
        Some(p) => {
            usable(p)?;
            let index = Path::ALL
                .iter()
                .position(|&q| q == p)
                .expect("every path is in Path::ALL");
            CHOSEN.store(index as u8, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// The path generation uses now: the one [`select`] chose, else the one
/// `REPRODUCIBLE_KERNEL` names (read once per process; `auto` or empty means
/// detection), else [`Path::detect`]. An unknown name in the variable, or a
/// path this machine cannot use, is an error naming the supported paths; the
/// generation functions return it.
pub fn current() -> Result<Path> {
    match CHOSEN.load(Ordering::Relaxed) {
        NONE => from_env(),
        i => Ok(Path::ALL[usize::from(i)]),
    }
}

/// A path by name as `REPRODUCIBLE_KERNEL` takes it: a [`Path::name`], or
/// `auto` (`None`: detection). Case is ignored.
pub fn parse(name: &str) -> Result<Option<Path>> {
    let name = name.trim().to_ascii_lowercase();
    if name == "auto" {
        return Ok(None);
    }
    name.parse().map(Some)
}

/// The path of `REPRODUCIBLE_KERNEL`, decided once per process.
fn from_env() -> Result<Path> {
    static FROM_ENV: OnceLock<Result<Path, String>> = OnceLock::new();
    FROM_ENV
        .get_or_init(|| {
            let name = match std::env::var(ENV) {
                Err(std::env::VarError::NotPresent) => return Ok(detect()),
                Err(std::env::VarError::NotUnicode(v)) => {
                    return Err(format!(
                        "the environment variable {ENV}={v:?} is not a kernel path name; set it to auto or one of {}",
                        Path::supported_names()
                    ));
                }
                Ok(name) if name.trim().is_empty() => return Ok(detect()),
                Ok(name) => name,
            };
            match parse(&name) {
                Ok(None) => Ok(detect()),
                Ok(Some(p)) => usable(p).map(|()| p),
                Err(e) => Err(e),
            }
            .map_err(|e| format!("the environment variable {ENV}={}: {e}", name.escape_debug()))
        })
        .clone()
        .map_err(Error::Kernel)
}

/// Whether `path` runs here and passed its check.
fn usable(path: Path) -> Result<()> {
    if !path.is_supported() {
        return Err(Error::Kernel(format!(
            "kernel path `{path}` is not supported on this machine; it supports {}",
            Path::supported_names()
        )));
    }
    match check::result(path) {
        None => Ok(()),
        Some(case) => Err(Error::Kernel(format!(
            "kernel path `{path}` differs from the reference ({case}); use another of {}",
            Path::supported_names()
        ))),
    }
}

/// The fastest path for this build: in an optimised build, the widest
/// supported path that passes its check (a path that fails is reported once on
/// standard error and not used); at opt-level 0 (Cargo's default for a user's
/// debug builds and tests), the scalar path. There the vector paths' helpers
/// are not inlined (see `build.rs`), every lane operation is a call, and each
/// of them is slower than the scalar reference (a ViT-B/16 init in a user's
/// debug build: AVX2 about 2x the scalar path's time). Every path gives the
/// same bits.
pub(super) fn detect() -> Path {
    if cfg!(opt_level_zero) {
        return Path::Scalar;
    }
    static DETECTED: OnceLock<Path> = OnceLock::new();
    *DETECTED.get_or_init(|| {
        Path::supported()
            .into_iter()
            .rev()
            .find(|&p| match check::result(p) {
                None => true,
                Some(case) => {
                    eprintln!("reproducible: kernel path {p} differs from the reference ({case}); not using it");
                    false
                }
            })
            .unwrap_or(Path::Scalar)
    })
}

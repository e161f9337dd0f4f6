//! The kernel paths, their names, and which ones this CPU runs.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A code path for generating values; all give the same bits. New instruction
/// sets become new variants, hence `non_exhaustive`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Path {
    /// One Philox block at a time through the reference code of
    /// [`crate::transform`]: what SPEC.md describes, line by line.
    Scalar,
    /// Batches of blocks in general-purpose registers, for any target.
    Portable,
    /// Batches in SSE2 registers (part of every x86-64).
    Sse2,
    /// Batches in AVX2 registers.
    Avx2,
    /// Batches in AVX-512 registers (needs F, BW, DQ and VL).
    Avx512,
    /// Batches in NEON registers (part of every aarch64).
    Neon,
}

impl Path {
    /// Every path, the reference first, then from the slowest to the fastest.
    /// (The x86-64 and aarch64 paths never run on the same machine.)
    pub const ALL: [Path; 6] = [
        Path::Scalar,
        Path::Portable,
        Path::Sse2,
        Path::Avx2,
        Path::Avx512,
        Path::Neon,
    ];

    /// The lower-case name (`"avx2"`), as `REPRODUCIBLE_KERNEL` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Path::Scalar => "scalar",
            Path::Portable => "portable",
            Path::Sse2 => "sse2",
            Path::Avx2 => "avx2",
            Path::Avx512 => "avx512",
            Path::Neon => "neon",
        }
    }

    /// Whether this machine can run the path (compiled for this target, and
    /// the CPU has the instruction set).
    pub fn is_supported(self) -> bool {
        super::isa::is_supported(self)
    }

    /// The paths this machine runs, in the order of [`Path::ALL`].
    pub fn supported() -> Vec<Path> {
        Path::ALL.into_iter().filter(|p| p.is_supported()).collect()
    }

    /// The fastest path for this build. In an optimised build, the widest
    /// supported path that reproduces the reference on the self-check's sample
    /// of every entry, draw and element type (checked once per process; a path
    /// that differs, which would be a compiler or hardware fault, is reported
    /// on standard error and skipped). When this crate is built at opt-level 0
    /// (a user's default debug build), the scalar path, which is the fastest
    /// there. This is what generation uses unless a path is chosen
    /// ([`super::current`]).
    pub fn detect() -> Path {
        super::select::detect()
    }

    /// The supported paths' names, comma-separated (for messages).
    pub(crate) fn supported_names() -> String {
        Path::supported()
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Path {
    type Err = Error;

    /// A path by its [`Path::name`]; any other text is an error listing the
    /// names. (Whether this CPU runs it is [`Path::is_supported`].)
    fn from_str(name: &str) -> Result<Path> {
        Path::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| {
            let all: Vec<&str> = Path::ALL.iter().map(|p| p.name()).collect();
            Error::Kernel(format!(
                "unknown kernel path `{}`; the paths are auto, {} (this machine supports {})",
                name.escape_debug(),
                all.join(", "),
                Path::supported_names()
            ))
        })
    }
}

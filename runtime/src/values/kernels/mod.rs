//! Vectorised generation kernels, one per instruction set, every one giving
//! exactly the scalar reference's bits.
//!
//! A [`Path`] is a way of computing a run of elements along a row: the scalar
//! reference ([`crate::philox::philox4x32_10`] then [`crate::transform`], one
//! block at a time), or batches of consecutive blocks in vector registers:
//!
//! * `philox.rs` runs Philox on a batch, on the vectors of `lanes.rs` (one
//!   counter word per 64-bit lane, so `pmuludq` makes the 32 x 32 -> 64-bit
//!   products); the first rounds' work that does not depend on the block index
//!   is done once per row;
//! * `draw32.rs` turns the words into f32, f16 or bf16 values, written once
//!   against the vector trait of `vec32.rs` and advancing several vectors in
//!   lockstep so that the long latency chains (division, square root,
//!   polynomials) overlap; `draw.rs` does the same for f64 in plain Rust that the
//!   compiler vectorises;
//! * `run.rs` walks a run of a row (or many short runs) through them, batch by
//!   batch; `sink.rs` hands each parallel task its part of the output.
//!
//! The same source is compiled for each instruction set with
//! `#[target_feature]`: one file per instruction set (`portable.rs`, `sse2.rs`,
//! `avx2.rs`, `avx512.rs`, `neon.rs`, and the reference in `scalar.rs`) holds
//! its vector types and a token type, and `isa.rs` is the table from [`Path`]
//! to token. A token is made only by detecting the instruction set on this CPU,
//! and every vector is made from a token, so safe code can never execute an
//! instruction the CPU lacks.
//!
//! IEEE arithmetic is deterministic and Rust never fuses or reorders
//! floating-point operations, so the same operations in the same order give
//! the same bits on every path; the tests compare every path this machine runs
//! with the reference, and every path is checked against the reference once
//! per process before its first use (`check.rs`).
//!
//! # Choosing a path
//!
//! Generation uses [`current()`]: the path chosen with [`select`], else the one
//! named by the environment variable `REPRODUCIBLE_KERNEL` (`scalar`,
//! `portable`, `sse2`, `avx2`, `avx512`, `neon` or `auto`), else the fastest
//! supported path that passes its check ([`Path::detect`]). A path this CPU
//! lacks, an unknown name, or a path that fails its check is an error, never a
//! silent fallback.
//!
//! ```
//! use reproducible::kernels::{self, Path};
//! let path = kernels::current()?;
//! assert!(path.is_supported());
//! println!("generating with {path}");
//! // Every path gives the same bits; the reference is always there.
//! kernels::select(Some(Path::Scalar))?;
//! assert_eq!(kernels::current()?, Path::Scalar);
//! kernels::select(None)?; // back to the environment variable or detection
//! # Ok::<(), reproducible::Error>(())
//! ```
//!
//! Paths: `Scalar` (the reference), `Portable` (batches in general-purpose
//! registers, any target), and on x86-64 `Sse2`, `Avx2` and `Avx512` (F, BW,
//! DQ and VL), all compiled into every x86-64 build and chosen at run time. On
//! aarch64, `Neon` (part of every aarch64 CPU). Other targets run `Portable`,
//! which the compiler vectorises only in part.
//!
//! # Stack
//!
//! The lockstep helpers are `#[inline(always)]` in optimised builds, so that
//! each path's entry is one function compiled for its instruction set. At
//! opt-level 0 (a user's `cargo test` with Cargo's default profile) the build
//! script sets `cfg(opt_level_zero)` and they are ordinary functions instead:
//! force-inlined at opt-level 0, every temporary keeps its own stack slot and
//! one AVX-512 entry frame grows to 1.3 MiB. Either way every entry runs within
//! [`STACK_BUDGET`].
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod check;
mod draw;
mod draw32;
pub(crate) mod householder;
mod isa;
mod lanes;
mod pages;
mod path;
mod philox;
mod portable;
mod run;
mod scalar;
mod select;
mod sink;
#[cfg(test)]
mod tests;
mod vec32;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "aarch64")]
mod neon;
#[cfg(target_arch = "x86_64")]
mod sse2;

pub use pages::{advise_huge_pages, huge_pages, set_huge_pages, HUGE_PAGES_ENV};
pub use path::Path;
pub(crate) use run::{Out32, Rows};
pub use select::{current, parse, select, ENV};
pub(crate) use sink::{collect, collect_fresh, fill_slice, Sink};

/// The most stack any kernel entry needs, at every opt-level: generation runs
/// on threads with this much stack (measured at opt-level 0, where an AVX-512
/// truncated normal into f16 needs about 100 KiB; optimised builds about 20).
pub const STACK_BUDGET: usize = 128 << 10;

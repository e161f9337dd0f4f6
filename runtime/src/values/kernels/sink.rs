//! The output of a generation: each parallel task appends its part of a
//! vector, in place, through a [`Sink`], and the kernels of the chosen path
//! write straight into it.

use std::fmt;
use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::isa::{self, Isa, Task};
use super::run::{Out32, Rows, Run};
use super::Path;
use crate::transform::{Prepared32, Prepared64};

/// The not yet initialised part of an output vector that one task fills, front
/// to back. Only this module's code writes through it, and [`collect`] checks
/// that every slot was written before the vector's length covers it.
pub(crate) struct Sink<'a, T> {
    buf: &'a mut [MaybeUninit<T>],
    filled: usize,
}

impl<T> fmt::Debug for Sink<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sink")
            .field("len", &self.buf.len())
            .field("filled", &self.filled)
            .finish()
    }
}

impl<T> Sink<'_, T> {
    /// How many values remain to be appended.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.filled
    }

    /// The next `n` slots (panics if fewer remain), counted as filled.
    fn take(&mut self, n: usize) -> &mut [MaybeUninit<T>] {
        let from = self.filled;
        self.filled += n;
        &mut self.buf[from..from + n]
    }

    /// Appends `n` values `f(0), f(1), ...`.
    pub(crate) fn extend(&mut self, n: usize, mut f: impl FnMut(usize) -> T) {
        for (k, d) in self.take(n).iter_mut().enumerate() {
            d.write(f(k));
        }
    }
}

impl<O: Out32> Sink<'_, O> {
    /// Appends elements `start .. start + n` of the f32-family row `ctr` under
    /// `key`, computed on `path`.
    pub(crate) fn run32(&mut self, path: Path, p: &Prepared32, key: [u32; 2], ctr: [u32; 3], start: usize, n: usize) {
        struct Run32<'a, O> {
            p: &'a Prepared32,
            key: [u32; 2],
            ctr: [u32; 3],
            start: usize,
            out: &'a mut [MaybeUninit<O>],
        }
        impl<O: Out32> Task for Run32<'_, O> {
            type Output = ();
            fn run<I: Isa>(self, isa: I) {
                isa.run32(self.p, self.key, self.ctr, self.start, self.out);
            }
        }
        let out = self.take(n);
        on(
            path,
            Run32 {
                p,
                key,
                ctr,
                start,
                out,
            },
        );
    }

    /// Appends the `runs` of f32-family rows under `key` one after the other,
    /// computed on `path` in batches gathered across runs: for short rows.
    pub(crate) fn runs32(&mut self, path: Path, p: &Prepared32, key: [u32; 2], runs: &[Run]) {
        struct Runs32<'a, O> {
            p: &'a Prepared32,
            key: [u32; 2],
            runs: &'a [Run],
            out: &'a mut [MaybeUninit<O>],
        }
        impl<O: Out32> Task for Runs32<'_, O> {
            type Output = ();
            fn run<I: Isa>(self, isa: I) {
                isa.runs32(self.p, self.key, self.runs, self.out);
            }
        }
        let out = self.take(runs.iter().map(|r| r.2).sum());
        on(path, Runs32 { p, key, runs, out });
    }

    /// Appends whole short `rows` (the same part of each) under `key`,
    /// computed on `path` with the rows packed into batches.
    pub(crate) fn rows32(&mut self, path: Path, p: &Prepared32, key: [u32; 2], rows: Rows<'_>) {
        struct Rows32<'a, O> {
            p: &'a Prepared32,
            key: [u32; 2],
            rows: Rows<'a>,
            out: &'a mut [MaybeUninit<O>],
        }
        impl<O: Out32> Task for Rows32<'_, O> {
            type Output = ();
            fn run<I: Isa>(self, isa: I) {
                isa.rows32(self.p, self.key, self.rows, self.out);
            }
        }
        let out = self.take(rows.values());
        on(path, Rows32 { p, key, rows, out });
    }
}

impl Sink<'_, f64> {
    /// Appends elements `start .. start + n` of the f64 row `ctr` under `key`,
    /// computed on `path`.
    pub(crate) fn run64(&mut self, path: Path, p: &Prepared64, key: [u32; 2], ctr: [u32; 3], start: usize, n: usize) {
        struct Run64<'a> {
            p: &'a Prepared64,
            key: [u32; 2],
            ctr: [u32; 3],
            start: usize,
            out: &'a mut [MaybeUninit<f64>],
        }
        impl Task for Run64<'_> {
            type Output = ();
            fn run<I: Isa>(self, isa: I) {
                isa.run64(self.p, self.key, self.ctr, self.start, self.out);
            }
        }
        let out = self.take(n);
        on(
            path,
            Run64 {
                p,
                key,
                ctr,
                start,
                out,
            },
        );
    }
}

/// `task` on `path`, which the caller checked this machine supports (the
/// generation functions do, and return an error otherwise).
fn on<T: Task>(path: Path, task: T) -> T::Output {
    isa::with(path, task).unwrap_or_else(|| panic!("kernel path {path} is not supported on this machine"))
}

/// Runs `fill(first, sink)` on each `chunk` of `out` (in parallel when there are
/// several), checking that every task filled its part.
fn fill_chunks<T: Send>(out: &mut [MaybeUninit<T>], chunk: usize, fill: impl Fn(usize, &mut Sink<'_, T>) + Sync) {
    let chunk = chunk.max(1);
    let task = |(k, buf): (usize, &mut [MaybeUninit<T>])| {
        let want = buf.len();
        let mut sink = Sink { buf, filled: 0 };
        fill(k * chunk, &mut sink);
        assert_eq!(sink.filled, want, "a generation task left its output part unfilled");
    };
    if out.len() <= chunk {
        task((0, out));
    } else {
        out.par_chunks_mut(chunk).enumerate().for_each(task);
    }
}

/// Overwrites every element of `out` in parallel tasks of `chunk` elements:
/// `fill(first, sink)` appends elements `first .. first + sink_len` to `sink`.
///
/// # Panics
///
/// If a task does not fill its part exactly (`out` then holds a mix of old
/// and new values).
pub(crate) fn fill_slice<T: Copy + Send>(out: &mut [T], chunk: usize, fill: impl Fn(usize, &mut Sink<'_, T>) + Sync) {
    // SAFETY: `MaybeUninit<T>` has the layout of `T`. Through the cast slice only
    // initialised values are stored (`Sink` writes `MaybeUninit::write(value)`
    // and nothing else), so `out` holds valid `T`s whatever happens; `T: Copy`
    // means overwriting needs no drop.
    let out = unsafe { &mut *(std::ptr::from_mut(out) as *mut [MaybeUninit<T>]) };
    fill_chunks(out, chunk, fill);
}

/// A vector of `len` elements filled in parallel tasks of `chunk` elements:
/// `fill(first, sink)` appends elements `first .. first + sink_len` to `sink`.
/// The memory is written once, never zeroed first.
///
/// Memory that cannot be had is an error, never an abort.
///
/// # Panics
///
/// If a task does not fill its part exactly.
pub(crate) fn collect<T: Send>(
    len: usize,
    chunk: usize,
    fill: impl Fn(usize, &mut Sink<'_, T>) + Sync,
) -> Result<Vec<T>, std::collections::TryReserveError> {
    collect_fresh(len, chunk, false, fill)
}

/// [`collect`], advising huge pages for the vector's aligned interior first
/// when `huge_pages` ([`super::advise_huge_pages`]).
pub(crate) fn collect_fresh<T: Send>(
    len: usize,
    chunk: usize,
    huge_pages: bool,
    fill: impl Fn(usize, &mut Sink<'_, T>) + Sync,
) -> Result<Vec<T>, std::collections::TryReserveError> {
    let mut out = Vec::new();
    out.try_reserve_exact(len)?;
    if huge_pages {
        super::advise_huge_pages(&mut out.spare_capacity_mut()[..len]);
    }
    fill_chunks(&mut out.spare_capacity_mut()[..len], chunk, fill);
    // SAFETY: the first `len` slots were all written: each task wrote its part
    // through `Sink::take`, which hands out every slot once, front to back, and
    // `fill_chunks` checked that it reached the end (a panic leaves `out`
    // empty); the kernels write every slot of the slice they are given.
    unsafe { out.set_len(len) };
    Ok(out)
}

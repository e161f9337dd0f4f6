//! Householder reflections on panels of columns: the hot loop of orthogonal
//! init (`orthogonal.rs`), compiled per instruction set like the draws.
//!
//! A panel holds [`PANEL`] columns of a matrix row by row (element `(i, c)` at
//! `i * PANEL + c`), so one row of a panel is one run of vector lanes. Applying
//! a reflector to a panel computes each column's dot product in its own lane,
//! every sum over rows in increasing order from +0.0 exactly as SPEC.md writes
//! it for one column; the columns only share the instructions.

use super::isa::{self, Isa, Task};
use super::Path;

/// Columns per panel.
pub(crate) const PANEL: usize = 32;

/// A Householder reflector `H = I - 2 v v^T / vv` acting on rows `k ..`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reflector<'a> {
    /// The vector `v`, of rows `k .. k + v.len()`.
    pub(crate) v: &'a [f64],
    /// `v . v`, summed in index order; positive.
    pub(crate) vv: f64,
    /// The first row `v` acts on.
    pub(crate) k: usize,
}

/// Applies `reflectors` in order to every column of `panel` (SPEC.md 7.4's
/// `reflect` on each column, restricted to each reflector's rows).
pub(crate) fn reflect(path: Path, reflectors: &[Reflector<'_>], panel: &mut [f64]) {
    struct Reflect<'r, 'a, 'p>(&'r [Reflector<'a>], &'p mut [f64]);
    impl Task for Reflect<'_, '_, '_> {
        type Output = ();
        fn run<I: Isa>(self, isa: I) {
            isa.reflect(self.0, self.1, PANEL);
        }
    }
    if isa::with(path, Reflect(reflectors, &mut *panel)).is_none() {
        // Not a path of this machine (the callers pass a checked one): the
        // same arithmetic without vector instructions.
        reflect_on(reflectors, panel, PANEL);
    }
}

/// The body of [`reflect`], inlined into each instruction set's entry.
///
/// `width` is [`PANEL`], passed in rather than named: the dot products use the
/// constant, so their sums stay in registers across rows; the update loop
/// uses the argument, so that the compiler vectorises it along a row rather
/// than unrolling it and vectorising across rows with gathers and scatters.
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn reflect_on(reflectors: &[Reflector<'_>], panel: &mut [f64], width: usize) {
    for r in reflectors {
        let rows = &mut panel[r.k * PANEL..];
        let mut dot = [0.0f64; PANEL];
        for (row, &vi) in rows.chunks_exact(PANEL).zip(r.v) {
            for c in 0..PANEL {
                dot[c] += vi * row[c];
            }
        }
        let mut s = [0.0f64; PANEL];
        for c in 0..PANEL {
            s[c] = (2.0 * dot[c]) / r.vv;
        }
        let s = &s[..width];
        for (row, &vi) in rows.chunks_exact_mut(width).zip(r.v) {
            for (y, &s) in row.iter_mut().zip(s) {
                *y -= vi * s;
            }
        }
    }
}

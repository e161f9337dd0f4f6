//! The reference path: one Philox block at a time through
//! [`Prepared32::block`] and [`Prepared64::block`], what SPEC.md describes line
//! by line. Every other path is checked against it.

use std::mem::MaybeUninit;

use super::isa::Isa;
use super::run::{Out32, Put, Rows, Run};
use crate::philox::philox4x32_10;
use crate::transform::{Prepared32, Prepared64, LANES_F32, LANES_F64};

/// The reference, which needs no instruction set beyond plain Rust.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scalar(());

impl Isa for Scalar {
    fn detect() -> Option<Self> {
        Some(Scalar(()))
    }

    fn run32<O: Out32>(self, p: &Prepared32, key: [u32; 2], ctr: [u32; 3], start: usize, out: &mut [MaybeUninit<O>]) {
        let (mut i, mut out) = (start, out);
        while !out.is_empty() {
            let (blk, lane) = (i / LANES_F32, i % LANES_F32);
            let v = p.block(philox4x32_10([ctr[0], ctr[1], ctr[2], blk as u32], key));
            let take = (LANES_F32 - lane).min(out.len());
            for (d, &v) in out[..take].iter_mut().zip(&v[lane..]) {
                d.put(v);
            }
            out = &mut std::mem::take(&mut out)[take..];
            i += take;
        }
    }

    fn runs32<O: Out32>(self, p: &Prepared32, key: [u32; 2], runs: &[Run], out: &mut [MaybeUninit<O>]) {
        let mut at = 0;
        for &(ctr, start, n) in runs {
            self.run32(p, key, ctr, start, &mut out[at..at + n]);
            at += n;
        }
    }

    fn rows32<O: Out32>(self, p: &Prepared32, key: [u32; 2], rows: Rows<'_>, out: &mut [MaybeUninit<O>]) {
        assert_eq!(out.len(), rows.values(), "the output holds the rows' values");
        for (i, out) in out.chunks_exact_mut(rows.n.max(1)).enumerate() {
            let ctr = [rows.ctr[0][i], rows.ctr[1][i], rows.ctr[2][i]];
            self.run32(p, key, ctr, rows.start, out);
        }
    }

    fn run64(self, p: &Prepared64, key: [u32; 2], ctr: [u32; 3], start: usize, out: &mut [MaybeUninit<f64>]) {
        let (mut i, mut out) = (start, out);
        while !out.is_empty() {
            let (blk, lane) = (i / LANES_F64, i % LANES_F64);
            let v = p.block(philox4x32_10([ctr[0], ctr[1], ctr[2], blk as u32], key));
            let take = (LANES_F64 - lane).min(out.len());
            for (d, &v) in out[..take].iter_mut().zip(&v[lane..]) {
                d.put(v);
            }
            out = &mut std::mem::take(&mut out)[take..];
            i += take;
        }
    }

    fn reflect(self, reflectors: &[super::householder::Reflector<'_>], panel: &mut [f64], width: usize) {
        super::householder::reflect_on(reflectors, panel, width);
    }

    #[cfg(test)]
    fn lanewise(self, f: super::tests::Lanewise, xs: &[u32], out: &mut [u32]) {
        // The reference has no vectors of its own: the portable ones.
        let portable = super::portable::Portable::detect().expect("every CPU runs the portable path");
        portable.lanewise(f, xs, out);
    }
}

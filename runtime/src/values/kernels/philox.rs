//! Philox4x32-10 on a batch of consecutive counters of one row.
//!
//! Within a row the counter words `c0, c1, c2` are fixed and only `c3` (the
//! block index) varies, so part of the first three rounds is the same for every
//! block: [`Row::new`] computes that part once per row, and [`batch`] starts each
//! block from it. Every operation is the one SPEC.md section 4 lists, on the same
//! values, so the words are exactly those of [`crate::philox::philox4x32_10`].

use super::lanes::Lanes;
use crate::philox::{M0, M1, ROUNDS, W0, W1};

#[cfg_attr(not(opt_level_zero), inline(always))]
fn mul(a: u32, b: u32) -> (u32, u32) {
    let p = u64::from(a) * u64::from(b);
    ((p >> 32) as u32, p as u32)
}

/// The counter-independent part of a row's blocks, and the round keys.
#[derive(Clone, Copy, Debug)]
pub(super) struct Row {
    /// Round 1: `c2 = k2 ^ c3`.
    k2: u32,
    /// Round 2: `c0 = hi(q) ^ t0`, and round 3's `q` is constant: `c0 = lo(q2) ^ u0`, `c1 = u1`.
    t0: u32,
    u0: u32,
    /// Round 3: `c2 = hi(p) ^ u2`.
    u2: u32,
    /// Round 4: `c0 = hi(q) ^ v0`.
    v0: u32,
    keys: [[u32; 2]; ROUNDS],
}

impl Row {
    /// The constants of row `(c0, c1, c2)` under `key`.
    pub(super) fn new(key: [u32; 2], ctr: [u32; 3]) -> Self {
        let mut keys = [[0; 2]; ROUNDS];
        let mut k = key;
        for slot in &mut keys {
            *slot = k;
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        // Round 1 (key 0): only c2' depends on c3.
        let (hi0, lo0) = mul(M0, ctr[0]);
        let (hi1, lo1) = mul(M1, ctr[2]);
        let s0 = hi1 ^ ctr[1] ^ keys[0][0];
        let s1 = lo1;
        let k2 = hi0 ^ keys[0][1];
        let s3 = lo0;
        // Round 2 (key 1): the M0 product is constant.
        let (hi0, lo0) = mul(M0, s0);
        let t0 = s1 ^ keys[1][0];
        let t2 = hi0 ^ s3 ^ keys[1][1];
        let t3 = lo0;
        // Round 3 (key 2): the M1 product is constant.
        let (hi1, lo1) = mul(M1, t2);
        let u0 = hi1 ^ keys[2][0];
        let u1 = lo1;
        let u2 = t3 ^ keys[2][1];
        // Round 4 (key 3): c1 of round 3 is constant.
        let v0 = u1 ^ keys[3][0];
        Self {
            k2,
            t0,
            u0,
            u2,
            v0,
            keys,
        }
    }
}

/// A row's constants as vectors, made once per run.
#[derive(Clone, Copy)]
pub(super) struct Splat<V: Lanes> {
    /// The instruction set's token, to make the block counters with.
    t: V::Token,
    m0: V,
    m1: V,
    k2: V,
    t0: V,
    u0: V,
    u2: V,
    v0: V,
    keys: [[V; 2]; ROUNDS],
}

impl Row {
    /// The constants broadcast to every lane.
    #[cfg_attr(not(opt_level_zero), inline(always))]
    pub(super) fn splat<V: Lanes>(&self, t: V::Token) -> Splat<V> {
        Splat {
            t,
            m0: V::splat(t, M0),
            m1: V::splat(t, M1),
            k2: V::splat(t, self.k2),
            t0: V::splat(t, self.t0),
            u0: V::splat(t, self.u0),
            u2: V::splat(t, self.u2),
            v0: V::splat(t, self.v0),
            keys: {
                // Plain loops: closures (`array::map`) would not inline into the
                // `#[target_feature]` callers, and vectors must not cross calls.
                let mut keys = [[V::splat(t, 0); 2]; ROUNDS];
                for (k, row) in keys.iter_mut().zip(&self.keys) {
                    *k = [V::splat(t, row[0]), V::splat(t, row[1])];
                }
                keys
            },
        }
    }
}

/// Round `k + 1` (key `k`) on `R` vectors.
#[cfg_attr(not(opt_level_zero), inline(always))]
fn round<V: Lanes, const R: usize>(s: &Splat<V>, k: usize, c: &mut [[V; 4]; R]) {
    let [k0, k1] = s.keys[k];
    for c in c.iter_mut() {
        let p = c[0].mul(s.m0);
        let q = c[2].mul(s.m1);
        *c = [q.hi().xor3(c[1], k0), q, p.hi().xor3(c[3], k1), p];
    }
}

/// Blocks `blk0 .. blk0 + R * V::LANES` of the row: `out[2 i]` holds words 0 and
/// 1 of block `blk0 + i` (`x0 | x1 << 32`), `out[2 i + 1]` words 2 and 3.
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn batch<V: Lanes, const R: usize>(s: &Splat<V>, blk0: u32, out: &mut [u64]) {
    let out = &mut out[..2 * R * V::LANES];
    // Rounds 1 to 3 on the words that depend on the block (c3), round 4 with the
    // constant c1 folded into v0.
    let mut c = [[s.m0; 4]; R];
    for (r, c) in c.iter_mut().enumerate() {
        let c3 = V::blocks(s.t, blk0.wrapping_add((r * V::LANES) as u32));
        let q2 = c3.xor(s.k2).mul(s.m1);
        let p3 = q2.hi().xor(s.t0).mul(s.m0);
        let (c0, c2, c3) = (q2.xor(s.u0), p3.hi().xor(s.u2), p3);
        let p = c0.mul(s.m0);
        let q = c2.mul(s.m1);
        *c = [q.hi().xor(s.v0), q, p.hi().xor3(c3, s.keys[3][1]), p];
    }
    round(s, 4, &mut c);
    round(s, 5, &mut c);
    round(s, 6, &mut c);
    round(s, 7, &mut c);
    round(s, 8, &mut c);
    let [k0, k1] = s.keys[ROUNDS - 1];
    for (r, c) in c.iter().enumerate() {
        let p = c[0].mul(s.m0);
        let q = c[2].mul(s.m1);
        V::store_pairs(V::last(q, c[1], k0), V::last(p, c[3], k1), &mut out[2 * r * V::LANES..]);
    }
}

/// Blocks of any counters: block `i` of the batch is `(c[0][i], c[1][i], c[2][i],
/// c[3][i])`, for `i < R * V::LANES`; `out` as for [`batch`]. All ten rounds,
/// for batches gathered from several short rows.
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn batch_of<V: Lanes, const R: usize>(s: &Splat<V>, c: [&[u32]; 4], out: &mut [u64]) {
    let out = &mut out[..2 * R * V::LANES];
    let mut v = [[s.m0; 4]; R];
    for (r, v) in v.iter_mut().enumerate() {
        let at = r * V::LANES;
        *v = [
            V::gather(s.t, &c[0][at..]),
            V::gather(s.t, &c[1][at..]),
            V::gather(s.t, &c[2][at..]),
            V::gather(s.t, &c[3][at..]),
        ];
    }
    round(s, 0, &mut v);
    round(s, 1, &mut v);
    round(s, 2, &mut v);
    round(s, 3, &mut v);
    round(s, 4, &mut v);
    round(s, 5, &mut v);
    round(s, 6, &mut v);
    round(s, 7, &mut v);
    round(s, 8, &mut v);
    let [k0, k1] = s.keys[ROUNDS - 1];
    for (r, c) in v.iter().enumerate() {
        let p = c[0].mul(s.m0);
        let q = c[2].mul(s.m1);
        V::store_pairs(V::last(q, c[1], k0), V::last(p, c[3], k1), &mut out[2 * r * V::LANES..]);
    }
}

//! Deterministic Householder QR for `orthogonal_`, in f64 on the host.
//!
//! `torch.nn.init.orthogonal_` draws a normal matrix, takes its QR decomposition
//! and fixes the signs with `sign(diag(R))`. LAPACK's QR is neither specified to
//! the bit nor the same across BLAS builds, so this module implements the
//! textbook Householder QR with every sum in a fixed order (SPEC.md 7.4). The
//! product `Q * sign(diag(R))` is the unique QR factor with a positive diagonal,
//! so it is the same matrix PyTorch computes up to rounding.
//!
//! SPEC.md fixes the order of every operation on one column, not the order in
//! which columns are visited. So the columns are processed in panels of
//! [`PANEL`], one column per vector lane (`kernels/householder.rs`), panels in
//! parallel: each column still receives the same reflections, in the same
//! order, with the same sums, and so the same bits as the column-at-a-time
//! reference ([`Path::Scalar`] runs that reference). Two reorderings are exact:
//!
//! * the reflectors of a panel are applied to every later panel as soon as the
//!   panel is factored (each later column still gets reflectors `0, 1, ...` in
//!   order: it is the reference's loop with the column loop outside);
//! * when Q is formed, reflector `k` is skipped for columns `j < k`: column `j`
//!   is still `e_j` there (zero in rows `k ..`), so the reference's reflection
//!   computes a dot product of `+0.0`, a step of `+0.0` and `0 - v_i * 0 =
//!   +0.0`, leaving it unchanged bit for bit.

use rayon::prelude::*;

use crate::kernels::householder::{reflect, Reflector, PANEL};
use crate::kernels::Path;

/// A reflector kept from the factorisation.
struct Kept {
    v: Vec<f64>,
    vv: f64,
}

/// For a row-major `m x n` matrix `a` with `m >= n`, the row-major `m x n`
/// matrix `Q` of its QR decomposition with each column multiplied by the sign
/// of the matching diagonal entry of `R` (a zero diagonal counts as +1).
pub(crate) fn orthonormal_columns(a: &[f64], m: usize, n: usize, path: Path) -> Vec<f64> {
    assert!(
        m >= n && a.len() == m * n,
        "orthonormal_columns needs m >= n and m * n values"
    );
    if path == Path::Scalar {
        return reference(a, m, n);
    }
    let panels = n.div_ceil(PANEL);
    let width = m * PANEL;
    // The matrix as panels of PANEL columns, row by row; columns past `n` in
    // the last panel are zeros, computed on and never read.
    let mut r = vec![0.0; panels * width];
    for (p, panel) in r.chunks_exact_mut(width).enumerate() {
        for (i, row) in panel.chunks_exact_mut(PANEL).enumerate() {
            let cols = (p * PANEL)..((p + 1) * PANEL).min(n);
            row[..cols.len()].copy_from_slice(&a[i * n + cols.start..i * n + cols.end]);
        }
    }
    let mut kept: Vec<Option<Kept>> = Vec::with_capacity(n);
    let mut diag = Vec::with_capacity(n);
    for p in 0..panels {
        let (done, rest) = r.split_at_mut((p + 1) * width);
        let panel = &mut done[p * width..];
        let first = kept.len();
        for c in 0..(n - p * PANEL).min(PANEL) {
            let k = p * PANEL + c;
            let mut norm2 = 0.0;
            for i in k..m {
                let x = panel[i * PANEL + c];
                norm2 += x * x;
            }
            let norm = norm2.sqrt();
            let x0 = panel[k * PANEL + c];
            // alpha = -sign(x0) * ||x||, so v0 = x0 - alpha never cancels.
            let alpha = if x0 >= 0.0 { -norm } else { norm };
            let mut v: Vec<f64> = (k..m).map(|i| panel[i * PANEL + c]).collect();
            v[0] -= alpha;
            let mut vv = 0.0;
            for &vi in &v {
                vv += vi * vi;
            }
            diag.push(alpha);
            if vv > 0.0 {
                // The reference reflects columns k .. n; the panel's columns
                // before k are not read again, and reflecting them too changes
                // nothing that is.
                reflect(path, &[Reflector { v: &v, vv, k }], panel);
                kept.push(Some(Kept { v, vv }));
            } else {
                kept.push(None);
            }
        }
        // This panel's reflectors, in order, to every later panel.
        let reflectors = reflectors(&kept, first, kept.len());
        rest.par_chunks_mut(width)
            .for_each(|later| reflect(path, &reflectors, later));
    }
    // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity,
    // reflector n-1 first; panel p needs reflectors below its last column only.
    let mut q = vec![0.0; panels * width];
    q.par_chunks_mut(width).enumerate().for_each(|(p, panel)| {
        for c in 0..PANEL.min(n - p * PANEL) {
            panel[(p * PANEL + c) * PANEL + c] = 1.0;
        }
        let end = ((p + 1) * PANEL).min(n);
        let mut reflectors = reflectors(&kept, 0, end);
        reflectors.reverse();
        reflect(path, &reflectors, panel);
    });
    let mut out = vec![0.0; m * n];
    for (j, d) in diag.iter().enumerate() {
        let (p, c) = (j / PANEL, j % PANEL);
        let sign = if *d < 0.0 { -1.0 } else { 1.0 };
        for i in 0..m {
            let x = q[p * width + i * PANEL + c];
            out[i * n + j] = if sign < 0.0 { -x } else { x };
        }
    }
    out
}

/// The kept reflectors `from .. to` that act (`vv > 0`), in order.
fn reflectors(kept: &[Option<Kept>], from: usize, to: usize) -> Vec<Reflector<'_>> {
    (from..to)
        .filter_map(|k| kept[k].as_ref().map(|r| Reflector { v: &r.v, vv: r.vv, k }))
        .collect()
}

/// SPEC.md 7.4 as written: one column at a time, on a row-major `m x n`
/// matrix. The reference that every faster path reproduces.
fn reference(a: &[f64], m: usize, n: usize) -> Vec<f64> {
    // Column-major, so each column is a slice.
    let mut r = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            r[j * m + i] = a[i * n + j];
        }
    }
    // Householder vectors v_k (length m - k) and the diagonal of R.
    let mut vs: Vec<Vec<f64>> = Vec::with_capacity(n);
    let mut diag = Vec::with_capacity(n);
    for k in 0..n {
        let x = &r[k * m + k..(k + 1) * m];
        let mut norm2 = 0.0;
        for &xi in x {
            norm2 += xi * xi;
        }
        let norm = norm2.sqrt();
        let alpha = if x[0] >= 0.0 { -norm } else { norm };
        let mut v = x.to_vec();
        v[0] -= alpha;
        let mut vnorm2 = 0.0;
        for &vi in &v {
            vnorm2 += vi * vi;
        }
        diag.push(alpha);
        if vnorm2 > 0.0 {
            for j in k..n {
                reflect_one(&v, vnorm2, &mut r[j * m + k..(j + 1) * m]);
            }
        }
        vs.push(v);
    }
    let mut q = vec![0.0; m * n];
    for j in 0..n {
        q[j * m + j] = 1.0;
    }
    for k in (0..n).rev() {
        let v = &vs[k];
        let mut vnorm2 = 0.0;
        for &vi in v {
            vnorm2 += vi * vi;
        }
        if vnorm2 > 0.0 {
            for j in 0..n {
                reflect_one(v, vnorm2, &mut q[j * m + k..(j + 1) * m]);
            }
        }
    }
    for (j, d) in diag.iter().enumerate() {
        if *d < 0.0 {
            for x in &mut q[j * m..(j + 1) * m] {
                *x = -*x;
            }
        }
    }
    let mut out = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            out[i * n + j] = q[j * m + i];
        }
    }
    out
}

/// `y <- y - v * (2 (v . y) / (v . v))`, the dot product summed in index order.
fn reflect_one(v: &[f64], vnorm2: f64, y: &mut [f64]) {
    let mut dot = 0.0;
    for (vi, yi) in v.iter().zip(y.iter()) {
        dot += vi * yi;
    }
    let s = 2.0 * dot / vnorm2;
    for (vi, yi) in v.iter().zip(y.iter_mut()) {
        *yi -= vi * s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_orthonormal() {
        // A 3x2 matrix, row-major.
        let q = orthonormal_columns(&[1.0, 0.0, 2.0, 1.0, 2.0, 1.0], 3, 2, Path::Scalar);
        let col = |j: usize| [q[j], q[2 + j], q[4 + j]];
        let dot = |a: [f64; 3], b: [f64; 3]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        assert!((dot(col(0), col(0)) - 1.0).abs() < 1e-12);
        assert!((dot(col(1), col(1)) - 1.0).abs() < 1e-12);
        assert!(dot(col(0), col(1)).abs() < 1e-12);
    }

    /// A deterministic matrix with entries of both signs, some repeated.
    fn matrix(m: usize, n: usize) -> Vec<f64> {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        (0..m * n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
            })
            .collect()
    }

    #[test]
    fn panels_give_the_references_bits_on_every_path() {
        // Shapes around the panel width: one panel, several, ragged ones,
        // square, and a column that is exactly zero below the diagonal.
        let mut shapes = vec![
            (1, 1),
            (5, 3),
            (31, 31),
            (33, 32),
            (40, 33),
            (97, 64),
            (130, 70),
            (70, 70),
        ];
        shapes.push((8, 2));
        for (m, n) in shapes {
            let mut a = matrix(m, n);
            if (m, n) == (8, 2) {
                for i in 0..m {
                    a[i * n] = 0.0;
                }
            }
            let want = reference(&a, m, n);
            for path in Path::supported() {
                let got = orthonormal_columns(&a, m, n, path);
                let differ = want.iter().zip(&got).position(|(x, y)| x.to_bits() != y.to_bits());
                assert_eq!(differ, None, "{m} x {n} on {path}");
            }
        }
    }
}

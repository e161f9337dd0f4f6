//! Deterministic Householder QR for `orthogonal_`, in f64 on the host.
//!
//! `torch.nn.init.orthogonal_` draws a normal matrix, takes its QR decomposition
//! and fixes the signs with `sign(diag(R))`. LAPACK's QR is neither specified to
//! the bit nor the same across BLAS builds, so this module implements the
//! textbook Householder QR with every sum in a fixed order (SPEC.md 6.3). The
//! product `Q * sign(diag(R))` is the unique QR factor with a positive diagonal,
//! so it is the same matrix PyTorch computes up to rounding.

/// For a column-major `m x n` matrix `a` with `m >= n`, the `m x n` matrix `Q`
/// (column-major) of its QR decomposition with each column multiplied by the
/// sign of the matching diagonal entry of `R` (a zero diagonal counts as +1).
pub fn orthonormal_columns(a: &[f64], m: usize, n: usize) -> Vec<f64> {
    assert!(
        m >= n && a.len() == m * n,
        "orthonormal_columns needs m >= n and m * n values"
    );
    let mut r = a.to_vec();
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
        // alpha = -sign(x0) * ||x||, so v0 = x0 - alpha never cancels.
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
                reflect(&v, vnorm2, &mut r[j * m + k..(j + 1) * m]);
            }
        }
        vs.push(v);
    }
    // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity.
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
                reflect(v, vnorm2, &mut q[j * m + k..(j + 1) * m]);
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
    q
}

/// `y <- y - v * (2 (v . y) / (v . v))`, the dot product summed in index order.
fn reflect(v: &[f64], vnorm2: f64, y: &mut [f64]) {
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
    use super::orthonormal_columns;

    #[test]
    fn columns_are_orthonormal() {
        // Columns of a 3x2 matrix (column-major).
        let q = orthonormal_columns(&[1.0, 2.0, 2.0, 0.0, 1.0, 1.0], 3, 2);
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        assert!((dot(&q[0..3], &q[0..3]) - 1.0).abs() < 1e-12);
        assert!((dot(&q[3..6], &q[3..6]) - 1.0).abs() < 1e-12);
        assert!(dot(&q[0..3], &q[3..6]).abs() < 1e-12);
    }
}

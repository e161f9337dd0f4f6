//! Shared helpers for the integration tests: statistics with documented
//! thresholds, and scratch files.

use std::ffi::OsStr;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use reproducible::math::erf_f64;

/// The standard normal CDF, from the crate's `erf_f64` (itself checked against
/// tabulated values of erf in the crate's unit tests).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * (1.0 + erf_f64(x / std::f64::consts::SQRT_2))
}

/// Kolmogorov-Smirnov statistic `D_n = sup |F_n(x) - F(x)|` of `samples` against `cdf`.
pub fn ks_statistic(samples: &mut [f64], cdf: impl Fn(f64) -> f64) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).expect("no NaN in samples"));
    let n = samples.len() as f64;
    samples
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max)
}

/// The KS critical value at significance 0.001: `1.9495 / sqrt(n)` (the
/// asymptotic Kolmogorov distribution's 99.9% quantile). A correct generator
/// exceeds it with probability 0.1%; the seeds are fixed, so a pass is stable.
pub fn ks_threshold(n: usize) -> f64 {
    1.9495 / (n as f64).sqrt()
}

/// Mean and (population) standard deviation.
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Pearson correlation of two equally long samples.
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let (ma, sa) = mean_std(a);
    let (mb, sb) = mean_std(b);
    let cov = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum::<f64>() / a.len() as f64;
    cov / (sa * sb)
}

/// Bound for a sample correlation of independent streams: 5 standard errors
/// (`5 / sqrt(n)`), exceeded by chance with probability below 1e-6.
pub fn correlation_threshold(n: usize) -> f64 {
    5.0 / (n as f64).sqrt()
}

/// A path named `name` inside a fresh directory of its own (created exclusively,
/// under an unpredictable name, so another user of the temporary directory can
/// plant nothing there), removed with everything in it when this is dropped.
/// One per test: tests run in parallel, and one test's check for leftover
/// temporary files must not see another's.
pub struct Scratch {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

/// A [`Scratch`] path named `name`; nothing is created at the path itself.
pub fn scratch(name: &str) -> Scratch {
    let dir = tempfile::Builder::new()
        .prefix("reproducible-tests-")
        .tempdir()
        .expect("create a temporary directory");
    Scratch {
        path: dir.path().join(name),
        _dir: dir,
    }
}

impl Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<OsStr> for Scratch {
    fn as_ref(&self) -> &OsStr {
        self.path.as_os_str()
    }
}

//! Statistical tests: each distribution against its exact CDF (Kolmogorov-Smirnov,
//! one million samples or more), and independence of neighbouring streams.

use reproducible::generate::generate;
use reproducible::scheme::{kaiming_uniform, normal, trunc_normal, uniform, xavier_normal, Scheme};
use reproducible::stream::Stream;
use reproducible_tests::{correlation_threshold, ks_statistic, ks_threshold, normal_cdf, pearson};

const N: usize = 1 << 20;

fn draw_f32(seed: u64, path: &str, version: u32, scheme: &Scheme, shape: &[usize]) -> Vec<f64> {
    let v: Vec<f32> = generate(&Stream::new(seed, path, version), scheme, shape, None).unwrap();
    v.into_iter().map(f64::from).collect()
}

fn draw_f64(seed: u64, path: &str, scheme: &Scheme, shape: &[usize]) -> Vec<f64> {
    generate(&Stream::new(seed, path, 1), scheme, shape, None).unwrap()
}

fn assert_ks(name: &str, mut samples: Vec<f64>, cdf: impl Fn(f64) -> f64) {
    let n = samples.len();
    let d = ks_statistic(&mut samples, cdf);
    let t = ks_threshold(n);
    assert!(d < t, "{name}: KS statistic {d:.6} over {n} samples exceeds {t:.6}");
}

fn uniform_cdf(a: f64, b: f64) -> impl Fn(f64) -> f64 {
    move |x| ((x - a) / (b - a)).clamp(0.0, 1.0)
}

fn trunc_cdf(mean: f64, std: f64, a: f64, b: f64) -> impl Fn(f64) -> f64 {
    let (fa, fb) = (normal_cdf((a - mean) / std), normal_cdf((b - mean) / std));
    move |x| ((normal_cdf((x - mean) / std) - fa) / (fb - fa)).clamp(0.0, 1.0)
}

#[test]
fn uniform_matches_its_cdf() {
    assert_ks(
        "uniform f32",
        draw_f32(1, "u", 1, &uniform(-0.5, 2.0), &[1024, 1024]),
        uniform_cdf(-0.5, 2.0),
    );
    assert_ks(
        "uniform f64",
        draw_f64(2, "u", &uniform(-0.5, 2.0), &[N]),
        uniform_cdf(-0.5, 2.0),
    );
}

#[test]
fn normal_matches_its_cdf() {
    let cdf = |x: f64| normal_cdf((x - 0.25) / 1.5);
    assert_ks(
        "normal f32",
        draw_f32(3, "n", 1, &normal(0.25, 1.5), &[64, 128, 128]),
        cdf,
    );
    assert_ks("normal f64", draw_f64(4, "n", &normal(0.25, 1.5), &[1024, 1024]), cdf);
}

#[test]
fn normal_has_both_tails() {
    // P(|z| > 4) = 6.3e-5: about 66 of 2^20 samples. Too few or none would mean clipped tails.
    let z = draw_f32(5, "tails", 1, &normal(0.0, 1.0), &[N]);
    let beyond = z.iter().filter(|x| x.abs() > 4.0).count();
    assert!((30..=110).contains(&beyond), "{beyond} samples beyond 4 sigma");
    assert!(
        z.iter().all(|x| x.abs() < 6.7),
        "Box-Muller radius is bounded by sqrt(64 ln 2)"
    );
}

#[test]
fn trunc_normal_matches_its_cdf() {
    for (mean, std, a, b) in [(0.0, 1.0, -2.0, 2.0), (0.5, 0.2, 0.0, 3.0), (0.0, 0.02, -0.04, 0.04)] {
        let s = trunc_normal(mean, std, a, b);
        assert_ks(
            &format!("{s} f32"),
            draw_f32(6, "t", 1, &s, &[N]),
            trunc_cdf(mean, std, a, b),
        );
        assert_ks(
            &format!("{s} f64"),
            draw_f64(7, "t", &s, &[N]),
            trunc_cdf(mean, std, a, b),
        );
    }
}

#[test]
fn scaled_schemes_match_their_cdfs() {
    // kaiming_uniform(a=sqrt 5) on [1024, 1024]: U(-1/32, 1/32) up to rounding of the bound.
    let bound = 3f64.sqrt() * ((2.0 / 6.000000000000001f64).sqrt() / 32.0);
    let k = kaiming_uniform().a(5f64.sqrt());
    assert_ks(
        "kaiming_uniform",
        draw_f32(8, "k", 1, &k, &[1024, 1024]),
        uniform_cdf(-bound, bound),
    );
    let std = (2.0f64 / 2048.0).sqrt();
    assert_ks(
        "xavier_normal",
        draw_f32(9, "x", 1, &xavier_normal(), &[1024, 1024]),
        |x| normal_cdf(x / std),
    );
}

#[test]
fn neighbouring_streams_are_uncorrelated() {
    let s = normal(0.0, 1.0);
    let shape = [1024, 1024];
    let base = draw_f32(0, "layers.0.weight", 1, &s, &shape);
    let t = correlation_threshold(base.len());
    for (what, other) in [
        ("next layer", draw_f32(0, "layers.1.weight", 1, &s, &shape)),
        ("next seed", draw_f32(1, "layers.0.weight", 1, &s, &shape)),
        ("next version", draw_f32(0, "layers.0.weight", 2, &s, &shape)),
    ] {
        let r = pearson(&base, &other);
        assert!(r.abs() < t, "{what}: correlation {r:.5} exceeds {t:.5}");
    }
}

#[test]
fn neighbouring_elements_are_uncorrelated() {
    // Within one stream: next lane, next block along the row, next row.
    let x = draw_f32(11, "w", 1, &uniform(0.0, 1.0), &[1024, 1024]);
    let t = correlation_threshold(x.len() - 1024);
    for (what, lag) in [("next element", 1), ("next block", 4), ("next row", 1024)] {
        let r = pearson(&x[..x.len() - lag], &x[lag..]);
        assert!(r.abs() < t, "{what}: correlation {r:.5} exceeds {t:.5}");
    }
    // The two normals of one Box-Muller pair are uncorrelated too.
    let z = draw_f32(12, "w", 1, &normal(0.0, 1.0), &[N]);
    let (even, odd): (Vec<f64>, Vec<f64>) = z.chunks(2).map(|p| (p[0], p[1])).unzip();
    let r = pearson(&even, &odd);
    assert!(
        r.abs() < correlation_threshold(even.len()),
        "Box-Muller pair correlation {r:.5}"
    );
}

#[test]
fn the_ks_test_detects_a_two_percent_error() {
    // Negative control: the same samples against a normal with a 2% larger std fail.
    let mut z = draw_f32(3, "n", 1, &normal(0.0, 1.0), &[N]);
    let d = ks_statistic(&mut z, |x| normal_cdf(x / 1.02));
    assert!(
        d > ks_threshold(N),
        "KS statistic {d} should exceed {}",
        ks_threshold(N)
    );
}

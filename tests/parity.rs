//! Parity with `torch.nn.init`: support, mean and standard deviation of each
//! scheme against the formula PyTorch documents, and the structure of the
//! deterministic ones (eye, dirac, orthogonal, sparse).

use reproducible::generate::generate;
use reproducible::scheme::presets;
use reproducible::scheme::{
    calculate_gain, constant, dirac, eye, kaiming_normal, kaiming_uniform, normal, ones, orthogonal, sparse,
    trunc_normal, uniform, xavier_normal, xavier_uniform, zeros, FanMode, Nonlinearity, Scheme,
};
use reproducible::stream::Stream;
use reproducible::Init;
use reproducible_tests::{mean_std, normal_cdf};

fn sample(scheme: &Scheme, shape: &[usize]) -> Vec<f64> {
    let v: Vec<f32> = generate(&Stream::new(2024, "parity.weight", 1), scheme, shape, None).unwrap();
    v.into_iter().map(f64::from).collect()
}

/// Checks support [lo, hi], the mean within 5 standard errors and the std within 1%.
fn check(name: &str, xs: &[f64], lo: f64, hi: f64, mean: f64, std: f64) {
    let (m, s) = mean_std(xs);
    let (min, max) = xs.iter().fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    let tol32 = 1e-6 * (lo.abs().max(hi.abs()));
    assert!(
        min >= lo - tol32 && max <= hi + tol32,
        "{name}: support [{min}, {max}] outside [{lo}, {hi}]"
    );
    let se = std / (xs.len() as f64).sqrt();
    assert!((m - mean).abs() < 5.0 * se + 1e-12, "{name}: mean {m} vs {mean}");
    assert!((s / std - 1.0).abs() < 0.01, "{name}: std {s} vs {std}");
}

#[test]
fn uniform_normal_and_constants() {
    check(
        "uniform_(-2, 3)",
        &sample(&uniform(-2.0, 3.0), &[1000, 500]),
        -2.0,
        3.0,
        0.5,
        5.0 / 12f64.sqrt(),
    );
    check(
        "normal_(1, 0.5)",
        &sample(&normal(1.0, 0.5), &[1000, 500]),
        f64::MIN,
        f64::MAX,
        1.0,
        0.5,
    );
    for (s, v) in [(constant(0.3), 0.3f32 as f64), (zeros(), 0.0), (ones(), 1.0)] {
        assert!(sample(&s, &[17, 5]).iter().all(|&x| x == v), "{s}");
    }
}

#[test]
fn trunc_normal_moments_follow_the_truncated_formula() {
    // Var = s^2 [1 + (al phi(al) - be phi(be)) / Z - ((phi(al) - phi(be)) / Z)^2].
    let phi = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    for (mu, s, a, b) in [(0.0, 1.0, -2.0, 2.0), (0.5, 0.2, 0.0, 3.0), (0.0, 0.02, -2.0, 2.0)] {
        let (al, be) = ((a - mu) / s, (b - mu) / s);
        let z = normal_cdf(be) - normal_cdf(al);
        let mean = mu + s * (phi(al) - phi(be)) / z;
        let var = s * s * (1.0 + (al * phi(al) - be * phi(be)) / z - ((phi(al) - phi(be)) / z).powi(2));
        let name = format!("trunc_normal_({mu}, {s}, {a}, {b})");
        check(
            &name,
            &sample(&trunc_normal(mu, s, a, b), &[1000, 1000]),
            a,
            b,
            mean,
            var.sqrt(),
        );
    }
}

#[test]
fn kaiming_follows_fan_and_gain() {
    let shape = [256, 128, 3, 3]; // fan_in = 1152, fan_out = 2304
    for (scheme, fan, gain) in [
        (kaiming_uniform(), 1152.0, (2.0f64 / 1.0).sqrt()),
        (kaiming_uniform().a(5f64.sqrt()), 1152.0, (2.0f64 / 6.0).sqrt()),
        (
            kaiming_uniform().mode(FanMode::FanOut).nonlinearity(Nonlinearity::Relu),
            2304.0,
            2f64.sqrt(),
        ),
        (kaiming_normal().nonlinearity(Nonlinearity::Tanh), 1152.0, 5.0 / 3.0),
        (
            kaiming_normal().mode(FanMode::FanOut).nonlinearity(Nonlinearity::Selu),
            2304.0,
            0.75,
        ),
    ] {
        let std = gain / f64::sqrt(fan);
        let xs = sample(&scheme, &shape);
        if matches!(scheme, Scheme::KaimingUniform { .. }) {
            let bound = 3f64.sqrt() * std;
            check(&scheme.to_string(), &xs, -bound, bound, 0.0, std);
        } else {
            check(&scheme.to_string(), &xs, f64::MIN, f64::MAX, 0.0, std);
        }
    }
}

#[test]
fn xavier_follows_fans_and_gain() {
    let shape = [300, 700]; // fan_in = 700, fan_out = 300
    let gain = calculate_gain(Nonlinearity::Tanh, None).unwrap();
    let std = gain * (2.0f64 / 1000.0).sqrt();
    let bound = 3f64.sqrt() * std;
    check(
        "xavier_uniform_",
        &sample(&xavier_uniform().gain(gain), &shape),
        -bound,
        bound,
        0.0,
        std,
    );
    check(
        "xavier_normal_",
        &sample(&xavier_normal().gain(gain), &shape),
        f64::MIN,
        f64::MAX,
        0.0,
        std,
    );
}

#[test]
fn eye_and_dirac_are_identities() {
    let e = sample(&eye(), &[3, 5]);
    for i in 0..3 {
        for j in 0..5 {
            assert_eq!(e[i * 5 + j], f64::from(u8::from(i == j)));
        }
    }
    // dirac_(groups=2) on a Conv1d weight [4, 3, 3]: out channel g*2 + d copies input d, centre tap.
    let d = sample(&dirac().groups(2), &[4, 3, 3]);
    let ones: Vec<usize> = (0..d.len()).filter(|&k| d[k] == 1.0).collect();
    assert_eq!(ones, [1, 3 * 3 + 3 + 1, 2 * 9 + 1, 3 * 9 + 3 + 1]);
    assert_eq!(d.iter().filter(|&&x| x == 0.0).count(), d.len() - 4);
    // And the convolution it defines is the identity on candle too.
    let init = Init::new(0);
    let w = init.tensor("conv.weight", &[3, 3, 3], &dirac(), 1).unwrap();
    let x = init.tensor("x", &[1, 3, 10], &normal(0.0, 1.0), 1).unwrap();
    let y = x.conv1d(&w, 1, 1, 1, 1).unwrap();
    assert_eq!(y.to_vec3::<f32>().unwrap(), x.to_vec3::<f32>().unwrap());
}

#[test]
fn orthogonal_rows_or_columns_are_orthonormal() {
    for (shape, gain) in [(vec![6, 10], 1.0), (vec![10, 6], 2f64.sqrt()), (vec![8, 2, 3, 3], 1.0)] {
        let w: Vec<f64> = generate(&Stream::new(1, "q", 1), &orthogonal().gain(gain), &shape, None).unwrap();
        let rows = shape[0];
        let cols = w.len() / rows;
        // The smaller side is orthonormal (times gain^2).
        let (n, dot): (usize, Box<dyn Fn(usize, usize) -> f64>) = if rows <= cols {
            (
                rows,
                Box::new(|a, b| (0..cols).map(|k| w[a * cols + k] * w[b * cols + k]).sum()),
            )
        } else {
            (
                cols,
                Box::new(|a, b| (0..rows).map(|k| w[k * cols + a] * w[k * cols + b]).sum()),
            )
        };
        for a in 0..n {
            for b in 0..n {
                let want = if a == b { gain * gain } else { 0.0 };
                assert!((dot(a, b) - want).abs() < 1e-12, "{shape:?} ({a},{b}): {}", dot(a, b));
            }
        }
    }
}

#[test]
fn sparse_zeroes_exactly_ceil_sparsity_rows_per_column() {
    let (rows, cols, sparsity) = (50, 400, 0.3);
    let w = sample(&sparse(sparsity).std(0.02), &[rows, cols]);
    let zeros_per_col = (sparsity * rows as f64).ceil() as usize;
    for j in 0..cols {
        let z = (0..rows).filter(|&i| w[i * cols + j] == 0.0).count();
        assert_eq!(z, zeros_per_col, "column {j}");
    }
    let nonzero: Vec<f64> = w.into_iter().filter(|&x| x != 0.0).collect();
    check("sparse_ non-zeros", &nonzero, f64::MIN, f64::MAX, 0.0, 0.02);
}

#[test]
fn layer_presets_match_pytorch_defaults() {
    // nn.Linear(in_features=512): weight and bias within 1/sqrt(512).
    let bound = 1.0 / 512f64.sqrt();
    let w = sample(&presets::linear_weight(), &[256, 512]);
    check("Linear.weight", &w, -bound, bound, 0.0, bound / 3f64.sqrt());
    let b = sample(&presets::linear_bias(512), &[256 * 512]);
    check("Linear.bias", &b, -bound, bound, 0.0, bound / 3f64.sqrt());
    // nn.Conv2d(64, 128, 3): fan_in = 64 * 9.
    let bound = 1.0 / 576f64.sqrt();
    check(
        "Conv2d.weight",
        &sample(&presets::conv_weight(), &[128, 64, 3, 3]),
        -bound,
        bound,
        0.0,
        bound / 3f64.sqrt(),
    );
    check(
        "Embedding.weight",
        &sample(&presets::embedding(), &[1000, 300]),
        f64::MIN,
        f64::MAX,
        0.0,
        1.0,
    );
    let h = 1.0 / 256f64.sqrt();
    check(
        "LSTM.weight_ih",
        &sample(&presets::rnn(256), &[1024, 512]),
        -h,
        h,
        0.0,
        h / 3f64.sqrt(),
    );
    // MultiheadAttention in_proj [3 * 64, 64]: xavier_uniform over fans 64 and 192.
    let std = (2.0f64 / 256.0).sqrt();
    let bound = 3f64.sqrt() * std;
    let x = sample(&presets::mha_in_proj_weight(), &[192, 64]);
    assert!(x.iter().all(|v| v.abs() <= bound + 1e-7));
    // 12288 samples: the std estimate has a 0.6% standard error, so allow 3%.
    assert!((mean_std(&x).1 / std - 1.0).abs() < 0.03);
    assert!(sample(&presets::norm_weight(), &[768]).iter().all(|&v| v == 1.0));
    assert!(sample(&presets::norm_bias(), &[768]).iter().all(|&v| v == 0.0));
    assert!(sample(&presets::batch_norm_running_var(), &[768])
        .iter()
        .all(|&v| v == 1.0));
}

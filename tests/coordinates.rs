//! Coordinates, not order: slices, shards, growth, thread counts, chunk sizes and
//! element-at-a-time generation all agree bit for bit with the whole tensor.

use std::ops::Range;

use candle_core::{DType, Device};
use half::{bf16, f16};
use reproducible::generate::generate;
use reproducible::generate::generate_with_chunk;
use reproducible::scheme::{
    dirac, eye, kaiming_normal, kaiming_uniform, normal, orthogonal, sparse, trunc_normal, uniform, xavier_uniform,
    Scheme,
};
use reproducible::stream::Stream;
use reproducible::Init;

fn all_elementwise() -> Vec<Scheme> {
    vec![
        uniform(-1.0, 3.0),
        normal(0.5, 2.0),
        trunc_normal(0.0, 1.0, -2.0, 2.0),
        kaiming_uniform().a(5f64.sqrt()),
        kaiming_normal(),
        xavier_uniform(),
        reproducible::scheme::constant(0.25),
    ]
}

fn f32s(stream: &Stream, scheme: &Scheme, shape: &[usize], region: Option<&[Range<usize>]>) -> Vec<u32> {
    let v: Vec<f32> = generate(stream, scheme, shape, region).unwrap();
    v.into_iter().map(f32::to_bits).collect()
}

fn f64s(stream: &Stream, scheme: &Scheme, shape: &[usize], region: Option<&[Range<usize>]>) -> Vec<u64> {
    let v: Vec<f64> = generate(stream, scheme, shape, region).unwrap();
    v.into_iter().map(f64::to_bits).collect()
}

/// Row-major cut of `region` from a full tensor of `shape`.
fn cut<T: Copy>(full: &[T], shape: &[usize], region: &[Range<usize>]) -> Vec<T> {
    let mut out = Vec::new();
    let mut idx: Vec<usize> = region.iter().map(|r| r.start).collect();
    if region.iter().any(|r| r.is_empty()) {
        return out;
    }
    loop {
        let flat = idx.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i);
        out.push(full[flat]);
        let mut d = region.len();
        loop {
            if d == 0 {
                return out;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < region[d].end {
                break;
            }
            idx[d] = region[d].start;
        }
    }
}

/// `world` equal-as-possible shards of `0..n` (the first `n % world` one longer).
fn shards(n: usize, world: usize) -> Vec<Range<usize>> {
    let (q, r) = (n / world, n % world);
    let mut start = 0;
    (0..world)
        .map(|k| {
            let len = q + usize::from(k < r);
            let s = start..start + len;
            start += len;
            s
        })
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn shards_along_every_dimension_concatenate_to_the_whole() {
    let stream = Stream::new(42, "blocks.0.mlp.fc1.weight", 1);
    for shape in [vec![13, 10], vec![5, 3, 7, 6], vec![3, 2, 4, 3, 5]] {
        for scheme in all_elementwise() {
            let full = f32s(&stream, &scheme, &shape, None);
            let full64 = f64s(&stream, &scheme, &shape, None);
            for dim in 0..shape.len() {
                for world in 1..=8 {
                    for part in shards(shape[dim], world) {
                        let mut region: Vec<Range<usize>> = shape.iter().map(|&n| 0..n).collect();
                        region[dim] = part;
                        assert_eq!(
                            f32s(&stream, &scheme, &shape, Some(&region)),
                            cut(&full, &shape, &region),
                            "{scheme} {shape:?} dim {dim} world {world} region {region:?}"
                        );
                        assert_eq!(
                            f64s(&stream, &scheme, &shape, Some(&region)),
                            cut(&full64, &shape, &region)
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn any_hyper_rectangle_is_the_slice_of_the_whole() {
    let stream = Stream::new(7, "w", 3);
    let shape = [6, 5, 9];
    let full = f32s(&stream, &normal(0.0, 1.0), &shape, None);
    for region in [
        [1..4, 2..3, 3..9],
        [0..6, 0..5, 8..9],
        [5..6, 4..5, 0..1],
        [2..5, 0..5, 1..7],
    ] {
        assert_eq!(
            f32s(&stream, &normal(0.0, 1.0), &shape, Some(&region)),
            cut(&full, &shape, &region)
        );
    }
    // Whole-tensor schemes also give exact slices (computed in full, then cut).
    for scheme in [orthogonal(), sparse(0.3), eye(), dirac()] {
        let shape: &[usize] = if scheme == dirac() { &[4, 4, 3] } else { &[8, 6] };
        let full = f32s(&stream, &scheme, shape, None);
        let region: Vec<Range<usize>> = shape.iter().map(|&n| 1..n - 1).collect();
        assert_eq!(
            f32s(&stream, &scheme, shape, Some(&region)),
            cut(&full, shape, &region),
            "{scheme}"
        );
    }
}

#[test]
fn growing_a_dimension_keeps_the_old_draws() {
    // Unscaled schemes: the old elements keep their exact values.
    let stream = Stream::new(3, "blocks.0.attn.proj.weight", 1);
    let growths: [(&[usize], &[usize]); 6] = [
        (&[512, 512], &[512, 768]),
        (&[512, 512], &[768, 512]),
        (&[7], &[13]),
        (&[4, 6, 5], &[5, 6, 9]),
        (&[3, 4, 3, 5], &[4, 6, 4, 7]),
        (&[3, 4, 2, 3, 5], &[4, 6, 3, 3, 7]), // rank 5: dims 0, 1, 2 and the last grow
    ];
    for scheme in [uniform(-1.0, 1.0), normal(0.0, 1.0), trunc_normal(0.0, 1.0, -2.0, 2.0)] {
        for (old, new) in growths {
            let region: Vec<Range<usize>> = old.iter().map(|&n| 0..n).collect();
            assert_eq!(
                f32s(&stream, &scheme, old, None),
                f32s(&stream, &scheme, new, Some(&region)),
                "{scheme} {old:?} -> {new:?}"
            );
            assert_eq!(
                f64s(&stream, &scheme, old, None),
                f64s(&stream, &scheme, new, Some(&region))
            );
        }
    }
}

#[test]
fn growing_a_folded_dimension_of_rank_five_remaps() {
    // Documented limit: dims 3..rank-2 of a rank >= 5 tensor are folded together.
    let stream = Stream::new(3, "conv3d.weight", 1);
    let (old, new) = ([2, 2, 2, 3, 4], [2, 2, 2, 4, 4]);
    let region: Vec<Range<usize>> = old.iter().map(|&n| 0..n).collect();
    assert_ne!(
        f32s(&stream, &normal(0.0, 1.0), &old, None),
        f32s(&stream, &normal(0.0, 1.0), &new, Some(&region))
    );
}

#[test]
fn scaled_schemes_keep_underlying_draws_when_growing() {
    // kaiming_uniform(fan_in) on [out, in]: growing `out` keeps the fan and so the values.
    let stream = Stream::new(5, "fc.weight", 1);
    let k = kaiming_uniform().a(5f64.sqrt());
    let region = [0..64, 0..32];
    assert_eq!(
        f32s(&stream, &k, &[64, 32], None),
        f32s(&stream, &k, &[96, 32], Some(&region))
    );
    // Growing `in` changes the bound, not the draw: values scale by the bound ratio.
    let small: Vec<f64> = generate::<f64>(&stream, &k, &[4, 32], None).unwrap();
    let wide: Vec<f64> = generate::<f64>(&stream, &k, &[4, 128], Some(&[0..4, 0..32])).unwrap();
    for (a, b) in small.iter().zip(&wide) {
        // U(-B, B) = -B + 2B u: (x + B) / 2B recovers the same u.
        let (ba, bb) = (1.0 / 32f64.sqrt(), 1.0 / 128f64.sqrt());
        assert!(((a + ba) / (2.0 * ba) - (b + bb) / (2.0 * bb)).abs() < 1e-12);
    }
}

#[test]
fn thread_count_and_chunk_size_do_not_change_bits() {
    let stream = Stream::new(9, "emb.weight", 1);
    let shape = [300, 1001];
    for scheme in all_elementwise().into_iter().chain([orthogonal(), sparse(0.5)]) {
        let reference: Vec<f32> = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| generate_with_chunk(&stream, &scheme, &shape, None, usize::MAX).unwrap());
        for threads in [2, 3, 8] {
            for chunk in [1, 3, 4096, 65_536] {
                let got: Vec<f32> = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap()
                    .install(|| generate_with_chunk(&stream, &scheme, &shape, None, chunk).unwrap());
                assert!(
                    got.iter()
                        .map(|v| v.to_bits())
                        .eq(reference.iter().map(|v| v.to_bits())),
                    "{scheme}: {threads} threads, chunk {chunk}"
                );
            }
        }
    }
}

#[test]
fn element_at_a_time_equals_bulk() {
    // The single-element path (one block, one lane) against the bulk path.
    let stream = Stream::new(11, "a..b.ünïcødé", 4);
    let shape = [3, 2, 7];
    for scheme in all_elementwise() {
        let full = f32s(&stream, &scheme, &shape, None);
        let full64 = f64s(&stream, &scheme, &shape, None);
        let mut k = 0;
        for i in 0..3 {
            for j in 0..2 {
                for l in 0..7 {
                    let one = [i..i + 1, j..j + 1, l..l + 1];
                    assert_eq!(f32s(&stream, &scheme, &shape, Some(&one)), [full[k]]);
                    assert_eq!(f64s(&stream, &scheme, &shape, Some(&one)), [full64[k]]);
                    k += 1;
                }
            }
        }
    }
}

#[test]
fn other_parameters_do_not_matter() {
    // Generating other parameters first, or not at all, changes nothing.
    let init = Init::new(42);
    let alone = init.tensor("b", &[4, 4], &normal(0.0, 1.0), 1).unwrap();
    let _ = init.tensor("a", &[100, 100], &normal(0.0, 1.0), 1).unwrap();
    let after = init.tensor("b", &[4, 4], &normal(0.0, 1.0), 1).unwrap();
    assert_eq!(alone.to_vec2::<f32>().unwrap(), after.to_vec2::<f32>().unwrap());
}

#[test]
fn tensors_carry_the_generated_bits_in_every_dtype() {
    let init = Init::new(1).set_device(&Device::Cpu);
    let scheme = trunc_normal(0.0, 0.02, -0.04, 0.04);
    let stream = init.stream("head.weight", 1);
    let values: Vec<f32> = generate(&stream, &scheme, &[8, 16], None).unwrap();
    let t = init.tensor("head.weight", &[8, 16], &scheme, 1).unwrap();
    assert_eq!(t.dtype(), DType::F32);
    assert_eq!(t.flatten_all().unwrap().to_vec1::<f32>().unwrap(), values);
    let bf = init
        .tensor_as("head.weight", &[8, 16], &scheme, 1, DType::BF16)
        .unwrap();
    let want: Vec<bf16> = values.iter().map(|&v| bf16::from_f32(v)).collect();
    assert_eq!(bf.flatten_all().unwrap().to_vec1::<bf16>().unwrap(), want);
    let h = init.tensor_as("head.weight", &[8, 16], &scheme, 1, DType::F16).unwrap();
    let want: Vec<f16> = values.iter().map(|&v| f16::from_f32(v)).collect();
    assert_eq!(h.flatten_all().unwrap().to_vec1::<f16>().unwrap(), want);
    let d = init.tensor_as("head.weight", &[8, 16], &scheme, 1, DType::F64).unwrap();
    let want: Vec<f64> = generate(&stream, &scheme, &[8, 16], None).unwrap();
    assert_eq!(d.flatten_all().unwrap().to_vec1::<f64>().unwrap(), want);
    let shard = init.shard("head.weight", &[8, 16], &[2..4, 0..16], &scheme, 1).unwrap();
    assert_eq!(shard.flatten_all().unwrap().to_vec1::<f32>().unwrap(), values[32..64]);
}

#[test]
fn bf16_and_f16_round_to_nearest_even() {
    // Hand-picked ties: 1 + 2^-8 lies halfway between bf16 1.0 and 1 + 2^-7.
    assert_eq!(bf16::from_f32(1.0 + 1.0 / 256.0).to_bits(), 0x3f80);
    assert_eq!(bf16::from_f32(1.0 + 3.0 / 256.0).to_bits(), 0x3f82);
    assert_eq!(f16::from_f32(1.0 + 1.0 / 2048.0).to_bits(), 0x3c00);
    assert_eq!(f16::from_f32(1.0 + 3.0 / 2048.0).to_bits(), 0x3c02);
}

#[test]
fn errors_name_the_parameter_and_the_problem() {
    let init = Init::new(0);
    let e = init
        .tensor("blocks.2.norm.weight", &[4, 0], &normal(0.0, 1.0), 1)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "parameter `blocks.2.norm.weight`: shape [4, 0]: dimension 1 has size 0"
    );
    let e = init.tensor("gamma", &[4], &normal(0.0, -1.0), 1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "parameter `gamma`: init scheme `normal(mean=0.0, std=-1.0)`: std must be >= 0, got -1"
    );
    let e = init
        .shard("w", &[4, 4], &[0..5, 0..4], &normal(0.0, 1.0), 1)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("range 0:5 of dimension 0 is empty or outside 0:4"),
        "{e}"
    );
    let e = init
        .clone()
        .set_dtype(DType::U8)
        .tensor("w", &[2], &normal(0.0, 1.0), 1)
        .unwrap_err();
    assert!(e.to_string().contains("not a floating-point parameter dtype"), "{e}");
}

#[test]
fn values_a_dtype_cannot_hold_are_errors() {
    use reproducible::scheme::constant;
    // Decided from the scheme, the shape and the dtype: never inf or NaN with
    // success, and a slice fails exactly when the whole tensor does.
    let cases = [
        (
            DType::F16,
            constant(70000.0),
            "beyond the largest finite f16 (6.5504e4); F32 or BF16",
        ),
        // |z| of Box-Muller reaches 6.66 in f32: 1e4 * 6.66 > 65504, whatever the draws.
        (DType::F16, normal(0.0, 1e4), "its values reach 6.661e4"),
        (DType::F32, normal(0.0, 1e39), "its values reach 6.661e39"),
        (
            DType::F32,
            xavier_uniform().gain(1e308),
            "beyond the largest finite f32",
        ),
        (DType::BF16, constant(3.4e38), "beyond the largest finite bf16"),
        (
            DType::F32,
            uniform(-3e38, 3e38),
            "a constant of the f32 draw overflows f32",
        ),
        (DType::F64, normal(0.0, 1e308), "beyond the largest finite f64"),
        (DType::F32, orthogonal().gain(1e39), "beyond the largest finite f32"),
    ];
    for (dtype, scheme, want) in cases {
        let init = Init::new(0).set_dtype(dtype);
        let e = init.tensor("scale", &[64, 64], &scheme, 1).unwrap_err().to_string();
        assert!(
            e.starts_with("parameter `scale`: init scheme `") && e.contains(want),
            "{scheme} {dtype:?}: {e}"
        );
        let e = init.shard("scale", &[64, 64], &[0..1, 0..1], &scheme, 1).unwrap_err();
        assert!(e.to_string().contains(want), "a slice of {scheme} {dtype:?}: {e}");
    }
    let fits = Init::new(0)
        .set_dtype(DType::F16)
        .tensor("w", &[64, 64], &normal(0.0, 9000.0), 1)
        .unwrap();
    let v = fits
        .flatten_all()
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert!(v.iter().all(|x| x.is_finite()));
    // f32 cannot resolve a truncation 5.5 std out; f64 can.
    let far = trunc_normal(0.0, 1.0, 5.5, 8.0);
    let e = Init::new(0).tensor("w", &[4], &far, 1).unwrap_err();
    assert!(e.to_string().contains("beyond what f32 resolves"), "{e}");
    let ok = Init::new(0).set_dtype(DType::F64).tensor("w", &[4], &far, 1).unwrap();
    assert!(ok.to_vec1::<f64>().unwrap().iter().all(|&v| (5.5..=8.0).contains(&v)));
}

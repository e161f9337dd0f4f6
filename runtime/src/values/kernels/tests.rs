//! Every path this machine runs against the scalar reference, bit for bit.

use std::ops::Range;

use super::draw::MAX_BLOCKS;
use super::isa::{self, Isa, Task};
use super::vec32::{self, V32};
use super::*;
use crate::generate::generate_with_path;
use crate::generate::Element;
use crate::math;
use crate::scheme::{
    constant, dirac, eye, kaiming_normal, kaiming_uniform, normal, orthogonal, sparse, trunc_normal, uniform,
    xavier_uniform, Scheme,
};
use crate::stream::Stream;
use crate::transform::Draw;

/// The batched paths (everything but the reference) this machine runs.
fn fast_paths() -> Vec<Path> {
    Path::supported().into_iter().filter(|&p| p != Path::Scalar).collect()
}

fn schemes() -> Vec<Scheme> {
    vec![
        uniform(-1.0, 3.0),
        normal(0.5, 2.0),
        normal(0.0, 0.0),
        // Narrow bounds (central polynomial only), timm's wide ones (both), and
        // an asymmetric window in the tail.
        trunc_normal(0.0, 1.0, -2.0, 2.0),
        trunc_normal(0.0, 0.02, -2.0, 2.0),
        trunc_normal(1.0, 1.0, 2.5, 4.0),
        kaiming_uniform().a(5f64.sqrt()),
        kaiming_normal(),
        xavier_uniform(),
        constant(0.25),
    ]
}

trait Bits: Element {
    fn bits64(self) -> u64;
}
impl Bits for f32 {
    fn bits64(self) -> u64 {
        self.to_bits().into()
    }
}
impl Bits for f64 {
    fn bits64(self) -> u64 {
        self.to_bits()
    }
}
impl Bits for half::f16 {
    fn bits64(self) -> u64 {
        self.to_bits().into()
    }
}
impl Bits for half::bf16 {
    fn bits64(self) -> u64 {
        self.to_bits().into()
    }
}

fn bits<T: Bits>(
    path: Path,
    stream: &Stream,
    scheme: &Scheme,
    shape: &[usize],
    region: Option<&[Range<usize>]>,
    chunk: usize,
) -> Vec<u64> {
    let v: Vec<T> = generate_with_path(stream, scheme, shape, region, chunk, path).unwrap();
    v.into_iter().map(T::bits64).collect()
}

/// Asserts that `path` reproduces the reference for `T` on `shape` / `region`.
fn agree<T: Bits>(path: Path, stream: &Stream, scheme: &Scheme, shape: &[usize], region: Option<&[Range<usize>]>) {
    let want = bits::<T>(Path::Scalar, stream, scheme, shape, region, usize::MAX);
    let got = bits::<T>(path, stream, scheme, shape, region, CHUNK_FOR_TESTS);
    if let Some(i) = want.iter().zip(&got).position(|(a, b)| a != b) {
        panic!(
            "{path} differs from the reference for {} {scheme} {shape:?} {region:?} at {i}: {:x} vs {:x}",
            std::any::type_name::<T>(),
            got[i],
            want[i]
        );
    }
    assert_eq!(want.len(), got.len());
}

const CHUNK_FOR_TESTS: usize = 1000;

fn agree_all_types(path: Path, stream: &Stream, scheme: &Scheme, shape: &[usize], region: Option<&[Range<usize>]>) {
    agree::<f32>(path, stream, scheme, shape, region);
    agree::<f64>(path, stream, scheme, shape, region);
    agree::<half::bf16>(path, stream, scheme, shape, region);
    agree::<half::f16>(path, stream, scheme, shape, region);
}

#[test]
fn every_path_matches_the_reference_on_odd_shapes() {
    let stream = Stream::new(5, "blocks.0.mlp.fc1.weight", 1);
    // Rows shorter than a block, than a batch, and not a multiple of either.
    let shapes: [&[usize]; 6] = [
        &[1, 1],
        &[1, 7],
        &[3, 5],
        &[2, 3, 131],
        &[4, 1, 2, 257],
        &[2, 2, 3, 2, 97],
    ];
    for path in fast_paths() {
        for scheme in schemes() {
            for shape in shapes {
                agree_all_types(path, &stream, &scheme, shape, None);
            }
        }
        // Scalars and vectors (no fans).
        for scheme in [uniform(-1.0, 3.0), normal(0.5, 2.0), trunc_normal(0.0, 0.02, -2.0, 2.0)] {
            for shape in [&[][..], &[1], &[7], &[1000]] {
                agree_all_types(path, &stream, &scheme, shape, None);
            }
        }
    }
}

#[test]
fn every_path_matches_the_reference_on_regions_starting_mid_block() {
    let stream = Stream::new(17, "shard", 3);
    let shape = [6, 1001];
    let regions: [[Range<usize>; 2]; 5] = [
        [0..6, 1..1000],
        [1..4, 3..4],
        [2..3, 5..134],
        [0..6, 129..1001],
        [5..6, 998..1001],
    ];
    for path in fast_paths() {
        for scheme in schemes() {
            for region in &regions {
                agree_all_types(path, &stream, &scheme, &shape, Some(region));
            }
        }
    }
}

#[test]
fn every_path_matches_the_reference_on_many_draws() {
    // Large enough that the rare outer branches of erfinv occur thousands of times.
    let stream = Stream::new(99, "emb.weight", 1);
    let shape = [64, 16_411];
    for path in fast_paths() {
        for scheme in [trunc_normal(0.0, 0.02, -2.0, 2.0), normal(0.0, 1.0), uniform(-0.5, 0.5)] {
            agree::<f32>(path, &stream, &scheme, &shape, None);
            agree::<f64>(path, &stream, &scheme, &shape, None);
            agree::<half::bf16>(path, &stream, &scheme, &shape, None);
            agree::<half::f16>(path, &stream, &scheme, &shape, None);
        }
    }
}

#[test]
fn structured_and_whole_tensor_schemes_agree_on_every_path() {
    let stream = Stream::new(3, "w", 2);
    for path in fast_paths() {
        for (scheme, shape) in [
            (orthogonal(), vec![13, 7]),
            (orthogonal(), vec![5, 3, 3]),
            (sparse(0.3), vec![33, 9]),
            (eye(), vec![5, 7]),
            (dirac(), vec![4, 4, 3]),
        ] {
            agree_all_types(path, &stream, &scheme, &shape, None);
        }
    }
}

#[test]
fn thread_count_and_chunk_size_do_not_change_bits_on_any_path() {
    let stream = Stream::new(9, "emb.weight", 1);
    let shape = [37, 1001];
    for path in fast_paths() {
        for scheme in [normal(0.0, 1.0), trunc_normal(0.0, 0.02, -2.0, 2.0), uniform(-1.0, 1.0)] {
            let want = bits::<f32>(Path::Scalar, &stream, &scheme, &shape, None, usize::MAX);
            let want16 = bits::<half::bf16>(Path::Scalar, &stream, &scheme, &shape, None, usize::MAX);
            for threads in [1, 2, 3, 8] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                for chunk in [1, 3, 97, 4096, 1 << 15] {
                    let (got, got16) = pool.install(|| {
                        (
                            bits::<f32>(path, &stream, &scheme, &shape, None, chunk),
                            bits::<half::bf16>(path, &stream, &scheme, &shape, None, chunk),
                        )
                    });
                    assert_eq!(got, want, "{path} {scheme}: {threads} threads, chunk {chunk}");
                    assert_eq!(got16, want16, "{path} {scheme} bf16: {threads} threads, chunk {chunk}");
                }
            }
        }
    }
}

#[test]
fn every_run_start_and_length_within_a_few_batches() {
    // Direct runs, all (start, len) up to three of the largest batches.
    let key = [0xdead_beef, 0x0bad_f00d];
    let ctr = [7, 0, 11];
    let max = 3 * 4 * MAX_BLOCKS;
    for draw in [
        Draw::Normal { mean: 0.0, std: 1.0 },
        Draw::TruncNormal {
            mean: 0.0,
            std: 1.0,
            a: -5.0,
            b: 5.0,
        },
    ] {
        let p32 = draw.prepare_f32().unwrap();
        let p64 = draw.prepare_f64().unwrap();
        let want32 = collect::<f32>(2 * max, usize::MAX, |_, s| {
            s.run32(Path::Scalar, &p32, key, ctr, 0, 2 * max)
        })
        .unwrap();
        let want64 = collect::<f64>(2 * max, usize::MAX, |_, s| {
            s.run64(Path::Scalar, &p64, key, ctr, 0, 2 * max)
        })
        .unwrap();
        for path in fast_paths() {
            for start in 0..max / 3 {
                for len in (1..max).step_by(7).chain([max - 1, max]) {
                    let got =
                        collect::<f32>(len, usize::MAX, |_, s| s.run32(path, &p32, key, ctr, start, len)).unwrap();
                    let same = got
                        .iter()
                        .zip(&want32[start..])
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{path} f32 start {start} len {len}");
                    let got =
                        collect::<f64>(len, usize::MAX, |_, s| s.run64(path, &p64, key, ctr, start, len)).unwrap();
                    let same = got
                        .iter()
                        .zip(&want64[start..])
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{path} f64 start {start} len {len}");
                }
            }
        }
    }
}

#[test]
fn detect_picks_a_supported_path_that_passes_its_check() {
    let path = Path::detect();
    assert!(path.is_supported());
    assert_eq!(
        Path::supported().last(),
        Some(&path),
        "a supported path failed the self-check"
    );
    for p in Path::supported() {
        assert_eq!(check::result(p), None, "{p} fails the self-check");
    }
    assert_eq!(Path::Avx2.to_string(), "avx2");
    // NEON is part of every aarch64, so these tests run it there.
    #[cfg(target_arch = "aarch64")]
    assert_eq!(path, Path::Neon);
}

#[test]
#[should_panic(expected = "left its output part unfilled")]
fn collect_refuses_a_partly_filled_output() {
    let _ = collect::<f32>(10, 4, |_, s| s.extend(s.remaining() - 1, |_| 0.0));
}

#[test]
fn collect_fills_in_order() {
    let v = collect::<usize>(1003, 10, |first, s| s.extend(s.remaining(), |k| first + k)).unwrap();
    assert!(v.iter().enumerate().all(|(i, &x)| i == x));
    assert!(collect::<f32>(0, 10, |_, _| ()).unwrap().is_empty());
}

// The elementary functions, compiled for every path, lane by lane against
// `crate::math` and the `half` crate.

/// `f` on every path for `xs` (padded to a multiple of 16), checked by `want`.
fn check_lanewise(f: Lanewise, xs: &[u32], want: impl Fn(u32) -> u32) {
    let mut xs = xs.to_vec();
    xs.resize(xs.len().next_multiple_of(16), 0x3f80_0000);
    let mut got = vec![0; xs.len()];
    for path in Path::supported() {
        lanewise(path, f, &xs, &mut got);
        for (&x, &g) in xs.iter().zip(&got) {
            assert_eq!(g, want(x), "{path} {f:?}({x:#x})");
        }
    }
}

#[test]
fn ln32_matches_the_reference() {
    // Every 61st positive normal float.
    let xs: Vec<u32> = (0x0080_0000u32..0x7f80_0000).step_by(61).collect();
    check_lanewise(Lanewise::Ln, &xs, |x| math::ln_f32(f32::from_bits(x)).to_bits());
}

#[test]
fn sincos32_matches_the_reference_exhaustively() {
    // The angle uses the top 24 bits of the word: all of them.
    let xs: Vec<u32> = (0..1u32 << 24).map(|top| (top << 8) | (top & 0xff)).collect();
    check_lanewise(Lanewise::Sin, &xs, |w| math::sincos_turn_f32(w).0.to_bits());
    check_lanewise(Lanewise::Cos, &xs, |w| math::sincos_turn_f32(w).1.to_bits());
}

#[test]
fn narrowing_matches_the_half_crate() {
    // Every 97th bit pattern, and every pattern around the f16 and bf16 edges.
    let edges = (0..1u32 << 16).flat_map(|lo| {
        [
            0x3380_0000,
            0x3880_0000,
            0x4780_0000,
            0x7f7f_0000,
            0x7f80_0000,
            0x0000_0000,
        ]
        .map(|hi| hi | lo)
    });
    let xs: Vec<u32> = (0..=u32::MAX)
        .step_by(97)
        .chain(edges)
        .flat_map(|x| [x, x | 0x8000_0000])
        .collect();
    check_lanewise(Lanewise::Bf16, &xs, |x| {
        half::bf16::from_f32(f32::from_bits(x)).to_bits().into()
    });
    check_lanewise(Lanewise::F16, &xs, |x| {
        half::f16::from_f32(f32::from_bits(x)).to_bits().into()
    });
    for &x in &xs {
        let v = f32::from_bits(x);
        assert_eq!(draw::bf16_bits(x), half::bf16::from_f32(v).to_bits(), "bf16({x:#x})");
        assert_eq!(draw::f16_bits(x), half::f16::from_f32(v).to_bits(), "f16({x:#x})");
    }
}

#[test]
fn ln64_and_sincos64_match_the_reference() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..2_000_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let n = x >> 11;
        let (s, c) = draw::sincos64(n);
        let (rs, rc) = math::sincos_turn_f64(n);
        assert_eq!(
            (s.to_bits(), c.to_bits()),
            (rs.to_bits(), rc.to_bits()),
            "sincos64({n:#x})"
        );
        // Positive normal doubles from 2^-1022 up.
        let v = f64::from_bits((x % (0x7fe0_0000_0000_0000 - 0x0010_0000_0000_0000)) + 0x0010_0000_0000_0000);
        assert_eq!(draw::ln64(v).to_bits(), math::ln_f64(v).to_bits(), "ln64({v:e})");
    }
    for n in [
        0,
        1,
        (1 << 50) - 1,
        1 << 50,
        (1 << 50) + 1,
        (1 << 51) - 1,
        1 << 51,
        (1 << 53) - 1,
    ] {
        let (s, c) = draw::sincos64(n);
        let (rs, rc) = math::sincos_turn_f64(n);
        assert_eq!(
            (s.to_bits(), c.to_bits()),
            (rs.to_bits(), rc.to_bits()),
            "sincos64({n:#x})"
        );
    }
}

#[test]
fn generate_into_matches_generate() {
    let stream = Stream::new(4, "w", 1);
    let shape = [37, 513];
    for scheme in schemes() {
        let want: Vec<half::bf16> = crate::generate::generate(&stream, &scheme, &shape, None).unwrap();
        let mut got = vec![half::bf16::ZERO; want.len()];
        crate::generate::generate_into(&stream, &scheme, &shape, None, &mut got).unwrap();
        assert_eq!(got, want, "{scheme}");
        let region = [3..9, 7..500];
        let want: Vec<f64> = crate::generate::generate(&stream, &scheme, &shape, Some(&region)).unwrap();
        let mut got = vec![0f64; want.len()];
        crate::generate::generate_into(&stream, &scheme, &shape, Some(&region), &mut got).unwrap();
        assert!(
            got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()),
            "{scheme}"
        );
    }
    let mut short = vec![0f32; 10];
    let err = crate::generate::generate_into(&stream, &normal(0.0, 1.0), &shape, None, &mut short).unwrap_err();
    assert!(err.to_string().contains("holds 10 elements"), "{err}");
}

#[test]
fn short_rows_batched_across_rows_match_on_every_path() {
    // 3 x 3 kernels: rows of 3 (and regions cutting them) share batches.
    let stream = Stream::new(21, "conv.weight", 1);
    let shape = [40, 7, 3, 3];
    let regions: [Option<[Range<usize>; 4]>; 3] =
        [None, Some([3..37, 1..6, 0..3, 1..3]), Some([0..40, 0..7, 2..3, 0..3])];
    for path in fast_paths() {
        for scheme in schemes() {
            for region in &regions {
                let region = region.as_ref().map(|r| &r[..]);
                for chunk in [1, 5, 97, 4096] {
                    for (want, got) in [
                        (
                            bits::<f32>(Path::Scalar, &stream, &scheme, &shape, region, usize::MAX),
                            bits::<f32>(path, &stream, &scheme, &shape, region, chunk),
                        ),
                        (
                            bits::<half::bf16>(Path::Scalar, &stream, &scheme, &shape, region, usize::MAX),
                            bits::<half::bf16>(path, &stream, &scheme, &shape, region, chunk),
                        ),
                    ] {
                        assert_eq!(got, want, "{path} {scheme} {region:?} chunk {chunk}");
                    }
                }
            }
        }
    }
}

#[test]
fn whole_short_rows_match_on_every_path() {
    // Every row the same length: rows packed whole into batches, one to
    // sixteen blocks a row, with chunks that cut rows.
    let stream = Stream::new(22, "features.3.conv.weight", 1);
    // Dimensions of one before, between and after the longer ones (rows
    // counted in different counter words), one row alone, and rank 5.
    let shapes: [&[usize]; 12] = [
        &[50, 1],
        &[3, 40, 1, 1],
        &[9, 4, 2],
        &[6, 5, 5],
        &[30, 16],
        &[7, 63],
        &[4, 2, 2, 7],
        &[5, 1, 9, 3],
        &[1, 1, 70, 1],
        &[1, 1, 1, 5],
        &[60],
        &[2, 3, 2, 2, 3],
    ];
    // The same part of every row, at each lane of a block and across blocks:
    // windows that start and end inside a block, and inside a normal's pair.
    let parts: [(&[usize], [Range<usize>; 2]); 6] = [
        (&[300, 7], [0..300, 3..4]),
        (&[300, 7], [0..300, 1..2]),
        (&[300, 7], [5..290, 1..6]),
        (&[300, 7], [0..300, 2..5]),
        (&[300, 9], [0..300, 3..9]),
        (&[200, 40], [0..200, 1..38]),
    ];
    let parts_4d: [(&[usize], [Range<usize>; 4]); 2] = [
        (&[6, 5, 7, 2], [1..5, 2..5, 3..7, 0..1]),
        (&[6, 5, 1, 3], [0..6, 1..4, 0..1, 1..3]),
    ];
    let cases = shapes
        .iter()
        .map(|&s| (s, None))
        .chain(parts.iter().map(|(s, r)| (*s, Some(&r[..]))))
        .chain(parts_4d.iter().map(|(s, r)| (*s, Some(&r[..]))));
    for path in fast_paths() {
        for scheme in schemes() {
            for (shape, region) in cases.clone() {
                if scheme.plan(shape).is_err() {
                    continue; // fan-based schemes of a vector
                }
                for chunk in [1, 7, 4096] {
                    let want = bits::<f32>(Path::Scalar, &stream, &scheme, shape, region, usize::MAX);
                    let got = bits::<f32>(path, &stream, &scheme, shape, region, chunk);
                    assert_eq!(got, want, "{path} {scheme} {shape:?} {region:?} chunk {chunk}");
                    let want = bits::<half::f16>(Path::Scalar, &stream, &scheme, shape, region, usize::MAX);
                    let got = bits::<half::f16>(path, &stream, &scheme, shape, region, chunk);
                    assert_eq!(got, want, "{path} {scheme} {shape:?} {region:?} chunk {chunk}");
                }
            }
        }
    }
}

#[test]
fn every_path_runs_within_the_stack_budget() {
    // Every draw, element type and entry (whole rows, gathered short rows,
    // f64, the whole-tensor schemes) on a thread with only the budget.
    let run = || {
        let stream = Stream::new(5, "stack", 1);
        for path in Path::supported() {
            for scheme in schemes().into_iter().chain([eye(), orthogonal(), sparse(0.5)]) {
                for shape in [&[6, 3][..], &[2, 300], &[3, 4, 5]] {
                    if scheme.plan(shape).is_err() {
                        continue;
                    }
                    bits::<f32>(path, &stream, &scheme, shape, None, usize::MAX);
                    bits::<f64>(path, &stream, &scheme, shape, None, usize::MAX);
                    bits::<half::f16>(path, &stream, &scheme, shape, None, usize::MAX);
                    bits::<half::bf16>(path, &stream, &scheme, shape, None, usize::MAX);
                }
            }
        }
    };
    std::thread::Builder::new()
        .stack_size(STACK_BUDGET)
        .spawn(run)
        .unwrap()
        .join()
        .expect("generation within the stack budget");
}

/// An elementary function of `draw32`, for the tests.
#[derive(Clone, Copy, Debug)]
pub(super) enum Lanewise {
    Ln,
    Sin,
    Cos,
    Bf16,
    F16,
}

/// `f` of every lane of `xs` (a multiple of `F::N` long) into `out`, compiled
/// as the transforms are (`Isa::lanewise`).
#[cfg_attr(not(opt_level_zero), inline(always))]
pub(super) fn lanewise_on<F: V32>(t: F::Token, f: Lanewise, xs: &[u32], out: &mut [u32]) {
    for (x, o) in xs.chunks_exact(F::N).zip(out.chunks_exact_mut(F::N)) {
        let v = vec32::Many::<F, 1>::load(t, x);
        let r = match f {
            Lanewise::Ln => draw32::ln32(t, v),
            Lanewise::Sin => draw32::sincos32(t, v).0,
            Lanewise::Cos => draw32::sincos32(t, v).1,
            Lanewise::Bf16 => draw32::bf16_bits(t, v),
            Lanewise::F16 => draw32::f16_bits(t, v),
        };
        r.0[0].store_u32(o);
    }
}

/// [`lanewise_on`] on `path`.
fn lanewise(path: Path, f: Lanewise, xs: &[u32], out: &mut [u32]) {
    struct Lanes<'a>(Lanewise, &'a [u32], &'a mut [u32]);
    impl Task for Lanes<'_> {
        type Output = ();
        fn run<I: Isa>(self, isa: I) {
            isa.lanewise(self.0, self.1, self.2);
        }
    }
    assert!(xs.len().is_multiple_of(16) && out.len() == xs.len());
    isa::with(path, Lanes(f, xs, out)).expect("a supported path");
}

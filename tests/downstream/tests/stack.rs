//! Generation on a thread with only `STACK_BUDGET` of stack, on every kernel
//! path, built as a user's crate builds it (opt-level 0 under `cargo test`).

use std::ops::Range;

use reproducible::generate::generate_with_path;
use reproducible::generate::Element;
use reproducible::kernels::{Path, STACK_BUDGET};
use reproducible::scheme::{self, Scheme};
use reproducible::stream::Stream;

fn schemes() -> Vec<Scheme> {
    vec![
        scheme::uniform(-1.0, 1.0),
        scheme::normal(0.0, 1.0),
        scheme::trunc_normal(0.0, 1.0, -2.0, 2.0),
        scheme::trunc_normal(0.0, 0.02, -2.0, 2.0),
        scheme::kaiming_uniform(),
        scheme::constant(0.5),
        scheme::eye(),
        scheme::dirac(),
        scheme::orthogonal(),
        scheme::sparse(0.5),
    ]
}

fn every<T: Element>(path: Path, stream: &Stream) {
    // Whole rows, short rows gathered into batches, a region, rank 4.
    type Case<'a> = (&'a [usize], Option<&'a [Range<usize>]>);
    let cases: [Case; 4] = [
        (&[3, 300], None),
        (&[40, 3], None),
        (&[9, 70], Some(&[2..7, 5..61])),
        (&[8, 4, 3, 3], None),
    ];
    for scheme in schemes() {
        for (shape, region) in &cases {
            if scheme.plan(shape).is_ok() {
                generate_with_path::<T>(stream, &scheme, shape, *region, usize::MAX, path).unwrap();
            }
        }
    }
}

#[test]
fn every_path_draw_and_dtype_fits_the_stack_budget() {
    for path in Path::supported() {
        let run = move || {
            let stream = Stream::new(3, "blocks.0.attn.qkv.weight", 1);
            every::<f32>(path, &stream);
            every::<f64>(path, &stream);
            every::<half::f16>(path, &stream);
            every::<half::bf16>(path, &stream);
        };
        std::thread::Builder::new()
            .name(format!("{path} on {STACK_BUDGET} bytes"))
            .stack_size(STACK_BUDGET)
            .spawn(run)
            .unwrap()
            .join()
            .unwrap_or_else(|_| panic!("{path} failed within the stack budget"));
    }
}

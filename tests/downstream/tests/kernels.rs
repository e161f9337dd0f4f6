//! Choosing the kernel path in code (its own test binary: the choice is
//! process-wide).

use reproducible::generate::generate;
use reproducible::kernels::{self, Path};
use reproducible::scheme::trunc_normal;
use reproducible::stream::Stream;

#[test]
fn a_chosen_path_is_used_and_gives_the_same_bits() {
    let stream = Stream::new(11, "pos_embed", 1);
    let scheme = trunc_normal(0.0, 0.02, -2.0, 2.0);
    let want: Vec<f32> = generate(&stream, &scheme, &[5, 77], None).unwrap();
    for path in Path::supported() {
        kernels::select(Some(path)).unwrap();
        assert_eq!(kernels::current().unwrap(), path);
        let got: Vec<f32> = generate(&stream, &scheme, &[5, 77], None).unwrap();
        assert_eq!(
            got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            "{path}"
        );
    }
    if let Some(missing) = Path::ALL.into_iter().find(|p| !p.is_supported()) {
        let e = kernels::select(Some(missing)).unwrap_err().to_string();
        assert!(e.contains("is not supported on this machine"), "{e}");
        let e = reproducible::generate::generate_with_path::<f32>(&stream, &scheme, &[4], None, 64, missing)
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("kernel path `{missing}` is not supported")), "{e}");
    }
    assert!(kernels::parse("SSE9")
        .unwrap_err()
        .to_string()
        .contains("unknown kernel path `sse9`"));
    assert_eq!(kernels::parse(" Auto ").unwrap(), None);
    kernels::select(None).unwrap();
}

#[test]
fn auto_picks_the_fastest_path_for_this_build() {
    // `cargo test` of this crate builds the runtime at opt-level 0 (Cargo's
    // default dev profile; this crate overrides nothing), where the vector
    // paths' helpers are calls and the scalar path is the fastest (`cargo run
    // --example vit_base_init` times every path). `--release` picks the widest.
    if cfg!(debug_assertions) {
        assert_eq!(Path::detect(), Path::Scalar);
    } else {
        assert_eq!(Path::detect(), *Path::supported().last().unwrap());
    }
}

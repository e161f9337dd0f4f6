//! Times a ViT-B/16 init (86.6 million parameters) in whatever profile this
//! crate is built with: `cargo run --example vit_base_init` is a user's debug
//! build, `--release` an optimised one.

use std::time::Instant;

use downstream::{Vit, VitConfig};
use reproducible::{kernels, Init};

fn main() -> reproducible::Result<()> {
    let path = kernels::current()?;
    let cfg = VitConfig::base();
    let init = Init::new(0);
    let mut times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let vit = Vit::init(&cfg, &init)?;
        times.push(start.elapsed());
        drop(vit);
    }
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    println!(
        "ViT-B/16 init, {profile} build of a user's crate, kernel path {path}, {} threads: first {:.0} ms, best {:.0} ms",
        rayon_threads(),
        times[0].as_secs_f64() * 1e3,
        times.iter().min().unwrap().as_secs_f64() * 1e3
    );
    Ok(())
}

fn rayon_threads() -> String {
    std::env::var("RAYON_NUM_THREADS")
        .unwrap_or_else(|_| std::thread::available_parallelism().map_or("?".into(), |n| n.to_string()))
}

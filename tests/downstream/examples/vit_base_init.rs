//! Times a ViT-B/16 init (86.6 million parameters) in whatever profile this
//! crate is built with (`cargo run --example vit_base_init` is a user's debug
//! build, `--release` an optimised one), on every kernel path this machine
//! supports, and says which one `auto` picks for this build.

use std::time::{Duration, Instant};

use downstream::{Vit, VitConfig};
use reproducible::kernels::{self, Path};
use reproducible::{Init, Result};

fn best_of(runs: usize, cfg: &VitConfig, init: &Init) -> Result<(Duration, Duration)> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let vit = Vit::init(cfg, init)?;
        times.push(start.elapsed());
        drop(vit);
    }
    Ok((times[0], *times.iter().min().expect("at least one run")))
}

fn main() -> Result<()> {
    let auto = kernels::current()?;
    let cfg = VitConfig::base();
    let init = Init::new(0);
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    println!(
        "ViT-B/16 init, {profile} build of a user's crate, {} threads; `auto` picks {auto}",
        rayon_threads()
    );
    let mut rows = Vec::new();
    for path in Path::supported() {
        kernels::select(Some(path))?;
        let (first, best) = best_of(2, &cfg, &init)?;
        rows.push((path, first, best));
    }
    kernels::select(None)?;
    let fastest = rows
        .iter()
        .map(|r| r.2)
        .min()
        .expect("the scalar path is always supported");
    println!("{:<10} {:>10} {:>10} {:>12}", "path", "first", "best", "x fastest");
    for (path, first, best) in rows {
        println!(
            "{:<10} {:>7.0} ms {:>7.0} ms {:>11.2}x{}",
            path.name(),
            first.as_secs_f64() * 1e3,
            best.as_secs_f64() * 1e3,
            best.as_secs_f64() / fastest.as_secs_f64(),
            if path == auto { "   <- auto" } else { "" }
        );
    }
    Ok(())
}

fn rayon_threads() -> String {
    std::env::var("RAYON_NUM_THREADS")
        .unwrap_or_else(|_| std::thread::available_parallelism().map_or("?".into(), |n| n.to_string()))
}

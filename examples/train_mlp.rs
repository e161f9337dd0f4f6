//! Reproducible training: `cargo run --example train_mlp`.
//!
//! Trains a small MLP with AdamW and keyed dropout on deterministic synthetic
//! data, twice, and once more with an extra unused parameter; prints the three
//! loss curves and whether they are bit-identical.

use reproducible_examples::train::{run, TrainConfig};

fn main() -> candle_core::Result<()> {
    let cfg = TrainConfig::default();
    let a = run(&cfg, false)?;
    let b = run(&cfg, false)?;
    let c = run(&cfg, true)?;
    println!(
        "{:>5} {:>12} {:>12} {:>22}",
        "step", "run 1", "run 2", "run 3 (+unused param)"
    );
    for step in (0..cfg.steps).step_by(25).chain([cfg.steps - 1]) {
        println!("{step:>5} {:>12.6} {:>12.6} {:>22.6}", a[step], b[step], c[step]);
    }
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    println!("\nrun 1 == run 2, bit for bit: {}", bits(&a) == bits(&b));
    println!(
        "run 1 == run 3 (one more, unused parameter), bit for bit: {}",
        bits(&a) == bits(&c)
    );
    Ok(())
}

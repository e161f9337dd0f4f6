//! The seed story, re-enacted: `cargo run --example seed_story`.
//!
//! Version 1 of an attention block is tidied into version 2, which adds a `gamma`
//! parameter and a `Linear` that `forward` never uses. With reproducible keyed
//! streams every parameter the two versions share keeps its exact bits; with one
//! sequential generator (what PyTorch does) every one of them changes.

use reproducible_examples::story::{compare, AttentionConfig};

fn main() -> candle_core::Result<()> {
    let cfg = AttentionConfig::story();
    let seed = 42;
    println!(
        "Attention(dim={}, heads={}), seed {seed}: version 1 -> version 2",
        cfg.dim, cfg.num_heads
    );
    println!("version 2 adds `gamma` and an unused `extra: Linear` before the old fields\n");
    println!(
        "{:<14} {:>28} {:>34}",
        "parameter", "reproducible (keyed streams)", "one sequential generator (PyTorch)"
    );
    let rows = compare(seed, &cfg)?;
    for r in &rows {
        let say = |same: bool| if same { "bit-identical" } else { "DIFFERENT" };
        println!(
            "{:<14} {:>28} {:>34}",
            r.path,
            say(r.keyed_identical),
            say(r.sequential_identical)
        );
    }
    let kept = rows.iter().filter(|r| r.keyed_identical).count();
    let moved = rows.iter().filter(|r| !r.sequential_identical).count();
    println!(
        "\nkeyed streams: {kept} of {} shared parameters unchanged; sequential generator: {moved} of {} changed",
        rows.len(),
        rows.len()
    );
    Ok(())
}

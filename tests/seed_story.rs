//! The seed story example asserts what it prints.

use reproducible_examples::story::{compare, AttentionConfig};

#[test]
fn keyed_streams_keep_every_shared_parameter_and_sequential_init_moves_them_all() {
    let cfg = AttentionConfig {
        dim: 32,
        num_heads: 4,
        attn_drop: 0.1,
        proj_drop: 0.1,
    };
    for seed in [0, 42] {
        let rows = compare(seed, &cfg).unwrap();
        let paths: Vec<&str> = rows.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["qkv.weight", "proj.weight", "proj.bias"]);
        assert!(rows.iter().all(|r| r.keyed_identical), "{rows:?}");
        assert!(rows.iter().all(|r| !r.sequential_identical), "{rows:?}");
    }
}

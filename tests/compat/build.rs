//! Prepares candle-examples' tensor-parallel Llama loader
//! (`examples/llama_multiprocess/model.rs`, fetched by
//! `tools/fetch-candle-examples.sh`) for the `llama_multiprocess` test: the
//! file is used as candle writes it, with one line changed, its
//! `ShardedVarBuilder` import.

use std::path::PathBuf;

const ORIGINAL: &str = "use candle_nn::var_builder::ShardedVarBuilder as VarBuilder;";
const PORTED: &str = "use reproducible::backend::ShardedVarBuilder as VarBuilder;";

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let source =
        manifest.join("../../target/candle-examples/candle-examples-0.11.1/examples/llama_multiprocess/model.rs");
    println!("cargo::rerun-if-changed={}", source.display());
    println!("cargo::rustc-check-cfg=cfg(candle_examples)");
    // The loader's GPU-only all-reduce is behind candle-examples' own feature.
    println!("cargo::rustc-check-cfg=cfg(feature, values(\"cuda\"))");
    let Ok(code) = std::fs::read_to_string(&source) else {
        println!(
            "cargo::warning=candle-examples' llama_multiprocess loader is not fetched ({}): \
             run tools/fetch-candle-examples.sh; the llama_multiprocess test fails until then",
            source.display()
        );
        return;
    };
    assert_eq!(
        code.matches(ORIGINAL).count(),
        1,
        "{} does not import candle's ShardedVarBuilder exactly once",
        source.display()
    );
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("llama_multiprocess_model.rs");
    std::fs::write(&out, code.replace(ORIGINAL, PORTED)).expect("writing the ported loader to OUT_DIR");
    println!("cargo::rustc-cfg=candle_examples");
}

//! Real-model compatibility tests live in `transformers.rs`, `recipes.rs`,
//! `fine_tuning.rs` and `llama_multiprocess.rs`; this holds what they share.

use candle_core::{DType, Tensor};

/// A tensor's elements as f32 bit patterns, for bit-for-bit comparisons.
pub fn bits(t: &Tensor) -> Vec<u32> {
    t.flatten_all()
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()
        .into_iter()
        .map(f32::to_bits)
        .collect()
}

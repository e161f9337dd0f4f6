//! Real-model compatibility tests live in `transformers.rs`.

//! Writes the story's attention block (version 2: `gamma`, the unused `extra`
//! Linear, `qkv`, `proj`), initialised with seed 42, as a checkpoint: what the
//! Python package's `torch = candle` test compares a torch port of the same
//! block against.
//!
//! ```text
//! cargo run -p reproducible-examples --example story_checkpoint -- OUT.safetensors
//! ```

use std::path::PathBuf;

use reproducible::checkpoint::{self, Metadata};
use reproducible::model::init_with_provenance;
use reproducible::prelude::*;
use reproducible_examples::story::{AttentionConfig, AttentionV2};

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let Some(out) = std::env::args_os().nth(1).map(PathBuf::from) else {
        return Err("usage: story_checkpoint OUT.safetensors".into());
    };
    let init = Init::new(42);
    let (model, provenance) = init_with_provenance::<AttentionV2>(&AttentionConfig::story(), &init)?;
    checkpoint::save_model(
        &out,
        &model,
        &Metadata::new(Some(42), AttentionV2::MODEL_VERSION, provenance),
    )?;
    println!("wrote {}", out.display());
    Ok(())
}

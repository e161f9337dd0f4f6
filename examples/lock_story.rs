//! The seed story with an init lockfile: every change to the attention
//! block's initial values becomes one reviewable line.
//!
//! Version 1 is locked. Version 2 adds `gamma` and an unused `Linear`: the check
//! reports exactly those as added and the rest as unchanged. Version 3 bumps
//! `gamma`'s version: the check reports that bump for `gamma` alone.

use std::path::{Path, PathBuf};

use reproducible::diff::{diff, Diff};
use reproducible::lock::{self, Checked, Mode};
use reproducible::manifest::Manifest;
use reproducible::prelude::*;

use crate::story::{AttentionConfig, AttentionV1, AttentionV2};

/// Version 3: version 2 with `gamma` re-rolled on purpose (its version bumped
/// from 1 to 2); nothing else changes.
#[reproducible_model(config = AttentionConfig, version = 3)]
pub struct AttentionV3 {
    #[param(shape = [1, cfg.num_heads, 1, 1], init = normal(0.0, 1.0), version = 2)]
    gamma: Tensor,
    #[module(linear(cfg.dim, cfg.dim), unused = "the unused layer of the story, kept to show it changes nothing")]
    extra: Linear,
    #[module(linear_no_bias(cfg.dim, cfg.dim * 3))]
    qkv: Linear,
    #[module(linear(cfg.dim, cfg.dim))]
    proj: Linear,
}

#[reproducible::forward]
impl AttentionV3 {
    /// The parameters `forward` would read (the story only initialises them).
    pub fn used(&self) -> [&Tensor; 3] {
        [&self.gamma, self.qkv.weight(), self.proj.weight()]
    }
}

/// What the lockfile flow found at each step.
#[derive(Debug)]
pub struct LockStory {
    /// The lockfile.
    pub file: PathBuf,
    /// The lockfile text of version 1.
    pub locked_v1: String,
    /// Version 1 -> version 2, as `lock::check` reported it.
    pub v2: Diff,
    /// The error `lock::check` returned for version 2.
    pub v2_error: String,
    /// Version 2 -> version 3, as `lock::check` reported it.
    pub v3: Diff,
    /// The error `lock::check` returned for version 3.
    pub v3_error: String,
}

/// The manifests of the three versions under `seed`.
pub fn manifests(seed: u64, cfg: &AttentionConfig) -> reproducible::Result<[Manifest; 3]> {
    let init = Init::new(seed);
    Ok([
        Manifest::init::<AttentionV1>(cfg, &init)?,
        Manifest::init::<AttentionV2>(cfg, &init)?,
        Manifest::init::<AttentionV3>(cfg, &init)?,
    ])
}

/// Runs the flow with the lockfile `dir/attention.lock`: lock version 1, check
/// version 2 (and accept it, as `REPRODUCIBLE_LOCK=overwrite` would), check version 3.
pub fn run(seed: u64, cfg: &AttentionConfig, dir: &Path) -> reproducible::Result<LockStory> {
    let [v1, v2, v3] = manifests(seed, cfg)?;
    let file = dir.join("attention.lock");
    lock::write(&file, &v1)?;
    let locked_v1 = lock::render(&v1);

    let v2_error = expect_mismatch(&file, &v2)?;
    let Checked::Updated(v2_diff) = lock::check_with(&file, &v2, Mode::Overwrite)? else {
        unreachable!("version 2 differs from version 1");
    };
    debug_assert_eq!(v2_diff, diff(&v1, &v2));

    let v3_error = expect_mismatch(&file, &v3)?;
    let v3_diff = diff(&lock::read(&file)?, &v3);
    Ok(LockStory {
        file,
        locked_v1,
        v2: v2_diff,
        v2_error,
        v3: v3_diff,
        v3_error,
    })
}

/// The error of a check that must fail.
fn expect_mismatch(file: &Path, manifest: &Manifest) -> reproducible::Result<String> {
    match lock::check_with(file, manifest, Mode::Check) {
        Err(e) => Ok(e.to_string()),
        Ok(c) => unreachable!("the check passed ({c:?}) although the model changed"),
    }
}

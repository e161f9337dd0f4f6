//! Former names of moved and renamed items, kept so that code written for them
//! still builds, with a deprecation warning that names the new place
//! (`CHANGELOG.md` lists them). Hidden from the docs; they go in a later
//! release.
//!
//! Rust has no deprecated re-export, so each is a deprecated alias, wrapper
//! function, constant or module; the traits `Element` and `ModelExt`, which no
//! alias can stand for, are plain re-exports.
#![allow(missing_docs)]

/// Was `reproducible::init`: [`Init`](crate::Init) is at the crate root.
pub mod init {
    #[deprecated(since = "0.1.0", note = "`Init` is at the crate root: `reproducible::Init`")]
    pub type Init = crate::Init;
}

/// Was `reproducible::presets`: now `reproducible::scheme::presets` (rustc
/// warns of no path through a deprecated module, so this one is silent).
pub mod presets {
    pub use crate::scheme::presets::*;
}

#[deprecated(since = "0.1.0", note = "moved to `reproducible::generate::generate`")]
pub fn generate<T: crate::generate::Element>(
    stream: &crate::stream::Stream,
    scheme: &crate::Scheme,
    shape: &[usize],
    region: Option<&[std::ops::Range<usize>]>,
) -> crate::Result<Vec<T>> {
    crate::generate::generate(stream, scheme, shape, region)
}

pub use crate::generate::Element;
pub use crate::model::ModelExt;

#[deprecated(since = "0.1.0", note = "moved to `reproducible::model::Ctx`")]
pub type Ctx<'a> = crate::model::Ctx<'a>;
#[deprecated(since = "0.1.0", note = "moved to `reproducible::model::Param`")]
pub type Param = crate::model::Param;
#[deprecated(since = "0.1.0", note = "moved to `reproducible::model::ParamSpec`")]
pub type ParamSpec = crate::model::ParamSpec;
#[deprecated(since = "0.1.0", note = "moved to `reproducible::stream::Stream`")]
pub type Stream = crate::stream::Stream;
#[deprecated(since = "0.1.0", note = "moved to `reproducible::stream::SPEC_VERSION`")]
pub const SPEC_VERSION: u32 = crate::stream::SPEC_VERSION;
#[deprecated(
    since = "0.1.0",
    note = "candle's: `candle_core::DType`, or `reproducible::prelude::DType`"
)]
pub type DType = candle_core::DType;
#[deprecated(
    since = "0.1.0",
    note = "candle's: `candle_core::Device`, or `reproducible::prelude::Device`"
)]
pub type Device = candle_core::Device;
#[deprecated(
    since = "0.1.0",
    note = "candle's: `candle_core::Tensor`, or `reproducible::prelude::Tensor`"
)]
pub type Tensor = candle_core::Tensor;

/// The layer specs' former names (`reproducible::layers::*Config`).
pub mod layers {
    use crate::layers::{DropoutSpec, EmbeddingSpec, GroupNormSpec, LinearSpec, RmsNormSpec};

    #[deprecated(since = "0.1.0", note = "renamed `DropoutSpec`")]
    pub type DropoutConfig = DropoutSpec;
    #[deprecated(since = "0.1.0", note = "renamed `EmbeddingSpec`")]
    pub type EmbeddingConfig = EmbeddingSpec;
    #[deprecated(since = "0.1.0", note = "renamed `GroupNormSpec`")]
    pub type GroupNormConfig = GroupNormSpec;
    #[deprecated(since = "0.1.0", note = "renamed `LinearSpec`")]
    pub type LinearConfig = LinearSpec;
    #[deprecated(since = "0.1.0", note = "renamed `RmsNormSpec`")]
    pub type RmsNormConfig = RmsNormSpec;
}

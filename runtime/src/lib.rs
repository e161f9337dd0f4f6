#![doc = include_str!("../../README.md")]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod coords;
pub mod error;
pub mod generate;
pub mod init;
pub mod layers;
pub mod math;
pub mod model;
pub mod orthogonal;
pub mod philox;
pub mod prelude;
pub mod presets;
pub mod scheme;
pub mod stream;
pub mod transform;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use error::{Error, Result};
pub use generate::{generate, Element};
pub use init::Init;
pub use model::{Ctx, Model, ModelExt, Param, ParamSpec};
pub use scheme::Scheme;
pub use stream::{Stream, SPEC_VERSION};

#[doc(inline)]
pub use reproducible_macros::{forward, reproducible_model};

/// Re-exports of the candle types the API takes.
pub use candle_core::{DType, Device, Tensor};

#![doc = include_str!("../../README.md")]
#![deny(missing_docs)]

pub mod coords;
pub mod error;
pub mod generate;
pub mod init;
pub mod math;
pub mod orthogonal;
pub mod philox;
pub mod presets;
pub mod scheme;
pub mod stream;
pub mod transform;

pub use error::{Error, Result};
pub use generate::{generate, Element};
pub use init::Init;
pub use scheme::Scheme;
pub use stream::{Stream, SPEC_VERSION};

/// Re-exports of the candle types the API takes.
pub use candle_core::{DType, Device, Tensor};

//! The value stream of SPEC.md.

pub mod coords;
pub mod generate;
pub mod kernels;
pub mod math;
pub(crate) mod orthogonal;
pub mod philox;
pub mod stream;
pub mod transform;

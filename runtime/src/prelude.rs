//! Everything a model file needs: `use reproducible::prelude::*;`.
//!
//! `Result` is candle's, so `impl Module for M { fn forward(..) -> Result<Tensor> }`
//! type-checks; the crate's own errors convert into it with `?` (the rule of
//! the crate docs: forward code returns candle's `Result`, building and
//! loading return [`crate::Result`]).

pub use crate::layers::*;
pub use crate::model::{Model, ModelExt};
pub use crate::{forward, reproducible_model, Init, Scheme};
pub use candle_core::{DType, Device, IndexOp, Module, Result, Tensor, Var, D};
pub use candle_nn::{BatchNorm, Conv1d, Conv2d, Dropout, Embedding, Linear, ModuleT};

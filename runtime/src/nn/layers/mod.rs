//! candle-nn layers as reproducible modules, initialised as PyTorch does.
//!
//! Each layer has a spec built by a snake_case function ([`linear`],
//! [`conv2d`], [`layer_norm`], ...) whose defaults are PyTorch's (the schemes of
//! [`crate::scheme::presets`]), builder methods to override them (`.weight_init(..)`,
//! `.bias_init(..)`, `.eps(..)`, ...), and an `impl Model` for the layer type, so
//! the layer can be a field of a reproducible model or be built on its own with
//! [`Model::build`](crate::Model::build). Parameter names are the ones candle-nn's own constructors
//! request (`weight`, `bias`, `running_mean`, `weight_ih_l0`, ...), which are
//! PyTorch's `state_dict` names, so [`Ctx::load`] reads candle and Hugging Face
//! checkpoints as they are.
//!
//! The layer types are candle-nn's ([`Linear`], [`Conv1d`], [`Conv2d`],
//! [`Embedding`], [`BatchNorm`]), re-exported here, except three that keep
//! their tensors private in candle-nn and are wrapped ([`GroupNorm`], [`Lstm`]
//! and [`Gru`]) and the two norms whose fused candle-nn kernels have no
//! backward pass, [`LayerNorm`] and [`RmsNorm`], which train (candle-nn's
//! `LayerNorm` and `RmsNorm` build from the same specs, for inference).
//!
//! Names: what a layer is built from is its `<Layer>Spec` ([`LinearSpec`],
//! [`Conv2dSpec`], ...): candle-nn's options for the layer, where it has some
//! (`candle_nn::Conv2dConfig`, `LayerNormConfig`, ...), plus the init scheme of
//! each parameter. The suffix never collides with candle-nn's `*Config`, so both
//! can be in scope. The snake_case functions ([`linear`], [`conv2d`]) make a spec
//! with PyTorch's defaults; unlike `candle_nn::linear(in, out, vb)` they build no
//! layer (a spec becomes one through [`Model::build`](crate::Model::build), or as
//! a `#[module(..)]` field).
//!
//! ```
//! use candle_nn::Module;
//! use reproducible::layers::{layer_norm, linear, LayerNorm, Linear};
//! use reproducible::scheme::zeros;
//! use candle_core::{DType, Device, Tensor};
//! use reproducible::model::{Ctx, ModelExt};
//! use reproducible::{Init, Model};
//!
//! let init = Init::new(0);
//! let block = Ctx::init(&init).child("blocks.0");
//! let fc = Linear::build(&linear(4, 8).bias_init(zeros()), &block.child("fc"))?;
//! let ln = LayerNorm::build(&layer_norm(8), &block.child("ln"))?;
//!
//! let names: Vec<String> = fc.parameters().into_iter().map(|p| p.path).collect();
//! assert_eq!(names, ["weight", "bias"]);
//! // nn.Linear's default: U(-1/sqrt(in), 1/sqrt(in)); the bias was overridden.
//! let w = fc.weight().flatten_all()?.to_vec1::<f32>()?;
//! assert!(w.iter().all(|v| v.abs() <= 0.5));
//! assert_eq!(fc.bias().unwrap().sum_all()?.to_scalar::<f32>()?, 0.0);
//!
//! let x = Tensor::ones((2, 4), DType::F32, &Device::Cpu)?;
//! assert_eq!(ln.forward(&fc.forward(&x)?)?.dims(), &[2, 8]);
//! # Ok::<(), reproducible::Error>(())
//! ```

mod batch_norm;
mod conv;
mod embedding;
mod group_norm;
mod layer_norm;
mod linear;
mod recurrent;
#[cfg(test)]
mod tests;

pub use batch_norm::{batch_norm, BatchNormSpec};
pub use conv::{conv1d, conv2d, Conv1dSpec, Conv2dSpec};
pub use embedding::{embedding, EmbeddingSpec};
pub use group_norm::{group_norm, GroupNorm, GroupNormSpec};
pub use layer_norm::{layer_norm, rms_norm, LayerNorm, LayerNormSpec, RmsNorm, RmsNormSpec};
pub use linear::{linear, linear_no_bias, LinearSpec};
pub use recurrent::{gru, lstm, Gru, GruSpec, Lstm, LstmSpec, Recurrent};

#[doc(hidden)]
#[allow(deprecated)]
pub use crate::deprecated::layers::*;
pub use crate::dropout::{dropout, DropoutSpec, KeyedDropout};
pub use candle_nn::rnn::{GRUState, LSTMState};
pub use candle_nn::{BatchNorm, Conv1d, Conv2d, Embedding, Linear, RNN};

use crate::error::{Error, Result};
use crate::model::Ctx;

/// A configuration mistake in a layer (zero groups, negative eps), as an error
/// naming `path`, or the layer alone when it is built at the root.
fn config_error(path: &str, layer: &str, reason: impl std::fmt::Display) -> Error {
    Error::Config {
        path: path.to_owned(),
        layer: layer.to_owned(),
        reason: reason.to_string(),
    }
}

/// An `eps` that is not finite and non-negative, as a configuration error.
fn check_eps(ctx: &Ctx, layer: &str, eps: f64) -> Result<()> {
    if eps.is_finite() && eps >= 0.0 {
        Ok(())
    } else {
        Err(config_error(
            ctx.path(),
            layer,
            format!("eps must be finite and >= 0, got {eps}"),
        ))
    }
}

//! PyTorch's default initialisation of its layers, as schemes.
//!
//! Each function returns what the named `torch.nn` layer's `reset_parameters`
//! does to that parameter (PyTorch 2.x). Biases whose bound depends on the
//! weight's fan-in take it as an argument, because the bias alone has no fan.
//!
//! ```
//! use reproducible::scheme::presets;
//! // nn.Linear(768, 3072): weight ~ U(-1/sqrt(768), 1/sqrt(768)) via kaiming_uniform(a=sqrt(5)).
//! let w = presets::linear_weight();
//! let b = presets::linear_bias(768);
//! assert_eq!(b.to_string(), format!("uniform(a={:?}, b={:?})", -1.0 / 768f64.sqrt(), 1.0 / 768f64.sqrt()));
//! # let _ = w;
//! ```

use crate::scheme::{kaiming_uniform, normal, ones, uniform, xavier_uniform, zeros, Scheme};

/// `nn.Linear.weight`: `kaiming_uniform_(a=sqrt(5))`, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
pub fn linear_weight() -> Scheme {
    kaiming_uniform().a(5f64.sqrt())
}

/// `nn.Linear.bias`: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the weight's `fan_in`.
pub fn linear_bias(fan_in: usize) -> Scheme {
    let bound = if fan_in > 0 { 1.0 / (fan_in as f64).sqrt() } else { 0.0 };
    uniform(-bound, bound)
}

/// `nn.Conv1d/2d/3d.weight` and `nn.ConvTranspose1d/2d/3d.weight`: the same rule
/// as Linear, with the fan computed from the weight's own shape (for transposed
/// convolutions that is `out_channels / groups * kernel`, as in PyTorch).
pub fn conv_weight() -> Scheme {
    linear_weight()
}

/// `nn.Conv*.bias`: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), `fan_in` of the weight
/// (`in_channels / groups * prod(kernel)`, or `out_channels / groups * prod(kernel)`
/// for transposed convolutions).
pub fn conv_bias(fan_in: usize) -> Scheme {
    linear_bias(fan_in)
}

/// `nn.Embedding.weight`: N(0, 1) (a `padding_idx` row is zeroed by the layer).
pub fn embedding() -> Scheme {
    normal(0.0, 1.0)
}

/// Weight of `nn.LayerNorm`, `nn.RMSNorm`, `nn.GroupNorm`, `nn.BatchNorm*d`: ones.
pub fn norm_weight() -> Scheme {
    ones()
}

/// Bias of `nn.LayerNorm`, `nn.GroupNorm`, `nn.BatchNorm*d`: zeros.
pub fn norm_bias() -> Scheme {
    zeros()
}

/// `nn.BatchNorm*d.running_mean` buffer: zeros.
pub fn batch_norm_running_mean() -> Scheme {
    zeros()
}

/// `nn.BatchNorm*d.running_var` buffer: ones.
pub fn batch_norm_running_var() -> Scheme {
    ones()
}

/// `nn.MultiheadAttention.in_proj_weight`: `xavier_uniform_`.
pub fn mha_in_proj_weight() -> Scheme {
    xavier_uniform()
}

/// `nn.MultiheadAttention.in_proj_bias` and `out_proj.bias`: zeros.
pub fn mha_bias() -> Scheme {
    zeros()
}

/// `nn.MultiheadAttention.out_proj.weight`: the Linear default.
pub fn mha_out_proj_weight() -> Scheme {
    linear_weight()
}

/// Every weight and bias of `nn.RNN`, `nn.LSTM`, `nn.GRU`:
/// U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
pub fn rnn(hidden_size: usize) -> Scheme {
    linear_bias(hidden_size)
}

//! `nn.LSTM` and `nn.GRU`, one layer each: [`lstm`], [`gru`], and the [`Recurrent`] wrapper
//! that keeps their tensors in reach (candle-nn keeps them private).

use std::collections::HashMap;

use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{VarBuilder, RNN};

use crate::error::Result;
use crate::model::{Ctx, Model, ParamSpec};
use crate::scheme::presets;
use crate::scheme::Scheme;

/// Serves exactly the tensors a layer generated to candle-nn's constructor,
/// which only takes a `VarBuilder`. Any other name or shape is a bug in the
/// name table below (candle-nn changed its names), reported with the full path.
pub(super) struct Served {
    pub(super) prefix: String,
    pub(super) tensors: HashMap<String, Tensor>,
}

impl Served {
    fn full(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    fn lookup(&self, name: &str) -> candle_core::Result<&Tensor> {
        self.tensors.get(name).ok_or_else(|| {
            let mut known: Vec<&str> = self.tensors.keys().map(String::as_str).collect();
            known.sort_unstable();
            candle_core::Error::Msg(format!(
                "parameter `{}`: candle-nn asked for a tensor this layer does not define (it defines {known:?})",
                self.full(name)
            ))
        })
    }
}

impl SimpleBackend for Served {
    fn get(&self, s: Shape, name: &str, _: candle_nn::Init, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let tensor = self.lookup(name)?;
        if tensor.shape() != &s {
            return Err(candle_core::Error::Msg(format!(
                "parameter `{}`: candle-nn asked for shape {:?}, the layer built {:?}",
                self.full(name),
                s.dims(),
                tensor.dims()
            )));
        }
        // No-ops when dtype and device agree, as they do here: the layer then
        // holds the very tensors (and `Var`s) the model lists.
        tensor.to_device(dev)?.to_dtype(dtype)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        self.lookup(name)?.to_device(dev)?.to_dtype(dtype)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }
}

/// Generates a recurrent layer's tensors in PyTorch's order and a `VarBuilder`
/// serving them under their bare names.
fn rnn_params<'v>(
    ctx: &Ctx,
    gates: usize,
    in_dim: usize,
    hidden_dim: usize,
    bias: bool,
    suffix: &str,
    inits: [Option<Scheme>; 4],
) -> Result<(Vec<(String, Tensor)>, VarBuilder<'v>)> {
    let rows = gates * hidden_dim;
    let mut table = vec![
        (format!("weight_ih_l{suffix}"), vec![rows, in_dim], inits[0]),
        (format!("weight_hh_l{suffix}"), vec![rows, hidden_dim], inits[1]),
    ];
    if bias {
        table.push((format!("bias_ih_l{suffix}"), vec![rows], inits[2]));
        table.push((format!("bias_hh_l{suffix}"), vec![rows], inits[3]));
    }
    let mut params = Vec::with_capacity(table.len());
    for (name, shape, scheme) in table {
        let scheme = scheme.unwrap_or_else(|| presets::rnn(hidden_dim));
        let tensor = ctx.param(&name, &ParamSpec::new(shape, scheme))?;
        params.push((name, tensor));
    }
    let served = Served {
        prefix: ctx.path().to_owned(),
        tensors: params.iter().cloned().collect(),
    };
    let vb = VarBuilder::from_backend(Box::new(served), ctx.dtype(), ctx.device().clone());
    Ok((params, vb))
}

macro_rules! rnn_builders {
    ($spec:ident) => {
        impl $spec {
            /// Overrides the scheme of both weights, `weight_ih` and `weight_hh`.
            #[must_use]
            pub fn weight_init(mut self, scheme: Scheme) -> Self {
                self.weight_ih_init = Some(scheme);
                self.weight_hh_init = Some(scheme);
                self
            }

            /// Overrides the scheme of the input-to-hidden weight `weight_ih`.
            #[must_use]
            pub fn weight_ih_init(mut self, scheme: Scheme) -> Self {
                self.weight_ih_init = Some(scheme);
                self
            }

            /// Overrides the scheme of the hidden-to-hidden weight `weight_hh`
            /// (`orthogonal()` is a common choice).
            #[must_use]
            pub fn weight_hh_init(mut self, scheme: Scheme) -> Self {
                self.weight_hh_init = Some(scheme);
                self
            }

            /// Overrides the scheme of both biases (ignored without biases).
            #[must_use]
            pub fn bias_init(mut self, scheme: Scheme) -> Self {
                self.bias_ih_init = Some(scheme);
                self.bias_hh_init = Some(scheme);
                self
            }

            /// Overrides the scheme of `bias_ih` (ignored without biases).
            #[must_use]
            pub fn bias_ih_init(mut self, scheme: Scheme) -> Self {
                self.bias_ih_init = Some(scheme);
                self
            }

            /// Overrides the scheme of `bias_hh` (ignored without biases).
            #[must_use]
            pub fn bias_hh_init(mut self, scheme: Scheme) -> Self {
                self.bias_hh_init = Some(scheme);
                self
            }

            /// Drops both biases (`bias=False`).
            #[must_use]
            pub fn no_bias(mut self) -> Self {
                self.bias = false;
                self
            }

            fn inits(&self) -> [Option<Scheme>; 4] {
                [
                    self.weight_ih_init,
                    self.weight_hh_init,
                    self.bias_ih_init,
                    self.bias_hh_init,
                ]
            }
        }
    };
}

/// How to build an [`Lstm`] layer (one layer of `nn.LSTM`, batch first):
/// `weight_ih_l{k}` `[4·hidden, in]`, `weight_hh_l{k}` `[4·hidden, hidden]` and
/// optional `bias_ih_l{k}`, `bias_hh_l{k}` `[4·hidden]`, with `k` the layer index
/// and a `_reverse` suffix for the backward direction, as in PyTorch.
#[derive(Clone, Debug, PartialEq)]
pub struct LstmSpec {
    /// Input features.
    pub in_dim: usize,
    /// Hidden (and output) features.
    pub hidden_dim: usize,
    /// Whether the layer has biases.
    pub bias: bool,
    /// Which layer of a stacked PyTorch LSTM this is (the `k` of `weight_ih_l{k}`).
    pub layer_idx: usize,
    /// Whether this is the backward direction of a bidirectional LSTM (the
    /// `_reverse` names; candle-nn's `Direction::Backward`).
    pub reverse: bool,
    /// Scheme of `weight_ih`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub weight_ih_init: Option<Scheme>,
    /// Scheme of `weight_hh`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub weight_hh_init: Option<Scheme>,
    /// Scheme of `bias_ih`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub bias_ih_init: Option<Scheme>,
    /// Scheme of `bias_hh`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub bias_hh_init: Option<Scheme>,
}

/// `nn.LSTM(in_dim, hidden_dim, batch_first=True)`: one layer, forward, with biases.
pub fn lstm(in_dim: usize, hidden_dim: usize) -> LstmSpec {
    LstmSpec {
        in_dim,
        hidden_dim,
        bias: true,
        layer_idx: 0,
        reverse: false,
        weight_ih_init: None,
        weight_hh_init: None,
        bias_ih_init: None,
        bias_hh_init: None,
    }
}

rnn_builders!(LstmSpec);

impl LstmSpec {
    /// Sets the layer index used in the names (`weight_ih_l1` for 1), to load
    /// one layer of a stacked PyTorch LSTM.
    #[must_use]
    pub fn layer_idx(mut self, layer_idx: usize) -> Self {
        self.layer_idx = layer_idx;
        self
    }

    /// Makes this the backward direction (`weight_ih_l0_reverse`), to load one
    /// half of a bidirectional PyTorch LSTM. The layer still runs forward over
    /// its input, as candle-nn's does; reverse the sequence yourself.
    #[must_use]
    pub fn reverse(mut self) -> Self {
        self.reverse = true;
        self
    }
}

/// How to build a [`Gru`] layer (one layer of `nn.GRU`, batch first):
/// `weight_ih_l0` `[3·hidden, in]`, `weight_hh_l0` `[3·hidden, hidden]` and optional
/// `bias_ih_l0`, `bias_hh_l0` `[3·hidden]`. candle-nn's GRU has no layer index or
/// direction: the names always end in `_l0`.
#[derive(Clone, Debug, PartialEq)]
pub struct GruSpec {
    /// Input features.
    pub in_dim: usize,
    /// Hidden (and output) features.
    pub hidden_dim: usize,
    /// Whether the layer has biases.
    pub bias: bool,
    /// Scheme of `weight_ih`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub weight_ih_init: Option<Scheme>,
    /// Scheme of `weight_hh`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub weight_hh_init: Option<Scheme>,
    /// Scheme of `bias_ih`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub bias_ih_init: Option<Scheme>,
    /// Scheme of `bias_hh`; `None` is PyTorch's, [`presets::rnn`] of `hidden_dim`.
    pub bias_hh_init: Option<Scheme>,
}

/// `nn.GRU(in_dim, hidden_dim, batch_first=True)`: one layer, with biases.
pub fn gru(in_dim: usize, hidden_dim: usize) -> GruSpec {
    GruSpec {
        in_dim,
        hidden_dim,
        bias: true,
        weight_ih_init: None,
        weight_hh_init: None,
        bias_ih_init: None,
        bias_hh_init: None,
    }
}

rnn_builders!(GruSpec);

// The init hints of candle-nn's configs are never used (our backend serves
// every tensor); only whether the biases are requested matters.
fn candle_bias_init(bias: bool) -> Option<candle_nn::Init> {
    bias.then_some(candle_nn::Init::Const(0.0))
}

/// A candle-nn recurrent layer with its tensors in reach: candle-nn's `LSTM` and
/// `GRU` keep them private and build only from a `VarBuilder`. Steps are
/// candle-nn's, through [`RNN`].
#[derive(Clone, Debug)]
pub struct Recurrent<R> {
    inner: R,
    params: Vec<(String, Tensor)>,
}

/// One layer of `nn.LSTM` ([`lstm`]).
pub type Lstm = Recurrent<candle_nn::LSTM>;

/// One layer of `nn.GRU` ([`gru`]).
pub type Gru = Recurrent<candle_nn::GRU>;

impl<R> Recurrent<R> {
    /// The candle-nn layer.
    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// The tensors by name (`weight_ih_l0`, ...), in PyTorch's order.
    pub fn params(&self) -> &[(String, Tensor)] {
        &self.params
    }

    fn visit<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        for (name, tensor) in &self.params {
            f(name, tensor, true);
        }
    }
}

impl Model for Lstm {
    type Config = LstmSpec;

    fn build(config: &LstmSpec, ctx: &Ctx) -> Result<Self> {
        let suffix = format!("{}{}", config.layer_idx, if config.reverse { "_reverse" } else { "" });
        let (params, vb) = rnn_params(
            ctx,
            4,
            config.in_dim,
            config.hidden_dim,
            config.bias,
            &suffix,
            config.inits(),
        )?;
        let options = candle_nn::LSTMConfig {
            b_ih_init: candle_bias_init(config.bias),
            b_hh_init: candle_bias_init(config.bias),
            layer_idx: config.layer_idx,
            direction: if config.reverse {
                candle_nn::rnn::Direction::Backward
            } else {
                candle_nn::rnn::Direction::Forward
            },
            ..candle_nn::LSTMConfig::default()
        };
        let inner = candle_nn::LSTM::new(config.in_dim, config.hidden_dim, options, vb)?;
        Ok(Recurrent { inner, params })
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        self.visit(f)
    }
}

impl Model for Gru {
    type Config = GruSpec;

    fn build(config: &GruSpec, ctx: &Ctx) -> Result<Self> {
        let (params, vb) = rnn_params(
            ctx,
            3,
            config.in_dim,
            config.hidden_dim,
            config.bias,
            "0",
            config.inits(),
        )?;
        let options = candle_nn::GRUConfig {
            b_ih_init: candle_bias_init(config.bias),
            b_hh_init: candle_bias_init(config.bias),
            ..candle_nn::GRUConfig::default()
        };
        let inner = candle_nn::GRU::new(config.in_dim, config.hidden_dim, options, vb)?;
        Ok(Recurrent { inner, params })
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        self.visit(f)
    }
}

impl<R: RNN> RNN for Recurrent<R> {
    type State = R::State;

    fn zero_state(&self, batch_dim: usize) -> candle_core::Result<R::State> {
        self.inner.zero_state(batch_dim)
    }

    fn step(&self, input: &Tensor, state: &R::State) -> candle_core::Result<R::State> {
        self.inner.step(input, state)
    }

    fn seq(&self, input: &Tensor) -> candle_core::Result<Vec<R::State>> {
        self.inner.seq(input)
    }

    fn seq_init(&self, input: &Tensor, init_state: &R::State) -> candle_core::Result<Vec<R::State>> {
        self.inner.seq_init(input, init_state)
    }

    fn states_to_tensor(&self, states: &[R::State]) -> candle_core::Result<Tensor> {
        self.inner.states_to_tensor(states)
    }
}

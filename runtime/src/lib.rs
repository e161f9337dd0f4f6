#![doc = include_str!("../README.md")]
//!
//! # The API
//!
//! The crate root holds what a model file names every day:
//! [`reproducible_model`], [`forward`], [`Init`], [`Scheme`], [`Model`],
//! [`Error`] and [`Result`]; `use reproducible::prelude::*` brings them in with
//! the layer specs and candle's types. Everything else lives in a module named
//! after its concept, grouped by concern as the source tree is:
//!
//! | concern | modules |
//! |---------|---------|
//! | the value stream of SPEC.md (`values/`): all that decides a value | [`stream`] (keys), [`philox`], [`coords`] (counters), [`math`], [`transform`], [`generate`], [`kernels`] |
//! | init schemes (`scheme/`) | [`scheme`] (`torch.nn.init` and the text form), [`scheme::presets`] (PyTorch's layer defaults) |
//! | models on candle (`nn/`) | [`model`] (`Model`, `Ctx`, `ParamSpec`), [`layers`], [`backend`] (a keyed `VarBuilder`), [`rules`] (init by path pattern), [`recipes`] (transformers' init per model family), [`dropout`], [`shuffle`], [`optim`] (a resumable AdamW) |
//! | records of how parameters were made (`records/`) | [`provenance`], [`manifest`], [`diff`], [`lock`], [`checkpoint`] |
//! | errors | [`error`] |
//!
//! Two `Result`s, one rule: code that builds, loads, generates or records
//! returns this crate's [`Result`], whose [`Error`] names the parameter, file or
//! scheme; code that runs inside `forward` (the layers,
//! [`KeyedDropout::forward_at`](dropout::KeyedDropout::forward_at)) returns
//! candle's, so it composes with candle's `Module` and `ModuleT`. The prelude's
//! `Result` is candle's, for `forward` signatures, and `?` turns ours into it.
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod error;
mod nn;
pub mod prelude;
mod records;
pub mod scheme;
mod values;

use records::atomic;

// The value stream of SPEC.md (values/): what a re-implementer reads, and all
// that decides a value.
use values::orthogonal;
pub use values::{coords, generate, kernels, math, philox, stream, transform};
// Building models on candle (nn/).
pub use nn::{backend, dropout, layers, model, optim, recipes, rules, shuffle};
// Records of how parameters were made (records/).
pub use records::{checkpoint, diff, lock, manifest, provenance};

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

mod deprecated;
#[doc(hidden)]
#[allow(deprecated)]
pub use deprecated::{
    generate, init, presets, Ctx, DType, Device, Element, ModelExt, Param, ParamSpec, Stream, Tensor, SPEC_VERSION,
};

pub use error::{Error, Result};
pub use model::Model;
pub use nn::init::Init;
pub use scheme::Scheme;

/// Generates a model's constructor, checkpoint loader and parameter listing.
///
/// ```
/// use reproducible::prelude::*;
///
/// pub struct MlpConfig { pub dim: usize, pub hidden: usize, pub depth: usize, pub drop: f32 }
///
/// #[reproducible_model(config = MlpConfig, version = 1)]
/// pub struct Mlp {
///     // A candle-nn layer with PyTorch's default init (`nn.Linear`), at path `fc_in`.
///     #[module(linear(cfg.dim, cfg.hidden))]
///     fc_in: Linear,
///     // `Vec` of submodules at `blocks.0`, `blocks.1`, ...; appending one changes no other.
///     #[module(linear(cfg.hidden, cfg.hidden).weight_init(reproducible::scheme::orthogonal()), count = cfg.depth)]
///     blocks: Vec<Linear>,
///     // Present only when the condition holds.
///     #[module(layer_norm(cfg.hidden), when = cfg.depth > 1)]
///     norm: Option<LayerNorm>,
///     // A tensor parameter: shape from the config, a torch.nn.init scheme, a version.
///     #[param(shape = [cfg.hidden], init = trunc_normal(std = 0.02), version = 2)]
///     gain: Tensor,
///     // Frozen (not a Var, not trainable), stored as F64, saved under the old name `scale`.
///     #[param(shape = [1], init = constant(0.5), frozen, dtype = F64, key = "scale")]
///     temperature: Tensor,
///     // Kept although forward does not read it: the reason is required.
///     #[param(shape = [cfg.hidden], init = zeros(), unused = "kept for checkpoint compatibility")]
///     legacy: Tensor,
///     // Plain fields computed from the config; `#[config]` alone clones `cfg.<field>`.
///     #[config(Dropout::new(cfg.drop))]
///     dropout: Dropout,
///     #[config]
///     depth: usize,
/// }
///
/// // Every parameter and submodule must be read somewhere in this impl.
/// #[reproducible::forward]
/// impl Mlp {
///     pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
///         let mut x = self.fc_in.forward(x)?.relu()?;
///         for block in &self.blocks {
///             x = self.dropout.forward(&block.forward(&x)?.relu()?, train)?;
///         }
///         if let Some(norm) = &self.norm {
///             x = norm.forward(&x)?;
///         }
///         let t = self.temperature.to_dtype(x.dtype())?;
///         x.broadcast_mul(&self.gain)?.broadcast_mul(&t)
///     }
/// }
///
/// let cfg = MlpConfig { dim: 8, hidden: 16, depth: 2, drop: 0.1 };
/// let model = Mlp::init(&cfg, &Init::new(42))?;
/// let paths: Vec<String> = model.parameters().into_iter().map(|p| p.path).collect();
/// assert_eq!(paths[..3], ["fc_in.weight", "fc_in.bias", "blocks.0.weight"]);
/// assert!(paths.contains(&"scale".to_string()));
/// assert_eq!(Mlp::MODEL_VERSION, 1);
/// let y = model.forward_t(&Tensor::ones((4, 8), DType::F32, &Device::Cpu)?, false)?;
/// assert_eq!(y.dims(), &[4, 16]);
/// # Ok::<(), candle_core::Error>(())
/// ```
///
/// # Attributes
///
/// * `#[reproducible_model(config = Type, version = N, forward = [part, ..])]`:
///   expressions in the field attributes read the config as `cfg`. `version`
///   (default 1) is recorded as `MODEL_VERSION`; it never re-rolls values by
///   itself. `forward` names the parts of forward code spread over several impls
///   (see [`forward`]).
/// * `#[param(shape = [..], init = .., version = N, key = "..", frozen, dtype = F32|F64|F16|BF16, unused = "..")]`
///   on a `Tensor` field. Each dimension must be a `usize` where it is written.
///   `init` is a call to a `torch.nn.init` scheme by name (checked at compile
///   time against the scheme table; positional or keyword arguments, PyTorch's
///   defaults; numbers must be `f64`: literals, integer ones included, or `f64`
///   expressions, never cast), a builder chain on one
///   (`kaiming_uniform().gain(..)`), a call of a function of yours returning a
///   `Scheme` (`init = scaled_normal(cfg.depth)`; a name one or two letters from a
///   scheme's is taken for a typo unless written `self::name(..)`), or any other
///   expression of type `Scheme`.
/// * `#[module(config, count = .., when = .., key = "..", version = N, unused = "..")]` on a field whose type
///   implements [`Model`]: a candle-nn layer (its spec from [`layers`]) or another
///   reproducible model (its config). `Vec<M>` needs `count` and may take a closure
///   `|i| config_of(i)`; `Option<M>` needs `when`. `version = N` (default 1)
///   draws every parameter below at its own version plus `N - 1`: bumping it
///   re-rolls exactly that submodule (SPEC.md 12).
/// * `#[config(expr)]` / `#[config]`: a plain field computed from the config.
///
/// Expressions are ordinary Rust in the scope of the struct, with the config
/// bound to `cfg`: the layer specs (`linear(..)`) are the functions of
/// [`layers`] that the prelude brings in, and a function of your own by the same
/// name is yours. A field may have any name; the names the generated code uses
/// itself start with `__` and are invisible to your expressions.
///
/// The path of a field is its name (or `key`) under its parent's path; its values
/// depend only on the seed, that path, its effective version, its scheme, shape
/// and dtype. Two fields with the same key, a field without a kind, `#[cfg]` on a
/// field, a parameter `forward` never reads, and one marked `unused` that
/// `forward` reads are compile errors, each at its field, all in one compile.
/// A model whose attributes have mistakes still gets its struct and stub impls,
/// so only the mistakes are reported.
///
/// # Generated items
///
/// `impl Model` (`build`, `visit_params`), and inherent `init(&cfg, &Init)`,
/// `load(&cfg, &VarBuilder)` and `MODEL_VERSION`; [`model::ModelExt`] adds
/// `parameters()` and `trainable_vars()`.
#[doc(inline)]
pub use reproducible_macros::reproducible_model;

/// Marks the impl block holding a model's forward code (and its helpers), so
/// `#[reproducible_model]` can check that every parameter is used.
///
/// Every `self.field` read anywhere in the block counts, including in closures,
/// macros (`println!("{}", self.scale)`) and destructuring (`let Self { a, .. } = self;`).
///
/// Forward code in one impl: `#[reproducible::forward]` on it. Forward code in
/// several (an inherent impl of `forward_features` and `forward_head`, an
/// `impl Module`): name each part, `#[reproducible::forward(features)]`,
/// `#[reproducible::forward(head)]`, ..., and list the parts in the model's
/// attribute, `#[reproducible_model(config = C, forward = [features, head])]`;
/// a field read in any part counts.
#[doc(inline)]
pub use reproducible_macros::forward;

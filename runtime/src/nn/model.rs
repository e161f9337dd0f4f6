//! The model trait: how a module is built at a path, and how its parameters are listed.
//!
//! Every `#[reproducible_model]` struct implements [`Model`], and so do the
//! candle-nn layers in [`crate::layers`]. A [`Ctx`] carries the parameter path and
//! the source of values: fresh values from an [`Init`] context (each parameter
//! from its own keyed stream) or saved values from a candle `VarBuilder`
//! (a safetensors checkpoint), so one constructor serves both.
//!
//! ```
//! use reproducible::model::{Ctx, Model, ModelExt, ParamSpec};
//! use candle_core::Tensor;
//! use reproducible::{scheme::normal, Init, Result};
//!
//! struct Scale { gamma: Tensor }
//! impl Model for Scale {
//!     type Config = usize;
//!     fn build(dim: &usize, ctx: &Ctx) -> Result<Self> {
//!         Ok(Scale { gamma: ctx.param("gamma", &ParamSpec::new(vec![*dim], normal(1.0, 0.02)))? })
//!     }
//!     fn visit_params<'a>(&'a self, ctx: &mut dyn FnMut(&str, &'a Tensor, bool)) {
//!         ctx("gamma", &self.gamma, true)
//!     }
//! }
//! let init = Init::new(0);
//! let m = Scale::build(&4, &Ctx::init(&init).child("head"))?;
//! assert_eq!(m.parameters()[0].path, "gamma");
//! # Ok::<(), reproducible::Error>(())
//! ```

use std::sync::Arc;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarBuilder;

use crate::error::{Error, Result};
use crate::provenance::{dtype_name, Provenance, Recorder};
use crate::scheme::Scheme;
use crate::Init;

/// A module that can be built at a path from a config, and that lists its parameters.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a submodule of a reproducible model: it does not implement `reproducible::Model`",
    label = "not a reproducible module",
    note = "put `#[reproducible_model]` on its struct, or use a layer from `reproducible::layers` \
            (Linear, Conv1d, Conv2d, Embedding, LayerNorm, RmsNorm, BatchNorm, GroupNorm, Lstm, Gru)"
)]
pub trait Model: Sized {
    /// What the module is built from: a model's config struct, a layer's config.
    type Config;

    /// The model-level version (`#[reproducible_model(version = N)]`), recorded in
    /// checkpoints; 1 for layers.
    const MODEL_VERSION: u32 = 1;

    /// Builds the module; its parameters live under `ctx`'s path.
    fn build(config: &Self::Config, ctx: &Ctx) -> Result<Self>;

    /// Calls `f(relative_path, tensor, trainable)` for every parameter and buffer,
    /// in a stable order (declaration order, list elements by index).
    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool));

    /// Sets the training step that keyed runtime randomness at or below this
    /// module draws from: every [`KeyedDropout`](crate::dropout::KeyedDropout)'s
    /// mask through candle's `ModuleT`. Call it once per step of the training
    /// loop. Modules without runtime randomness keep the default, which does
    /// nothing; `#[reproducible_model]` forwards it to every submodule.
    fn set_step(&self, _step: u64) {}
}

/// A parameter as listed by [`ModelExt::parameters`].
#[derive(Clone, Debug)]
pub struct Param {
    /// Dotted path relative to the model the list was taken from.
    pub path: String,
    /// The tensor (for trainable parameters, the tensor of a candle `Var`).
    pub tensor: Tensor,
    /// Whether an optimizer should update it (false for frozen parameters and buffers).
    pub trainable: bool,
}

/// Listing helpers available on every [`Model`].
pub trait ModelExt: Model {
    /// Every parameter and buffer as (path, tensor, trainable), in a stable order.
    fn parameters(&self) -> Vec<Param> {
        let mut out = Vec::new();
        self.visit_params(&mut |path, tensor, trainable| {
            out.push(Param {
                path: path.to_owned(),
                tensor: tensor.clone(),
                trainable,
            })
        });
        out
    }

    /// The trainable parameters as candle `Var`s sharing the model's storage, for
    /// an optimizer (`candle_nn::AdamW::new(model.trainable_vars()?, params)`).
    fn trainable_vars(&self) -> Result<Vec<Var>> {
        self.parameters()
            .into_iter()
            .filter(|p| p.trainable)
            .map(|p| Ok(Var::from_tensor(&p.tensor)?))
            .collect()
    }
}

impl<M: Model> ModelExt for M {}

/// Builds `M` from fresh keyed streams and returns how every parameter was made.
pub fn init_with_provenance<M: Model>(config: &M::Config, init: &Init) -> Result<(M, Vec<Provenance>)> {
    let recorder = Recorder::new();
    let model = M::build(config, &Ctx::init(init).recording(&recorder))?;
    Ok((model, recorder.records()))
}

/// How one parameter is made: its shape, scheme, version, dtype and trainability.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    /// The shape.
    pub shape: Vec<usize>,
    /// The init scheme.
    pub scheme: Scheme,
    /// The declared version (1 unless bumped).
    pub version: u32,
    /// A dtype overriding the context's.
    pub dtype: Option<DType>,
    /// Whether the parameter is trainable (a candle `Var`).
    pub trainable: bool,
}

impl ParamSpec {
    /// A trainable parameter at version 1 in the context's dtype.
    pub fn new(shape: Vec<usize>, scheme: Scheme) -> Self {
        Self {
            shape,
            scheme,
            version: 1,
            dtype: None,
            trainable: true,
        }
    }

    /// Sets the version.
    #[must_use]
    pub fn version(mut self, version: u32) -> Self {
        self.version = version;
        self
    }

    /// Sets the dtype.
    #[must_use]
    pub fn dtype(mut self, dtype: DType) -> Self {
        self.dtype = Some(dtype);
        self
    }

    /// Marks the parameter frozen (not trainable).
    #[must_use]
    pub fn frozen(mut self) -> Self {
        self.trainable = false;
        self
    }
}

#[derive(Clone)]
enum Source<'a> {
    Init(&'a Init),
    Load(&'a VarBuilder<'a>),
}

impl std::fmt::Debug for Source<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Init(init) => f.debug_tuple("Init").field(init).finish(),
            Source::Load(vb) => f
                .debug_struct("Load")
                .field("dtype", &vb.dtype())
                .finish_non_exhaustive(),
        }
    }
}

/// Where a module is being built: the parameter path and the source of values.
#[derive(Clone, Debug)]
pub struct Ctx<'a> {
    source: Source<'a>,
    path: String,
    /// The path in code: differs from `path` below a field renamed with `key`.
    code_path: String,
    recorder: Option<Recorder>,
    seed: Option<u64>,
    /// Added to the declared version of every parameter below (SPEC.md 12).
    version_bump: u32,
    /// Tied parameters: (full path, tensor, the path it is tied to).
    ties: Arc<Vec<(String, Tensor, String)>>,
}

/// `name` under the dotted path `parent`.
fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

impl<'a> Ctx<'a> {
    /// Builds with fresh values from `init`'s keyed streams, at the root path.
    pub fn init(init: &'a Init) -> Self {
        Self {
            source: Source::Init(init),
            path: String::new(),
            code_path: String::new(),
            recorder: None,
            seed: Some(init.seed()),
            version_bump: 0,
            ties: Arc::default(),
        }
    }

    /// Builds by loading every parameter from `vb` (for example
    /// `VarBuilder::from_mmaped_safetensors`), by full path, checking shapes.
    pub fn load(vb: &'a VarBuilder<'a>) -> Self {
        Self {
            source: Source::Load(vb),
            path: String::new(),
            code_path: String::new(),
            recorder: None,
            seed: None,
            version_bump: 0,
            ties: Arc::default(),
        }
    }

    /// Records the provenance of every parameter generated under this context.
    #[must_use]
    pub fn recording(mut self, recorder: &Recorder) -> Self {
        self.recorder = Some(recorder.clone());
        self
    }

    /// Sets the seed runtime randomness (keyed dropout) uses when loading from a
    /// checkpoint; contexts from [`Ctx::init`] use the init seed.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The seed of this context: the init seed, or the one set with [`Ctx::with_seed`].
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// The dotted path of this context (empty at the root).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The full path of `name` under this context.
    pub fn join(&self, name: &str) -> String {
        join(&self.path, name)
    }

    /// The context of a child module named `name`.
    pub fn child(&self, name: &str) -> Ctx<'a> {
        self.child_as(name, name)
    }

    /// The context of a child module at path `key` whose name in code is `name`
    /// (a field renamed with `key = "old"`): parameters below it keep the paths,
    /// hence the values, of `key`, and record their path in code as the alias.
    pub fn child_as(&self, key: &str, name: &str) -> Ctx<'a> {
        Ctx {
            source: self.source.clone(),
            path: self.join(key),
            code_path: join(&self.code_path, name),
            recorder: self.recorder.clone(),
            seed: self.seed,
            version_bump: self.version_bump,
            ties: self.ties.clone(),
        }
    }

    /// This context with every parameter below drawn at its declared version
    /// plus `by` more (a submodule's `#[module(.., version = N)]` bumps by
    /// `N - 1`, and bumps add up down the tree): re-rolls exactly the
    /// parameters below, and nothing else (SPEC.md 12). A sum past `u32::MAX`
    /// is an error.
    pub fn bump_version(mut self, by: u32) -> Result<Self> {
        self.version_bump = self.version_bump.checked_add(by).ok_or_else(|| Error::Config {
            path: self.path.clone(),
            layer: "module".to_owned(),
            reason: format!("version bumps below this module add up past {}", u32::MAX),
        })?;
        Ok(self)
    }

    /// This context with parameters below it tied: `(name, tensor, target)`
    /// makes the parameter `name` (a path below this context) the tensor of
    /// the parameter at `target`, instead of one of its own. Nothing is
    /// generated or loaded for it, and its shape and dtype must be the
    /// tensor's (`#[module(.., tie(weight = wte.weight))]`).
    #[must_use]
    pub fn tie(mut self, ties: Vec<(&str, Tensor, &str)>) -> Self {
        let mut all = (*self.ties).clone();
        all.extend(
            ties.into_iter()
                .map(|(name, t, target)| (self.join(name), t, target.to_owned())),
        );
        self.ties = Arc::new(all);
        self
    }

    /// The default dtype of parameters.
    pub fn dtype(&self) -> DType {
        match self.source {
            Source::Init(i) => i.dtype(),
            Source::Load(vb) => vb.dtype(),
        }
    }

    /// The device parameters live on.
    pub fn device(&self) -> &Device {
        match self.source {
            Source::Init(i) => i.device(),
            Source::Load(vb) => vb.device(),
        }
    }

    /// The parameter `name` under this context: generated from its stream, or
    /// loaded (shape-checked) from the checkpoint. Trainable parameters are
    /// candle `Var`s. Errors name the full path.
    pub fn param(&self, name: &str, spec: &ParamSpec) -> Result<Tensor> {
        self.param_as(name, name, spec)
    }

    /// [`Ctx::param`] at path `key` for a parameter whose name in code is `name`
    /// (see [`Ctx::child_as`]).
    pub fn param_as(&self, key: &str, name: &str, spec: &ParamSpec) -> Result<Tensor> {
        let path = self.join(key);
        let dtype = spec.dtype.unwrap_or_else(|| self.dtype());
        let version = spec
            .version
            .checked_add(self.version_bump)
            .ok_or_else(|| Error::Config {
                path: path.clone(),
                layer: "parameter".to_owned(),
                reason: format!(
                    "version {} bumped by {} from enclosing modules is past {}",
                    spec.version,
                    self.version_bump,
                    u32::MAX
                ),
            })?;
        if let Some((_, tensor, target)) = self.ties.iter().find(|(p, _, _)| *p == path) {
            return tied(&path, tensor, target, &spec.shape, dtype);
        }
        let tensor = match self.source {
            Source::Init(init) => {
                // Trainable parameters are made as variables from the start:
                // converting afterwards would copy every one of them.
                let t = init.clone().set_dtype(dtype).make(
                    &path,
                    &spec.shape,
                    None,
                    &spec.scheme,
                    version,
                    spec.trainable,
                )?;
                if let Some(r) = &self.recorder {
                    r.record(
                        Provenance::new(
                            &path,
                            &spec.shape,
                            dtype_name(dtype),
                            &spec.scheme,
                            version,
                            init.seed(),
                            spec.trainable,
                        )
                        .with_alias(&join(&self.code_path, name)),
                    );
                }
                t
            }
            Source::Load(vb) => vb
                .get_with_hints_dtype(spec.shape.as_slice(), &path, candle_nn::Init::Const(0.0), dtype)
                .map_err(|e| Error::from(e).at_path(&path))?,
        };
        // A loaded tensor is copied once more here: candle has no way to turn a
        // tensor into a `Var` in place, and `VarBuilder` returns plain tensors.
        // `from_tensor` returns a generated variable as it is.
        if spec.trainable {
            Ok(Var::from_tensor(&tensor)
                .map_err(|e| Error::from(e).at_path(&path))?
                .as_tensor()
                .clone())
        } else {
            Ok(tensor)
        }
    }
}

/// The tensor of a parameter tied to `target`, checked against the shape and
/// dtype it is asked for.
fn tied(path: &str, tensor: &Tensor, target: &str, shape: &[usize], dtype: DType) -> Result<Tensor> {
    let fail = |reason: String| Error::Config {
        path: path.to_owned(),
        layer: "tied parameter".to_owned(),
        reason,
    };
    if tensor.dims() != shape {
        return Err(fail(format!(
            "it is tied to `{target}` of shape {:?}, but asks for shape {shape:?}",
            tensor.dims()
        )));
    }
    if tensor.dtype() != dtype {
        return Err(fail(format!(
            "it is tied to `{target}` of dtype {:?}, but asks for dtype {dtype:?}",
            tensor.dtype()
        )));
    }
    Ok(tensor.clone())
}

//! A candle `VarBuilder` whose values come from keyed streams.
//!
//! Unmodified candle code (`candle_nn::linear(in, out, vb)`, a candle-transformers
//! model's `load(vb, &cfg)`) asks its `VarBuilder` for tensors by full dotted path
//! with an init hint. [`KeyedVars`] answers with the tensor of that path's keyed
//! stream, the hint choosing the scheme (`Init::Const`, `Randn`, `Uniform`,
//! `Kaiming`), so the layer gets the distribution its author chose, reproducibly:
//! the same values on every run, and unchanged when other layers come or go.
//!
//! ```
//! use reproducible::backend::var_builder;
//! use candle_core::{DType, Device};
//! let vb = var_builder(42, DType::F32, &Device::Cpu);
//! let a = candle_nn::linear(8, 4, vb.pp("fc"))?;
//! let again = candle_nn::linear(8, 4, var_builder(42, DType::F32, &Device::Cpu).pp("fc"))?;
//! assert_eq!(a.weight().to_vec2::<f32>()?, again.weight().to_vec2::<f32>()?);
//! # Ok::<(), candle_core::Error>(())
//! ```

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::init::{FanInOut, NonLinearity, NormalOrUniform};
use candle_nn::var_builder::{Backend, SimpleBackend, VarBuilderArgs};
use candle_nn::{VarBuilder, VarMap};

use crate::provenance::{dtype_name, Provenance, Recorder};
use crate::scheme::{constant, normal, uniform, FanMode, Nonlinearity, Scheme};
use crate::Init;

/// The scheme a candle init hint asks for, for a tensor of `shape`.
///
/// Kaiming hints map to our Kaiming schemes when the shape has fans (rank >= 2)
/// and the nonlinearity is one PyTorch names; otherwise (a rank-1 tensor, an
/// explicit gain) to the uniform or normal with exactly candle's bound, computed
/// with candle's fan rule (`FanInOut::for_shape`).
pub fn scheme_for_hint(hint: candle_nn::Init, shape: &[usize]) -> Scheme {
    match hint {
        candle_nn::Init::Const(v) => constant(v),
        candle_nn::Init::Randn { mean, stdev } => normal(mean, stdev),
        candle_nn::Init::Uniform { lo, up } => uniform(lo, up),
        candle_nn::Init::Kaiming {
            dist,
            fan,
            non_linearity,
        } => {
            let named = match non_linearity {
                NonLinearity::ReLU => Some(Nonlinearity::Relu),
                NonLinearity::Linear => Some(Nonlinearity::Linear),
                NonLinearity::Sigmoid => Some(Nonlinearity::Sigmoid),
                NonLinearity::Tanh => Some(Nonlinearity::Tanh),
                NonLinearity::SELU => Some(Nonlinearity::Selu),
                NonLinearity::ExplicitGain(_) => None,
            };
            let mode = match fan {
                FanInOut::FanIn => FanMode::FanIn,
                FanInOut::FanOut => FanMode::FanOut,
            };
            match (named, shape.len() >= 2, dist) {
                (Some(nonlinearity), true, NormalOrUniform::Uniform) => Scheme::KaimingUniform {
                    a: 0.0,
                    mode,
                    nonlinearity,
                },
                (Some(nonlinearity), true, NormalOrUniform::Normal) => Scheme::KaimingNormal {
                    a: 0.0,
                    mode,
                    nonlinearity,
                },
                _ => {
                    let fan = fan.for_shape(&Shape::from(shape));
                    let std = non_linearity.gain() / (fan as f64).sqrt();
                    match dist {
                        NormalOrUniform::Uniform => {
                            let bound = 3f64.sqrt() * std;
                            uniform(-bound, bound)
                        }
                        NormalOrUniform::Normal => normal(0.0, std),
                    }
                }
            }
        }
    }
}

struct State {
    seed: u64,
    trainable: bool,
    varmap: VarMap,
    versions: Mutex<HashMap<String, u32>>,
    tensors: Mutex<HashMap<String, Tensor>>,
    recorder: Recorder,
}

/// Keyed-stream parameters for unmodified candle code: make a `VarBuilder` from
/// it, build the model, then list what was created (with provenance), or train
/// the `VarMap` it filled.
#[derive(Clone, Debug)]
pub struct KeyedVars {
    state: Arc<State>,
    dtype: DType,
    device: Device,
}

/// `VarBuilder` over keyed streams for `seed`: the one call that makes candle
/// code reproducible. Tensors are plain (not trainable); see [`KeyedVars::trainable`].
pub fn var_builder(seed: u64, dtype: DType, device: &Device) -> VarBuilder<'static> {
    KeyedVars::new(seed, dtype, device).var_builder()
}

impl KeyedVars {
    fn with(seed: u64, dtype: DType, device: &Device, trainable: bool) -> Self {
        Self {
            state: Arc::new(State {
                seed,
                trainable,
                varmap: VarMap::new(),
                versions: Mutex::new(HashMap::new()),
                tensors: Mutex::new(HashMap::new()),
                recorder: Recorder::new(),
            }),
            dtype,
            device: device.clone(),
        }
    }

    /// Parameters for inference: plain tensors.
    pub fn new(seed: u64, dtype: DType, device: &Device) -> Self {
        Self::with(seed, dtype, device, false)
    }

    /// Parameters for training: every tensor created is a `Var` registered in
    /// [`KeyedVars::varmap`] under its path, ready for `AdamW::new(varmap.all_vars(), ..)`.
    pub fn trainable(seed: u64, dtype: DType, device: &Device) -> Self {
        Self::with(seed, dtype, device, true)
    }

    /// Declares `version` for the parameter at `path` (default 1): bumping it
    /// re-rolls that parameter alone, without touching the model code.
    #[must_use]
    pub fn version(self, path: &str, version: u32) -> Self {
        self.state
            .versions
            .lock()
            .expect("versions lock")
            .insert(path.to_owned(), version);
        self
    }

    /// The `VarBuilder` to hand to candle code.
    pub fn var_builder(&self) -> VarBuilder<'static> {
        let backend: Box<dyn SimpleBackend> = Box::new(KeyedBackend(self.state.clone()));
        VarBuilder::from_backend(backend, self.dtype, self.device.clone())
    }

    /// A `VarBuilder` for tensor parallelism: hints carry the shard
    /// ([`KeyedShard`]) and each rank generates only its own slice, equal bit for
    /// bit to the same slice of the whole tensor. Pass the **global** shape.
    pub fn sharded_var_builder(&self) -> VarBuilderArgs<'static, KeyedShardedBackend> {
        VarBuilderArgs::new_with_args(KeyedShardedBackend(self.state.clone()), self.dtype, &self.device)
    }

    /// The `VarMap` of a [`KeyedVars::trainable`] instance (empty otherwise).
    pub fn varmap(&self) -> &VarMap {
        &self.state.varmap
    }

    /// Every tensor created so far, sorted by path.
    pub fn tensors(&self) -> Vec<(String, Tensor)> {
        let mut v: Vec<(String, Tensor)> = self
            .state
            .tensors
            .lock()
            .expect("tensors lock")
            .iter()
            .map(|(k, t)| (k.clone(), t.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// How every tensor created so far was made, sorted by path.
    pub fn provenance(&self) -> Vec<Provenance> {
        self.state.recorder.records()
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.state.seed
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("seed", &self.seed)
            .field("trainable", &self.trainable)
            .field("tensors", &self.tensors.lock().map(|t| t.len()).unwrap_or(0))
            .finish_non_exhaustive()
    }
}

impl State {
    fn version(&self, path: &str) -> u32 {
        *self.versions.lock().expect("versions lock").get(path).unwrap_or(&1)
    }

    /// Returns the tensor already made for `path`, checking the requested shape.
    fn existing(&self, path: &str, shape: &[usize]) -> candle_core::Result<Option<Tensor>> {
        match self.tensors.lock().expect("tensors lock").get(path) {
            Some(t) if t.dims() != shape => Err(candle_core::Error::Msg(format!(
                "parameter `{path}` was created with shape {:?} and is now requested with shape {shape:?}",
                t.dims()
            ))),
            Some(t) => Ok(Some(t.clone())),
            None => Ok(None),
        }
    }

    /// Generates `path` (the whole tensor of `shape`, or its `region`) with the
    /// scheme `hint` asks for, then registers and records it.
    fn make(
        &self,
        path: &str,
        shape: &[usize],
        region: Option<&[Range<usize>]>,
        hint: candle_nn::Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let scheme = scheme_for_hint(hint, shape);
        let version = self.version(path);
        let init = Init::new(self.seed).set_dtype(dtype).set_device(dev);
        // Generated as a variable when trainable, so `from_tensor` below wraps it
        // without copying.
        let tensor = init.make(path, shape, region, &scheme, version, self.trainable)?;
        let tensor = if self.trainable {
            let var = Var::from_tensor(&tensor)?;
            self.varmap
                .data()
                .lock()
                .expect("varmap lock")
                .insert(path.to_owned(), var.clone());
            var.as_tensor().clone()
        } else {
            tensor
        };
        let name = dtype_name(dtype);
        self.recorder.record(Provenance::new(
            path,
            shape,
            name,
            &scheme,
            version,
            self.seed,
            self.trainable,
        ));
        self.tensors
            .lock()
            .expect("tensors lock")
            .insert(path.to_owned(), tensor.clone());
        Ok(tensor)
    }
}

/// The [`SimpleBackend`] behind [`KeyedVars::var_builder`].
#[derive(Debug)]
struct KeyedBackend(Arc<State>);

impl SimpleBackend for KeyedBackend {
    fn get(&self, s: Shape, name: &str, h: candle_nn::Init, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let shape = s.dims();
        if let Some(t) = self.0.existing(name, shape)? {
            return Ok(t);
        }
        self.0.make(name, shape, None, h, dtype, dev)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> candle_core::Result<Tensor> {
        self.0
            .tensors
            .lock()
            .expect("tensors lock")
            .get(name)
            .cloned()
            .ok_or_else(|| {
                candle_core::Error::Msg(format!(
                "parameter `{name}` has not been created yet, and keyed streams need its shape: use `get` with a shape"
            ))
            })
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.0.tensors.lock().expect("tensors lock").contains_key(name)
    }
}

/// Hints of the sharded builder: the init hint and which shard of the global
/// tensor this rank holds (candle-nn's `Shard` fields).
#[derive(Clone, Copy, Debug)]
pub struct KeyedShard {
    /// The init hint, as for an unsharded `VarBuilder`.
    pub init: candle_nn::Init,
    /// The dimension split across ranks.
    pub dim: usize,
    /// This rank.
    pub rank: usize,
    /// Number of ranks.
    pub world_size: usize,
}

impl Default for KeyedShard {
    fn default() -> Self {
        Self {
            init: candle_nn::Init::Const(0.0),
            dim: 0,
            rank: 0,
            world_size: 1,
        }
    }
}

/// The [`Backend`] behind [`KeyedVars::sharded_var_builder`].
#[derive(Debug)]
pub struct KeyedShardedBackend(Arc<State>);

impl Backend for KeyedShardedBackend {
    type Hints = KeyedShard;

    fn get(&self, s: Shape, name: &str, h: KeyedShard, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let global = s.dims();
        if h.dim >= global.len() || h.world_size == 0 || h.rank >= h.world_size {
            candle_core::bail!(
                "parameter `{name}`: shard (dim {}, rank {} of {}) does not fit the global shape {global:?}",
                h.dim,
                h.rank,
                h.world_size
            );
        }
        let size = global[h.dim];
        if !size.is_multiple_of(h.world_size) {
            return Err(candle_core::Error::ShapeMismatchSplit {
                shape: s.clone(),
                dim: h.dim,
                n_parts: h.world_size,
            });
        }
        let block = size / h.world_size;
        let mut region: Vec<Range<usize>> = global.iter().map(|&n| 0..n).collect();
        region[h.dim] = h.rank * block..(h.rank + 1) * block;
        let local: Vec<usize> = region.iter().map(|r| r.len()).collect();
        if let Some(t) = self.0.existing(name, &local)? {
            return Ok(t);
        }
        self.0.make(name, global, Some(&region), h.init, dtype, dev)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> candle_core::Result<Tensor> {
        candle_core::bail!("parameter `{name}`: the sharded keyed builder needs the global shape, use `get_with_hints`")
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.0.tensors.lock().expect("tensors lock").contains_key(name)
    }
}

//! A candle `VarBuilder` whose values come from keyed streams.
//!
//! Unmodified candle code (`candle_nn::linear(in, out, vb)`, a candle-transformers
//! model's `load(vb, &cfg)`) asks its `VarBuilder` for tensors by full dotted path
//! with an init hint. [`KeyedVars`] answers with the tensor of that path's keyed
//! stream: the same values on every run, and unchanged when other layers come or
//! go. The scheme comes from the first [init rule](crate::rules) whose pattern
//! matches the path (a [recipe](crate::recipes) holds the rules of a model
//! family's published init), else from candle's hint (`Init::Const`, `Randn`,
//! `Uniform`, `Kaiming`; plain `vb.get` hints `Const(0)`).
//!
//! Tensor-parallel code written for candle's `ShardedVarBuilder` (hints are
//! candle-nn's own [`Shard`]) runs unchanged on
//! [`KeyedVars::sharded_var_builder`]: each rank generates only its slice, equal
//! bit for bit to the same slice of the whole tensor.
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
use candle_nn::var_builder::{Backend, Shard, SimpleBackend, VarBuilderArgs};
use candle_nn::{VarBuilder, VarMap};

use crate::provenance::{dtype_name, Provenance};
use crate::rules::{Rule, Rules};
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

/// A tensor made by a [`KeyedVars`] (the whole parameter, or one rank's
/// slice) and how it was made. Its provenance record is built from this when
/// asked for, not on every request: a tiny tensor's request costs about as
/// much as candle's own.
struct Held {
    tensor: Tensor,
    global: Shape,
    shard: Option<Shard>,
    dtype: DType,
    made: Made,
}

/// Where a held tensor's values came from.
enum Made {
    /// Generated from its keyed stream.
    Generated {
        scheme: Scheme,
        version: u32,
        /// The index of the rule that chose the scheme.
        rule: Option<usize>,
    },
    /// Taken from the pretrained checkpoint of this index in
    /// [`Inner::checkpoints`].
    Loaded(usize),
}

/// Where a parameter of a [`KeyedVars`] came from ([`KeyedVars::sources`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Generated from its keyed stream (its record is in [`KeyedVars::provenance`]).
    Generated,
    /// Read from this pretrained checkpoint ([`KeyedVars::pretrained`]).
    Checkpoint(std::path::PathBuf),
}

struct State {
    seed: u64,
    trainable: bool,
    varmap: VarMap,
    /// One lock for everything a request reads and writes.
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Versions declared with [`KeyedVars::version`].
    versions: HashMap<String, u32>,
    /// Global shapes declared with [`KeyedVars::shapes`] or learned with
    /// [`KeyedVars::learn_shapes`].
    shapes: HashMap<String, Shape>,
    rules: Rules,
    /// How many parameters each rule has matched.
    hits: Vec<usize>,
    /// What was made, by path (hashbrown, for a lookup and an insertion with
    /// one hash and no key copy on a hit).
    held: hashbrown::HashMap<String, Held>,
    /// The files given to [`KeyedVars::pretrained`], in order.
    checkpoints: Vec<std::path::PathBuf>,
    /// Their tensors, by path, with the index of the file that holds each.
    pretrained: HashMap<String, (Tensor, usize)>,
}

impl State {
    /// Whether `path` was made, or is in a pretrained checkpoint.
    fn contains(&self, path: &str) -> bool {
        let inner = self.lock();
        inner.held.contains_key(path) || inner.pretrained.contains_key(path)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while the lock is held leaves whole entries only: the maps
        // stay usable.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Keyed-stream parameters for unmodified candle code: make a `VarBuilder` from
/// it, build the model, then list what was created (with provenance), or train
/// the `VarMap` it filled.
///
/// One `KeyedVars` holds one tensor per path: asking again for a path returns
/// the same tensor, and asking for it with another shape, or for another rank's
/// shard of it, is an error (tensor parallelism uses one `KeyedVars` per rank).
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

/// The `VarBuilder` of tensor-parallel candle code, over keyed streams: the
/// type candle-nn calls `ShardedVarBuilder`, with the same [`Shard`] hints.
/// Code that imports `candle_nn::var_builder::ShardedVarBuilder` imports this
/// instead and builds it with [`KeyedVars::sharded_var_builder`].
pub type ShardedVarBuilder<'a> = VarBuilderArgs<'a, KeyedShardedBackend>;

impl KeyedVars {
    fn with(seed: u64, dtype: DType, device: &Device, trainable: bool) -> Self {
        Self {
            state: Arc::new(State {
                seed,
                trainable,
                varmap: VarMap::new(),
                inner: Mutex::new(Inner::default()),
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

    /// Declares `version` for the parameter at `path` (default 1, or the
    /// version of the rule that matches it): bumping it re-rolls that parameter
    /// alone, without touching the model code.
    #[must_use]
    pub fn version(self, path: &str, version: u32) -> Self {
        self.state.lock().versions.insert(path.to_owned(), version);
        self
    }

    /// Declares the global shape of parameters, by path. Candle's
    /// tensor-parallel loaders ask for a sharded weight with the shape `()`
    /// (`vb.get_with_hints((), "weight", shard(0, rank, world_size))`), as
    /// candle's own sharded backend reads the shape from the checkpoint: keyed
    /// streams take it from here. A request with another shape than the one
    /// declared for its path is an error.
    #[must_use]
    pub fn shapes<P: Into<String>, S: Into<Shape>>(self, shapes: impl IntoIterator<Item = (P, S)>) -> Self {
        {
            let mut inner = self.state.lock();
            for (path, shape) in shapes {
                inner.shapes.insert(path.into(), shape.into());
            }
        }
        self
    }

    /// Learns the global shape of every parameter from one build of the
    /// model's non-parallel loader (for candle-examples' `llama_multiprocess`,
    /// candle-transformers' `llama::Llama::load`), then declares them as
    /// [`KeyedVars::shapes`] does, so that the tensor-parallel loader runs
    /// unchanged. The build generates no values: each tensor it is handed is
    /// one zero broadcast to the requested shape.
    pub fn learn_shapes<T>(
        self,
        build: impl FnOnce(VarBuilder<'static>) -> candle_core::Result<T>,
    ) -> crate::Result<Self> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let backend: Box<dyn SimpleBackend> = Box::new(ShapeRecorder(seen.clone()));
        build(VarBuilder::from_backend(backend, self.dtype, self.device.clone()))
            .map_err(|e| crate::Error::Candle(e.context("learning parameter shapes from the non-parallel build")))?;
        let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        Ok(self.shapes(seen))
    }

    /// Takes the tensors of a pretrained safetensors checkpoint: a parameter the
    /// file holds is read from it (converted to the builder's dtype and device;
    /// a tensor-parallel rank reads its slice), every other one is generated
    /// from its keyed stream as without it. Fine-tuning a pretrained model
    /// with a new head is one call: the head's values depend on the seed and
    /// its path alone, never on what else the process did. A request whose
    /// shape differs from the checkpoint's is an error naming the parameter,
    /// the file and both shapes. Call it once per file of a sharded checkpoint
    /// (a path in two files is an error). [`KeyedVars::sources`] says where
    /// each parameter came from, [`KeyedVars::unused_pretrained`] what no
    /// request took.
    pub fn pretrained(self, file: impl AsRef<std::path::Path>) -> crate::Result<Self> {
        let file = file.as_ref();
        let tensors = candle_core::safetensors::load(file, &Device::Cpu).map_err(|e| {
            crate::Error::Candle(e.context(format!("reading the pretrained checkpoint `{}`", file.display())))
        })?;
        {
            let mut inner = self.state.lock();
            let index = inner.checkpoints.len();
            for (path, tensor) in tensors {
                if let Some((_, other)) = inner.pretrained.get(&path) {
                    return Err(crate::Error::Candle(candle_core::Error::Msg(format!(
                        "parameter `{path}` is in two pretrained checkpoints: `{}` and `{}`",
                        inner.checkpoints[*other].display(),
                        file.display()
                    ))));
                }
                inner.pretrained.insert(path, (tensor, index));
            }
            inner.checkpoints.push(file.to_owned());
        }
        Ok(self)
    }

    /// Where each parameter made so far came from, sorted by path.
    pub fn sources(&self) -> Vec<(String, Source)> {
        let inner = self.state.lock();
        let mut v: Vec<(String, Source)> = inner
            .held
            .iter()
            .map(|(path, h)| {
                let source = match h.made {
                    Made::Generated { .. } => Source::Generated,
                    Made::Loaded(file) => Source::Checkpoint(inner.checkpoints[file].clone()),
                };
                (path.clone(), source)
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// The tensors of the pretrained checkpoints that no request has taken
    /// (transformers' "unexpected keys"), sorted.
    pub fn unused_pretrained(&self) -> Vec<String> {
        let inner = self.state.lock();
        let mut v: Vec<String> = inner
            .pretrained
            .keys()
            .filter(|path| !inner.held.contains_key(path.as_str()))
            .cloned()
            .collect();
        v.sort();
        v
    }

    /// Adds init rules after those already given: for each parameter the first
    /// matching rule decides the scheme, ahead of candle's hint. Give your own
    /// rules before a recipe's to override it.
    #[must_use]
    pub fn rules(self, rules: Rules) -> Self {
        {
            let mut inner = self.state.lock();
            inner.rules = std::mem::take(&mut inner.rules).then(rules);
            let n = inner.rules.len();
            inner.hits.resize(n, 0);
        }
        self
    }

    /// Adds one init rule after those already given (see [`KeyedVars::rules`]).
    #[must_use]
    pub fn rule(self, rule: Rule) -> Self {
        self.rules(Rules::new().with(rule))
    }

    /// The labels of the rules that have matched no parameter so far (rules
    /// marked [`Rule::optional`] excepted): after building a model, a typo in a
    /// pattern or a rule for another architecture.
    pub fn unmatched_rules(&self) -> Vec<String> {
        let inner = self.state.lock();
        inner
            .rules
            .iter()
            .zip(&inner.hits)
            .filter(|(r, &n)| n == 0 && !r.is_optional())
            .map(|(r, _)| r.label())
            .collect()
    }

    /// Fails, naming them, when some rules matched no parameter
    /// ([`KeyedVars::unmatched_rules`]); call it after building the model.
    pub fn check_rules(&self) -> crate::Result<()> {
        let unmatched = self.unmatched_rules();
        match unmatched.split_first() {
            None => Ok(()),
            Some((first, rest)) => {
                let mut reason =
                    "matched no parameter (a typo in the pattern, or a rule for another architecture)".to_owned();
                if !rest.is_empty() {
                    let others: Vec<String> = rest.iter().map(|r| format!("`{r}`")).collect();
                    reason.push_str(&format!("; nor did {}", others.join(", ")));
                }
                Err(crate::Error::Rule {
                    pattern: first.clone(),
                    reason,
                })
            }
        }
    }

    /// The `VarBuilder` to hand to candle code.
    pub fn var_builder(&self) -> VarBuilder<'static> {
        let backend: Box<dyn SimpleBackend> = Box::new(KeyedBackend(self.state.clone()));
        VarBuilder::from_backend(backend, self.dtype, self.device.clone())
    }

    /// The [`ShardedVarBuilder`] for tensor parallelism: hints are candle-nn's
    /// [`Shard`] `{ dim, rank, world_size }`, and each rank generates only its
    /// own slice, equal bit for bit to the same slice of the whole tensor. Pass
    /// the **global** shape, as candle's `ShardedSafeTensors` wants, or `()`
    /// for a path whose global shape was declared ([`KeyedVars::shapes`],
    /// [`KeyedVars::learn_shapes`]), as candle's own loaders do. The
    /// scheme comes from the rules ([`KeyedVars::rules`]): a `Shard` carries no
    /// init hint, so a parameter no rule matches is an error naming it.
    pub fn sharded_var_builder(&self) -> ShardedVarBuilder<'static> {
        VarBuilderArgs::new_with_args(KeyedShardedBackend(self.state.clone()), self.dtype, &self.device)
    }

    /// The `VarMap` of a [`KeyedVars::trainable`] instance (empty otherwise).
    pub fn varmap(&self) -> &VarMap {
        &self.state.varmap
    }

    /// Every tensor created so far (a sharded parameter's local slice), sorted by path.
    pub fn tensors(&self) -> Vec<(String, Tensor)> {
        let mut v: Vec<(String, Tensor)> = self
            .state
            .lock()
            .held
            .iter()
            .map(|(k, h)| (k.clone(), h.tensor.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// How every tensor created so far was made, sorted by path.
    pub fn provenance(&self) -> Vec<Provenance> {
        let inner = self.state.lock();
        let labels: Vec<String> = inner.rules.iter().map(Rule::label).collect();
        let mut records: Vec<Provenance> = inner
            .held
            .iter()
            .filter_map(|(path, h)| match &h.made {
                Made::Generated { scheme, version, rule } => Some(
                    Provenance::new(
                        path,
                        h.global.dims(),
                        dtype_name(h.dtype),
                        scheme,
                        *version,
                        self.state.seed,
                        self.state.trainable,
                    )
                    .with_rule(rule.map(|i| labels[i].clone())),
                ),
                Made::Loaded(_) => None,
            })
            .collect();
        records.sort_by(|a, b| a.path.cmp(&b.path));
        records
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
            .field("tensors", &self.lock().held.len())
            .finish_non_exhaustive()
    }
}

/// `rank r of w along dim d`, or `the whole tensor`.
/// Which builder a request came through.
#[derive(Clone, Copy)]
enum Via {
    /// Candle's `VarBuilder`, with its init hint.
    Hint(candle_nn::Init),
    /// The sharded builder: the whole tensor (`None`) or one shard, where the
    /// shape `()` stands for the declared global shape.
    Sharded(Option<Shard>),
}

fn describe_shard(shard: Option<Shard>) -> String {
    match shard {
        Some(s) => format!("rank {} of {} along dim {}", s.rank, s.world_size, s.dim),
        None => "the whole tensor".to_owned(),
    }
}

fn same_shard(a: Option<Shard>, b: Option<Shard>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a.dim, a.rank, a.world_size) == (b.dim, b.rank, b.world_size),
        _ => false,
    }
}

impl State {
    /// The tensor at `path` of global shape `global` (or its `shard`): the one
    /// already made, or a new one with the scheme of the first matching rule,
    /// else of `hint`.
    fn get(&self, path: &str, requested: Shape, via: Via, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let (shard, hint, sharded) = match via {
            Via::Hint(hint) => (None, Some(hint), false),
            Via::Sharded(shard) => (shard, None, true),
        };
        let mut guard = self.lock();
        let Inner {
            versions,
            shapes,
            rules,
            hits,
            held,
            checkpoints,
            pretrained,
        } = &mut *guard;
        let loaded = pretrained.get(path);
        let declared_shape = match loaded {
            Some((tensor, file)) => {
                if !(sharded && requested.dims().is_empty()) && tensor.dims() != requested.dims() {
                    candle_core::bail!(
                        "parameter `{path}` is requested with shape {:?}, but the checkpoint `{}` has it with shape {:?}",
                        requested.dims(),
                        checkpoints[*file].display(),
                        tensor.dims()
                    );
                }
                Some(tensor.shape())
            }
            None => shapes.get(path),
        };
        let global = match declared_shape {
            // Candle's sharded idiom: `()` stands for the checkpoint's shape.
            Some(declared) if sharded && requested.dims().is_empty() => declared.clone(),
            Some(declared) if *declared != requested => candle_core::bail!(
                "parameter `{path}` is requested with shape {:?}, but its global shape is {:?}",
                requested.dims(),
                declared.dims()
            ),
            None if sharded && requested.dims().is_empty() => candle_core::bail!(
                "parameter `{path}` is requested with shape () (candle's sharded idiom, which reads the shape \
                 from a checkpoint), and keyed streams have no shape for it: declare the global shapes with \
                 `KeyedVars::shapes`, or learn them from the non-parallel loader with `KeyedVars::learn_shapes`"
            ),
            _ => requested,
        };
        let slot = match held.entry_ref(path) {
            hashbrown::hash_map::EntryRef::Occupied(h) => {
                let h = h.get();
                if h.global != global || !same_shard(h.shard, shard) {
                    candle_core::bail!(
                        "parameter `{path}` was created as {} of shape {:?} and is now requested as {} of shape {:?}: \
                         one KeyedVars holds one tensor per path (for tensor parallelism, make one KeyedVars per rank)",
                        describe_shard(h.shard),
                        h.global.dims(),
                        describe_shard(shard),
                        global.dims(),
                    );
                }
                return Ok(h.tensor.clone());
            }
            hashbrown::hash_map::EntryRef::Vacant(slot) => slot,
        };
        let region = match shard {
            None => None,
            Some(s) => Some(shard_region(path, global.dims(), s)?),
        };
        let (tensor, made) = match loaded {
            Some((tensor, file)) => {
                let mut tensor = tensor.clone();
                for (dim, range) in region.iter().flatten().enumerate() {
                    if range.len() != tensor.dim(dim)? {
                        tensor = tensor.narrow(dim, range.start, range.len())?;
                    }
                }
                (tensor.to_dtype(dtype)?.to_device(dev)?, Made::Loaded(*file))
            }
            None => {
                let (scheme, rule, rule_version) = match rules.find(path) {
                    Some((i, r)) => {
                        hits[i] += 1;
                        (*r.scheme(), Some(i), r.version())
                    }
                    None => match hint {
                        Some(hint) => (scheme_for_hint(hint, global.dims()), None, None),
                        None => candle_core::bail!(
                            "parameter `{path}` (shape {:?}): no init rule matches it, and candle's `Shard` \
                             hint carries no init: add a rule for it, or a recipe (`KeyedVars::rules`)",
                            global.dims()
                        ),
                    },
                };
                let declared = if versions.is_empty() {
                    None
                } else {
                    versions.get(path).copied()
                };
                let version = declared.or(rule_version).unwrap_or(1);
                let init = Init::new(self.seed).set_dtype(dtype).set_device(dev);
                // Generated as a variable when trainable, so `from_tensor` below
                // wraps it without copying.
                let tensor = init.make(path, global.dims(), region.as_deref(), &scheme, version, self.trainable)?;
                (tensor, Made::Generated { scheme, version, rule })
            }
        };
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
        slot.insert(Held {
            tensor: tensor.clone(),
            global,
            shard,
            dtype,
            made,
        });
        Ok(tensor)
    }
}

/// The region of `global` that `shard` holds; a shard that does not fit is an
/// error naming the parameter.
fn shard_region(path: &str, global: &[usize], shard: Shard) -> candle_core::Result<Vec<Range<usize>>> {
    let Shard { dim, rank, world_size } = shard;
    if dim >= global.len() || world_size == 0 || rank >= world_size {
        candle_core::bail!(
            "parameter `{path}`: shard (dim {dim}, rank {rank} of {world_size}) does not fit the global shape {global:?}"
        );
    }
    let size = global[dim];
    if !size.is_multiple_of(world_size) {
        candle_core::bail!(
            "parameter `{path}`: dim {dim} of the global shape {global:?} ({size}) does not split into {world_size} equal shards"
        );
    }
    let block = size / world_size;
    let mut region: Vec<Range<usize>> = global.iter().map(|&n| 0..n).collect();
    region[dim] = rank * block..(rank + 1) * block;
    Ok(region)
}

/// The backend of [`KeyedVars::learn_shapes`]: records each path's shape and
/// hands out a broadcast zero (no storage of the tensor's size).
struct ShapeRecorder(Arc<Mutex<Vec<(String, Shape)>>>);

impl SimpleBackend for ShapeRecorder {
    fn get(&self, s: Shape, name: &str, _: candle_nn::Init, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let tensor = Tensor::zeros((), dtype, dev)?.broadcast_as(s.clone())?;
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((name.to_owned(), s));
        Ok(tensor)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> candle_core::Result<Tensor> {
        candle_core::bail!("parameter `{name}`: learning shapes needs each parameter's shape, use `get` with a shape")
    }

    fn contains_tensor(&self, _name: &str) -> bool {
        false
    }
}

/// The [`SimpleBackend`] behind [`KeyedVars::var_builder`].
#[derive(Debug)]
struct KeyedBackend(Arc<State>);

impl SimpleBackend for KeyedBackend {
    fn get(&self, s: Shape, name: &str, h: candle_nn::Init, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        self.0.get(name, s, Via::Hint(h), dtype, dev)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let pretrained_shape = {
            let inner = self.0.lock();
            if let Some(h) = inner.held.get(name) {
                return Ok(h.tensor.clone());
            }
            inner.pretrained.get(name).map(|(t, _)| t.shape().clone())
        };
        match pretrained_shape {
            Some(shape) => self
                .0
                .get(name, shape, Via::Hint(candle_nn::Init::Const(0.0)), dtype, dev),
            None => candle_core::bail!(
                "parameter `{name}` has not been created yet, and keyed streams need its shape: use `get` with a shape"
            ),
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.0.contains(name)
    }
}

/// The [`Backend`] behind [`KeyedVars::sharded_var_builder`]: hints are
/// candle-nn's [`Shard`]; the default hint (`world_size` 1) is the whole tensor.
#[derive(Debug)]
pub struct KeyedShardedBackend(Arc<State>);

impl Backend for KeyedShardedBackend {
    type Hints = Shard;

    fn get(&self, s: Shape, name: &str, h: Shard, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let shard = if h.world_size == 1 && h.rank == 0 {
            None
        } else {
            Some(h)
        };
        self.0.get(name, s, Via::Sharded(shard), dtype, dev)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> candle_core::Result<Tensor> {
        candle_core::bail!("parameter `{name}`: the sharded keyed builder needs the global shape, use `get_with_hints`")
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.0.contains(name)
    }
}

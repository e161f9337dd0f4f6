//! What a model's initialisation is made of: one record per parameter, with a
//! digest of its exact bits.
//!
//! A [`Manifest`] lists, for every parameter, how its values were made (path,
//! shape, dtype, init scheme, declared version, seed, spec version, trainable)
//! and a BLAKE3 [`Digest`] of the values themselves: the tensor's raw bytes, each
//! element little-endian, in row-major order (exactly the bytes a safetensors
//! file stores). Two manifests compare with [`crate::diff::diff`]; a manifest is
//! written to and checked against a lockfile with [`crate::lock`].
//!
//! It is taken from a model built by [`Manifest::init`] (or from the model and
//! provenance of [`crate::model::init_with_provenance`]), from a keyed
//! `VarBuilder` ([`Manifest::of_keyed`]), or from a checkpoint on disk
//! ([`StoredCheckpoint::manifest`](crate::checkpoint::StoredCheckpoint::manifest), which hashes the stored bytes without loading
//! the whole file).
//!
//! ```
//! use reproducible::layers::{linear, Linear};
//! use reproducible::manifest::Manifest;
//! use reproducible::Init;
//!
//! let manifest = Manifest::init::<Linear>(&linear(4, 2), &Init::new(42))?;
//! let weight = manifest.get("weight").unwrap();
//! assert_eq!(weight.shape, [2, 4]);
//! assert_eq!(weight.version, 1);
//! // The same seed, path, version, scheme, shape and dtype: the same bits, forever.
//! let again = Manifest::init::<Linear>(&linear(4, 2), &Init::new(42))?;
//! assert_eq!(again.get("weight").unwrap().digest, weight.digest);
//! # Ok::<(), reproducible::Error>(())
//! ```
//!
//! When `key = ".."` keeps an older path for a renamed field or module, the
//! macro records the path in code as the parameter's [`ParamRecord::alias`];
//! [`Manifest::with_alias`] sets one by hand (for `VarBuilder`-built models).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::str::FromStr;

use candle_core::{DType, Tensor};

use crate::backend::KeyedVars;
use crate::error::{Error, Result};
use crate::model::{init_with_provenance, Model, ModelExt};
use crate::provenance::Provenance;
use crate::scheme::Scheme;
use crate::stream::SPEC_VERSION;
use crate::Init;

/// A BLAKE3 digest of a tensor's bytes (little-endian elements, row-major).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Digest(*blake3::hash(bytes).as_bytes())
    }

    /// The digest of a tensor's values: [`tensor_bytes`] hashed.
    pub fn of_tensor(tensor: &Tensor) -> Result<Self> {
        Ok(Self::of(&tensor_bytes(tensor)?))
    }

    /// The first 12 hex digits, for human-readable reports.
    pub fn short(&self) -> String {
        self.to_string()[..12].to_owned()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = String;

    /// Parses 64 lowercase hex digits.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bytes = s.as_bytes();
        let hex = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        if bytes.len() != 64 {
            return Err(format!(
                "expected 64 lowercase hex digits, found {} characters",
                s.chars().count()
            ));
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks(2).enumerate() {
            match (hex(pair[0]), hex(pair[1])) {
                (Some(hi), Some(lo)) => out[i] = hi << 4 | lo,
                _ => return Err(format!("expected 64 lowercase hex digits, found `{s}`")),
            }
        }
        Ok(Digest(out))
    }
}

/// How one parameter was made, and a digest of the values it got.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamRecord {
    /// Dotted path: the stream path and the checkpoint name.
    pub path: String,
    /// Another name of the parameter: its name in code when `key = ".."` keeps an
    /// older path (recorded by the macro), or one set with [`Manifest::with_alias`].
    pub alias: Option<String>,
    /// The init rule that chose the scheme, when one did (see [`Provenance::rule`]).
    pub rule: Option<String>,
    /// Global shape.
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: DType,
    /// The init scheme.
    pub scheme: Scheme,
    /// Declared version.
    pub version: u32,
    /// The seed of its stream.
    pub seed: u64,
    /// The spec version of the generator that made it.
    pub spec_version: u32,
    /// Whether it is trainable (false: frozen parameter or buffer).
    pub trainable: bool,
    /// BLAKE3 of the exact bits.
    pub digest: Digest,
}

impl ParamRecord {
    /// The record of `tensor`, made as `provenance` says. Fails, naming the path,
    /// when the tensor's shape or dtype is not the recorded one, when the scheme
    /// text does not parse, or when the spec version is unknown.
    pub fn from_provenance(provenance: &Provenance, tensor: &Tensor) -> Result<Self> {
        let path = &provenance.path;
        if tensor.dims() != provenance.shape.as_slice() {
            return Err(param_error(
                path,
                format!(
                    "the tensor has shape {:?} but its provenance records {:?}",
                    tensor.dims(),
                    provenance.shape
                ),
            ));
        }
        let dtype = parse_dtype(&provenance.dtype).map_err(|e| param_error(path, e))?;
        if tensor.dtype() != dtype {
            return Err(param_error(
                path,
                format!(
                    "the tensor has dtype {} but its provenance records {}",
                    tensor.dtype().as_str(),
                    provenance.dtype
                ),
            ));
        }
        Self::described(provenance, Digest::of_tensor(tensor).map_err(|e| e.at_path(path))?)
    }

    /// The record of a parameter made as `provenance` says, whose bytes hash to `digest`.
    pub(crate) fn described(provenance: &Provenance, digest: Digest) -> Result<Self> {
        let path = &provenance.path;
        check_spec_version(provenance.spec_version).map_err(|e| param_error(path, e))?;
        let scheme: Scheme = provenance.scheme.parse().map_err(|e: Error| e.at_path(path))?;
        // What a lockfile reader would reject is rejected here, before any write.
        crate::coords::check_shape(&provenance.shape).map_err(|e| e.at_path(path))?;
        scheme.plan(&provenance.shape).map_err(|e| {
            param_error(
                path,
                format!("`{scheme}` cannot initialise shape {:?}: {e}", provenance.shape),
            )
        })?;
        Ok(ParamRecord {
            path: path.clone(),
            alias: provenance.alias.clone(),
            rule: provenance.rule.clone(),
            shape: provenance.shape.clone(),
            dtype: parse_dtype(&provenance.dtype).map_err(|e| param_error(path, e))?,
            scheme,
            version: provenance.version,
            seed: provenance.seed,
            spec_version: provenance.spec_version,
            trainable: provenance.trainable,
            digest,
        })
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// Every parameter of a model, sorted by path, with the model's version and seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// The seed every parameter was initialised with (`None` when they differ or
    /// it is unknown; each record keeps its own).
    pub seed: Option<u64>,
    /// The model-level version (`#[reproducible_model(version = N)]`).
    pub model_version: u32,
    params: Vec<ParamRecord>,
}

impl Manifest {
    /// A manifest of `params`, sorted by path. Fails on two records with one path.
    pub fn new(seed: Option<u64>, model_version: u32, mut params: Vec<ParamRecord>) -> Result<Self> {
        params.sort_by(|a, b| a.path.cmp(&b.path));
        if let Some(w) = params.windows(2).find(|w| w[0].path == w[1].path) {
            return Err(param_error(&w[0].path, "is listed twice"));
        }
        Ok(Self {
            seed,
            model_version,
            params,
        })
    }

    /// Builds `M` from `init` and returns its manifest (the model is dropped).
    pub fn init<M: Model>(config: &M::Config, init: &Init) -> Result<Self> {
        let (model, provenance) = init_with_provenance::<M>(config, init)?;
        Self::of_model(&model, &provenance)
    }

    /// The manifest of a model and the provenance [`init_with_provenance`] returned
    /// with it. Every parameter needs a record and every record a parameter.
    pub fn of_model<M: Model>(model: &M, provenance: &[Provenance]) -> Result<Self> {
        let tensors: Vec<(String, Tensor)> = model.parameters().into_iter().map(|p| (p.path, p.tensor)).collect();
        Self::from_parts(M::MODEL_VERSION, provenance, &tensors)
    }

    /// The manifest of everything a keyed `VarBuilder` created, at `model_version`.
    pub fn of_keyed(keyed: &KeyedVars, model_version: u32) -> Result<Self> {
        Self::from_parts(model_version, &keyed.provenance(), &keyed.tensors())
    }

    /// The manifest of `tensors` made as `provenance` says, matched by path.
    /// Fails, naming each path, on a tensor without a record or a record without
    /// a tensor, and on a shape or dtype other than the recorded one.
    pub fn from_parts(model_version: u32, provenance: &[Provenance], tensors: &[(String, Tensor)]) -> Result<Self> {
        let by_path: BTreeMap<&str, &Tensor> = tensors.iter().map(|(p, t)| (p.as_str(), t)).collect();
        let recorded: HashSet<&str> = provenance.iter().map(|p| p.path.as_str()).collect();
        if let Some(path) = by_path.keys().find(|p| !recorded.contains(*p)) {
            return Err(param_error(
                path,
                "the model holds it but no provenance was recorded for it",
            ));
        }
        let params = provenance
            .iter()
            .map(|p| match by_path.get(p.path.as_str()) {
                Some(t) => ParamRecord::from_provenance(p, t),
                None => Err(param_error(
                    &p.path,
                    "has a provenance record but the model holds no such tensor",
                )),
            })
            .collect::<Result<Vec<_>>>()?;
        Self::new(common_seed(&params), model_version, params)
    }

    /// Sets the alias of the parameter at `path` (see [`ParamRecord::alias`]).
    pub fn with_alias(mut self, path: &str, alias: &str) -> Result<Self> {
        match self.params.iter_mut().find(|p| p.path == path) {
            Some(p) => p.alias = Some(alias.to_owned()),
            None => {
                return Err(param_error(
                    path,
                    "cannot take an alias: the manifest has no such parameter",
                ))
            }
        }
        Ok(self)
    }

    /// The records, sorted by path.
    pub fn params(&self) -> &[ParamRecord] {
        &self.params
    }

    /// The record of `path`.
    pub fn get(&self, path: &str) -> Option<&ParamRecord> {
        self.params
            .binary_search_by(|p| p.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.params[i])
    }

    /// The number of parameters.
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }
}

/// The seed of every record when they share one.
pub(crate) fn common_seed(params: &[ParamRecord]) -> Option<u64> {
    let first = params.first()?.seed;
    params.iter().all(|p| p.seed == first).then_some(first)
}

/// An error about one parameter (swap for a dedicated variant when `Error` gains one).
pub(crate) fn param_error(path: &str, reason: impl Into<String>) -> Error {
    Error::Config {
        path: path.to_owned(),
        layer: "parameter".to_owned(),
        reason: reason.into(),
    }
}

/// Accepts the spec versions this build can regenerate.
pub(crate) fn check_spec_version(v: u32) -> std::result::Result<(), String> {
    if (1..=SPEC_VERSION).contains(&v) {
        Ok(())
    } else {
        Err(format!(
            "unknown spec version {v}: this build of reproducible implements spec versions 1 to {SPEC_VERSION}"
        ))
    }
}

/// Parses a dtype name as candle writes it (`f32`, `bf16`, `u8`, ...).
pub(crate) fn parse_dtype(name: &str) -> std::result::Result<DType, String> {
    name.parse::<DType>()
        .map_err(|_| format!("unknown dtype `{name}`; expected f32, f64, f16, bf16 or another candle dtype name"))
}

/// A tensor's values as bytes: each element little-endian, row-major. This is
/// what safetensors stores and what [`Digest`]s are taken of; copies from the
/// device when needed.
pub fn tensor_bytes(tensor: &Tensor) -> Result<Vec<u8>> {
    let flat = tensor.flatten_all()?;
    macro_rules! le {
        ($t:ty) => {
            flat.to_vec1::<$t>()?
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect()
        };
    }
    Ok(match tensor.dtype() {
        DType::F32 => le!(f32),
        DType::F64 => le!(f64),
        DType::F16 => le!(half::f16),
        DType::BF16 => le!(half::bf16),
        DType::U8 => le!(u8),
        DType::U32 => le!(u32),
        DType::I16 => le!(i16),
        DType::I32 => le!(i32),
        DType::I64 => le!(i64),
        other => {
            return Err(Error::Candle(candle_core::Error::Msg(format!(
                "cannot take the bytes of a {} tensor",
                other.as_str()
            ))))
        }
    })
}

//! Safetensors checkpoints with provenance, written atomically, loaded with validation.
//!
//! [`save`] writes the tensors and a `reproducible` metadata entry (spec version,
//! seed, model version and every parameter's [`Provenance`]) to a temporary file
//! in the same directory, syncs it and renames it over the target, so a process
//! killed halfway never leaves a broken checkpoint in place of a good one.
//! [`load_model`] builds a model from a checkpoint through its own constructor
//! and fails, naming every offending path, on a missing, extra, wrongly shaped or
//! wrongly typed tensor: nothing is skipped or converted silently.
//!
//! ```
//! use reproducible::checkpoint::{self, Metadata};
//! use reproducible::layers::{linear, Linear};
//! use reproducible::model::{init_with_provenance, ModelExt};
//! use candle_core::{DType, Device};
//! use reproducible::Init;
//!
//! let (fc, provenance) = init_with_provenance::<Linear>(&linear(4, 2), &Init::new(7))?;
//! let dir = tempfile::tempdir().unwrap();
//! let file = dir.path().join("model.safetensors");
//! checkpoint::save_model(&file, &fc, &Metadata::new(Some(7), 1, provenance))?;
//! let back: Linear = checkpoint::load_model(&file, &linear(4, 2), DType::F32, &Device::Cpu)?;
//! assert_eq!(back.weight().to_vec2::<f32>()?, fc.weight().to_vec2::<f32>()?);
//! assert_eq!(checkpoint::read_metadata(&file)?.unwrap().params[0].path, "bias");
//! # Ok::<(), reproducible::Error>(())
//! ```

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

mod stored;

pub use crate::atomic::remove_unfinished;
pub use stored::{is_safetensors, StoredCheckpoint, StoredTensor};
pub(crate) use stored::{open_header, Header};

use crate::error::{printable, Error, Result};
use crate::manifest::parse_dtype;
use crate::model::{Ctx, Model, ModelExt};
use crate::provenance::Provenance;
use crate::stream::SPEC_VERSION;

/// The safetensors metadata key holding [`Metadata`] as JSON.
pub const METADATA_KEY: &str = "reproducible";

/// What a checkpoint records about how its tensors were made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The spec version of the generator (SPEC.md).
    pub spec_version: u32,
    /// The seed the parameters were initialised with, if they were.
    pub seed: Option<u64>,
    /// The model-level version.
    pub model_version: u32,
    /// Per-parameter provenance, sorted by path.
    pub params: Vec<Provenance>,
}

impl Metadata {
    /// Metadata for this crate's spec version.
    pub fn new(seed: Option<u64>, model_version: u32, mut params: Vec<Provenance>) -> Self {
        params.sort_by(|a, b| a.path.cmp(&b.path));
        Self {
            spec_version: SPEC_VERSION,
            seed,
            model_version,
            params,
        }
    }
}

fn err(file: &Path, reason: impl Into<String>) -> Error {
    Error::Checkpoint {
        file: file.display().to_string(),
        reason: reason.into(),
    }
}

/// Writes `tensors` and `metadata` to `file` atomically (temporary file, sync, rename).
pub fn save(file: &Path, tensors: &[(String, Tensor)], metadata: &Metadata) -> Result<()> {
    let mut seen = HashSet::new();
    if let Some((dup, _)) = tensors.iter().find(|(p, _)| !seen.insert(p.as_str())) {
        return Err(err(file, format!("two tensors share the path `{dup}`")));
    }
    let json = serde_json::to_string(metadata).map_err(|e| err(file, format!("encoding metadata: {e}")))?;
    let meta: HashMap<String, String> = [(METADATA_KEY.to_owned(), json)].into();
    let bytes = safetensors::serialize(tensors.iter().map(|(p, t)| (p.as_str(), t)), Some(meta))
        .map_err(|e| err(file, format!("encoding tensors: {e}")))?;
    crate::atomic::write(file, &bytes).map_err(|e| err(file, format!("writing: {e}")))
}

/// Saves a model's parameters (all of them, frozen ones included) with `metadata`.
pub fn save_model<M: Model>(file: &Path, model: &M, metadata: &Metadata) -> Result<()> {
    let tensors: Vec<(String, Tensor)> = model.parameters().into_iter().map(|p| (p.path, p.tensor)).collect();
    save(file, &tensors, metadata)
}

/// Reads the [`Metadata`] of a checkpoint (`None` for a plain safetensors
/// file); only the header is read.
pub fn read_metadata(file: &Path) -> Result<Option<Metadata>> {
    let (_, header) = open_header(file)?;
    header.metadata(&file.display().to_string())
}

/// Reads every tensor of a checkpoint onto `device`, keeping stored dtypes.
pub fn read(file: &Path, device: &Device) -> Result<HashMap<String, Tensor>> {
    let (f, header) = open_header(file)?;
    let served = Served {
        file: file.to_owned(),
        data: Mutex::new(f),
        header,
        used: Mutex::new(HashSet::new()),
        problems: Mutex::new(Vec::new()),
    };
    served
        .header
        .tensors
        .iter()
        .map(|(name, t)| Ok((name.clone(), served.tensor(name, t, device)?)))
        .collect()
}

/// Builds `M` with every parameter taken from the checkpoint `file`, in `dtype`
/// unless a parameter declares its own. Fails on any missing, extra, wrongly
/// shaped or wrongly typed tensor, naming all of them.
///
/// Runtime randomness resumes where it was: the model is built with the seed
/// the checkpoint's metadata records, so a [`KeyedDropout`](crate::dropout::KeyedDropout)
/// draws the masks it would have drawn in an uninterrupted run. A checkpoint
/// without a recorded seed loads only models without keyed dropout.
pub fn load_model<M: Model>(file: &Path, config: &M::Config, dtype: DType, device: &Device) -> Result<M> {
    let checked = CheckedVars::open(file, dtype, device)?;
    let seed = checked.metadata()?.and_then(|m| m.seed);
    let vb = checked.var_builder();
    let ctx = match seed {
        Some(seed) => Ctx::load(&vb).with_seed(seed),
        None => Ctx::load(&vb),
    };
    let built = M::build(config, &ctx);
    checked.finish()?;
    built
}

/// A validating `VarBuilder` over a checkpoint, for unmodified candle code:
/// build the model with [`CheckedVars::var_builder`], then [`CheckedVars::finish`]
/// reports every missing, extra, wrongly shaped or wrongly typed tensor.
///
/// ```no_run
/// # use reproducible::checkpoint::CheckedVars;
/// # use candle_core::{DType, Device};
/// let checked = CheckedVars::open("model.safetensors".as_ref(), DType::F32, &Device::Cpu)?;
/// let fc = candle_nn::linear(8, 4, checked.var_builder().pp("fc"));
/// checked.finish()?; // errors name every offending tensor, even if `fc` failed
/// # Ok::<(), reproducible::Error>(())
/// ```
#[derive(Debug)]
pub struct CheckedVars {
    file: PathBuf,
    served: std::sync::Arc<Served>,
    dtype: DType,
    device: Device,
}

impl CheckedVars {
    /// Reads the checkpoint `file`; tensors are served in `dtype` on `device` (a
    /// stored dtype that differs is an error, not a conversion).
    /// Only the header is read here; each tensor is read when the model asks
    /// for it.
    pub fn open(file: &Path, dtype: DType, device: &Device) -> Result<Self> {
        let (f, header) = open_header(file)?;
        Ok(Self {
            file: file.to_owned(),
            served: std::sync::Arc::new(Served {
                file: file.to_owned(),
                data: Mutex::new(f),
                header,
                used: Mutex::new(HashSet::new()),
                problems: Mutex::new(Vec::new()),
            }),
            dtype,
            device: device.clone(),
        })
    }

    /// The checkpoint's [`Metadata`] (`None` for a plain safetensors file).
    pub fn metadata(&self) -> Result<Option<Metadata>> {
        self.served.header.metadata(&self.file.display().to_string())
    }

    /// The `VarBuilder` to build the model with.
    pub fn var_builder(&self) -> VarBuilder<'static> {
        VarBuilder::from_backend(
            Box::new(ServedRef(self.served.clone())),
            self.dtype,
            self.device.clone(),
        )
    }

    /// Fails, naming each, if a requested tensor was missing, wrongly shaped or
    /// typed, or if the checkpoint holds tensors nothing requested.
    pub fn finish(&self) -> Result<()> {
        let mut problems = self.served.problems.lock().expect("problems lock").clone();
        let used = self.served.used.lock().expect("used lock").clone();
        let extra: BTreeSet<&String> = self
            .served
            .header
            .tensors
            .keys()
            .filter(|k| !used.contains(*k))
            .collect();
        if !extra.is_empty() {
            let names: Vec<String> = extra.iter().map(|k| format!("`{}`", printable(k))).collect();
            problems.push(format!("holds tensors the model does not have: {}", names.join(", ")));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(err(&self.file, problems.join("; ")))
        }
    }
}

#[derive(Debug)]
struct Served {
    file: PathBuf,
    data: Mutex<File>,
    header: Header,
    used: Mutex<HashSet<String>>,
    problems: Mutex<Vec<String>>,
}

impl Served {
    /// Reads the stored tensor `name` onto `device`.
    fn tensor(&self, name: &str, t: &StoredTensor, device: &Device) -> Result<Tensor> {
        let fail = |reason: String| err(&self.file, format!("tensor `{}`: {reason}", printable(name)));
        let dtype = parse_dtype(&t.dtype).map_err(&fail)?;
        let len = usize::try_from(t.offsets.1 - t.offsets.0).map_err(|_| fail("too large for this machine".into()))?;
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(len)
            .map_err(|e| fail(format!("{len} bytes: {e}")))?;
        bytes.resize(len, 0);
        let mut f = self.data.lock().expect("checkpoint file lock");
        f.seek(SeekFrom::Start(self.header.data_start + t.offsets.0))
            .and_then(|_| f.read_exact(&mut bytes))
            .map_err(|e| fail(format!("reading: {e}")))?;
        Tensor::from_raw_buffer(&bytes, dtype, &t.shape, device).map_err(|e| fail(e.to_string()))
    }
}

struct ServedRef(std::sync::Arc<Served>);

impl SimpleBackend for ServedRef {
    fn get(
        &self,
        s: Shape,
        name: &str,
        _h: candle_nn::Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let served = &self.0;
        // A problem is recorded and a placeholder returned, so the build goes on and
        // the final error names every offending tensor, not just the first.
        let problem = |p: String| -> candle_core::Result<Tensor> {
            served.problems.lock().expect("problems lock").push(p);
            Tensor::zeros(s.clone(), dtype, dev)
        };
        let Some(t) = served.header.tensors.get(name) else {
            return problem(format!(
                "has no tensor `{name}` (the model expects shape {:?}, dtype {})",
                s.dims(),
                dtype.as_str()
            ));
        };
        served.used.lock().expect("used lock").insert(name.to_owned());
        if t.shape != s.dims() {
            return problem(format!(
                "tensor `{name}` has shape {:?}, the model expects {:?}",
                t.shape,
                s.dims()
            ));
        }
        if t.dtype != dtype.as_str() {
            return problem(format!(
                "tensor `{name}` has dtype {}, the model expects {}",
                printable(&t.dtype),
                dtype.as_str()
            ));
        }
        served.tensor(name, t, dev).map_err(Into::into)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let served = &self.0;
        served.used.lock().expect("used lock").insert(name.to_owned());
        let t = served
            .header
            .tensors
            .get(name)
            .ok_or_else(|| candle_core::Error::Msg(format!("has no tensor `{name}`")))?;
        served.tensor(name, t, dev).map_err(Into::into)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.0.header.tensors.contains_key(name)
    }
}

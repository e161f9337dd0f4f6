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
//! use reproducible::{DType, Device, Init};
//!
//! let (fc, provenance) = init_with_provenance::<Linear>(&linear(4, 2), &Init::new(7))?;
//! let file = std::env::temp_dir().join(format!("doc-{}.safetensors", std::process::id()));
//! checkpoint::save_model(&file, &fc, &Metadata::new(Some(7), 1, provenance))?;
//! let back: Linear = checkpoint::load_model(&file, &linear(4, 2), DType::F32, &Device::Cpu)?;
//! assert_eq!(back.weight().to_vec2::<f32>()?, fc.weight().to_vec2::<f32>()?);
//! assert_eq!(checkpoint::read_metadata(&file)?.unwrap().params[0].path, "bias");
//! # std::fs::remove_file(&file).unwrap();
//! # Ok::<(), reproducible::Error>(())
//! ```

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
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

/// Reads the [`Metadata`] of a checkpoint (`None` for a plain safetensors file).
pub fn read_metadata(file: &Path) -> Result<Option<Metadata>> {
    let bytes = std::fs::read(file).map_err(|e| err(file, format!("reading: {e}")))?;
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| err(file, format!("not a safetensors file: {e}")))?;
    match header.metadata().as_ref().and_then(|m| m.get(METADATA_KEY)) {
        None => Ok(None),
        Some(json) => serde_json::from_str(json)
            .map(Some)
            .map_err(|e| err(file, format!("malformed `{METADATA_KEY}` metadata: {e}"))),
    }
}

/// Reads every tensor of a checkpoint onto `device`, keeping stored dtypes.
pub fn read(file: &Path, device: &Device) -> Result<HashMap<String, Tensor>> {
    let bytes = std::fs::read(file).map_err(|e| err(file, format!("reading: {e}")))?;
    candle_core::safetensors::load_buffer(&bytes, device).map_err(|e| err(file, format!("not a safetensors file: {e}")))
}

/// Builds `M` with every parameter taken from the checkpoint `file`, in `dtype`
/// unless a parameter declares its own. Fails on any missing, extra, wrongly
/// shaped or wrongly typed tensor, naming all of them.
pub fn load_model<M: Model>(file: &Path, config: &M::Config, dtype: DType, device: &Device) -> Result<M> {
    let checked = CheckedVars::open(file, dtype, device)?;
    let built = M::build(config, &Ctx::load(&checked.var_builder()));
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
    pub fn open(file: &Path, dtype: DType, device: &Device) -> Result<Self> {
        Ok(Self {
            file: file.to_owned(),
            served: std::sync::Arc::new(Served {
                tensors: read(file, device)?,
                used: Mutex::new(HashSet::new()),
                problems: Mutex::new(Vec::new()),
            }),
            dtype,
            device: device.clone(),
        })
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
        let extra: BTreeSet<&String> = self.served.tensors.keys().filter(|k| !used.contains(*k)).collect();
        if !extra.is_empty() {
            let names: Vec<String> = extra.iter().map(|k| format!("`{k}`")).collect();
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
    tensors: HashMap<String, Tensor>,
    used: Mutex<HashSet<String>>,
    problems: Mutex<Vec<String>>,
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
        let Some(t) = served.tensors.get(name) else {
            return problem(format!(
                "has no tensor `{name}` (the model expects shape {:?}, dtype {})",
                s.dims(),
                dtype.as_str()
            ));
        };
        served.used.lock().expect("used lock").insert(name.to_owned());
        if t.dims() != s.dims() {
            return problem(format!(
                "tensor `{name}` has shape {:?}, the model expects {:?}",
                t.dims(),
                s.dims()
            ));
        }
        if t.dtype() != dtype {
            return problem(format!(
                "tensor `{name}` has dtype {}, the model expects {}",
                t.dtype().as_str(),
                dtype.as_str()
            ));
        }
        Ok(t.clone())
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> candle_core::Result<Tensor> {
        self.0.used.lock().expect("used lock").insert(name.to_owned());
        self.0
            .tensors
            .get(name)
            .cloned()
            .ok_or_else(|| candle_core::Error::Msg(format!("has no tensor `{name}`")))
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.0.tensors.contains_key(name)
    }
}

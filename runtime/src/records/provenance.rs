//! How a parameter's values were made: the record kept for checkpoints and lockfiles.
//!
//! ```
//! use reproducible::provenance::Provenance;
//! use reproducible::scheme::normal;
//! let p = Provenance::new("head.weight", &[10, 4], "f32", &normal(0.0, 0.02), 1, 42, true);
//! assert_eq!(p.scheme, "normal(mean=0.0, std=0.02)");
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::scheme::Scheme;
use crate::stream::SPEC_VERSION;

/// One parameter's recipe: enough to regenerate its values bit for bit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Dotted parameter path (the stream path).
    pub path: String,
    /// Global shape.
    pub shape: Vec<usize>,
    /// Element type: `f32`, `f64`, `f16` or `bf16`.
    pub dtype: String,
    /// The init scheme in its text form (`kaiming_uniform(a=2.23606797749979, ...)`).
    pub scheme: String,
    /// Declared version.
    pub version: u32,
    /// Seed.
    pub seed: u64,
    /// Whether it is trainable.
    pub trainable: bool,
    /// Spec version of the algorithm that made it.
    pub spec_version: u32,
    /// The parameter's path in code when it differs from the stream path: a field
    /// (or a module above it) renamed with `key = "old"` to keep its values.
    /// Absent from records written before aliases were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The init rule that chose the scheme, for a parameter built through a
    /// keyed `VarBuilder` with rules ([`crate::rules`]): its pattern, after the
    /// recipe's name for a recipe's rule. Absent when the code chose the scheme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl Provenance {
    /// The record of a parameter generated now by this crate.
    pub fn new(
        path: &str,
        shape: &[usize],
        dtype: &str,
        scheme: &Scheme,
        version: u32,
        seed: u64,
        trainable: bool,
    ) -> Self {
        Self {
            path: path.to_owned(),
            shape: shape.to_vec(),
            dtype: dtype.to_owned(),
            scheme: scheme.to_string(),
            version,
            seed,
            trainable,
            spec_version: SPEC_VERSION,
            alias: None,
            rule: None,
        }
    }

    /// This record with `alias` as the path in code, kept only when it differs
    /// from the stream path.
    #[must_use]
    pub fn with_alias(mut self, alias: &str) -> Self {
        self.alias = (alias != self.path).then(|| alias.to_owned());
        self
    }

    /// This record with the label of the init rule that chose its scheme.
    #[must_use]
    pub fn with_rule(mut self, rule: Option<String>) -> Self {
        self.rule = rule;
        self
    }
}

/// The name of a candle dtype as used in provenance records.
pub fn dtype_name(dtype: candle_core::DType) -> &'static str {
    dtype.as_str()
}

/// A shared, ordered collection of provenance records, filled while a model is built.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    records: Arc<Mutex<BTreeMap<String, Provenance>>>,
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the record of `p.path`.
    pub fn record(&self, p: Provenance) {
        self.records.lock().expect("recorder lock").insert(p.path.clone(), p);
    }

    /// All records, sorted by path.
    pub fn records(&self) -> Vec<Provenance> {
        self.records.lock().expect("recorder lock").values().cloned().collect()
    }
}

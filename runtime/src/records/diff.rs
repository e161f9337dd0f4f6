//! The semantic diff of two manifests: which parameters' initial values changed, and why.
//!
//! [`diff`] matches parameters by path (and by alias, for renames) and explains
//! each difference in the terms a model declares: a parameter was added,
//! removed or renamed, its version was bumped, its init scheme or one of the
//! scheme's arguments changed, its shape or dtype changed. A parameter whose
//! values changed although nothing that makes them did (seed, path, version,
//! scheme, shape, dtype, spec version) is flagged loudly: only a change to the
//! generator itself, or values modified after initialisation, can do that.
//! Parameters that did not change are counted, not listed.
//!
//! ```
//! use reproducible::diff::diff;
//! use reproducible::layers::{linear, Linear};
//! use reproducible::manifest::Manifest;
//! use reproducible::Init;
//!
//! let old = Manifest::init::<Linear>(&linear(4, 2), &Init::new(42))?;
//! let new = Manifest::init::<Linear>(&linear(4, 3), &Init::new(42))?;
//! let d = diff(&old, &new);
//! assert!(!d.is_same());
//! assert_eq!(
//!     d.to_string(),
//!     "changed: bias: shape [2] -> [3]\nchanged: weight: shape [2, 4] -> [3, 4]\nunchanged: 0 parameters\n"
//! );
//! # Ok::<(), reproducible::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;

use candle_core::DType;

use crate::error::printable;
use crate::manifest::{Digest, Manifest, ParamRecord};
use crate::scheme::Scheme;

/// One declared or observed difference of a parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// The declared version was bumped (or lowered).
    Version {
        /// Before.
        from: u32,
        /// After.
        to: u32,
    },
    /// The init scheme, or one of its arguments, changed.
    Scheme {
        /// Before.
        from: Scheme,
        /// After.
        to: Scheme,
    },
    /// The shape changed.
    Shape {
        /// Before.
        from: Vec<usize>,
        /// After.
        to: Vec<usize>,
    },
    /// The dtype changed.
    Dtype {
        /// Before.
        from: DType,
        /// After.
        to: DType,
    },
    /// The seed changed.
    Seed {
        /// Before.
        from: u64,
        /// After.
        to: u64,
    },
    /// The spec version of the generator changed.
    SpecVersion {
        /// Before.
        from: u32,
        /// After.
        to: u32,
    },
    /// The parameter became trainable or frozen (does not change values).
    Trainable {
        /// Before.
        from: bool,
        /// After.
        to: bool,
    },
    /// The alias changed (does not change values).
    Alias {
        /// Before.
        from: Option<String>,
        /// After.
        to: Option<String>,
    },
    /// The init rule that chose the scheme changed (does not change values by
    /// itself; a different scheme shows as its own change).
    Rule {
        /// Before.
        from: Option<String>,
        /// After.
        to: Option<String>,
    },
    /// The values changed although nothing that makes them did: a change to
    /// the generator (spec or library code), or values modified after
    /// initialisation.
    UndeclaredValues {
        /// Digest before.
        from: Digest,
        /// Digest after.
        to: Digest,
    },
}

impl Change {
    /// Whether this change can change values by itself.
    fn rerolls(&self) -> bool {
        !matches!(
            self,
            Change::Trainable { .. } | Change::Alias { .. } | Change::Rule { .. }
        )
    }
}

/// What happened to one parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    /// Present only in the new manifest.
    Added(ParamRecord),
    /// Present only in the old manifest.
    Removed(ParamRecord),
    /// Moved to a new path, matched through an alias.
    Renamed {
        /// The old record.
        from: Box<ParamRecord>,
        /// The new record.
        to: Box<ParamRecord>,
        /// Its other changes.
        changes: Vec<Change>,
    },
    /// Present in both, with these changes.
    Changed {
        /// The path.
        path: String,
        /// What changed (never empty).
        changes: Vec<Change>,
    },
}

impl Entry {
    /// The path the entry is about (the new path of a rename).
    pub fn path(&self) -> &str {
        match self {
            Entry::Added(r) | Entry::Removed(r) => &r.path,
            Entry::Renamed { to, .. } => &to.path,
            Entry::Changed { path, .. } => path,
        }
    }

    /// Whether the entry is a rename in code only: a field renamed with `key`
    /// keeping its path, so its values and everything recorded about it but
    /// the alias are unchanged. Such an entry is shown, but is no difference.
    pub fn is_rename_in_code(&self) -> bool {
        matches!(self, Entry::Renamed { from, to, changes } if from.path == to.path && changes.is_empty())
    }

    /// Whether the entry holds a value change that nothing declared.
    pub fn is_undeclared(&self) -> bool {
        match self {
            Entry::Changed { changes, .. } | Entry::Renamed { changes, .. } => {
                changes.iter().any(|c| matches!(c, Change::UndeclaredValues { .. }))
            }
            _ => false,
        }
    }
}

/// The semantic difference between two manifests.
#[derive(Clone, Debug, PartialEq)]
pub struct Diff {
    /// The model-level seed, when it changed.
    pub seed: Option<(Option<u64>, Option<u64>)>,
    /// The model-level version, when it changed.
    pub model_version: Option<(u32, u32)>,
    /// One entry per changed, added, removed or renamed parameter, sorted by path.
    pub entries: Vec<Entry>,
    /// The number of parameters present in both and identical in every respect.
    pub unchanged: usize,
}

impl Diff {
    /// Whether the two manifests agree in every respect.
    /// (renames in code only, which keep every value, count as the same).
    pub fn is_same(&self) -> bool {
        self.seed.is_none() && self.model_version.is_none() && self.entries.iter().all(Entry::is_rename_in_code)
    }

    /// The number of parameters whose values changed with nothing declared.
    pub fn undeclared(&self) -> usize {
        self.entries.iter().filter(|e| e.is_undeclared()).count()
    }
}

/// The differences of the parameters both records describe (old `a`, new `b`).
fn compare(a: &ParamRecord, b: &ParamRecord, same_path: bool) -> Vec<Change> {
    let mut out = Vec::new();
    if a.version != b.version {
        out.push(Change::Version {
            from: a.version,
            to: b.version,
        });
    }
    if a.scheme != b.scheme {
        out.push(Change::Scheme {
            from: a.scheme,
            to: b.scheme,
        });
    }
    if a.shape != b.shape {
        out.push(Change::Shape {
            from: a.shape.clone(),
            to: b.shape.clone(),
        });
    }
    if a.dtype != b.dtype {
        out.push(Change::Dtype {
            from: a.dtype,
            to: b.dtype,
        });
    }
    if a.seed != b.seed {
        out.push(Change::Seed {
            from: a.seed,
            to: b.seed,
        });
    }
    if a.spec_version != b.spec_version {
        out.push(Change::SpecVersion {
            from: a.spec_version,
            to: b.spec_version,
        });
    }
    if a.trainable != b.trainable {
        out.push(Change::Trainable {
            from: a.trainable,
            to: b.trainable,
        });
    }
    if same_path && a.alias != b.alias {
        out.push(Change::Alias {
            from: a.alias.clone(),
            to: b.alias.clone(),
        });
    }
    if a.rule != b.rule {
        out.push(Change::Rule {
            from: a.rule.clone(),
            to: b.rule.clone(),
        });
    }
    // A new path is a new stream key, so a rename explains new values by itself.
    let declared = !same_path || out.iter().any(Change::rerolls);
    if a.digest != b.digest && !declared {
        out.push(Change::UndeclaredValues {
            from: a.digest,
            to: b.digest,
        });
    }
    out
}

/// The semantic diff from `old` to `new`.
pub fn diff(old: &Manifest, new: &Manifest) -> Diff {
    let mut entries = Vec::new();
    let mut unchanged = 0;
    let mut removed: BTreeMap<&str, &ParamRecord> = BTreeMap::new();
    let mut added: BTreeMap<&str, &ParamRecord> = BTreeMap::new();
    for a in old.params() {
        match new.get(&a.path) {
            Some(b) => {
                let changes = compare(a, b, true);
                if changes.is_empty() {
                    unchanged += 1;
                } else if let [Change::Alias { .. }] = changes[..] {
                    // Renamed in code, path (hence values) kept by `key`.
                    entries.push(Entry::Renamed {
                        from: Box::new(a.clone()),
                        to: Box::new(b.clone()),
                        changes: Vec::new(),
                    });
                } else {
                    entries.push(Entry::Changed {
                        path: a.path.clone(),
                        changes,
                    });
                }
            }
            None => {
                removed.insert(&a.path, a);
            }
        }
    }
    for b in new.params() {
        if old.get(&b.path).is_none() {
            added.insert(&b.path, b);
        }
    }
    // A rename: an added parameter whose alias names a removed one, or a
    // removed parameter whose alias names an added one. The removed ones are
    // indexed by alias, so this is O(n log n) in the number of changed paths.
    let mut removed_by_alias: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (&path, a) in &removed {
        if let Some(alias) = a.alias.as_deref() {
            removed_by_alias.entry(alias).or_default().push(path);
        }
    }
    let mut renames = Vec::new();
    for (&path, &b) in &added {
        let from = b.alias.as_deref().filter(|a| removed.contains_key(a)).or_else(|| {
            removed_by_alias
                .get(path)
                .and_then(|paths| paths.iter().copied().find(|p| removed.contains_key(p)))
        });
        if let Some(from) = from {
            let a = removed.remove(from).expect("just found");
            renames.push((path, a, b));
        }
    }
    for (path, a, b) in renames {
        added.remove(path);
        entries.push(Entry::Renamed {
            from: Box::new(a.clone()),
            to: Box::new(b.clone()),
            changes: compare(a, b, false),
        });
    }
    entries.extend(added.into_values().map(|r| Entry::Added(r.clone())));
    entries.extend(removed.into_values().map(|r| Entry::Removed(r.clone())));
    entries.sort_by(|x, y| x.path().cmp(y.path()));
    Diff {
        seed: (old.seed != new.seed).then_some((old.seed, new.seed)),
        model_version: (old.model_version != new.model_version).then_some((old.model_version, new.model_version)),
        entries,
        unchanged,
    }
}

/// One record on one line: `[2, 4] f32, uniform(a=-0.5, b=0.5), version 1`.
pub fn describe(r: &ParamRecord) -> String {
    let mut s = format!(
        "{:?} {}, {}, version {}",
        r.shape,
        r.dtype.as_str(),
        r.scheme,
        r.version
    );
    if !r.trainable {
        s.push_str(", frozen");
    }
    if let Some(a) = &r.alias {
        s.push_str(&format!(", alias `{a}`"));
    }
    if let Some(rule) = &r.rule {
        s.push_str(&format!(", rule `{rule}`"));
    }
    s
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Version { from, to } => write!(f, "version {from} -> {to}"),
            Change::Scheme { from, to } => {
                if from.name() == to.name() {
                    let args: Vec<String> = from
                        .arguments()
                        .into_iter()
                        .zip(to.arguments())
                        .filter(|(x, y)| x.1 != y.1)
                        .map(|(x, y)| format!("{} {} -> {}", x.0, x.1, y.1))
                        .collect();
                    write!(f, "init {}: {}", from.name(), args.join(", "))
                } else {
                    write!(f, "init {from} -> {to}")
                }
            }
            Change::Shape { from, to } => write!(f, "shape {from:?} -> {to:?}"),
            Change::Dtype { from, to } => write!(f, "dtype {} -> {}", from.as_str(), to.as_str()),
            Change::Seed { from, to } => write!(f, "seed {from} -> {to}"),
            Change::SpecVersion { from, to } => write!(f, "spec version {from} -> {to}"),
            Change::Trainable { from, to } => {
                let word = |t: &bool| if *t { "trainable" } else { "frozen" };
                write!(f, "{} -> {}", word(from), word(to))
            }
            Change::Alias { from, to } => {
                let word = |a: &Option<String>| {
                    a.as_ref()
                        .map_or("(none)".to_owned(), |a| format!("`{}`", printable(a)))
                };
                write!(f, "alias {} -> {}", word(from), word(to))
            }
            Change::Rule { from, to } => {
                let word = |a: &Option<String>| {
                    a.as_ref()
                        .map_or("(none)".to_owned(), |a| format!("`{}`", printable(a)))
                };
                write!(f, "rule {} -> {}", word(from), word(to))
            }
            Change::UndeclaredValues { from, to } => write!(
                f,
                "VALUES CHANGED WITH NOTHING DECLARED (blake3 {} -> {}): seed, path, version, init, shape, dtype \
                 and spec version are all the same, so only a change to the generator (SPEC.md or this library's \
                 code) or values modified after initialisation can have done this",
                from.short(),
                to.short()
            ),
        }
    }
}

fn join(changes: &[Change]) -> String {
    changes.iter().map(Change::to_string).collect::<Vec<_>>().join("; ")
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Added(r) => write!(f, "added: {}: {}", printable(&r.path), describe(r)),
            Entry::Removed(r) => write!(f, "removed: {}: {}", printable(&r.path), describe(r)),
            Entry::Renamed { from, to, .. } if self.is_rename_in_code() => {
                let name = |r: &ParamRecord| printable(r.alias.as_deref().unwrap_or(&r.path)).into_owned();
                write!(
                    f,
                    "renamed in code: {} -> {}, path `{}` kept (values kept)",
                    name(from),
                    name(to),
                    printable(&to.path)
                )
            }
            Entry::Renamed { from, to, changes } => {
                write!(f, "renamed: {} -> {}", printable(&from.path), printable(&to.path))?;
                if from.digest == to.digest {
                    write!(f, " (values kept)")?;
                } else {
                    write!(
                        f,
                        " (values re-rolled: the path is part of the stream key; `key = \"{}\"` keeps the old values)",
                        printable(&from.path)
                    )?;
                }
                if changes.is_empty() {
                    Ok(())
                } else {
                    write!(f, "; {}", join(changes))
                }
            }
            Entry::Changed { path, changes } => write!(f, "changed: {}: {}", printable(path), join(changes)),
        }
    }
}

impl fmt::Display for Diff {
    /// One line per model-level change and per entry (values changed with
    /// nothing declared first), then `unchanged: N parameters`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |s: &Option<u64>| s.map_or("(none)".to_owned(), |s| s.to_string());
        if let Some((a, b)) = &self.seed {
            writeln!(f, "seed {} -> {}", opt(a), opt(b))?;
        }
        if let Some((a, b)) = self.model_version {
            writeln!(f, "model version {a} -> {b}")?;
        }
        for e in self.entries.iter().filter(|e| e.is_undeclared()) {
            writeln!(f, "{e}")?;
        }
        // A new seed re-rolls everything: one line per (from, to) instead of one per parameter.
        let mut reseeded: BTreeMap<(u64, u64), usize> = BTreeMap::new();
        for e in self.entries.iter().filter(|e| !e.is_undeclared()) {
            if let Entry::Changed { changes, .. } = e {
                if let [Change::Seed { from, to }] = changes[..] {
                    *reseeded.entry((from, to)).or_default() += 1;
                    continue;
                }
            }
            writeln!(f, "{e}")?;
        }
        for ((from, to), n) in reseeded {
            writeln!(
                f,
                "re-seeded: {n} parameter{} (seed {from} -> {to})",
                if n == 1 { "" } else { "s" }
            )?;
        }
        let s = if self.unchanged == 1 { "" } else { "s" };
        writeln!(f, "unchanged: {} parameter{s}", self.unchanged)?;
        let n = self.undeclared();
        if n > 0 {
            writeln!(
                f,
                "WARNING: {n} parameter{} changed value with nothing declared",
                if n == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

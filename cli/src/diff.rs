//! `repro diff A B`: which parameters' initial values differ between two
//! lockfiles or checkpoints, and why.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use reproducible::diff::{diff, Change, Diff, Entry};
use serde_json::{json, Value};

use crate::input::load;
use crate::report::{exit, print, record_json};

/// Arguments of `repro diff`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The old lockfile or safetensors checkpoint (`-`: standard input).
    old: PathBuf,
    /// The new lockfile or safetensors checkpoint (`-`: standard input).
    new: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `repro diff`: 0 same, 1 different, 2 error.
pub fn main(args: &Args) -> ExitCode {
    exit(run(args, &mut std::io::stdout().lock()))
}

/// Writes the diff; `Ok(true)` when the two agree.
pub fn run(args: &Args, out: &mut impl Write) -> Result<bool, String> {
    if args.old.as_os_str() == "-" && args.new.as_os_str() == "-" {
        return Err("standard input can be only one of the two inputs".into());
    }
    let old = load(&args.old)?;
    let new = load(&args.new)?;
    let d = diff(&old, &new);
    let text = if args.json {
        let mut v = diff_json(&d);
        v["old"] = json!(args.old.display().to_string());
        v["new"] = json!(args.new.display().to_string());
        serde_json::to_string_pretty(&v).map_err(|e| e.to_string())? + "\n"
    } else if d.is_same() {
        // Renames in code only keep every value: listed, and the same.
        let renamed: String = d.entries.iter().map(|e| format!("{e}\n")).collect();
        format!("{renamed}same: {} parameters\n", d.unchanged + d.entries.len())
    } else {
        d.to_string()
    };
    print(out, &text)?;
    Ok(d.is_same())
}

fn change_json(c: &Change) -> Value {
    let (kind, from, to) = match c {
        Change::Version { from, to } => ("version", json!(from), json!(to)),
        Change::Scheme { from, to } => ("init", json!(from.to_string()), json!(to.to_string())),
        Change::Shape { from, to } => ("shape", json!(from), json!(to)),
        Change::Dtype { from, to } => ("dtype", json!(from.as_str()), json!(to.as_str())),
        Change::Seed { from, to } => ("seed", json!(from), json!(to)),
        Change::SpecVersion { from, to } => ("spec_version", json!(from), json!(to)),
        Change::Trainable { from, to } => ("trainable", json!(from), json!(to)),
        Change::Alias { from, to } => ("alias", json!(from), json!(to)),
        Change::Rule { from, to } => ("rule", json!(from), json!(to)),
        Change::UndeclaredValues { from, to } => ("undeclared_values", json!(from.to_string()), json!(to.to_string())),
    };
    json!({ "kind": kind, "from": from, "to": to, "text": c.to_string() })
}

/// The diff as JSON: `same`, model-level `seed` and `model_version` changes
/// (`null` when unchanged), `added`, `removed`, `renamed`, `changed`, the
/// `unchanged` count and `undeclared_value_changes`.
pub fn diff_json(d: &Diff) -> Value {
    let (mut added, mut removed, mut renamed, mut changed) = (vec![], vec![], vec![], vec![]);
    for e in &d.entries {
        match e {
            Entry::Added(r) => added.push(record_json(r)),
            Entry::Removed(r) => removed.push(record_json(r)),
            Entry::Renamed { from, to, changes } => renamed.push(json!({
                "from": from.path,
                "to": to.path,
                "in_code_only": e.is_rename_in_code(),
                "from_alias": from.alias,
                "to_alias": to.alias,
                "values_kept": from.digest == to.digest,
                "changes": changes.iter().map(change_json).collect::<Vec<_>>(),
            })),
            Entry::Changed { path, changes } => changed.push(json!({
                "path": path,
                "changes": changes.iter().map(change_json).collect::<Vec<_>>(),
            })),
        }
    }
    json!({
        "same": d.is_same(),
        "seed": d.seed.map(|(a, b)| json!({ "from": a, "to": b })),
        "model_version": d.model_version.map(|(a, b)| json!({ "from": a, "to": b })),
        "added": added,
        "removed": removed,
        "renamed": renamed,
        "changed": changed,
        "unchanged": d.unchanged,
        "undeclared_value_changes": d.undeclared(),
    })
}

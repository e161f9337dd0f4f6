//! Init lockfiles: manifests, every category of the semantic diff, `lock::check`,
//! the story's lockfile flow, and every kind of malformed input (never a panic,
//! never a rewritten file).

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use reproducible::backend::KeyedVars;
use reproducible::checkpoint::StoredCheckpoint;
use reproducible::checkpoint::{self, Metadata};
use reproducible::diff::{diff, Change, Entry};
use reproducible::lock::{self, Checked, Mode};
use reproducible::manifest::{Digest, Manifest};
use reproducible::model::{init_with_provenance, Ctx, Model, ParamSpec};
use reproducible::scheme::{constant, normal, uniform, zeros};
use reproducible::{Init, Result};
use reproducible_examples::lock_story;
use reproducible_examples::story::AttentionConfig;
use reproducible_tests::scratch;

/// A model whose parameters are exactly the specs of its config.
struct Params {
    names: Vec<String>,
    tensors: Vec<Tensor>,
    trainable: Vec<bool>,
}

impl Model for Params {
    type Config = Vec<(&'static str, ParamSpec)>;

    fn build(cfg: &Self::Config, ctx: &Ctx) -> Result<Self> {
        let mut m = Params {
            names: vec![],
            tensors: vec![],
            trainable: vec![],
        };
        for (name, spec) in cfg {
            m.tensors.push(ctx.param(name, spec)?);
            m.names.push((*name).to_owned());
            m.trainable.push(spec.trainable);
        }
        Ok(m)
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&str, &'a Tensor, bool)) {
        for ((n, t), tr) in self.names.iter().zip(&self.tensors).zip(&self.trainable) {
            f(n, t, *tr);
        }
    }
}

fn spec(shape: &[usize]) -> ParamSpec {
    ParamSpec::new(shape.to_vec(), normal(0.0, 1.0))
}

fn manifest(seed: u64, params: Vec<(&'static str, ParamSpec)>) -> Manifest {
    Manifest::init::<Params>(&params, &Init::new(seed)).unwrap()
}

fn base() -> Vec<(&'static str, ParamSpec)> {
    vec![
        ("a.weight", spec(&[4, 3])),
        ("a.bias", ParamSpec::new(vec![4], zeros())),
        ("b", spec(&[2])),
    ]
}

fn with(f: impl FnOnce(&mut Vec<(&'static str, ParamSpec)>)) -> Manifest {
    let mut p = base();
    f(&mut p);
    manifest(42, p)
}

fn spec_of<'a>(p: &'a mut [(&'static str, ParamSpec)], name: &str) -> &'a mut ParamSpec {
    &mut p.iter_mut().find(|(n, _)| *n == name).unwrap().1
}

fn lines(d: &reproducible::diff::Diff) -> Vec<String> {
    d.to_string().lines().map(str::to_owned).collect()
}

// ---- manifests ----

#[test]
fn a_manifest_records_every_fact_and_digests_the_exact_bits() {
    let cfg = vec![
        ("w", ParamSpec::new(vec![3, 2], uniform(-1.0, 1.0)).version(7)),
        ("f", ParamSpec::new(vec![2], constant(0.5)).frozen().dtype(DType::F64)),
    ];
    let (model, provenance) = init_with_provenance::<Params>(&cfg, &Init::new(9)).unwrap();
    let m = Manifest::of_model(&model, &provenance).unwrap();
    assert_eq!(m.seed, Some(9));
    assert_eq!(m.model_version, 1);
    assert_eq!(
        m.params().iter().map(|p| p.path.as_str()).collect::<Vec<_>>(),
        ["f", "w"]
    );
    let w = m.get("w").unwrap();
    assert_eq!(
        (
            w.shape.as_slice(),
            w.dtype,
            w.version,
            w.seed,
            w.spec_version,
            w.trainable
        ),
        (&[3, 2][..], DType::F32, 7, 9, 1, true)
    );
    assert_eq!(w.scheme, uniform(-1.0, 1.0));
    assert_eq!(w.alias, None);
    // The digest is BLAKE3 of the little-endian element bytes, row-major.
    let values = model.tensors[0].flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(w.digest, Digest(*blake3::hash(&bytes).as_bytes()));
    assert_eq!(w.digest.to_string().parse::<Digest>().unwrap(), w.digest);
    let f = m.get("f").unwrap();
    assert_eq!((f.dtype, f.trainable), (DType::F64, false));
    let half: Vec<u8> = [0.5f64, 0.5].iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(f.digest, Digest::of(&half));
}

#[test]
fn a_keyed_var_builder_and_a_checkpoint_give_the_same_manifest() {
    let keyed = KeyedVars::new(3, DType::F32, &Device::Cpu);
    candle_nn::linear(4, 2, keyed.var_builder().pp("fc")).unwrap();
    let m = Manifest::of_keyed(&keyed, 5).unwrap();
    assert_eq!(
        m.params().iter().map(|p| p.path.as_str()).collect::<Vec<_>>(),
        ["fc.bias", "fc.weight"]
    );
    assert_eq!(m.model_version, 5);
    let file = scratch("keyed.safetensors");
    checkpoint::save(&file, &keyed.tensors(), &Metadata::new(Some(3), 5, keyed.provenance())).unwrap();
    assert_eq!(Manifest::from_checkpoint(&file).unwrap(), m);
    // Hashing reports progress up to the whole data section.
    let stored = StoredCheckpoint::open(&file).unwrap();
    let mut last = (0, 0);
    stored.manifest(&mut |done, total| last = (done, total)).unwrap();
    assert_eq!(last, (stored.data_len(), stored.data_len()));
    assert_eq!(stored.data_len(), 4 * (8 + 2));
}

#[test]
fn a_manifest_refuses_tensors_without_provenance_and_duplicate_paths() {
    let keyed = KeyedVars::new(3, DType::F32, &Device::Cpu);
    candle_nn::linear(4, 2, keyed.var_builder()).unwrap();
    let mut tensors = keyed.tensors();
    tensors.push(("stray".into(), Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap()));
    let e = Manifest::from_parts(1, &keyed.provenance(), &tensors)
        .unwrap_err()
        .to_string();
    assert!(e.contains("parameter `stray`") && e.contains("no provenance"), "{e}");
    let e = Manifest::from_parts(1, &keyed.provenance(), &tensors[..1])
        .unwrap_err()
        .to_string();
    assert!(e.contains("parameter `weight`") && e.contains("no such tensor"), "{e}");
    let r = manifest(1, base()).params()[0].clone();
    let e = Manifest::new(None, 1, vec![r.clone(), r]).unwrap_err().to_string();
    assert!(e.contains("parameter `a.bias`: is listed twice"), "{e}");
}

// ---- every category of the diff ----

#[test]
fn identical_manifests_are_the_same() {
    let d = diff(&manifest(42, base()), &manifest(42, base()));
    assert!(d.is_same());
    assert_eq!(lines(&d), ["unchanged: 3 parameters"]);
}

#[test]
fn added_and_removed_parameters_are_listed_the_rest_summarised() {
    let more = with(|p| p.push(("c", ParamSpec::new(vec![5], uniform(0.0, 1.0)).frozen())));
    let d = diff(&manifest(42, base()), &more);
    assert_eq!(d.entries.len(), 1);
    assert!(matches!(&d.entries[0], Entry::Added(r) if r.path == "c"));
    assert_eq!(
        lines(&d),
        [
            "added: c: [5] f32, uniform(a=0.0, b=1.0), version 1, frozen",
            "unchanged: 3 parameters"
        ]
    );
    let d = diff(&more, &manifest(42, base()));
    assert!(matches!(&d.entries[0], Entry::Removed(r) if r.path == "c"));
    assert_eq!(
        lines(&d)[0],
        "removed: c: [5] f32, uniform(a=0.0, b=1.0), version 1, frozen"
    );
}

#[test]
fn a_rename_is_matched_through_its_alias() {
    let old = manifest(42, base());
    let renamed = with(|p| p[2].0 = "beta").with_alias("beta", "b").unwrap();
    let d = diff(&old, &renamed);
    assert_eq!(d.entries.len(), 1);
    let Entry::Renamed { from, to, changes } = &d.entries[0] else {
        panic!("{d:?}")
    };
    assert_eq!((from.path.as_str(), to.path.as_str()), ("b", "beta"));
    assert!(changes.is_empty(), "a new path explains new values: {changes:?}");
    assert!(lines(&d)[0].starts_with("renamed: b -> beta (values re-rolled: the path is part of the stream key"));
    // A constant keeps its values under any path; the other direction of the alias works too.
    let old = manifest(42, vec![("old", ParamSpec::new(vec![3], zeros()))])
        .with_alias("old", "new")
        .unwrap();
    let new = manifest(42, vec![("new", ParamSpec::new(vec![3], zeros()).version(2))]);
    assert_eq!(
        lines(&diff(&old, &new)),
        [
            "renamed: old -> new (values kept); version 1 -> 2",
            "unchanged: 0 parameters"
        ]
    );
    // At one path, a new alias (the field renamed in code, `key` kept) is a
    // rename that changes nothing.
    let aliased = manifest(42, base()).with_alias("b", "gain").unwrap();
    let d = diff(&manifest(42, base()), &aliased);
    assert!(d.is_same());
    assert_eq!(lines(&d)[0], "renamed in code: b -> gain, path `b` kept (values kept)");
    // Together with a declared change it is listed as part of that change.
    let bumped = with(|p| *spec_of(p, "b") = spec(&[2]).version(2))
        .with_alias("b", "gain")
        .unwrap();
    assert_eq!(
        lines(&diff(&manifest(42, base()), &bumped))[0],
        "changed: b: version 1 -> 2; alias (none) -> `gain`"
    );
}

#[test]
fn a_version_bump_is_reported_for_that_parameter_alone() {
    let bumped = with(|p| *spec_of(p, "b") = spec(&[2]).version(2));
    let d = diff(&manifest(42, base()), &bumped);
    assert_eq!(
        d.entries,
        [Entry::Changed {
            path: "b".into(),
            changes: vec![Change::Version { from: 1, to: 2 }]
        }]
    );
    assert_eq!(lines(&d), ["changed: b: version 1 -> 2", "unchanged: 2 parameters"]);
}

#[test]
fn scheme_changes_name_the_arguments_that_changed() {
    let std = with(|p| spec_of(p, "b").scheme = normal(0.0, 0.02));
    assert_eq!(
        lines(&diff(&manifest(42, base()), &std))[0],
        "changed: b: init normal: std 1.0 -> 0.02"
    );
    let other = with(|p| spec_of(p, "b").scheme = uniform(0.0, 1.0));
    let d = diff(&manifest(42, base()), &other);
    assert!(matches!(&d.entries[0], Entry::Changed { changes, .. } if matches!(changes[..], [Change::Scheme { .. }])));
    assert_eq!(
        lines(&d)[0],
        "changed: b: init normal(mean=0.0, std=1.0) -> uniform(a=0.0, b=1.0)"
    );
}

#[test]
fn shape_and_dtype_changes_are_reported() {
    let wider = with(|p| spec_of(p, "a.weight").shape = vec![4, 5]);
    assert_eq!(
        lines(&diff(&manifest(42, base()), &wider))[0],
        "changed: a.weight: shape [4, 3] -> [4, 5]"
    );
    let f64s = with(|p| spec_of(p, "b").dtype = Some(DType::F64));
    assert_eq!(
        lines(&diff(&manifest(42, base()), &f64s))[0],
        "changed: b: dtype f32 -> f64"
    );
}

#[test]
fn values_changed_with_nothing_declared_are_flagged_loudly() {
    let old = manifest(42, base());
    let mut params = old.params().to_vec();
    params[2].digest = Digest([7; 32]);
    // `trainable` does not make values, so it does not explain them either.
    params[2].trainable = false;
    let tampered = Manifest::new(old.seed, old.model_version, params).unwrap();
    let d = diff(&old, &tampered);
    assert_eq!(d.undeclared(), 1);
    assert!(d.entries[0].is_undeclared());
    let text = lines(&d);
    assert!(text[0].starts_with("changed: b: trainable -> frozen; VALUES CHANGED WITH NOTHING DECLARED (blake3 "));
    assert!(text[0].contains("only a change to the generator"));
    assert_eq!(
        text[text.len() - 1],
        "WARNING: 1 parameter changed value with nothing declared"
    );
    // Any declared change that makes values explains new values: no flag.
    let bumped = with(|p| spec_of(p, "b").version = 3);
    assert_eq!(diff(&old, &bumped).undeclared(), 0);
}

#[test]
fn frozen_seed_spec_and_model_version_changes_are_reported() {
    let frozen = with(|p| spec_of(p, "b").trainable = false);
    assert_eq!(
        lines(&diff(&manifest(42, base()), &frozen))[0],
        "changed: b: trainable -> frozen"
    );
    let d = diff(&manifest(42, base()), &manifest(43, base()));
    assert_eq!(d.seed, Some((Some(42), Some(43))));
    assert_eq!(
        lines(&d),
        [
            "seed 42 -> 43",
            "re-seeded: 3 parameters (seed 42 -> 43)",
            "unchanged: 0 parameters"
        ]
    );
    assert!(d
        .entries
        .iter()
        .all(|e| matches!(e, Entry::Changed { changes, .. } if changes.len() == 1)));
    let old = manifest(42, base());
    let mut params = old.params().to_vec();
    params[0].spec_version = 2; // as a future spec would record it
    let future = Manifest::new(old.seed, 4, params).unwrap();
    assert_eq!(
        lines(&diff(&old, &future))[..2],
        ["model version 1 -> 4", "changed: a.bias: spec version 1 -> 2"]
    );
}

// ---- the story ----

fn story_config() -> AttentionConfig {
    AttentionConfig {
        dim: 16,
        num_heads: 4,
        attn_drop: 0.1,
        proj_drop: 0.1,
    }
}

#[test]
fn the_story_reports_exactly_the_additions_then_exactly_the_bump() {
    let dir = scratch("story");
    std::fs::create_dir_all(&dir).unwrap();
    let story = lock_story::run(42, &story_config(), &dir).unwrap();
    let added: Vec<&str> = story
        .v2
        .entries
        .iter()
        .map(|e| match e {
            Entry::Added(r) => r.path.as_str(),
            other => panic!("only additions expected, got {other:?}"),
        })
        .collect();
    assert_eq!(added, ["extra.bias", "extra.weight", "gamma"]);
    assert_eq!(story.v2.unchanged, 3);
    let text = story.v2.to_string();
    assert_eq!(text.lines().filter(|l| l.starts_with("added: ")).count(), 3);
    assert!(text.contains("added: gamma: [1, 4, 1, 1] f32, normal(mean=0.0, std=1.0), version 1\n"));
    assert!(text.ends_with("unchanged: 3 parameters\n"));
    assert!(story.v2_error.contains(&text), "the check's error carries the diff");
    assert!(story.v2_error.contains("REPRODUCIBLE_LOCK=overwrite"));

    assert_eq!(
        story.v3.entries,
        [Entry::Changed {
            path: "gamma".into(),
            changes: vec![Change::Version { from: 1, to: 2 }]
        }]
    );
    assert_eq!(
        story.v3.to_string(),
        "model version 2 -> 3\nchanged: gamma: version 1 -> 2\nunchanged: 5 parameters\n"
    );
    assert!(story.v3_error.contains("changed: gamma: version 1 -> 2"));
    // The lockfile now holds version 2, as accepted.
    let [_, v2, v3] = lock_story::manifests(42, &story_config()).unwrap();
    assert_eq!(lock::read(&story.file).unwrap(), v2);
    assert!(lock::check_with(&story.file, &v3, Mode::Check).is_err());
}

// ---- the lockfile and lock::check ----

fn weird() -> Manifest {
    // Paths are arbitrary UTF-8 (SPEC.md section 2); seeds may differ per parameter.
    let a = manifest(1, vec![("a \"quoted\"\\path\n\t.ünï", spec(&[2, 1]))]);
    let b = manifest(
        2,
        vec![("b", ParamSpec::new(vec![], constant(0.25)).dtype(DType::BF16))],
    );
    let mut params = a.params().to_vec();
    params.extend(b.params().iter().cloned());
    Manifest::new(None, 7, params)
        .unwrap()
        .with_alias("b", "old\u{1}name")
        .unwrap()
}

#[test]
fn a_lockfile_round_trips_and_is_sorted_one_block_per_parameter() {
    for m in [manifest(42, base()), weird()] {
        let text = lock::render(&m);
        assert_eq!(lock::parse(&text, "x.lock").unwrap(), m, "{text}");
        assert_eq!(text.matches("[[param]]").count(), m.len());
    }
    let text = lock::render(&manifest(42, base()));
    let paths: Vec<&str> = text.lines().filter(|l| l.starts_with("path = ")).collect();
    assert_eq!(paths, ["path = \"a.bias\"", "path = \"a.weight\"", "path = \"b\""]);
    let block = text.split("\n\n").nth(2).unwrap();
    let keys: Vec<&str> = block.lines().skip(1).map(|l| l.split(" = ").next().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "path",
            "shape",
            "dtype",
            "init",
            "version",
            "trainable",
            "spec_version",
            "blake3"
        ]
    );
    // Per-parameter seeds only where the header has none (or another).
    assert_eq!(lock::render(&weird()).matches("\nseed = ").count(), 2);
}

#[test]
fn check_passes_fails_with_the_diff_and_writes_only_when_asked() {
    let file = scratch("check.lock");
    let m = manifest(42, base());
    let e = lock::check_with(&file, &m, Mode::Check).unwrap_err().to_string();
    assert!(
        e.contains("does not exist") && e.contains("REPRODUCIBLE_LOCK=overwrite"),
        "{e}"
    );
    assert!(!file.exists());
    assert_eq!(lock::check_with(&file, &m, Mode::Overwrite).unwrap(), Checked::Created);
    assert_eq!(lock::check_with(&file, &m, Mode::Check).unwrap(), Checked::Matches);
    assert_eq!(lock::check_with(&file, &m, Mode::Overwrite).unwrap(), Checked::Matches);

    let bumped = with(|p| spec_of(p, "b").version = 2);
    let before = std::fs::read(&file).unwrap();
    let e = lock::check_with(&file, &bumped, Mode::Check).unwrap_err().to_string();
    assert!(e.contains(&file.display().to_string()), "{e}");
    assert!(
        e.contains("changed: b: version 1 -> 2\nunchanged: 2 parameters\n"),
        "{e}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before, "a failed check never writes");
    let Checked::Updated(d) = lock::check_with(&file, &bumped, Mode::Overwrite).unwrap() else {
        panic!()
    };
    assert_eq!(d.entries.len(), 1);
    assert_eq!(lock::read(&file).unwrap(), bumped);
    // No temporary file is left beside it.
    let dir = file.parent().unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_malformed_lockfile_is_never_rewritten_even_when_asked() {
    let file = scratch("malformed.lock");
    let text = lock::render(&manifest(42, base())).replace("version = 1", "version = \"1\"");
    std::fs::write(&file, &text).unwrap();
    for mode in [Mode::Check, Mode::Overwrite] {
        let e = lock::check_with(&file, &manifest(42, base()), mode)
            .unwrap_err()
            .to_string();
        assert!(e.contains("must be an integer, found a string"), "{e}");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn writes_fail_cleanly_where_they_cannot_happen() {
    let dir = scratch("no-such-dir");
    let file = dir.join("x.lock");
    let e = lock::write(&file, &manifest(42, base())).unwrap_err().to_string();
    assert!(e.contains("no-such-dir") && e.contains("writing"), "{e}");
}

#[test]
fn the_environment_variable_picks_the_mode() {
    assert_eq!(Mode::parse(None).unwrap(), Mode::Check);
    assert_eq!(Mode::parse(Some("")).unwrap(), Mode::Check);
    assert_eq!(Mode::parse(Some("overwrite")).unwrap(), Mode::Overwrite);
    let e = Mode::parse(Some("yes")).unwrap_err().to_string();
    assert!(e.contains("REPRODUCIBLE_LOCK") && e.contains("`yes`"), "{e}");
}

// ---- malformed lockfiles: an error naming the file and line, never a panic ----

fn good() -> String {
    lock::render(&manifest(42, base()))
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

/// `text` with `from` replaced in the first line that starts with it, and that line's number.
fn replace_line(text: &str, from: &str, to: &str) -> (String, usize) {
    let i = text.lines().position(|l| l.starts_with(from)).expect(from);
    let out: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(k, l)| if k == i { l.replacen(from, to, 1) } else { l.to_owned() })
        .collect();
    (out.join("\n") + "\n", i + 1)
}

#[track_caller]
fn parse_err(text: &str) -> String {
    let e = lock::parse(text, "bad.lock").unwrap_err().to_string();
    assert!(e.contains("bad.lock"), "the error names the file: {e}");
    e
}

#[track_caller]
fn assert_at(e: &str, line: usize, what: &str) {
    assert!(e.contains(&format!("line {line}: ")), "expected line {line} in: {e}");
    assert!(e.contains(what), "expected `{what}` in: {e}");
}

#[test]
fn a_truncated_lockfile_is_an_error_at_the_cut() {
    let text = good();
    // Cut inside the last block: the block misses its last keys.
    let cut = &text[..text.rfind("trainable").unwrap()];
    let last_block = cut
        .lines()
        .collect::<Vec<_>>()
        .iter()
        .rposition(|l| *l == "[[param]]")
        .unwrap()
        + 1;
    assert_at(
        &parse_err(cut),
        last_block,
        "the [[param]] block starting here has no `trainable`",
    );
    // Cut between blocks: the header's count catches it.
    let cut = &text[..text.rfind("\n[[param]]").unwrap()];
    assert_at(
        &parse_err(cut),
        line_of(&text, "parameters = "),
        "`parameters = 3` but the file has 2 [[param]] blocks",
    );
    // Cut inside a string.
    let cut = &text[..text.rfind("blake3 = \"").unwrap() + 20];
    assert_at(&parse_err(cut), cut.lines().count(), "unterminated string");
    // Nothing at all.
    assert_at(&parse_err(""), 1, "the header has no `lockfile`");
}

#[test]
fn wrong_types_are_errors_naming_the_key_and_line() {
    let text = good();
    for (from, to, what) in [
        (
            "version = 1",
            "version = \"1\"",
            "`version` must be an integer, found a string",
        ),
        ("shape = [4]", "shape = 4", "`shape` must be an array, found an integer"),
        (
            "trainable = true",
            "trainable = 1",
            "`trainable` must be a boolean, found an integer",
        ),
        (
            "dtype = \"f32\"",
            "dtype = f32",
            "expected a string, an integer, a boolean or an array, found `f32`",
        ),
        ("version = 1", "version = -1", "`-1` is negative"),
        (
            "version = 1",
            "version = 4294967296",
            "more than its largest value 4294967295",
        ),
        ("shape = [4]", "shape = [4, x]", "`x` is not a non-negative integer"),
        ("dtype = \"f32\"", "dtype = \"f8\"", "unknown dtype `f8`"),
        ("init = \"zeros()\"", "init = \"zeroes()\"", "did you mean `zeros`?"),
        (
            "init = \"zeros()\"",
            "init = \"eye()\"",
            "`init` cannot initialise shape [4]",
        ),
        ("blake3 = \"", "blake3 = \"zz", "expected 64 lowercase hex digits"),
        (
            "version = 1",
            "verison = 1",
            "unknown key `verison` in a [[param]] block; did you mean `version`?",
        ),
        ("version = 1", "version = 1 2", "unexpected `2` after the value"),
        ("path = \"a.bias\"", "path = \"a\\qbias\"", "unknown escape `\\q`"),
        ("[[param]]", "[param]", "unknown table `[param]`; expected `[[param]]`"),
        ("version = 1", "version: 1", "expected `key = value` or `[[param]]`"),
    ] {
        let (bad, line) = replace_line(&text, from, to);
        assert_at(&parse_err(&bad), line, what);
    }
}

#[test]
fn unknown_versions_duplicates_and_foreign_files_are_errors() {
    let text = good();
    let bad = text.replacen("spec_version = 1", "spec_version = 2", 1);
    assert_at(
        &parse_err(&bad),
        line_of(&bad, "spec_version = 2"),
        "unknown spec version 2",
    );
    let bad = text.replacen("lockfile = 1", "lockfile = 2", 1);
    assert_at(
        &parse_err(&bad),
        line_of(&bad, "lockfile = 2"),
        "lockfile format 2 is not supported",
    );
    let (bad, line) = replace_line(&text, "path = \"b\"", "path = \"a.bias\"");
    let first = line_of(&bad, "path = \"a.bias\"");
    assert_at(
        &parse_err(&bad),
        line,
        &format!("parameter `a.bias` is already listed at line {first}"),
    );
    let (bad, line) = replace_line(&text, "version = 1", "version = 1\nversion = 2");
    assert_at(&parse_err(&bad), line + 1, "`version` is already set at line");
    let bad = text.replace("seed = 42\n", "");
    assert!(parse_err(&bad).contains("has no `seed`, and the header sets none"));
    // A checkpoint, JSON, binary garbage.
    let ckpt = scratch("foreign.safetensors");
    let keyed = KeyedVars::new(1, DType::F32, &Device::Cpu);
    candle_nn::linear(2, 2, keyed.var_builder()).unwrap();
    checkpoint::save(&ckpt, &keyed.tensors(), &Metadata::new(Some(1), 1, keyed.provenance())).unwrap();
    let e = lock::read(&ckpt).unwrap_err().to_string();
    assert!(
        e.contains("lockfile `") && e.contains("foreign.safetensors` line "),
        "{e}"
    );
    assert!(parse_err("{\"lockfile\": 1}").contains("line 1: expected `key = value`"));
    let e = lock::check_with(&ckpt, &manifest(1, base()), Mode::Overwrite).unwrap_err();
    assert!(matches!(e, reproducible::Error::Lockfile { line: Some(_), .. }), "{e}");
    assert!(
        StoredCheckpoint::open(&ckpt).is_ok(),
        "the checkpoint was not overwritten"
    );
}

// ---- malformed checkpoints ----

#[test]
fn a_file_that_is_not_a_checkpoint_is_an_error_naming_it() {
    let plain = scratch("plain.safetensors");
    let t = Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap();
    let tensors: std::collections::HashMap<&str, Tensor> = [("x", t)].into_iter().collect();
    candle_core::safetensors::save(&tensors, &plain).unwrap();
    let e = StoredCheckpoint::open(&plain).unwrap_err().to_string();
    assert!(
        e.contains("plain.safetensors") && e.contains("has no `reproducible` metadata"),
        "{e}"
    );

    let lockfile = scratch("not-a-checkpoint.lock");
    std::fs::write(&lockfile, good()).unwrap();
    let e = StoredCheckpoint::open(&lockfile).unwrap_err().to_string();
    assert!(e.contains("not a safetensors file"), "{e}");
    let tiny = scratch("tiny.safetensors");
    std::fs::write(&tiny, b"abc").unwrap();
    assert!(StoredCheckpoint::open(&tiny)
        .unwrap_err()
        .to_string()
        .contains("too short"));

    let keyed = KeyedVars::new(1, DType::F32, &Device::Cpu);
    candle_nn::linear(2, 2, keyed.var_builder()).unwrap();
    let file = scratch("truncated.safetensors");
    checkpoint::save(&file, &keyed.tensors(), &Metadata::new(Some(1), 1, keyed.provenance())).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() - 3]).unwrap();
    let e = StoredCheckpoint::open(&file).unwrap_err().to_string();
    assert!(e.contains("truncated"), "{e}");

    // Metadata that does not describe the tensors.
    let file = scratch("mismatch.safetensors");
    let mut prov = keyed.provenance();
    prov[0].shape = vec![9];
    prov.push(prov[1].clone());
    checkpoint::save(&file, &keyed.tensors(), &Metadata::new(Some(1), 1, prov)).unwrap();
    let e = StoredCheckpoint::open(&file).unwrap_err().to_string();
    assert!(
        e.contains("tensor `bias` has shape [2] but its metadata records [9]"),
        "{e}"
    );
    assert!(e.contains("records `weight` twice"), "{e}");

    let file = scratch("future.safetensors");
    let mut meta = Metadata::new(Some(1), 1, keyed.provenance());
    meta.spec_version = 9;
    checkpoint::save(&file, &keyed.tensors(), &meta).unwrap();
    assert!(StoredCheckpoint::open(&file)
        .unwrap_err()
        .to_string()
        .contains("unknown spec version 9"));
}

// ---- robustness: thousands of mutated lockfiles, every one Ok or Err ----

/// xorshift64*: a fixed, dependency-free sequence, so CI sees the same inputs every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: [&str; 24] = [
    "\"",
    "\\",
    "[",
    "]",
    "[[param]]",
    "=",
    "#",
    ",",
    "\n",
    "\r\n",
    "\\u00",
    "\\U0010FFFF",
    "-",
    "0",
    "18446744073709551616",
    "4294967296",
    "true",
    "nan",
    "ü",
    "\u{0}",
    "normal(",
    ")",
    "seed = 1\n",
    "path = \"b\"\n",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(6) {
            0 => bytes.truncate(at),
            1 => {
                let end = (at + 1 + rng.below(40)).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                bytes.splice(at..at, t.iter().copied());
            }
            3 if at < bytes.len() => bytes[at] = rng.next() as u8,
            4 => {
                // Duplicate or move a whole line.
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let l = lines[rng.below(lines.len())];
                    let to = rng.below(lines.len() + 1);
                    lines.insert(to, l);
                }
                bytes = lines.join("\n").into_bytes();
            }
            _ => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    lines.remove(rng.below(lines.len()));
                }
                bytes = lines.join("\n").into_bytes();
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn thousands_of_mutated_lockfiles_parse_or_fail_but_never_panic() {
    let seeds = [good(), lock::render(&weird())];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut ok, mut err) = (0, 0);
    // Every truncation point of both files.
    for text in &seeds {
        for cut in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            match lock::parse(&text[..cut], "cut.lock") {
                Ok(_) => ok += 1,
                Err(e) => {
                    assert!(e.to_string().contains("cut.lock"));
                    err += 1;
                }
            }
        }
    }
    for i in 0..6000 {
        let text = mutate(&mut rng, &seeds[i % 2]);
        match lock::parse(&text, "mutant.lock") {
            Ok(m) => {
                ok += 1;
                // Whatever parses renders to a lockfile that parses back to the same text.
                let again = lock::render(&m);
                let back = lock::parse(&again, "again.lock").unwrap();
                assert_eq!(lock::render(&back), again, "{text}");
            }
            Err(e) => {
                let e = e.to_string();
                assert!(e.contains("mutant.lock"), "{e}");
                err += 1;
            }
        }
    }
    assert!(
        ok > 20 && err > 1000,
        "ok {ok}, err {err}: the mutations should exercise both"
    );
}

#[test]
fn lockfile_errors_name_the_file_on_disk() {
    let file: &Path = &scratch("ondisk.lock");
    std::fs::write(file, [0xff, 0xfe, b'\n']).unwrap();
    let e = lock::read(file).unwrap_err().to_string();
    assert!(e.contains("ondisk.lock") && e.contains("line 1: not UTF-8"), "{e}");
}

// ---- aliases recorded by the macro ----

mod renamed {
    use reproducible::prelude::*;

    #[derive(Clone)]
    pub struct Cfg;

    /// Before the rename.
    #[reproducible_model(config = Cfg)]
    pub struct Before {
        #[param(shape = [2, 3], init = normal(0.0, 1.0))]
        gamma: Tensor,
        #[module(linear(3, 2))]
        head: Linear,
        #[module(linear(3, 3), count = 2)]
        blocks: Vec<Linear>,
    }

    #[reproducible::forward]
    impl Before {
        pub fn used(&self) -> (&Tensor, &Linear, &[Linear]) {
            (&self.gamma, &self.head, &self.blocks)
        }
    }

    /// Every field renamed in code, each keeping its old path with `key`.
    #[reproducible_model(config = Cfg)]
    pub struct After {
        #[param(shape = [2, 3], init = normal(0.0, 1.0), key = "gamma")]
        scale: Tensor,
        #[module(linear(3, 2), key = "head")]
        classifier: Linear,
        #[module(linear(3, 3), count = 2, key = "blocks")]
        layers: Vec<Linear>,
    }

    #[reproducible::forward]
    impl After {
        pub fn used(&self) -> (&Tensor, &Linear, &[Linear]) {
            (&self.scale, &self.classifier, &self.layers)
        }
    }
}

#[test]
fn a_field_renamed_with_key_keeps_its_values_and_records_its_name_in_code_as_the_alias() {
    let init = Init::new(9);
    let before = Manifest::init::<renamed::Before>(&renamed::Cfg, &init).unwrap();
    let after = Manifest::init::<renamed::After>(&renamed::Cfg, &init).unwrap();
    let aliases: Vec<(&str, Option<&str>)> = after
        .params()
        .iter()
        .map(|p| (p.path.as_str(), p.alias.as_deref()))
        .collect();
    assert_eq!(
        aliases,
        [
            ("blocks.0.bias", Some("layers.0.bias")),
            ("blocks.0.weight", Some("layers.0.weight")),
            ("blocks.1.bias", Some("layers.1.bias")),
            ("blocks.1.weight", Some("layers.1.weight")),
            ("gamma", Some("scale")),
            ("head.bias", Some("classifier.bias")),
            ("head.weight", Some("classifier.weight")),
        ]
    );
    assert!(before.params().iter().all(|p| p.alias.is_none()));

    // The diff: renames in code, every value kept, so the lock passes.
    let d = diff(&before, &after);
    assert_eq!(d.undeclared(), 0);
    assert_eq!(d.entries.len(), 7);
    for e in &d.entries {
        let Entry::Renamed { from, to, changes } = e else {
            panic!("only renames in code expected, got {e:?}")
        };
        assert_eq!((&from.path, &from.alias, changes.len()), (&to.path, &None, 0), "{e:?}");
        assert!(to.alias.is_some() && e.is_rename_in_code(), "{e:?}");
    }
    assert!(d.is_same(), "{d}");
    assert!(
        d.to_string()
            .contains("renamed in code: gamma -> scale, path `gamma` kept (values kept)\n"),
        "{d}"
    );
    let locked = scratch("before-rename.lock");
    lock::write(&locked, &before).unwrap();
    lock::assert_locked(&locked, &after);
    for (b, a) in before.params().iter().zip(after.params()) {
        assert_eq!(a.digest, b.digest, "{}", a.path);
    }

    // The alias survives the lockfile and a checkpoint's metadata.
    let file = scratch("renamed.lock");
    lock::write(&file, &after).unwrap();
    assert!(std::fs::read_to_string(&file).unwrap().contains("alias = \"scale\"\n"));
    assert_eq!(lock::read(&file).unwrap(), after);
    let ckpt = scratch("renamed.safetensors");
    let (model, prov) = init_with_provenance::<renamed::After>(&renamed::Cfg, &init).unwrap();
    let (scale, _, layers) = model.used();
    assert_eq!((scale.dims(), layers.len()), (&[2, 3][..], 2));
    checkpoint::save_model(&ckpt, &model, &Metadata::new(Some(9), 1, prov)).unwrap();
    assert_eq!(
        StoredCheckpoint::open(&ckpt).unwrap().manifest(&mut |_, _| {}).unwrap(),
        after
    );
    // Parameters without an alias keep the provenance records of before.
    let (plain_model, plain) = init_with_provenance::<renamed::Before>(&renamed::Cfg, &init).unwrap();
    assert_eq!(
        plain_model.used().0.to_vec2::<f32>().unwrap(),
        scale.to_vec2::<f32>().unwrap()
    );
    let json = serde_json::to_string(&plain).unwrap();
    assert!(!json.contains("alias"), "{json}");
}

/// A small checkpoint's bytes, written by `checkpoint::save`.
fn checkpoint_bytes() -> Vec<u8> {
    let file = scratch("mutated-seed.safetensors");
    let (model, prov) =
        init_with_provenance::<reproducible::layers::Linear>(&reproducible::layers::linear(3, 2), &Init::new(5))
            .unwrap();
    checkpoint::save_model(&file, &model, &Metadata::new(Some(5), 1, prov)).unwrap();
    std::fs::read(&file).unwrap()
}

#[test]
fn thousands_of_mutated_checkpoints_read_or_fail_but_never_panic() {
    // The header reader, the metadata checks and the data hashing on every
    // truncation and on byte-level mutations, from a stream as `repro` reads one.
    let seed = checkpoint_bytes();
    let mut rng = Rng(0x5851_f42d_4c95_7f2d);
    let (mut ok, mut err) = (0, 0);
    let mut check =
        |bytes: &[u8]| match StoredCheckpoint::read_manifest(&mut &bytes[..], "mutant.safetensors", &mut |_, _| {}) {
            Ok(m) => {
                ok += 1;
                let text = lock::render(&m);
                lock::parse(&text, "again.lock").unwrap();
            }
            Err(e) => {
                assert!(e.to_string().contains("mutant.safetensors"), "{e}");
                err += 1;
            }
        };
    for cut in 0..=seed.len() {
        check(&seed[..cut]);
    }
    let header_end = 8 + u64::from_le_bytes(seed[..8].try_into().unwrap()) as usize;
    for _ in 0..4000 {
        let mut bytes = seed.clone();
        for _ in 0..1 + rng.below(3) {
            // Mostly in the header, where the structure is.
            let at = rng.below(header_end);
            match rng.below(4) {
                0 => bytes[at] = rng.next() as u8,
                1 => bytes[at] = b"{}[]\",:0123456789e-"[rng.below(19)],
                2 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, b"{}[]\",:0123456789"[rng.below(17)]),
            }
        }
        check(&bytes);
    }
    assert!(
        ok > 0 && err > 1000,
        "ok {ok}, err {err}: the mutations should exercise both"
    );
}

#[test]
fn a_hundred_thousand_renames_are_found_as_renames() {
    let m = Manifest::init::<reproducible::layers::Linear>(&reproducible::layers::linear(4, 2), &Init::new(3)).unwrap();
    let template = m.params()[1].clone();
    let n = 100_000;
    let make = |renamed: bool| {
        let params = (0..n)
            .map(|i| {
                let mut p = template.clone();
                let old = format!("experts.{i}.w");
                p.digest = Digest::of(&(i as u64).to_le_bytes());
                if renamed {
                    p.path = format!("moe.experts.{i}.w");
                    p.alias = Some(old);
                } else {
                    p.path = old;
                }
                p
            })
            .collect();
        Manifest::new(Some(3), 1, params).unwrap()
    };
    let d = diff(&make(false), &make(true));
    assert_eq!(d.entries.len(), n);
    assert!(d.entries.iter().all(|e| matches!(e,
        Entry::Renamed { from, to, changes } if to.path == format!("moe.{}", from.path) && changes.is_empty())));
}

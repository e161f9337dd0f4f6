//! The `repro diff`, `repro lock` and `repro explain` commands, run as a user runs
//! them: exit codes (0 same or matching, 1 differs, 2 error), text and `--json`
//! output, and errors naming the file.

use std::path::{Path, PathBuf};
use std::process::Command;

use candle_core::Tensor;
use reproducible::checkpoint::{self, Metadata};
use reproducible::layers::{linear, Linear};
use reproducible::lock;
use reproducible::manifest::Manifest;
use reproducible::model::{init_with_provenance, ModelExt};
use reproducible::Init;
use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn repro(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Run {
    repro_with(None, args)
}

/// `repro` with `REPRODUCIBLE_KERNEL` set to `kernel` (or removed).
fn repro_with(kernel: Option<&str>, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_repro"));
    match kernel {
        Some(k) => cmd.env("REPRODUCIBLE_KERNEL", k),
        None => cmd.env_remove("REPRODUCIBLE_KERNEL"),
    };
    let out = cmd.args(args.iter().map(|a| a.as_ref())).output().expect("run repro");
    Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A fresh private directory, removed when dropped: one per test.
fn dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("repro-cli-tests-").tempdir().unwrap()
}

/// A checkpoint of `linear(4, out)` under `seed`, freshly initialised.
fn checkpoint(dir: &Path, name: &str, out: usize, seed: u64) -> PathBuf {
    let file = dir.join(name);
    let (fc, prov) = init_with_provenance::<Linear>(&linear(4, out), &Init::new(seed)).unwrap();
    checkpoint::save_model(&file, &fc, &Metadata::new(Some(seed), 1, prov)).unwrap();
    file
}

fn lockfile(dir: &Path, name: &str, out: usize, seed: u64) -> PathBuf {
    let file = dir.join(name);
    lock::write(
        &file,
        &Manifest::init::<Linear>(&linear(4, out), &Init::new(seed)).unwrap(),
    )
    .unwrap();
    file
}

#[test]
fn diff_exits_0_for_the_same_and_1_for_a_difference_in_any_combination() {
    let d = dir();
    let (ck, ck2) = (
        checkpoint(d.path(), "a.safetensors", 2, 7),
        checkpoint(d.path(), "a2.safetensors", 2, 7),
    );
    let (lk, wide) = (
        lockfile(d.path(), "a.lock", 2, 7),
        lockfile(d.path(), "wide.lock", 3, 7),
    );
    for (a, b) in [(&lk, &lk), (&ck, &lk), (&lk, &ck), (&ck, &ck2)] {
        let r = repro(&[&"diff", a, b]);
        assert_eq!(
            (r.code, r.stdout.as_str(), r.stderr.as_str()),
            (0, "same: 2 parameters\n", "")
        );
    }
    let r = repro(&[&"diff", &ck, &wide]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "changed: bias: shape [2] -> [3]\nchanged: weight: shape [2, 4] -> [3, 4]\nunchanged: 0 parameters\n"
    );
    // Piped: no progress bar, nothing on standard error.
    assert_eq!(r.stderr, "");
}

#[test]
fn diff_json_is_machine_readable() {
    let d = dir();
    let old = lockfile(d.path(), "j-old.lock", 2, 7);
    let new = d.path().join("j-new.lock");
    let m = Manifest::init::<Linear>(&linear(4, 2), &Init::new(7)).unwrap();
    // The same parameters, one renamed in code (alias) and the weight's values tampered with.
    let mut params = m.params().to_vec();
    params[1].digest = reproducible::manifest::Digest([1; 32]);
    let tampered = Manifest::new(m.seed, 2, params)
        .unwrap()
        .with_alias("bias", "b")
        .unwrap();
    lock::write(&new, &tampered).unwrap();
    let r = repro(&[&"diff", &"--json", &old, &new]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["same"], false);
    assert_eq!(v["model_version"], serde_json::json!({"from": 1, "to": 2}));
    assert_eq!(v["seed"], Value::Null);
    assert_eq!(v["unchanged"], 0);
    assert_eq!(v["undeclared_value_changes"], 1);
    assert_eq!(v["added"], serde_json::json!([]));
    let renamed = v["renamed"].as_array().unwrap();
    assert_eq!(
        (&renamed[0]["from"], &renamed[0]["to"], &renamed[0]["to_alias"]),
        (&Value::from("bias"), &Value::from("bias"), &Value::from("b"))
    );
    assert_eq!(
        (&renamed[0]["in_code_only"], &renamed[0]["values_kept"]),
        (&Value::Bool(true), &Value::Bool(true))
    );
    let changed = v["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["path"], "weight");
    assert_eq!(changed[0]["changes"][0]["kind"], "undeclared_values");
    assert_eq!(changed[0]["changes"][0]["to"], "01".repeat(32));
    assert_eq!(v["new"], new.display().to_string());

    let grown = lockfile(d.path(), "j-grown.lock", 2, 7);
    let r = repro(&[&"diff", &"--json", &grown, &lockfile(d.path(), "j-same.lock", 2, 7)]);
    assert_eq!(r.code, 0);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (v["same"].clone(), v["unchanged"].clone()),
        (Value::Bool(true), Value::from(2))
    );
}

#[test]
fn lock_writes_the_lockfile_of_a_checkpoint() {
    let d = dir();
    let ck = checkpoint(d.path(), "l.safetensors", 2, 11);
    let want = lock::render(&Manifest::init::<Linear>(&linear(4, 2), &Init::new(11)).unwrap());
    let r = repro(&[&"lock", &ck]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(r.stdout, want);
    let out = d.path().join("l.lock");
    let r = repro(&[&"lock", &ck, &"-o", &out]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), want);
    let r = repro(&[&"lock", &"--json", &ck]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["seed"], 11);
    assert_eq!(v["params"][1]["path"], "weight");
    assert_eq!(
        v["params"][1]["init"],
        "kaiming_uniform(a=2.23606797749979, mode=fan_in, nonlinearity=leaky_relu)"
    );
}

#[test]
fn explain_tells_how_a_parameter_was_made_and_checks_it_against_the_spec() {
    let d = dir();
    let ck = checkpoint(d.path(), "e.safetensors", 64, 5);
    let r = repro(&[&"explain", &ck, &"weight"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = &r.stdout;
    for line in [
        "  seed          5\n",
        "  path          weight\n",
        "  version       1\n",
        "  init          kaiming_uniform(a=2.23606797749979, mode=fan_in, nonlinearity=leaky_relu)\n",
        "  draws         uniform on [-0.5, 0.5)\n",
        "  shape         [64, 4]\n",
        "  dtype         f32\n",
        "matches the spec: all 256 values are bit-identical to what spec version 1 generates\n",
        "histogram, 20 bins: # = stored values, | = expected count under uniform on [-0.5, 0.5)\n",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    let bins: Vec<&str> = out.lines().filter(|l| l.starts_with("  [")).collect();
    assert_eq!(bins.len(), 20);
    assert!(
        bins.iter()
            .all(|b| b.contains('#') && b.contains('|') && b.contains("(expected 12.8)")),
        "{out}"
    );

    let r = repro(&[&"explain", &"--json", &"--bins", &"5", &ck, &"weight"]);
    assert_eq!(r.code, 0);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["matches_spec"], true);
    assert_eq!(v["elements"], 256);
    assert_eq!(v["differing_elements"], 0);
    assert_eq!(v["histogram"].as_array().unwrap().len(), 5);
    let counted: u64 = v["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 256);
    assert_eq!(v["stream_key"].as_str().unwrap().len(), 64);
}

#[test]
fn explain_exits_1_when_the_stored_values_are_not_what_the_spec_generates() {
    let d = dir();
    let (fc, prov) = init_with_provenance::<Linear>(&linear(4, 2), &Init::new(5)).unwrap();
    let file = d.path().join("trained.safetensors");
    let tensors: Vec<(String, Tensor)> = fc
        .parameters()
        .into_iter()
        .map(|p| {
            let t = if p.path == "weight" {
                (p.tensor * 2.0).unwrap()
            } else {
                p.tensor
            };
            (p.path, t)
        })
        .collect();
    checkpoint::save(&file, &tensors, &Metadata::new(Some(5), 1, prov)).unwrap();
    let r = repro(&[&"explain", &file, &"weight"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("DIFFERS from the spec: 8 of 8 values"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("(first at [0, 0]: stored "), "{}", r.stdout);
    assert_eq!(repro(&[&"explain", &file, &"bias"]).code, 0);
    // And the lockfile of that checkpoint flags the weight loudly against a fresh one.
    let r = repro(&[&"diff", &checkpoint(d.path(), "fresh.safetensors", 2, 5), &file]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .starts_with("changed: weight: VALUES CHANGED WITH NOTHING DECLARED"),
        "{}",
        r.stdout
    );
}

fn assert_error(r: &Run, file: &Path, what: &str) {
    assert_eq!(r.code, 2, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(r.stderr.contains(&file.display().to_string()), "{}", r.stderr);
    assert!(r.stderr.contains(what), "expected `{what}` in {}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[test]
fn bad_input_exits_2_naming_the_file_and_line() {
    let d = dir();
    let good = lockfile(d.path(), "good.lock", 2, 1);
    let bad = d.path().join("bad.lock");
    let text = std::fs::read_to_string(&good)
        .unwrap()
        .replace("trainable = true", "trainable = yes");
    std::fs::write(&bad, &text).unwrap();
    let line = text.lines().position(|l| l == "trainable = yes").unwrap() + 1;
    assert_error(
        &repro(&[&"diff", &good, &bad]),
        &bad,
        &format!("bad.lock:{line}: `trainable`"),
    );
    let truncated = d.path().join("truncated.lock");
    let whole = std::fs::read_to_string(&good).unwrap();
    std::fs::write(&truncated, &whole[..whole.rfind("blake3").unwrap()]).unwrap();
    assert_error(
        &repro(&[&"diff", &truncated, &good]),
        &truncated,
        "(is the file truncated?)",
    );
    let missing = d.path().join("missing.lock");
    assert_error(&repro(&[&"diff", &good, &missing]), &missing, "reading");
    let garbage = d.path().join("garbage.bin");
    std::fs::write(&garbage, [159u8, 146, 150, 7, 8]).unwrap();
    assert_error(&repro(&[&"diff", &garbage, &good]), &garbage, "not UTF-8");

    let ck = checkpoint(d.path(), "x.safetensors", 2, 1);
    assert_error(
        &repro(&[&"explain", &ck, &"wieght"]),
        &ck,
        "has no parameter `wieght`; did you mean `weight`?",
    );
    assert_error(&repro(&[&"explain", &good, &"weight"]), &good, "not a safetensors file");
    assert_error(&repro(&[&"lock", &garbage]), &garbage, "not UTF-8");
    let truncated_ck = d.path().join("truncated.safetensors");
    let bytes = std::fs::read(&ck).unwrap();
    std::fs::write(&truncated_ck, &bytes[..bytes.len() - 1]).unwrap();
    assert_error(&repro(&[&"lock", &truncated_ck]), &truncated_ck, "truncated");
    assert_eq!(repro(&[&"explain", &ck, &"weight", &"--bins", &"0"]).code, 2);
}

#[test]
fn every_kernel_path_samples_the_same_bits_and_says_which_it_used() {
    let sample = [
        "sample",
        "--seed",
        "42",
        "--path",
        "blocks.0.attn.qkv.weight",
        "--shape",
        "5,37",
        "--init",
        "trunc_normal(std=0.02)",
        "--dtype",
        "bf16",
        "--format",
        "bits",
    ];
    let args: Vec<&dyn AsRef<std::ffi::OsStr>> = sample.iter().map(|a| a as _).collect();
    let auto = repro_with(None, &args);
    assert_eq!(auto.code, 0, "{}", auto.stderr);
    assert_eq!(auto.stdout.lines().count(), 5);
    let detected = reproducible::kernels::Path::detect();
    assert_eq!(auto.stderr, format!("kernel path: {detected}\n"));
    for path in reproducible::kernels::Path::supported() {
        let r = repro_with(Some(path.name()), &args);
        assert_eq!((r.code, r.stderr.clone()), (0, format!("kernel path: {path}\n")));
        assert_eq!(r.stdout, auto.stdout, "{path} gives other bits");
        // The flag overrides the variable.
        let name = path.name();
        let mut flagged = args.clone();
        flagged.extend([&"--kernel" as &dyn AsRef<std::ffi::OsStr>, &name]);
        let r = repro_with(Some("nonsense"), &flagged);
        assert_eq!((r.code, r.stdout.as_str()), (0, auto.stdout.as_str()), "{}", r.stderr);
    }
    assert_eq!(repro_with(Some("auto"), &args).stderr, auto.stderr);
}

#[test]
fn an_unknown_or_unsupported_kernel_path_exits_2_listing_the_supported_ones() {
    let args: [&dyn AsRef<std::ffi::OsStr>; 9] = [
        &"sample",
        &"--seed",
        &"1",
        &"--path",
        &"w",
        &"--shape",
        &"4",
        &"--init",
        &"normal(0, 1)",
    ];
    let supported: Vec<&str> = reproducible::kernels::Path::supported()
        .iter()
        .map(|p| p.name())
        .collect();
    let listed = format!("supports {}", supported.join(", "));
    let r = repro_with(Some("nonsense"), &args);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(
        r.stderr
            .contains("REPRODUCIBLE_KERNEL=nonsense: unknown kernel path `nonsense`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("the paths are auto, scalar, portable, sse2, avx2, avx512, neon"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&listed), "{}", r.stderr);
    let missing = reproducible::kernels::Path::ALL.into_iter().find(|p| !p.is_supported());
    let missing = missing.expect("no machine runs both the x86-64 and the aarch64 paths");
    let r = repro_with(Some(missing.name()), &args);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(
        r.stderr.contains(&format!(
            "kernel path `{missing}` is not supported on this machine; it {listed}"
        )),
        "{}",
        r.stderr
    );
    let mut flagged = args.to_vec();
    flagged.extend([&"--kernel" as &dyn AsRef<std::ffi::OsStr>, &"avx3"]);
    let r = repro_with(None, &flagged);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--kernel: unknown kernel path `avx3`"),
        "{}",
        r.stderr
    );
}

#[test]
fn bench_quick_runs_every_table() {
    let r = repro(&[&"bench", &"--quick"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for needle in [
        "fill: fresh allocation + first touch",
        "normal(0, 1): prefaulted buffer",
        "kaiming_uniform(a=sqrt 5): fresh tensor",
        "candle Tensor::randn",
        "BF16 [64, 1000]",
        "Kernel paths",
        "ViT (dim 32",
        "Llama (vocab 256",
        "Per-parameter overhead",
        "Sharded init",
        "repro diff of two lockfiles of 1000 parameters",
    ] {
        assert!(r.stdout.contains(needle), "no `{needle}` in\n{}", r.stdout);
    }
}

/// The rows `repro sample` prints, as words.
fn sample_rows(init: &str, shape: &str, slice: Option<&str>) -> Vec<Vec<String>> {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
        &"sample",
        &"--seed",
        &"1",
        &"--path",
        &"w",
        &"--format",
        &"bits",
        &"--shape",
        &shape,
        &"--init",
        &init,
    ];
    let slice_arg;
    if let Some(s) = slice {
        slice_arg = s.to_owned();
        args.push(&"--slice");
        args.push(&slice_arg);
    }
    let r = repro(&args);
    assert_eq!(r.code, 0, "{init} {shape} {slice:?}: {}", r.stderr);
    r.stdout
        .lines()
        .map(|l| l.split(' ').map(str::to_owned).collect())
        .collect()
}

#[test]
fn a_slice_of_a_whole_tensor_scheme_is_the_same_elements_of_the_whole() {
    for init in ["orthogonal()", "sparse(0.5)"] {
        let whole = sample_rows(init, "12,9", None);
        assert_eq!((whole.len(), whole[0].len()), (12, 9), "{init}");
        for (slice, rows, cols) in [
            ("2:4,7:8", 2..4, 7..8),
            ("5,3", 5..6, 3..4),
            ("11:12,8:9", 11..12, 8..9),
            ("0:12,0:1", 0..12, 0..1),
            ("3:7,2:6", 3..7, 2..6),
        ] {
            let want: Vec<Vec<String>> = whole[rows].iter().map(|r| r[cols.clone()].to_vec()).collect();
            assert_eq!(sample_rows(init, "12,9", Some(slice)), want, "{init} --slice {slice}");
        }
    }
}

#[test]
fn a_closed_standard_error_is_exit_2_not_a_panic() {
    let d = dir();
    let ck = checkpoint(d.path(), "c.safetensors", 2, 1);
    let closed = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        writer
    };
    let runs: [&[&str]; 4] = [
        &["lock", "/nonexistent"],
        &["diff", "/nonexistent", "/nonexistent2"],
        &["explain", "/nonexistent", "w"],
        &[
            "sample",
            "--seed",
            "1",
            "--path",
            "w",
            "--shape",
            "4",
            "--init",
            "normal(0, 1)",
        ],
    ];
    for args in runs {
        // Standard error closed; standard output too (so the error is the one left to report).
        let status = Command::new(env!("CARGO_BIN_EXE_repro"))
            .args(args)
            .stdout(closed())
            .stderr(closed())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(2), "{args:?}");
    }
    // A command whose output is read, with standard error closed, still works.
    let out = Command::new(env!("CARGO_BIN_EXE_repro"))
        .arg("lock")
        .arg(&ck)
        .stderr(closed())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("# reproducible init lockfile"));
}

#[test]
fn a_malformed_lockfile_line_is_quoted_short() {
    let d = dir();
    let good = lockfile(d.path(), "good.lock", 2, 1);
    let whole = std::fs::read_to_string(&good).unwrap();
    let long = "x".repeat(1 << 20);
    for (name, bad) in [
        ("no-equals.lock", whole.replace("trainable = true", &long)),
        (
            "value.lock",
            whole.replace("trainable = true", &format!("trainable = true {long}")),
        ),
        ("key.lock", whole.replace("trainable = true", &format!("{long} = 1"))),
        (
            "word.lock",
            whole.replace("trainable = true", &format!("trainable = {long}")),
        ),
        ("table.lock", whole.replace("[[param]]", &format!("[{long}]"))),
    ] {
        let file = d.path().join(name);
        std::fs::write(&file, bad).unwrap();
        let r = repro(&[&"lock", &file]);
        assert_eq!(r.code, 2, "{name}");
        assert!(r.stderr.len() < 600, "{name}: {} bytes of error", r.stderr.len());
        assert!(r.stderr.contains("xxxxxxxx"), "{name}: {}", r.stderr);
        assert!(r.stderr.contains(" bytes)"), "{name}: {}", r.stderr);
    }
}

#[test]
fn file_names_and_paths_in_errors_are_escaped() {
    let d = dir();
    let hostile = "\u{1b}]0;pwned\u{7}\nerror: fake";
    let r = repro(&[
        &"sample", &"--seed", &"1", &"--path", &hostile, &"--shape", &"4", &"--init", &"eye()",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let errors: Vec<&str> = r.stderr.lines().filter(|l| !l.starts_with("kernel path")).collect();
    assert_eq!(errors.len(), 1, "{:?}", r.stderr);
    assert!(
        !r.stderr.contains('\u{1b}') && !r.stderr.contains('\u{7}'),
        "{:?}",
        r.stderr
    );
    assert!(
        errors[0].contains(r"\u{1b}]0;pwned\u{7}\nerror: fake"),
        "{:?}",
        r.stderr
    );

    // A file name holding a newline and an escape, in every command's errors.
    let file = d.path().join("bad\n\u{1b}[2Jname.lock");
    std::fs::write(&file, "lockfile = 2\n").unwrap();
    let ck = checkpoint(d.path(), "ok.safetensors", 2, 1);
    for args in [
        vec![&"lock" as &dyn AsRef<std::ffi::OsStr>, &file],
        vec![&"diff", &file, &ck],
        vec![&"explain", &file, &"weight"],
        vec![&"lock", &ck, &"-o", &d.path().join("missing\ndir").join("x.lock")],
    ] {
        let r = repro(&args);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{:?}", r.stderr);
        assert!(!r.stderr.contains('\u{1b}'), "{:?}", r.stderr);
        assert!(r.stderr.contains(r"\n"), "{:?}", r.stderr);
    }
}

#[test]
fn a_header_over_the_size_limit_is_reported_as_such_by_every_command() {
    let d = dir();
    let file = d.path().join("huge-header.safetensors");
    let mut bytes = 200_000_000u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(br#"{"__metadata__":{}}"#);
    std::fs::write(&file, &bytes).unwrap();
    let ck = checkpoint(d.path(), "ok.safetensors", 2, 1);
    for args in [
        vec![&"lock" as &dyn AsRef<std::ffi::OsStr>, &file],
        vec![&"diff", &file, &ck],
        vec![&"explain", &file, &"weight"],
    ] {
        let r = repro(&args);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains("200000000") && r.stderr.contains("over the limit of 100000000 bytes"),
            "{}",
            r.stderr
        );
        assert!(
            !r.stderr.contains("NUL") && !r.stderr.contains("truncated"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn a_lockfile_may_start_with_a_byte_order_mark() {
    let d = dir();
    let good = lockfile(d.path(), "good.lock", 2, 1);
    let whole = std::fs::read_to_string(&good).unwrap();
    // Editors on Windows start files with one: it is no part of the text.
    let bom = d.path().join("bom.lock");
    std::fs::write(&bom, format!("\u{feff}{whole}")).unwrap();
    let r = repro(&[&"diff", &bom, &good]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
}

#[test]
fn lockfile_integers_have_no_leading_zeros() {
    let d = dir();
    let good = lockfile(d.path(), "good.lock", 2, 1);
    let whole = std::fs::read_to_string(&good).unwrap();
    // As in TOML: `01` is not an integer.
    for (from, to) in [
        ("model_version = 1", "model_version = 01"),
        ("\nversion = 1", "\nversion = 001"),
    ] {
        let bad = d.path().join("zeros.lock");
        std::fs::write(&bad, whole.replacen(from, to, 1)).unwrap();
        let r = repro(&[&"diff", &bad, &good]);
        assert_eq!(r.code, 2, "{to}: {}", r.stderr);
        assert!(r.stderr.contains("leading zero"), "{to}: {}", r.stderr);
    }
}

#[test]
fn scheme_integers_are_plain_decimals() {
    for init in ["dirac(groups=+2)", "dirac(+1)", "dirac(groups=-0)"] {
        let r = repro(&[
            &"sample", &"--seed", &"1", &"--path", &"w", &"--shape", &"4,4,3", &"--init", &init,
        ]);
        assert_eq!(r.code, 2, "{init}: {}", r.stdout);
        assert!(
            r.stderr.contains("`groups` must be a non-negative integer"),
            "{init}: {}",
            r.stderr
        );
    }
    let r = repro(&[
        &"sample",
        &"--seed",
        &"1",
        &"--path",
        &"w",
        &"--shape",
        &"4,4,3",
        &"--init",
        &"dirac(groups=2)",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

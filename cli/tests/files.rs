//! Files a user can trust, tried as a hostile or unlucky user would: writes
//! that never destroy an input or follow a planted link, keep permissions,
//! stream into devices and FIFOs, survive kills, full disks and read-only
//! directories; inputs read once from pipes, FIFOs and standard input; sizes
//! and contents that must be errors, not aborts.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use candle_core::Tensor;
use reproducible::checkpoint::{self, Metadata};
use reproducible::layers::{linear, Linear};
use reproducible::lock;
use reproducible::manifest::{Digest, Manifest};
use reproducible::model::{init_with_provenance, ModelExt};
use reproducible::provenance::Provenance;
use reproducible::Init;

fn repro() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_repro"));
    c.env_remove("REPRODUCIBLE_KERNEL");
    c
}

fn run(c: &mut Command) -> Output {
    c.output().expect("run repro")
}

/// `repro` with `args`, `input` written to its standard input (a pipe).
fn run_piped(args: &[&str], input: &[u8]) -> Output {
    let mut child = repro()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A directory other users can enter (a test may drop privileges).
fn dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    fs::set_permissions(d.path(), fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// A checkpoint of `linear(fan_in, out)` under `seed`.
fn checkpoint_in(dir: &Path, name: &str, fan_in: usize, out: usize, seed: u64) -> PathBuf {
    let file = dir.join(name);
    let (fc, prov) = init_with_provenance::<Linear>(&linear(fan_in, out), &Init::new(seed)).unwrap();
    checkpoint::save_model(&file, &fc, &Metadata::new(Some(seed), 1, prov)).unwrap();
    file
}

/// A lockfile of `n` parameters (about 300 bytes each), for writes that take a while.
fn big_manifest(n: usize) -> Manifest {
    let m = Manifest::init::<Linear>(&linear(4, 2), &Init::new(3)).unwrap();
    let template = m.params()[1].clone();
    let params = (0..n)
        .map(|i| {
            let mut p = template.clone();
            p.path = format!("experts.{i}.w");
            p
        })
        .collect();
    Manifest::new(Some(3), 1, params).unwrap()
}

/// The files of `dir` other than `expected`: temporary files left behind,
/// whatever their writer named them.
fn leftovers(dir: &Path, expected: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !expected.contains(&n.as_str()))
        .collect();
    names.sort();
    names
}

#[test]
fn lock_refuses_to_write_over_its_input_under_any_name() {
    let d = dir();
    let ck = checkpoint_in(d.path(), "m.safetensors", 4, 2, 1);
    let before = fs::read(&ck).unwrap();
    let hard = d.path().join("hard.safetensors");
    fs::hard_link(&ck, &hard).unwrap();
    let soft = d.path().join("soft.safetensors");
    std::os::unix::fs::symlink(&ck, &soft).unwrap();
    for out in [&ck, &hard, &soft] {
        let r = run(repro().arg("lock").arg(&ck).arg("-o").arg(out));
        assert_eq!(r.status.code(), Some(2), "{}", text(&r.stderr));
        assert!(
            text(&r.stderr).contains("is the input") && text(&r.stderr).contains("would destroy it"),
            "{}",
            text(&r.stderr)
        );
        assert_eq!(fs::read(&ck).unwrap(), before, "-o {}", out.display());
    }
    // A lockfile rewritten canonically onto itself is refused the same way.
    let lk = d.path().join("m.lock");
    lock::write(&lk, &Manifest::from_checkpoint(&ck).unwrap()).unwrap();
    assert_eq!(
        run(repro().arg("lock").arg(&lk).arg("-o").arg(&lk)).status.code(),
        Some(2)
    );
}

#[test]
fn lock_output_keeps_mode_and_owner_and_streams_into_devices_fifos_and_stdout() {
    let d = dir();
    let ck = checkpoint_in(d.path(), "m.safetensors", 4, 2, 1);
    let want = lock::render(&Manifest::from_checkpoint(&ck).unwrap());
    let out = d.path().join("private.lock");
    fs::write(&out, "old").unwrap();
    fs::set_permissions(&out, fs::Permissions::from_mode(0o600)).unwrap();
    let root = fs::metadata("/").unwrap().uid() == 0 && fs::metadata(d.path()).unwrap().uid() == 0;
    if root {
        std::os::unix::fs::chown(&out, Some(65534), Some(65534)).unwrap();
    }
    let r = run(repro().arg("lock").arg(&ck).arg("-o").arg(&out));
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    let meta = fs::metadata(&out).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    if root {
        assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
    }
    assert_eq!(fs::read_to_string(&out).unwrap(), want);

    // A device stays a device.
    let r = run(repro().arg("lock").arg(&ck).arg("-o").arg("/dev/null"));
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device());

    // A FIFO is written in place, read by whoever holds its other end.
    let fifo = d.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
    };
    let r = run(repro().arg("lock").arg(&ck).arg("-o").arg(&fifo));
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    assert_eq!(reader.join().unwrap(), want);
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());

    // `-o -` is standard output.
    let r = run(repro().arg("lock").arg(&ck).arg("-o").arg("-"));
    assert_eq!((r.status.code(), text(&r.stdout)), (Some(0), want));
}

#[test]
fn a_failed_write_leaves_the_old_file_and_no_temporary_file() {
    let d = dir();
    let big = d.path().join("big.lock");
    lock::write(&big, &big_manifest(20_000)).unwrap();
    let out = d.path().join("out.lock");
    fs::write(&out, "the old lockfile").unwrap();

    // A full disk: the file size limit makes writes fail with EFBIG.
    let r = run(Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 64; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_repro"))
        .arg("lock")
        .arg(&big)
        .arg("-o")
        .arg(&out));
    assert_eq!(r.status.code(), Some(2), "{}", text(&r.stderr));
    assert!(text(&r.stderr).contains("File too large"), "{}", text(&r.stderr));
    assert_eq!(fs::read_to_string(&out).unwrap(), "the old lockfile");
    assert_eq!(leftovers(d.path(), &["big.lock", "out.lock"]), Vec::<String>::new());

    // A read-only directory (as another user when running as root, who may write anywhere).
    let ro = d.path().join("ro");
    fs::create_dir(&ro).unwrap();
    let ro_out = ro.join("out.lock");
    fs::write(&ro_out, "the old lockfile").unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    let mut c = if fs::metadata(d.path()).unwrap().uid() == 0 {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_repro"));
        c
    } else {
        repro()
    };
    let r = run(c.arg("lock").arg(&big).arg("-o").arg(&ro_out));
    assert_eq!(r.status.code(), Some(2), "{}", text(&r.stderr));
    assert!(text(&r.stderr).contains("Permission denied"), "{}", text(&r.stderr));
    assert_eq!(fs::read_to_string(&ro_out).unwrap(), "the old lockfile");

    // A closed pipe on standard output.
    let mut child = repro()
        .arg("lock")
        .arg(&big)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let r = child.wait_with_output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(
        text(&r.stderr).contains("writing output: Broken pipe"),
        "{}",
        text(&r.stderr)
    );
}

/// Writes the checkpoint named by `REPRO_TEST_WRITER` over and over, until
/// killed: the checkpoint writer of the kill test, in a process of its own.
#[test]
fn checkpoint_writer_for_the_kill_test() {
    let Some(file) = std::env::var_os("REPRO_TEST_WRITER") else {
        return;
    };
    let (fc, prov) = init_with_provenance::<Linear>(&linear(1024, 4096), &Init::new(9)).unwrap();
    let tensors: Vec<(String, Tensor)> = fc.parameters().into_iter().map(|p| (p.path, p.tensor)).collect();
    loop {
        checkpoint::save(Path::new(&file), &tensors, &Metadata::new(Some(9), 1, prov.clone())).unwrap();
    }
}

#[test]
fn writers_killed_at_any_point_leave_old_or_new_files_and_no_temporary_files() {
    let d = dir();
    // Lockfile writes: `repro lock` rewriting a large lockfile.
    let big = d.path().join("big.lock");
    lock::write(&big, &big_manifest(100_000)).unwrap();
    let out = d.path().join("out.lock");
    let mut kills = 0;
    for i in 0..20u64 {
        let mut child = repro().arg("lock").arg(&big).arg("-o").arg(&out).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(20 + (i * 37) % 400));
        kills += child.try_wait().unwrap().is_none() as usize;
        let _ = child.kill();
        child.wait().unwrap();
        if out.exists() {
            assert_eq!(
                lock::read(&out).unwrap().len(),
                100_000,
                "a partial lockfile after kill {i}"
            );
        }
    }
    assert!(kills > 0, "no writer was killed mid-run");
    let r = run(repro().arg("lock").arg(&big).arg("-o").arg(&out));
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    assert_eq!(lock::read(&out).unwrap().len(), 100_000);
    assert_eq!(leftovers(d.path(), &["big.lock", "out.lock"]), Vec::<String>::new());

    // Checkpoint writes: this test binary's writer above, 16 MB a write.
    let ck = d.path().join("m.safetensors");
    for i in 0..20u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "checkpoint_writer_for_the_kill_test", "--nocapture"])
            .env("REPRO_TEST_WRITER", &ck)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(30 + (i * 53) % 500));
        child.kill().unwrap();
        child.wait().unwrap();
        if ck.exists() {
            assert_eq!(
                Manifest::from_checkpoint(&ck).unwrap().len(),
                2,
                "a partial checkpoint after kill {i}"
            );
        }
    }
    let (fc, prov) = init_with_provenance::<Linear>(&linear(4, 2), &Init::new(1)).unwrap();
    checkpoint::save_model(&ck, &fc, &Metadata::new(Some(1), 1, prov)).unwrap();
    assert_eq!(
        leftovers(d.path(), &["big.lock", "out.lock", "m.safetensors"]),
        Vec::<String>::new()
    );
}

#[test]
fn inputs_are_read_once_from_pipes_fifos_and_standard_input() {
    let d = dir();
    let ck = checkpoint_in(d.path(), "m.safetensors", 4, 2, 1);
    let lk = d.path().join("m.lock");
    lock::write(&lk, &Manifest::from_checkpoint(&ck).unwrap()).unwrap();
    for input in [&lk, &ck] {
        // `-`, and `/dev/stdin` (a pipe here, as `<(...)` gives), each read once.
        for name in ["-", "/dev/stdin"] {
            let mut child = repro()
                .args(["diff", name])
                .arg(&lk)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(&fs::read(input).unwrap())
                .unwrap();
            let r = child.wait_with_output().unwrap();
            assert_eq!(
                (r.status.code(), text(&r.stdout)),
                (Some(0), "same: 2 parameters\n".into()),
                "{name} holding {}: {}",
                input.display(),
                text(&r.stderr)
            );
        }
        // A named FIFO.
        let fifo = d.path().join("in.fifo");
        let _ = fs::remove_file(&fifo);
        assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let writer = {
            let (fifo, bytes) = (fifo.clone(), fs::read(input).unwrap());
            std::thread::spawn(move || fs::write(fifo, bytes).unwrap())
        };
        let r = run(repro().arg("diff").arg(&fifo).arg(&lk));
        writer.join().unwrap();
        assert_eq!(
            r.status.code(),
            Some(0),
            "FIFO holding {}: {}",
            input.display(),
            text(&r.stderr)
        );
    }
    // A checkpoint cut short on a pipe is a truncated checkpoint.
    let bytes = fs::read(&ck).unwrap();
    let r = run_piped(&["lock", "-"], &bytes[..bytes.len() - 3]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        text(&r.stderr).contains("standard input: truncated"),
        "{}",
        text(&r.stderr)
    );
    // An endless input that is no checkpoint is refused at once.
    let start = Instant::now();
    let r = run(repro().args(["lock", "/dev/zero"]));
    assert_eq!(r.status.code(), Some(2));
    assert!(text(&r.stderr).contains("/dev/zero: not a lockfile or a checkpoint: a NUL byte at offset 0"));
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[test]
fn a_truncated_checkpoint_is_reported_as_a_checkpoint_by_every_command() {
    let d = dir();
    let ck = checkpoint_in(d.path(), "m.safetensors", 4, 2, 1);
    let bytes = fs::read(&ck).unwrap();
    // Cut inside the header, and inside the data.
    for (name, cut) in [("header.safetensors", 40), ("data.safetensors", bytes.len() - 1)] {
        let t = d.path().join(name);
        fs::write(&t, &bytes[..cut]).unwrap();
        for args in [vec!["lock"], vec!["diff"], vec!["explain"]] {
            let mut c = repro();
            c.args(&args).arg(&t);
            match args[0] {
                "diff" => c.arg(&ck),
                "explain" => c.arg("weight"),
                _ => &mut c,
            };
            let r = run(&mut c);
            let err = text(&r.stderr);
            assert_eq!(r.status.code(), Some(2), "{args:?} {name}: {err}");
            assert!(err.contains("truncated"), "{args:?} {name}: {err}");
            assert!(
                !err.contains("lockfile") && !err.contains(":1:"),
                "{args:?} {name}: {err}"
            );
        }
    }
}

#[test]
fn lock_validates_before_it_writes() {
    let d = dir();
    // Metadata that says `eye()` made an [8] tensor: no lockfile could hold it.
    let t = Tensor::zeros(8, candle_core::DType::F32, &candle_core::Device::Cpu).unwrap();
    let prov = Provenance {
        path: "w".into(),
        alias: None,
        rule: None,
        shape: vec![8],
        dtype: "f32".into(),
        scheme: "eye()".into(),
        version: 1,
        seed: 1,
        spec_version: reproducible::stream::SPEC_VERSION,
        trainable: true,
    };
    let ck = d.path().join("bad.safetensors");
    checkpoint::save(&ck, &[("w".into(), t)], &Metadata::new(Some(1), 1, vec![prov])).unwrap();
    let out = d.path().join("bad.lock");
    let r = run(repro().arg("lock").arg(&ck).arg("-o").arg(&out));
    assert_eq!(r.status.code(), Some(2));
    assert!(
        text(&r.stderr).contains("`eye()` cannot initialise shape [8]"),
        "{}",
        text(&r.stderr)
    );
    assert!(!out.exists());
}

#[test]
fn control_characters_from_files_never_reach_the_terminal() {
    let d = dir();
    let m = Manifest::init::<Linear>(&linear(4, 2), &Init::new(3)).unwrap();
    let mut hostile = m.params()[0].clone();
    hostile.path = "\u{1b}]0;pwned\u{7}\u{1b}[2J\nadded: fake".into();
    let mut params = m.params().to_vec();
    params.push(hostile);
    let (old, new) = (d.path().join("old.lock"), d.path().join("new.lock"));
    lock::write(&old, &m).unwrap();
    lock::write(&new, &Manifest::new(m.seed, 1, params).unwrap()).unwrap();
    let r = run(repro().arg("diff").arg(&old).arg(&new));
    assert_eq!(r.status.code(), Some(1));
    let out = text(&r.stdout);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(
        out.contains(r"added: \u{1b}]0;pwned\u{7}\u{1b}[2J\nadded: fake: "),
        "{out:?}"
    );
    assert_eq!(out.lines().filter(|l| l.starts_with("added")).count(), 1, "{out:?}");
    // In an error about a bad lockfile too.
    let bad = d.path().join("bad.lock");
    fs::write(&bad, "lockfile = 1\n\u{1b}[31mkey = 1\n").unwrap();
    let r = run(repro().arg("lock").arg(&bad));
    assert_eq!(r.status.code(), Some(2));
    assert!(!text(&r.stderr).contains('\u{1b}'), "{:?}", text(&r.stderr));
}

#[test]
fn sample_prints_a_slice_of_a_huge_tensor_and_streams_the_whole() {
    let common = ["sample", "--seed", "1", "--path", "w", "--init", "normal(0, 1)"];
    let r = run(repro()
        .args(common)
        .args(["--shape", "1000000,1000000", "--slice", "999999:1000000,0:4"]));
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    assert_eq!(text(&r.stdout).lines().count(), 1);
    assert_eq!(text(&r.stdout).split(' ').count(), 4);
    // The same values as the whole tensor's slice, computed without it.
    let small = run(repro()
        .args(common)
        .args(["--shape", "1000000,1000000", "--slice", "999999,0:2"]));
    let (whole, part) = (text(&r.stdout), text(&small.stdout));
    assert_eq!(
        part.trim().split(' ').collect::<Vec<_>>(),
        whole.split(' ').take(2).collect::<Vec<_>>()
    );
    // Unsliced, the tensor streams row by row: read three rows, then hang up.
    for shape in ["1000000,1000000", "4294967295,4294967295"] {
        let mut child = repro()
            .args(common)
            .args(["--shape", shape])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = vec![0u8; 1 << 16];
        child.stdout.as_mut().unwrap().read_exact(&mut head).unwrap();
        drop(child.stdout.take());
        let r = child.wait_with_output().unwrap();
        assert_eq!(r.status.code(), Some(2), "{shape}: {}", text(&r.stderr));
        assert!(text(&r.stderr).contains("Broken pipe"), "{shape}: {}", text(&r.stderr));
        assert!(text(&head)
            .split(' ')
            .take(100)
            .all(|v| v.trim().parse::<f32>().is_ok()));
    }
    // Values no element type holds are errors, not inf.
    let r = run(repro().args([
        "sample",
        "--seed",
        "1",
        "--path",
        "w",
        "--shape",
        "4",
        "--init",
        "normal(0, 1e39)",
    ]));
    assert_eq!(r.status.code(), Some(2));
    assert!(
        text(&r.stderr).contains("beyond the largest finite f32"),
        "{}",
        text(&r.stderr)
    );
}

#[test]
fn headers_alone_are_read_for_metadata_and_checked_loading() {
    // A checkpoint whose 64 GiB of data is a hole in a sparse file: reading
    // the header must not read (or allocate) the data.
    let d = dir();
    let file = d.path().join("huge.safetensors");
    let n: usize = 1 << 34;
    let header = format!(
        r#"{{"__metadata__":{{"reproducible":"{{\"spec_version\":1,\"seed\":1,\"model_version\":1,\"params\":[]}}"}},"w":{{"dtype":"F32","shape":[{n}],"data_offsets":[0,{}]}}}}"#,
        4 * n
    );
    let mut f = fs::File::create(&file).unwrap();
    f.write_all(&(header.len() as u64).to_le_bytes()).unwrap();
    f.write_all(header.as_bytes()).unwrap();
    f.set_len(8 + header.len() as u64 + 4 * n as u64).unwrap();
    drop(f);
    let meta = checkpoint::read_metadata(&file).unwrap().unwrap();
    assert_eq!(meta.seed, Some(1));
    let checked = checkpoint::CheckedVars::open(&file, candle_core::DType::F32, &candle_core::Device::Cpu).unwrap();
    let e = checked.finish().unwrap_err().to_string();
    assert!(e.contains("holds tensors the model does not have: `w`"), "{e}");
}

#[test]
fn explain_checks_a_large_tensor_in_bounded_memory() {
    // 256 MiB of f32 zeros where the spec has normal values: every value differs.
    let d = dir();
    let n = 1usize << 26;
    let file = d.path().join("large.safetensors");
    let prov = Provenance {
        path: "w".into(),
        alias: None,
        rule: None,
        shape: vec![1 << 13, 1 << 13],
        dtype: "f32".into(),
        scheme: "normal(mean=0.0, std=0.02)".into(),
        version: 1,
        seed: 1,
        spec_version: reproducible::stream::SPEC_VERSION,
        trainable: true,
    };
    let t = Tensor::zeros((1 << 13, 1 << 13), candle_core::DType::F32, &candle_core::Device::Cpu).unwrap();
    checkpoint::save(&file, &[("w".into(), t)], &Metadata::new(Some(1), 1, vec![prov])).unwrap();
    // Under a 1 GiB address-space limit: reading the tensor whole, with its
    // regenerated copy and both as f64, would need about 1.5 GiB.
    let r = run(Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_repro"))
        .args(["explain", "--json"])
        .arg(&file)
        .arg("w"));
    assert_eq!(r.status.code(), Some(1), "{}", text(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["elements"].as_u64(), Some(n as u64));
    // Zeros where the spec has normal values: all differ but the rare exact +0.0.
    let differing = v["differing_elements"].as_u64().unwrap();
    assert!(differing > n as u64 - 1000, "{differing}");
    assert_eq!(v["blake3"], Digest::of(&vec![0u8; 4 * n]).to_string());
}

#[test]
fn lock_refuses_to_write_over_its_standard_input() {
    let d = dir();
    let ck = checkpoint_in(d.path(), "m.safetensors", 4, 2, 1);
    let before = fs::read(&ck).unwrap();
    let hard = d.path().join("hard.safetensors");
    fs::hard_link(&ck, &hard).unwrap();
    for input in ["-", "/dev/stdin"] {
        for out in [&ck, &hard] {
            let r = run(repro()
                .args(["lock", input, "-o"])
                .arg(out)
                .stdin(fs::File::open(&ck).unwrap()));
            assert_eq!(
                r.status.code(),
                Some(2),
                "{input} -o {}: {}",
                out.display(),
                text(&r.stderr)
            );
            assert!(
                text(&r.stderr).contains("is the input") && text(&r.stderr).contains("would destroy it"),
                "{}",
                text(&r.stderr)
            );
            assert_eq!(fs::read(&ck).unwrap(), before, "{input} -o {}", out.display());
        }
    }
    // Another file on standard input is fine.
    let other = checkpoint_in(d.path(), "other.safetensors", 4, 2, 2);
    let r = run(repro()
        .args(["lock", "-", "-o"])
        .arg(d.path().join("other.lock"))
        .stdin(fs::File::open(&other).unwrap()));
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
}

#[test]
fn catchable_signals_during_a_write_leave_no_temporary_file() {
    use std::os::unix::process::ExitStatusExt;
    let d = dir();
    let big = d.path().join("big.lock");
    lock::write(&big, &big_manifest(100_000)).unwrap();
    let out = d.path().join("out.lock");
    for (signal, name) in [(2, "INT"), (15, "TERM"), (1, "HUP")] {
        let ignored = ignored_by_this_process(signal);
        let mut caught = 0;
        for _ in 0..50 {
            let mut child = repro().arg("lock").arg(&big).arg("-o").arg(&out).spawn().unwrap();
            // Wait for the temporary file to appear, then signal the writer.
            let start = Instant::now();
            while leftovers(d.path(), &["big.lock", "out.lock"]).is_empty()
                && child.try_wait().unwrap().is_none()
                && start.elapsed() < Duration::from_secs(30)
            {
                std::thread::yield_now();
            }
            // The writer may have finished meanwhile: then there is no one to signal.
            let _ = Command::new("kill")
                .arg(format!("-{name}"))
                .arg(child.id().to_string())
                .stderr(Stdio::null())
                .status();
            let status = child.wait().unwrap();
            assert_eq!(
                leftovers(d.path(), &["big.lock", "out.lock"]),
                Vec::<String>::new(),
                "SIG{name}"
            );
            if status.success() {
                if ignored {
                    break;
                }
                continue;
            }
            // Killed by the signal, as a shell reports it.
            assert_eq!(status.signal(), Some(signal), "SIG{name}: {status:?}");
            caught += 1;
            if out.exists() {
                assert_eq!(lock::read(&out).unwrap().len(), 100_000);
            }
            if caught == 3 {
                break;
            }
        }
        if ignored {
            // Started ignoring it (a job started in the background with `&`
            // ignores SIGINT, `nohup` SIGHUP), as `repro` then does too: the
            // write completes, and leaves nothing behind either.
            assert_eq!(caught, 0, "SIG{name} is ignored here, yet it ended the writer");
        } else {
            assert!(caught > 0, "SIG{name} never arrived during a write");
        }
    }
}

/// Whether this process ignores `signal` (and so any child it starts does):
/// the `SigIgn` mask of `/proc/self/status`.
fn ignored_by_this_process(signal: i32) -> bool {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .map(|m| u64::from_str_radix(m.trim(), 16).unwrap())
        .unwrap();
    mask & (1u64 << (signal - 1)) != 0
}

#[test]
fn long_output_names_are_written_and_other_targets_temporary_files_kept() {
    let d = dir();
    let ck = checkpoint_in(d.path(), "m.safetensors", 4, 2, 1);
    let want = lock::render(&Manifest::from_checkpoint(&ck).unwrap());
    // The longest name a file may have.
    for len in [231, 232, 250, 255] {
        let name = format!("{}.lock", "n".repeat(len - 5));
        let out = d.path().join(&name);
        let r = run(repro().arg("lock").arg(&ck).arg("-o").arg(&out));
        assert_eq!(r.status.code(), Some(0), "{len}: {}", text(&r.stderr));
        assert_eq!(fs::read_to_string(&out).unwrap(), want);
        fs::remove_file(&out).unwrap();
    }
    // Abandoned temporary files of `x.lock` are swept; those of `x.lock.bak`,
    // and files that merely look alike, are not.
    let mine = d.path().join(".x.lock.AbCdEf123456.repro-tmp");
    let others = [
        ".x.lock.bak.AbCdEf123456.repro-tmp",
        ".x.lock.old.repro-tmp",
        ".x.lock.AbCdEf12345.repro-tmp",
        ".x.lock.AbCdEf-23456.repro-tmp",
    ];
    fs::write(&mine, "abandoned").unwrap();
    for o in others {
        fs::write(d.path().join(o), "someone else's").unwrap();
    }
    let r = run(repro().arg("lock").arg(&ck).arg("-o").arg(d.path().join("x.lock")));
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    assert!(!mine.exists());
    for o in others {
        assert!(d.path().join(o).exists(), "{o} was removed");
    }
}

#[test]
fn a_relative_output_is_written_from_a_working_directory_deeper_than_path_max() {
    let d = dir();
    let ck = checkpoint_in(d.path(), "m.safetensors", 4, 2, 1);
    let want = lock::render(&Manifest::from_checkpoint(&ck).unwrap());
    // 24 levels of 200-byte names: about 4.8 KB of working directory.
    let level = "d".repeat(200);
    let script = format!(
        "for i in $(seq 24); do mkdir {level} && cd -P {level} || exit 9; done; \
         \"$0\" lock \"$1\" -o out.lock && \"$0\" lock out.lock -o again.lock && cat again.lock"
    );
    let r = run(Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_repro"))
        .arg(&ck)
        .current_dir(d.path()));
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    assert_eq!(text(&r.stdout), want);
}

#[test]
fn output_to_dev_stdout_streams_into_a_pipe() {
    let d = dir();
    let ck = checkpoint_in(d.path(), "m.safetensors", 4, 2, 1);
    let want = lock::render(&Manifest::from_checkpoint(&ck).unwrap());
    let r = run(repro()
        .arg("lock")
        .arg(&ck)
        .args(["-o", "/dev/stdout"])
        .stdout(Stdio::piped()));
    assert_eq!(
        (r.status.code(), text(&r.stdout)),
        (Some(0), want),
        "{}",
        text(&r.stderr)
    );
}

#[test]
fn explain_reads_standard_input_and_fifos() {
    let d = dir();
    let ck = checkpoint_in(d.path(), "m.safetensors", 4, 2, 1);
    let want = run(repro().args(["explain", "--json"]).arg(&ck).arg("weight"));
    assert_eq!(want.status.code(), Some(0), "{}", text(&want.stderr));
    let json = |o: &Output| {
        let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["file"] = serde_json::Value::Null;
        v
    };
    for name in ["-", "/dev/stdin"] {
        let r = run(repro()
            .args(["explain", "--json", name, "weight"])
            .stdin(fs::File::open(&ck).unwrap()));
        assert_eq!(r.status.code(), Some(0), "{name}: {}", text(&r.stderr));
        assert_eq!(json(&r), json(&want), "{name}");
    }
    // Through a pipe that a writer fills, and a named FIFO.
    let mut child = repro()
        .args(["explain", "--json", "-", "bias"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&fs::read(&ck).unwrap()).unwrap();
    let r = child.wait_with_output().unwrap();
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    let fifo = d.path().join("in.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let writer = {
        let (fifo, bytes) = (fifo.clone(), fs::read(&ck).unwrap());
        std::thread::spawn(move || fs::write(fifo, bytes).unwrap())
    };
    let r = run(repro().args(["explain", "--json"]).arg(&fifo).arg("weight"));
    writer.join().unwrap();
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    assert_eq!(json(&r), json(&want));
    // A stream cut short, or with a missing parameter, is an error naming it.
    let bytes = fs::read(&ck).unwrap();
    let r = run_piped(&["explain", "-", "weight"], &bytes[..bytes.len() - 3]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        text(&r.stderr).contains("standard input: truncated"),
        "{}",
        text(&r.stderr)
    );
    let r = run(repro()
        .args(["explain", "-", "wieght"])
        .stdin(fs::File::open(&ck).unwrap()));
    assert_eq!(r.status.code(), Some(2));
    assert!(text(&r.stderr).contains("did you mean `weight`"), "{}", text(&r.stderr));
}

//! A bad `REPRODUCIBLE_KERNEL` is the process's configuration error, reported
//! as such, never as an error of whichever parameter happens to be made first.
//! The variable is read once per process, so each case runs in a child
//! process of this test binary.

use std::process::Command;

use candle_core::{DType, Device};
use reproducible::backend::KeyedVars;
use reproducible_examples::story::{AttentionConfig, AttentionV2};

/// Set in the child: which build to attempt.
const CHILD: &str = "REPRODUCIBLE_TEST_KERNEL_CHILD";

fn child(setting: &str, build: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "kernel_setting::build_in_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("REPRODUCIBLE_KERNEL", setting)
        .env(CHILD, build)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs only as the child: prints the build's error on one line.
#[test]
fn build_in_child() {
    let Ok(build) = std::env::var(CHILD) else { return };
    let error = match build.as_str() {
        "model" => AttentionV2::init(&AttentionConfig::story(), &reproducible::Init::new(0))
            .err()
            .map(|e| e.to_string()),
        _ => {
            let vb = KeyedVars::new(0, DType::F32, &Device::Cpu).var_builder();
            candle_nn::linear(4, 4, vb.pp("tokenizer")).err().map(|e| e.to_string())
        }
    };
    println!("ERROR: {}", error.unwrap_or_default().replace('\n', " | "));
}

#[test]
fn a_bad_kernel_setting_is_a_configuration_error_naming_no_parameter() {
    for build in ["model", "keyed"] {
        for setting in ["avx9", "sse9 "] {
            let out = child(setting, build);
            let line = out.lines().find_map(|l| l.split_once("ERROR: ")).map_or("", |(_, e)| e);
            assert!(
                line.contains("the environment variable REPRODUCIBLE_KERNEL=") && line.contains("unknown kernel path"),
                "{build}, {setting:?}: {out}"
            );
            assert!(!line.contains("parameter"), "{build}, {setting:?}: {line}");
            assert!(!line.contains("weight"), "{build}, {setting:?}: {line}");
        }
    }
}

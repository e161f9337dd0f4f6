//! SPEC.md's golden vectors: values computed by an independent Python
//! implementation of the spec (`tools/golden/golden.py`), checked bit for bit.

use std::ops::Range;

use half::{bf16, f16};
use reproducible::{generate, Scheme, Stream, SPEC_VERSION};
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    spec_version: u32,
    keys: Vec<KeyCase>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct KeyCase {
    seed: String,
    path: String,
    version: u32,
    digest: String,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    seed: String,
    path: String,
    version: u32,
    shape: Vec<usize>,
    region: Option<Vec<[usize; 2]>>,
    dtype: String,
    init: String,
    bits: Vec<String>,
}

fn golden() -> Golden {
    let text = include_str!("data/golden_v1.json");
    serde_json::from_str(text).expect("tests/data/golden_v1.json parses")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn stream_keys_match() {
    let g = golden();
    assert_eq!(g.spec_version, SPEC_VERSION);
    assert!(g.keys.len() >= 10);
    for k in &g.keys {
        let s = Stream::new(k.seed.parse().unwrap(), &k.path, k.version);
        assert_eq!(
            hex(s.digest()),
            k.digest,
            "seed {} path {:?} version {}",
            k.seed,
            k.path,
            k.version
        );
    }
}

#[test]
fn values_match_bit_for_bit() {
    let g = golden();
    assert!(g.cases.len() >= 100);
    let mut failures = Vec::new();
    for c in &g.cases {
        let stream = Stream::new(c.seed.parse().unwrap(), &c.path, c.version);
        let scheme: Scheme = c.init.parse().unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let region: Option<Vec<Range<usize>>> = c.region.as_ref().map(|r| r.iter().map(|[s, e]| *s..*e).collect());
        let region = region.as_deref();
        let got: Vec<String> = match c.dtype.as_str() {
            "f32" => generate::<f32>(&stream, &scheme, &c.shape, region)
                .map(|v| v.iter().map(|x| format!("{:08x}", x.to_bits())).collect()),
            "f64" => generate::<f64>(&stream, &scheme, &c.shape, region)
                .map(|v| v.iter().map(|x| format!("{:016x}", x.to_bits())).collect()),
            "f16" => generate::<f16>(&stream, &scheme, &c.shape, region)
                .map(|v| v.iter().map(|x| format!("{:04x}", x.to_bits())).collect()),
            "bf16" => generate::<bf16>(&stream, &scheme, &c.shape, region)
                .map(|v| v.iter().map(|x| format!("{:04x}", x.to_bits())).collect()),
            other => panic!("{}: unknown dtype {other}", c.name),
        }
        .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        if got != c.bits {
            let first = got.iter().zip(&c.bits).position(|(a, b)| a != b);
            failures.push(format!("{} ({}): first difference at {first:?}", c.name, c.init));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        g.cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_spread_covers_every_scheme_dtype_and_rank() {
    let g = golden();
    for name in reproducible::scheme::SCHEME_NAMES {
        for dtype in ["f32", "f64", "f16", "bf16"] {
            assert!(
                g.cases
                    .iter()
                    .any(|c| c.dtype == dtype && c.init.starts_with(&format!("{name}("))),
                "no golden case for {name} in {dtype}"
            );
        }
    }
    for rank in 0..=5 {
        assert!(
            g.cases.iter().any(|c| c.shape.len() == rank),
            "no golden case of rank {rank}"
        );
    }
}

#[derive(Deserialize)]
struct RuntimeGolden {
    keys: Vec<RuntimeKey>,
    dropout: Vec<DropoutCase>,
    permutations: Vec<PermutationCase>,
}

#[derive(Deserialize)]
struct RuntimeKey {
    seed: String,
    path: String,
    step: u64,
    digest: String,
}

#[derive(Deserialize)]
struct DropoutCase {
    seed: String,
    path: String,
    step: u64,
    p: f32,
    shape: Vec<usize>,
    bits: Vec<String>,
}

#[derive(Deserialize)]
struct PermutationCase {
    seed: String,
    name: String,
    epoch: u64,
    n: usize,
    order: Vec<usize>,
}

/// SPEC.md section 10, from `tools/golden/runtime.py`.
#[test]
fn runtime_streams_match() {
    use reproducible::dropout::{dropout, KeyedDropout};
    use reproducible::{Ctx, Init, Model};
    let g: RuntimeGolden = serde_json::from_str(include_str!("data/golden_runtime_v1.json")).unwrap();
    for k in &g.keys {
        let s = Stream::runtime(k.seed.parse().unwrap(), &k.path, k.step);
        assert_eq!(hex(s.digest()), k.digest, "runtime key {:?} step {}", k.path, k.step);
    }
    for c in &g.dropout {
        let init = Init::new(c.seed.parse().unwrap());
        let layer = KeyedDropout::build(&dropout(c.p), &Ctx::init(&init).child(&c.path)).unwrap();
        let mask: Vec<String> = layer
            .mask(&c.shape, c.step)
            .unwrap()
            .iter()
            .map(|m| format!("{:08x}", m.to_bits()))
            .collect();
        assert_eq!(mask, c.bits, "dropout {} step {}", c.path, c.step);
    }
    for c in &g.permutations {
        let order = reproducible::shuffle::permutation(c.seed.parse().unwrap(), &c.name, c.epoch, c.n);
        assert_eq!(order, c.order, "permutation {} epoch {}", c.name, c.epoch);
    }
}

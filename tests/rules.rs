//! Init rules on the keyed builders: the first matching rule picks the scheme
//! ahead of candle's hint, and the rule is recorded wherever provenance goes
//! (checkpoints, manifests, lockfiles, diffs).

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use reproducible::backend::KeyedVars;
use reproducible::checkpoint::{self, Metadata};
use reproducible::diff::diff;
use reproducible::lock;
use reproducible::manifest::Manifest;
use reproducible::rules::{Rule, Rules};
use reproducible::scheme::{normal, ones, zeros};

/// Unmodified candle code: two linears and a norm whose weight candle asks
/// for with `vb.get` (hint: zeros).
fn candle_block(vb: VarBuilder) -> candle_core::Result<()> {
    candle_nn::linear(8, 16, vb.pp("fc1"))?;
    candle_nn::linear(16, 8, vb.pp("fc2"))?;
    vb.pp("norm").get(8, "weight")?;
    Ok(())
}

fn rules() -> Rules {
    Rules::recipe(
        "demo",
        [
            Rule::new("norm.weight", ones()).unwrap(),
            Rule::new("**.bias", zeros()).unwrap(),
            Rule::new("fc*.weight", normal(0.0, 0.02)).unwrap(),
        ],
    )
}

fn scheme_of(keyed: &KeyedVars, path: &str) -> (String, Option<String>) {
    let p = keyed.provenance().into_iter().find(|p| p.path == path).unwrap();
    (p.scheme, p.rule)
}

#[test]
fn the_first_matching_rule_beats_candles_hint_and_is_recorded() {
    let keyed = KeyedVars::new(1, DType::F32, &Device::Cpu)
        .rule(Rule::new("fc2.bias", ones()).unwrap())
        .rules(rules());
    candle_block(keyed.var_builder()).unwrap();
    assert_eq!(
        scheme_of(&keyed, "norm.weight"),
        ("ones()".to_owned(), Some("demo: norm.weight".to_owned()))
    );
    assert_eq!(
        scheme_of(&keyed, "fc1.weight"),
        (
            "normal(mean=0.0, std=0.02)".to_owned(),
            Some("demo: fc*.weight".to_owned())
        )
    );
    assert_eq!(scheme_of(&keyed, "fc1.bias").1.as_deref(), Some("demo: **.bias"));
    // A rule given first overrides the recipe.
    assert_eq!(
        scheme_of(&keyed, "fc2.bias"),
        ("ones()".to_owned(), Some("fc2.bias".to_owned()))
    );
    let tensors: std::collections::HashMap<String, Tensor> = keyed.tensors().into_iter().collect();
    assert_eq!(tensors["norm.weight"].to_vec1::<f32>().unwrap(), [1.0; 8]);
    assert_eq!(tensors["fc1.bias"].to_vec1::<f32>().unwrap(), [0.0; 16]);
    keyed.check_rules().unwrap();

    // Without rules, candle's hints decide and nothing is recorded as a rule.
    let plain = KeyedVars::new(1, DType::F32, &Device::Cpu);
    candle_block(plain.var_builder()).unwrap();
    assert_eq!(scheme_of(&plain, "norm.weight"), ("constant(val=0.0)".to_owned(), None));
    assert!(scheme_of(&plain, "fc1.weight").0.starts_with("kaiming_normal"));
}

#[test]
fn a_rule_picks_the_scheme_and_never_the_values_of_a_path() {
    // The rule's scheme through the keyed stream of the path: the same values
    // as the same scheme asked for by candle's hint.
    let ruled = KeyedVars::new(4, DType::F32, &Device::Cpu).rule(Rule::new("w", normal(0.0, 1.0)).unwrap());
    let a = ruled.var_builder().get(64, "w").unwrap();
    let hinted = KeyedVars::new(4, DType::F32, &Device::Cpu);
    let b = hinted
        .var_builder()
        .get_with_hints(64, "w", candle_nn::Init::Randn { mean: 0.0, stdev: 1.0 })
        .unwrap();
    assert_eq!(a.to_vec1::<f32>().unwrap(), b.to_vec1::<f32>().unwrap());
    // A rule's version re-rolls what it matches; the builder's own version wins over it.
    let v2 = KeyedVars::new(4, DType::F32, &Device::Cpu)
        .rule(Rule::new("w", normal(0.0, 1.0)).unwrap().with_version(2).unwrap());
    let c = v2.var_builder().get(64, "w").unwrap();
    assert_ne!(a.to_vec1::<f32>().unwrap(), c.to_vec1::<f32>().unwrap());
    assert_eq!(v2.provenance()[0].version, 2);
    let back = KeyedVars::new(4, DType::F32, &Device::Cpu)
        .version("w", 1)
        .rule(Rule::new("w", normal(0.0, 1.0)).unwrap().with_version(2).unwrap());
    let d = back.var_builder().get(64, "w").unwrap();
    assert_eq!(a.to_vec1::<f32>().unwrap(), d.to_vec1::<f32>().unwrap());
}

#[test]
fn rules_that_match_nothing_are_reported_by_name() {
    let keyed = KeyedVars::new(1, DType::F32, &Device::Cpu).rules(
        rules()
            .with(Rule::new("**.LayerNorm.weight", ones()).unwrap())
            .with(Rule::new("head.weight", zeros()).unwrap())
            .with(Rule::new("**.gamma", ones()).unwrap().optional()),
    );
    candle_block(keyed.var_builder()).unwrap();
    assert_eq!(keyed.unmatched_rules(), ["**.LayerNorm.weight", "head.weight"]);
    let e = keyed.check_rules().unwrap_err().to_string();
    assert!(
        e.contains("`**.LayerNorm.weight`") && e.contains("matched no parameter") && e.contains("`head.weight`"),
        "{e}"
    );
}

#[test]
fn lockfiles_checkpoints_and_diffs_carry_the_rule() {
    let keyed = KeyedVars::new(1, DType::F32, &Device::Cpu).rules(rules());
    candle_block(keyed.var_builder()).unwrap();
    let manifest = Manifest::of_keyed(&keyed, 1).unwrap();
    let text = lock::render(&manifest);
    assert!(text.contains("rule = \"demo: norm.weight\"\n"), "{text}");
    let parsed = lock::parse(&text, "mem.lock").unwrap();
    assert_eq!(parsed, manifest);
    assert_eq!(parsed.get("fc1.bias").unwrap().rule.as_deref(), Some("demo: **.bias"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.safetensors");
    checkpoint::save(&file, &keyed.tensors(), &Metadata::new(Some(1), 1, keyed.provenance())).unwrap();
    assert_eq!(Manifest::from_checkpoint(&file).unwrap(), manifest);

    // Another rule giving the same scheme keeps every value, and the diff says so.
    let renamed = KeyedVars::new(1, DType::F32, &Device::Cpu)
        .rule(Rule::new("norm.*", ones()).unwrap())
        .rules(rules());
    candle_block(renamed.var_builder()).unwrap();
    let d = diff(&manifest, &Manifest::of_keyed(&renamed, 1).unwrap());
    assert_eq!(d.entries.len(), 1);
    assert_eq!(
        d.entries[0].to_string(),
        "changed: norm.weight: rule `demo: norm.weight` -> `norm.*`"
    );
    assert_eq!(d.undeclared(), 0);
}

//! What the macro promises: structural edits leave every other parameter's bits
//! alone, versions re-roll one field, checkpoints load through the same constructor.

use std::collections::HashMap;

use candle_nn::VarBuilder;
use reproducible::model::{ModelExt, Param};
use reproducible::prelude::*;

#[derive(Clone)]
pub struct Cfg {
    dim: usize,
    depth: usize,
}

#[reproducible_model(config = Cfg)]
pub struct Block {
    #[module(linear(cfg.dim, cfg.dim))]
    fc: Linear,
    #[param(shape = [cfg.dim], init = normal(1.0, 0.1))]
    scale: Tensor,
}

#[reproducible::forward]
impl Module for Block {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.fc.forward(x)?.broadcast_mul(&self.scale)
    }
}

/// The base model.
#[reproducible_model(config = Cfg)]
pub struct Base {
    #[module(embedding(10, cfg.dim))]
    embed: Embedding,
    #[module(cfg.clone(), count = cfg.depth)]
    blocks: Vec<Block>,
    #[param(shape = [cfg.dim, 3], init = trunc_normal(std = 0.02))]
    head: Tensor,
}

#[reproducible::forward]
impl Base {
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let mut x = self.embed.forward(ids)?;
        for b in &self.blocks {
            x = b.forward(&x)?;
        }
        x.broadcast_matmul(&self.head)
    }
}

/// Fields reordered, a parameter and a submodule added in front.
#[reproducible_model(config = Cfg)]
pub struct Edited {
    #[param(shape = [cfg.dim, 3], init = trunc_normal(std = 0.02))]
    head: Tensor,
    #[param(shape = [1, cfg.dim], init = normal(0.0, 1.0))]
    gamma: Tensor,
    #[module(linear(cfg.dim, cfg.dim), unused = "added for the test")]
    extra: Linear,
    #[module(cfg.clone(), count = cfg.depth)]
    blocks: Vec<Block>,
    #[module(embedding(10, cfg.dim))]
    embed: Embedding,
}

#[reproducible::forward]
impl Edited {
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let x = self.embed.forward(ids)?.broadcast_mul(&self.gamma)?;
        let x = self.blocks.iter().try_fold(x, |x, b| b.forward(&x))?;
        x.broadcast_matmul(&self.head)
    }
}

/// `embed` renamed to `tok_embed` with an alias, and `head` bumped to version 2.
#[reproducible_model(config = Cfg)]
pub struct Renamed {
    #[module(embedding(10, cfg.dim), key = "embed")]
    tok_embed: Embedding,
    #[module(cfg.clone(), count = cfg.depth)]
    blocks: Vec<Block>,
    #[param(shape = [cfg.dim, 3], init = trunc_normal(std = 0.02), version = 2)]
    head: Tensor,
}

#[reproducible::forward]
impl Renamed {
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let x = self.tok_embed.forward(ids)?;
        let x = self.blocks.iter().try_fold(x, |x, b| b.forward(&x))?;
        x.broadcast_matmul(&self.head)
    }
}

fn bits(params: &[Param]) -> HashMap<String, Vec<u32>> {
    params
        .iter()
        .map(|p| {
            let v = p.tensor.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            (p.path.clone(), v.into_iter().map(f32::to_bits).collect())
        })
        .collect()
}

const CFG: Cfg = Cfg { dim: 8, depth: 2 };

#[test]
fn reordering_and_adding_fields_leave_the_others_bit_identical() {
    let init = Init::new(7);
    let base = bits(&Base::init(&CFG, &init).unwrap().parameters());
    let edited = bits(&Edited::init(&CFG, &init).unwrap().parameters());
    assert_eq!(base.len(), 1 + 2 * 3 + 1);
    for (path, values) in &base {
        assert_eq!(edited.get(path), Some(values), "{path}");
    }
    assert!(edited.contains_key("gamma") && edited.contains_key("extra.weight"));
}

#[test]
fn an_alias_keeps_values_and_a_version_bump_rerolls_one_field() {
    let init = Init::new(7);
    let base = bits(&Base::init(&CFG, &init).unwrap().parameters());
    let renamed = bits(&Renamed::init(&CFG, &init).unwrap().parameters());
    assert_eq!(
        renamed.keys().collect::<std::collections::BTreeSet<_>>(),
        base.keys().collect()
    );
    for (path, values) in &base {
        if path == "head" {
            assert_ne!(&renamed[path], values, "version 2 re-rolls head");
        } else {
            assert_eq!(&renamed[path], values, "{path}");
        }
    }
}

#[test]
fn appending_a_block_keeps_the_earlier_ones() {
    let init = Init::new(7);
    let two = bits(&Base::init(&CFG, &init).unwrap().parameters());
    let three = bits(&Base::init(&Cfg { depth: 3, ..CFG }, &init).unwrap().parameters());
    for (path, values) in &two {
        assert_eq!(&three[path], values, "{path}");
    }
    assert!(three.contains_key("blocks.2.fc.weight"));
}

#[test]
fn the_seed_changes_everything() {
    let a = bits(&Base::init(&CFG, &Init::new(1)).unwrap().parameters());
    let b = bits(&Base::init(&CFG, &Init::new(2)).unwrap().parameters());
    assert!(a.iter().all(|(p, v)| &b[p] != v));
}

#[test]
fn loading_a_checkpoint_through_the_same_constructor_gives_the_saved_values() {
    let model = Base::init(&CFG, &Init::new(3)).unwrap();
    let file = reproducible_tests::scratch("base.safetensors");
    let map: HashMap<String, Tensor> = model.parameters().into_iter().map(|p| (p.path, p.tensor)).collect();
    candle_core::safetensors::save(&map, &file).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu).unwrap();
    let loaded = Base::load(&CFG, &vb).unwrap();
    assert_eq!(bits(&loaded.parameters()), bits(&model.parameters()));
    // The wrong config is an error naming the path and both shapes.
    let err = Base::load(&Cfg { dim: 4, ..CFG }, &vb).err().unwrap().to_string();
    assert!(err.contains("embed.weight") && err.contains("shape"), "{err}");
}

#[test]
fn trainable_parameters_are_vars_an_optimizer_updates() {
    use candle_nn::Optimizer;
    let model = Base::init(&CFG, &Init::new(3)).unwrap();
    let vars = model.trainable_vars().unwrap();
    assert_eq!(vars.len(), model.parameters().len());
    let before = model.head.to_vec2::<f32>().unwrap();
    let mut sgd = candle_nn::SGD::new(vars, 0.1).unwrap();
    let ids = Tensor::new(&[1u32, 2, 3], &Device::Cpu).unwrap();
    let loss = model.forward(&ids).unwrap().sqr().unwrap().sum_all().unwrap();
    sgd.backward_step(&loss).unwrap();
    assert_ne!(
        model.head.to_vec2::<f32>().unwrap(),
        before,
        "the model's own tensor sees the update"
    );
}

/// Submodule versions (SPEC.md 12): the model of `tools/golden/modules.py`.
pub mod versioned {
    use reproducible::prelude::*;

    #[derive(Clone, Copy)]
    pub struct Cfg;

    #[reproducible_model(config = Cfg)]
    pub struct Extra {
        #[param(shape = [3], init = normal(0.0, 1.0), version = 2)]
        scale: Tensor,
    }

    #[reproducible_model(config = Cfg)]
    pub struct Inner {
        #[module(linear(3, 3))]
        fc: Linear,
        #[module(*cfg, version = 2)]
        extra: Extra,
    }

    #[reproducible_model(config = Cfg)]
    pub struct Versioned {
        #[module(linear(4, 3))]
        stem: Linear,
        #[module(linear(3, 2), version = 2)]
        head: Linear,
        #[module(*cfg, count = 2, version = 3)]
        blocks: Vec<Inner>,
    }

    /// `Versioned` before `head` was bumped: the same but for one version.
    #[reproducible_model(config = Cfg)]
    pub struct Unbumped {
        #[module(linear(4, 3))]
        stem: Linear,
        #[module(linear(3, 2))]
        head: Linear,
        #[module(*cfg, count = 2, version = 3)]
        blocks: Vec<Inner>,
    }

    #[reproducible::forward]
    impl Extra {
        pub fn scale(&self) -> &Tensor {
            &self.scale
        }
    }

    #[reproducible::forward]
    impl Inner {
        pub fn used(&self) -> (&Linear, &Extra) {
            (&self.fc, &self.extra)
        }
    }

    #[reproducible::forward]
    impl Versioned {
        pub fn used(&self) -> (&Linear, &Linear, &[Inner]) {
            (&self.stem, &self.head, &self.blocks)
        }
    }

    #[reproducible::forward]
    impl Unbumped {
        pub fn used(&self) -> (&Linear, &Linear, &[Inner]) {
            (&self.stem, &self.head, &self.blocks)
        }
    }
}

#[test]
fn submodule_versions_add_up_to_the_values_an_independent_implementation_gives() {
    #[derive(serde::Deserialize)]
    struct Golden {
        cases: Vec<Case>,
    }
    #[derive(serde::Deserialize)]
    struct Case {
        path: String,
        version: u32,
        init: String,
        bits: Vec<String>,
    }
    let golden: Golden = serde_json::from_str(include_str!("data/golden_modules_v1.json")).unwrap();
    let init = Init::new(7);
    let (model, provenance) =
        reproducible::model::init_with_provenance::<versioned::Versioned>(&versioned::Cfg, &init).unwrap();
    let params = bits(&model.parameters());
    assert_eq!(params.len(), golden.cases.len());
    for case in &golden.cases {
        let got: Vec<String> = params[&case.path].iter().map(|b| format!("{b:08x}")).collect();
        assert_eq!(got, case.bits, "{}", case.path);
        let prov = provenance.iter().find(|p| p.path == case.path).unwrap();
        assert_eq!(
            (prov.version, prov.scheme.as_str()),
            (case.version, case.init.as_str()),
            "{}",
            case.path
        );
    }
}

#[test]
fn a_submodule_version_bump_rerolls_exactly_the_parameters_below_it() {
    let init = Init::new(7);
    let before = bits(&versioned::Unbumped::init(&versioned::Cfg, &init).unwrap().parameters());
    let after = bits(&versioned::Versioned::init(&versioned::Cfg, &init).unwrap().parameters());
    assert_eq!(before.len(), after.len());
    for (path, b) in &before {
        let a = &after[path];
        if path.starts_with("head.") {
            assert!(a.iter().zip(b).all(|(x, y)| x != y), "{path} was not re-rolled");
        } else {
            assert_eq!(a, b, "{path} changed");
        }
    }
}

/// One parameter per scheme of the table, with PyTorch's defaults for every
/// argument that has one.
pub mod every_scheme {
    use reproducible::prelude::*;

    pub struct Cfg;

    #[reproducible_model(config = Cfg)]
    pub struct EveryScheme {
        #[param(shape = [4, 4], init = uniform())]
        uniform: Tensor,
        #[param(shape = [4, 4], init = normal())]
        normal: Tensor,
        #[param(shape = [4, 4], init = trunc_normal())]
        trunc_normal: Tensor,
        #[param(shape = [4, 4], init = constant(0.5))]
        constant: Tensor,
        #[param(shape = [4, 4], init = zeros())]
        zeros: Tensor,
        #[param(shape = [4, 4], init = ones())]
        ones: Tensor,
        #[param(shape = [4, 4], init = eye())]
        eye: Tensor,
        #[param(shape = [4, 4, 3], init = dirac())]
        dirac: Tensor,
        #[param(shape = [4, 4], init = xavier_uniform())]
        xavier_uniform: Tensor,
        #[param(shape = [4, 4], init = xavier_normal())]
        xavier_normal: Tensor,
        #[param(shape = [4, 4], init = kaiming_uniform())]
        kaiming_uniform: Tensor,
        #[param(shape = [4, 4], init = kaiming_normal())]
        kaiming_normal: Tensor,
        #[param(shape = [4, 4], init = orthogonal())]
        orthogonal: Tensor,
        #[param(shape = [4, 4], init = sparse(0.5))]
        sparse: Tensor,
    }

    #[reproducible::forward]
    impl EveryScheme {
        pub fn all(&self) -> usize {
            let Self {
                uniform,
                normal,
                trunc_normal,
                constant,
                zeros,
                ones,
                eye,
                dirac,
                ..
            } = self;
            let Self {
                xavier_uniform,
                xavier_normal,
                kaiming_uniform,
                kaiming_normal,
                orthogonal,
                sparse,
                ..
            } = self;
            [uniform, normal, trunc_normal, constant, zeros, ones, eye, dirac].len()
                + [
                    xavier_uniform,
                    xavier_normal,
                    kaiming_uniform,
                    kaiming_normal,
                    orthogonal,
                    sparse,
                ]
                .len()
        }
    }
}

#[test]
fn every_scheme_through_the_macro_is_the_runtime_parse_of_its_text() {
    let (model, provenance) =
        reproducible::model::init_with_provenance::<every_scheme::EveryScheme>(&every_scheme::Cfg, &Init::new(1))
            .unwrap();
    assert_eq!(model.all(), provenance.len());
    // The macro covers the whole table: a scheme added to it fails here until
    // the model above has it too.
    let names: Vec<&str> = reproducible::scheme::names().collect();
    assert_eq!(provenance.len(), names.len());
    for name in names {
        let sig = reproducible::scheme::signature(name).unwrap();
        let required: Vec<&str> = sig.args.iter().filter(|a| a.default.is_none()).map(|_| "0.5").collect();
        let text = format!("{name}({})", required.join(", "));
        let parsed: reproducible::Scheme = text.parse().unwrap();
        let prov = provenance
            .iter()
            .find(|p| p.path == name)
            .unwrap_or_else(|| panic!("no `{name}` field"));
        let expanded: reproducible::Scheme = prov.scheme.parse().unwrap();
        assert_eq!(
            expanded, parsed,
            "`{text}`: the macro's expansion and the runtime's parse differ"
        );
    }
}

//! The layers against PyTorch's defaults and candle-nn's own constructors.

use std::collections::HashMap;

use candle_core::{DType, Device, Module, ModuleT, Tensor};
use candle_nn::VarBuilder;

use super::recurrent::Served;
use super::*;
use crate::model::{Ctx, Model, ModelExt};
use crate::scheme::presets;
use crate::scheme::Scheme;
use crate::scheme::{constant, orthogonal, zeros};
use crate::Init;

const PATH: &str = "blocks.0.layer";

fn values(t: &Tensor) -> Vec<f32> {
    t.to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// (path, shape, trainable) of every parameter, in listing order.
fn layout<M: Model>(m: &M) -> Vec<(String, Vec<usize>, bool)> {
    m.parameters()
        .into_iter()
        .map(|p| (p.path, p.tensor.dims().to_vec(), p.trainable))
        .collect()
}

fn expect<const N: usize>(rows: [(&str, &[usize], bool); N]) -> Vec<(String, Vec<usize>, bool)> {
    rows.into_iter()
        .map(|(p, s, t)| (p.to_owned(), s.to_vec(), t))
        .collect()
}

fn checkpoint<M: Model>(m: &M, prefix: &str) -> HashMap<String, Tensor> {
    m.parameters()
        .into_iter()
        .map(|p| (format!("{prefix}.{}", p.path), p.tensor))
        .collect()
}

/// Builds at `PATH`, checks that a second build is bit-identical and that
/// loading the first one's parameters gives them back, and returns it.
fn build_checked<M: Model>(config: &M::Config) -> M {
    let init = Init::new(0);
    let ctx = Ctx::init(&init).child(PATH);
    let a = M::build(config, &ctx).unwrap();
    let b = M::build(config, &ctx).unwrap();
    let vb = VarBuilder::from_tensors(checkpoint(&a, PATH), DType::F32, &Device::Cpu);
    let loaded = M::build(config, &Ctx::load(&vb).child(PATH)).unwrap();
    let (pa, pb, pl) = (a.parameters(), b.parameters(), loaded.parameters());
    assert!(!pa.is_empty());
    assert_eq!(pa.len(), pb.len());
    assert_eq!(pa.len(), pl.len());
    for ((x, y), z) in pa.iter().zip(&pb).zip(&pl) {
        assert_eq!((&x.path, x.trainable), (&y.path, y.trainable));
        assert_eq!((&x.path, x.trainable), (&z.path, z.trainable));
        assert_eq!(values(&x.tensor), values(&y.tensor), "rebuild of {}", x.path);
        assert_eq!(values(&x.tensor), values(&z.tensor), "load of {}", x.path);
    }
    a
}

fn within(t: &Tensor, bound: f64) -> bool {
    let v = values(t);
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    // Filled (not constant) and inside the bound.
    max <= bound as f32 && max > bound as f32 / 2.0 && v.iter().any(|x| *x != v[0])
}

fn all_eq(t: &Tensor, value: f32) -> bool {
    values(t).iter().all(|x| *x == value)
}

fn input(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::arange(0f32, n as f32, &Device::Cpu)
        .unwrap()
        .affine(0.1, -1.0)
        .unwrap()
        .reshape(shape)
        .unwrap()
}

#[test]
fn linear_layout_bounds_and_forward() {
    let fc: Linear = build_checked(&linear(16, 8));
    assert_eq!(layout(&fc), expect([("weight", &[8, 16], true), ("bias", &[8], true)]));
    assert!(within(fc.weight(), 0.25));
    assert!(within(fc.bias().unwrap(), 0.25));
    assert_eq!(fc.forward(&input(&[3, 16])).unwrap().dims(), &[3, 8]);
    assert!(fc.weight().is_variable());

    let fc: Linear = build_checked(&linear_no_bias(16, 8));
    assert_eq!(layout(&fc), expect([("weight", &[8, 16], true)]));

    let fc: Linear = build_checked(&linear(16, 8).weight_init(constant(0.5)).bias_init(zeros()));
    assert!(all_eq(fc.weight(), 0.5));
    assert!(all_eq(fc.bias().unwrap(), 0.0));
}

#[test]
fn linear_values_depend_on_the_path_only() {
    let init = Init::new(0);
    let a = Linear::build(&linear(4, 4), &Ctx::init(&init).child("a")).unwrap();
    let b = Linear::build(&linear(4, 4), &Ctx::init(&init).child("b")).unwrap();
    let direct = init.tensor("a.weight", &[4, 4], &presets::linear_weight(), 1).unwrap();
    assert_eq!(values(a.weight()), values(&direct));
    assert_ne!(values(a.weight()), values(b.weight()));
}

#[test]
fn conv1d_layout_bounds_and_forward() {
    let conv: Conv1d = build_checked(&conv1d(4, 6, 3).padding(1));
    assert_eq!(
        layout(&conv),
        expect([("weight", &[6, 4, 3], true), ("bias", &[6], true)])
    );
    let bound = 1.0 / 12f64.sqrt();
    assert!(within(conv.weight(), bound));
    assert!(within(conv.bias().unwrap(), bound));
    assert_eq!(conv.forward(&input(&[2, 4, 10])).unwrap().dims(), &[2, 6, 10]);

    // The bias bound follows the groups set after construction: fan_in = 4 / 2 * 3.
    let conv: Conv1d = build_checked(&conv1d(4, 6, 3).groups(2).stride(2).dilation(1));
    assert_eq!(
        layout(&conv),
        expect([("weight", &[6, 2, 3], true), ("bias", &[6], true)])
    );
    assert!(within(conv.bias().unwrap(), 1.0 / 6f64.sqrt()));
    assert_eq!(conv.forward(&input(&[2, 4, 10])).unwrap().dims(), &[2, 6, 4]);

    let conv: Conv1d = build_checked(&conv1d(4, 6, 3).no_bias().weight_init(constant(1.0)));
    assert_eq!(layout(&conv), expect([("weight", &[6, 4, 3], true)]));
    assert!(all_eq(conv.weight(), 1.0));
}

#[test]
fn conv2d_layout_bounds_and_forward() {
    let conv: Conv2d = build_checked(&conv2d(3, 8, 3).padding(1).bias_init(constant(0.25)));
    assert_eq!(
        layout(&conv),
        expect([("weight", &[8, 3, 3, 3], true), ("bias", &[8], true)])
    );
    assert!(within(conv.weight(), 1.0 / 27f64.sqrt()));
    assert!(all_eq(conv.bias().unwrap(), 0.25));
    assert_eq!(conv.forward(&input(&[2, 3, 5, 5])).unwrap().dims(), &[2, 8, 5, 5]);

    let conv: Conv2d = build_checked(&conv2d(4, 8, 1));
    assert!(within(conv.bias().unwrap(), 0.5));
}

#[test]
fn conv_groups_are_checked_not_divided_by() {
    let init = Init::new(0);
    let ctx = Ctx::init(&init).child("stem");
    for spec in [
        conv2d(3, 8, 3).groups(2),
        conv2d(4, 6, 3).groups(4),
        conv2d(4, 8, 3).groups(0),
    ] {
        let err = Conv2d::build(&spec, &ctx).unwrap_err().to_string();
        assert!(err.contains("stem.weight") && err.contains("groups"), "{err}");
    }
    let err = Conv1d::build(&conv1d(3, 8, 3).groups(2), &ctx).unwrap_err().to_string();
    assert!(err.contains("in_channels (3) must be divisible by groups (2)"), "{err}");
}

#[test]
fn embedding_is_standard_normal() {
    let emb: Embedding = build_checked(&embedding(1000, 16));
    assert_eq!(layout(&emb), expect([("weight", &[1000, 16], true)]));
    let v = values(emb.embeddings());
    let n = v.len() as f64;
    let mean = v.iter().map(|x| *x as f64).sum::<f64>() / n;
    let var = v.iter().map(|x| (*x as f64 - mean).powi(2)).sum::<f64>() / n;
    assert!(mean.abs() < 0.03, "mean {mean}");
    assert!((var.sqrt() - 1.0).abs() < 0.03, "std {}", var.sqrt());
    let ids = Tensor::new(&[[0u32, 5, 999], [1, 2, 3]], &Device::Cpu).unwrap();
    assert_eq!(emb.forward(&ids).unwrap().dims(), &[2, 3, 16]);

    let emb: Embedding = build_checked(&embedding(10, 4).weight_init(zeros()));
    assert!(all_eq(emb.embeddings(), 0.0));
}

#[test]
fn layer_norm_and_rms_norm() {
    let ln: LayerNorm = build_checked(&layer_norm(8));
    assert_eq!(layout(&ln), expect([("weight", &[8], true), ("bias", &[8], true)]));
    assert!(all_eq(ln.weight(), 1.0) && all_eq(ln.bias().unwrap(), 0.0));
    assert_eq!(ln.eps(), 1e-5);
    let y = ln.forward(&input(&[2, 3, 8])).unwrap();
    assert_eq!(y.dims(), &[2, 3, 8]);
    let row_mean = values(&y.mean_keepdim(2).unwrap());
    assert!(row_mean.iter().all(|m| m.abs() < 1e-5));

    let ln: LayerNorm = build_checked(&layer_norm(8).no_bias().eps(1e-6).weight_init(constant(2.0)));
    assert_eq!(layout(&ln), expect([("weight", &[8], true)]));
    assert!(all_eq(ln.weight(), 2.0));
    assert_eq!(ln.eps(), 1e-6);
    let ln: LayerNorm = build_checked(&layer_norm(8).bias_init(constant(0.5)));
    assert!(all_eq(ln.bias().unwrap(), 0.5));

    let rms: RmsNorm = build_checked(&rms_norm(8));
    assert_eq!(layout(&rms), expect([("weight", &[8], true)]));
    assert!(all_eq(rms.weight(), 1.0));
    assert_eq!(rms.eps(), 1e-6);
    assert_eq!(rms.forward(&input(&[2, 3, 8])).unwrap().dims(), &[2, 3, 8]);
    let rms: RmsNorm = build_checked(&rms_norm(8).eps(1e-5).weight_init(zeros()));
    assert!(all_eq(rms.weight(), 0.0));
    assert_eq!(rms.eps(), 1e-5);
}

/// The names of `params` a loss through `forward` gives a gradient to, and
/// whether the input gets one.
fn gradients(forward: &dyn Fn(&Tensor) -> Tensor, params: &[(&str, &Tensor)]) -> (Vec<String>, bool) {
    let x = candle_core::Var::from_tensor(&input(&[2, 3, 8])).unwrap();
    let grads = forward(x.as_tensor())
        .sqr()
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let names = params
        .iter()
        .filter(|(_, t)| grads.get(t).is_some())
        .map(|(n, _)| n.to_string())
        .collect();
    (names, grads.get(x.as_tensor()).is_some())
}

#[test]
fn the_norms_train_where_candles_fused_kernels_do_not() {
    let ln: LayerNorm = build_checked(&layer_norm(8).bias_init(constant(0.25)));
    let (w, b) = (ln.weight().clone(), ln.bias().unwrap().clone());
    let ours = gradients(&|x| ln.forward(x).unwrap(), &[("weight", &w), ("bias", &b)]);
    assert_eq!(ours, (vec!["weight".to_owned(), "bias".to_owned()], true));
    // candle-nn's own layer from the same spec: its fused kernel records no backward.
    let fused: candle_nn::LayerNorm = build_checked(&layer_norm(8).bias_init(constant(0.25)));
    let (fw, fb) = (fused.weight().clone(), fused.bias().unwrap().clone());
    assert_eq!(
        gradients(&|x| fused.forward(x).unwrap(), &[("weight", &fw), ("bias", &fb)]),
        (vec![], false)
    );
    // The differentiable path computes what the fused kernel does, to rounding
    // (the kernel takes the variance in one pass, E[x^2] - E[x]^2).
    let x = input(&[2, 3, 8]);
    let tracked = ln
        .forward(candle_core::Var::from_tensor(&x).unwrap().as_tensor())
        .unwrap();
    for (a, b) in values(&tracked).iter().zip(values(&fused.forward(&x).unwrap())) {
        assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{a} vs {b}");
    }

    let rms: RmsNorm = build_checked(&rms_norm(8));
    let w = rms.weight().clone();
    assert_eq!(
        gradients(&|x| rms.forward(x).unwrap(), &[("weight", &w)]),
        (vec!["weight".to_owned()], true)
    );
    let fused: candle_nn::RmsNorm = build_checked(&rms_norm(8));
    let fw = fused.weight().clone();
    assert_eq!(
        gradients(&|x| fused.forward(x).unwrap(), &[("weight", &fw)]),
        (vec![], false)
    );
    let tracked = rms
        .forward(candle_core::Var::from_tensor(&x).unwrap().as_tensor())
        .unwrap();
    for (a, b) in values(&tracked).iter().zip(values(&fused.forward(&x).unwrap())) {
        assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn norm_eps_is_checked() {
    let init = Init::new(0);
    let ctx = Ctx::init(&init).child("norm");
    let err = LayerNorm::build(&layer_norm(4).eps(-1.0), &ctx)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`norm`") && err.contains("eps"), "{err}");
    assert!(RmsNorm::build(&rms_norm(4).eps(f64::NAN), &ctx).is_err());
    let err = BatchNorm::build(&batch_norm(4).momentum(1.5), &ctx)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`norm`") && err.contains("momentum"), "{err}");
    // At the root there is no path to name; the layer is still named.
    let err = GroupNorm::build(&group_norm(3, 8), &Ctx::init(&init))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("group_norm: num_groups (3)"), "{err}");
}

#[test]
fn batch_norm_buffers_are_frozen() {
    let bn: BatchNorm = build_checked(&batch_norm(4));
    assert_eq!(
        layout(&bn),
        expect([
            ("weight", &[4], true),
            ("bias", &[4], true),
            ("running_mean", &[4], false),
            ("running_var", &[4], false),
        ])
    );
    let (w, b) = bn.weight_and_bias().unwrap();
    assert!(all_eq(w, 1.0) && all_eq(b, 0.0));
    assert!(all_eq(bn.running_mean(), 0.0) && all_eq(bn.running_var(), 1.0));
    assert_eq!((bn.eps(), bn.momentum()), (1e-5, 0.1));
    assert_eq!(bn.trainable_vars().unwrap().len(), 2);

    let x = input(&[2, 4, 5]);
    // Fresh statistics: evaluation is x / sqrt(1 + eps).
    let y = bn.forward_t(&x, false).unwrap();
    let expected = (&x / (1.0 + 1e-5f64).sqrt()).unwrap();
    let diff = (y - expected)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(diff < 1e-6);
    // Training updates the buffers the model lists.
    bn.forward_t(&x, true).unwrap();
    assert!(!all_eq(bn.running_mean(), 0.0));
    let listed = bn.parameters().into_iter().find(|p| p.path == "running_mean").unwrap();
    assert_eq!(values(&listed.tensor), values(bn.running_mean()));

    let bn: BatchNorm = build_checked(&batch_norm(4).no_affine().eps(1e-3).momentum(0.01));
    assert_eq!(
        layout(&bn),
        expect([("running_mean", &[4], false), ("running_var", &[4], false)])
    );
    assert_eq!((bn.eps(), bn.momentum()), (1e-3, 0.01));
    let bn: BatchNorm = build_checked(&batch_norm(4).weight_init(constant(3.0)).bias_init(constant(-1.0)));
    let (w, b) = bn.weight_and_bias().unwrap();
    assert!(all_eq(w, 3.0) && all_eq(b, -1.0));
}

#[test]
fn group_norm_wrapper() {
    let gn: GroupNorm = build_checked(&group_norm(2, 6));
    assert_eq!(layout(&gn), expect([("weight", &[6], true), ("bias", &[6], true)]));
    assert!(all_eq(gn.weight(), 1.0) && all_eq(gn.bias(), 0.0));
    assert_eq!((gn.num_groups(), gn.eps()), (2, 1e-5));
    let y = gn.forward(&input(&[2, 6, 5])).unwrap();
    assert_eq!(y.dims(), &[2, 6, 5]);
    let y = gn.inner().forward(&input(&[2, 6, 5])).unwrap();
    assert_eq!(y.dims(), &[2, 6, 5]);

    let gn: GroupNorm = build_checked(&group_norm(3, 6).eps(1e-3).weight_init(zeros()).bias_init(ones_scheme()));
    assert!(all_eq(gn.weight(), 0.0) && all_eq(gn.bias(), 1.0));
    // The wrapper's tensors are the ones the forward pass uses.
    assert!(all_eq(&gn.forward(&input(&[1, 6, 4])).unwrap(), 1.0));

    let init = Init::new(0);
    let err = GroupNorm::build(&group_norm(0, 6), &Ctx::init(&init).child("gn")).unwrap_err();
    assert!(err.to_string().contains("`gn`"), "{err}");
}

fn ones_scheme() -> Scheme {
    crate::scheme::ones()
}

#[test]
fn lstm_names_shapes_bounds_and_steps() {
    let lstm: Lstm = build_checked(&super::lstm(3, 5));
    assert_eq!(
        layout(&lstm),
        expect([
            ("weight_ih_l0", &[20, 3], true),
            ("weight_hh_l0", &[20, 5], true),
            ("bias_ih_l0", &[20], true),
            ("bias_hh_l0", &[20], true),
        ])
    );
    let bound = 1.0 / 5f64.sqrt();
    for (name, t) in lstm.params() {
        assert!(within(t, bound), "{name}");
    }
    let states = lstm.seq(&input(&[2, 4, 3])).unwrap();
    assert_eq!(states.len(), 4);
    assert_eq!(lstm.states_to_tensor(&states).unwrap().dims(), &[2, 4, 5]);

    // The candle layer runs on the listed tensors: zeroing them through the
    // optimizer's vars zeroes the output (c = 0.5 * tanh(0), h = 0.5 * tanh(c)).
    for var in lstm.trainable_vars().unwrap() {
        var.set(&var.zeros_like().unwrap()).unwrap();
    }
    let state = lstm.step(&input(&[2, 3]), &lstm.zero_state(2).unwrap()).unwrap();
    assert!(all_eq(state.h(), 0.0));

    let lstm: Lstm = build_checked(&super::lstm(3, 5).no_bias().layer_idx(1).reverse());
    assert_eq!(
        layout(&lstm),
        expect([
            ("weight_ih_l1_reverse", &[20, 3], true),
            ("weight_hh_l1_reverse", &[20, 5], true)
        ])
    );
    assert_eq!(lstm.seq(&input(&[1, 2, 3])).unwrap().len(), 2);

    let lstm: Lstm = build_checked(&super::lstm(3, 5).weight_hh_init(orthogonal()).bias_init(zeros()));
    let w_hh = &lstm.params()[1].1;
    let gram = w_hh.t().unwrap().matmul(w_hh).unwrap();
    let eye = Tensor::eye(5, DType::F32, &Device::Cpu).unwrap();
    let err = (gram - eye)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(err < 1e-5, "orthogonal columns: {err}");
    assert!(within(&lstm.params()[0].1, bound));
    assert!(all_eq(&lstm.params()[2].1, 0.0) && all_eq(&lstm.params()[3].1, 0.0));
    let lstm: Lstm = build_checked(&super::lstm(3, 5).weight_init(zeros()).bias_ih_init(constant(1.0)));
    assert!(all_eq(&lstm.params()[0].1, 0.0) && all_eq(&lstm.params()[1].1, 0.0));
    assert!(all_eq(&lstm.params()[2].1, 1.0) && within(&lstm.params()[3].1, bound));
}

#[test]
fn gru_names_shapes_bounds_and_steps() {
    let gru: Gru = build_checked(&super::gru(3, 4));
    assert_eq!(
        layout(&gru),
        expect([
            ("weight_ih_l0", &[12, 3], true),
            ("weight_hh_l0", &[12, 4], true),
            ("bias_ih_l0", &[12], true),
            ("bias_hh_l0", &[12], true),
        ])
    );
    for (name, t) in gru.params() {
        assert!(within(t, 0.5), "{name}");
    }
    let states = gru.seq(&input(&[2, 5, 3])).unwrap();
    assert_eq!(states.len(), 5);
    assert_eq!(states[4].h().dims(), &[2, 4]);
    assert!(gru.inner().config().b_ih_init.is_some());

    let gru: Gru = build_checked(
        &super::gru(3, 4)
            .no_bias()
            .weight_ih_init(constant(0.1))
            .weight_hh_init(zeros()),
    );
    assert_eq!(
        layout(&gru),
        expect([("weight_ih_l0", &[12, 3], true), ("weight_hh_l0", &[12, 4], true)])
    );
    assert!(all_eq(&gru.params()[0].1, 0.1) && all_eq(&gru.params()[1].1, 0.0));
    let gru: Gru = build_checked(&super::gru(3, 4).bias_hh_init(constant(2.0)));
    assert!(all_eq(&gru.params()[3].1, 2.0) && within(&gru.params()[2].1, 0.5));
    assert_eq!(
        gru.step(&input(&[2, 3]), &gru.zero_state(2).unwrap())
            .unwrap()
            .h()
            .dims(),
        &[2, 4]
    );
}

#[test]
fn other_dtypes_build_and_run() {
    let init = Init::new(1).set_dtype(DType::BF16);
    let ctx = Ctx::init(&init).child("rnn");
    let lstm = Lstm::build(&super::lstm(3, 4), &ctx).unwrap();
    assert!(lstm.params().iter().all(|(_, t)| t.dtype() == DType::BF16));
    let x = input(&[1, 2, 3]).to_dtype(DType::BF16).unwrap();
    assert_eq!(lstm.seq(&x).unwrap().len(), 2);
    let fc = Linear::build(&linear(3, 2), &ctx).unwrap();
    assert_eq!(fc.weight().dtype(), DType::BF16);
}

/// Every layer, with a checkpoint that lacks one tensor or has one of the
/// wrong shape: the error names the full path of that tensor.
#[test]
fn load_errors_name_the_parameter_path() {
    fn check<M: Model>(config: &M::Config) {
        let good: M = build_checked(config);
        for p in good.parameters() {
            let full = format!("{PATH}.{}", p.path);
            let mut missing = checkpoint(&good, PATH);
            missing.remove(&full);
            let vb = VarBuilder::from_tensors(missing, DType::F32, &Device::Cpu);
            let err = M::build(config, &Ctx::load(&vb).child(PATH))
                .err()
                .expect("missing tensor loads");
            assert!(err.to_string().contains(&full), "missing {full}: {err}");

            let mut wrong = checkpoint(&good, PATH);
            wrong.insert(full.clone(), Tensor::zeros(7, DType::F32, &Device::Cpu).unwrap());
            let vb = VarBuilder::from_tensors(wrong, DType::F32, &Device::Cpu);
            let err = M::build(config, &Ctx::load(&vb).child(PATH))
                .err()
                .expect("wrong shape loads");
            assert!(err.to_string().contains(&full), "wrong shape {full}: {err}");
        }
    }
    check::<Linear>(&linear(4, 3));
    check::<Conv1d>(&conv1d(4, 2, 3));
    check::<Conv2d>(&conv2d(4, 2, 3));
    check::<Embedding>(&embedding(5, 3));
    check::<LayerNorm>(&layer_norm(3));
    check::<RmsNorm>(&rms_norm(3));
    check::<BatchNorm>(&batch_norm(3));
    check::<GroupNorm>(&group_norm(1, 3));
    check::<Lstm>(&super::lstm(2, 3));
    check::<Gru>(&super::gru(2, 3));
}

#[test]
fn served_backend_names_the_path() {
    let served = Served {
        prefix: "enc.rnn".to_owned(),
        tensors: HashMap::from([("w".to_owned(), Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap())]),
    };
    let vb = VarBuilder::from_backend(Box::new(served), DType::F32, Device::Cpu);
    let err = vb.get(3, "w").unwrap_err().to_string();
    assert!(
        err.contains("`enc.rnn.w`") && err.contains("[3]") && err.contains("[2]"),
        "{err}"
    );
    let err = vb.get(2, "v").unwrap_err().to_string();
    assert!(err.contains("`enc.rnn.v`"), "{err}");
    assert!(vb.contains_tensor("w") && !vb.contains_tensor("v"));
    assert_eq!(vb.get_unchecked("w").unwrap().dims(), &[2]);
}

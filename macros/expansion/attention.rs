// The expansion of the README's attention block by `#[reproducible_model]` and
// `#[reproducible::forward]`, as generated (test `attention_expansion_is_current`).

pub struct Attention {
    qkv: Linear,
    proj: Linear,
    alpha: Tensor,
    gamma: Tensor,
    num_heads: usize,
    attn_drop: Dropout,
}
#[automatically_derived]
impl ::reproducible::__private::Model for Attention {
    type Config = AttentionConfig;
    const MODEL_VERSION: u32 = 1u32;
    #[allow(unused_variables, clippy::redundant_locals)]
    fn build(
        cfg: &Self::Config,
        __ctx: &::reproducible::__private::Ctx,
    ) -> ::reproducible::__private::Result<Self> {
        let __field_0 = <Linear as ::reproducible::__private::Model>::build(
            &(linear_no_bias(cfg.dim, cfg.dim * 3)),
            &__ctx.child("qkv"),
        )?;
        let __field_1 = <Linear as ::reproducible::__private::Model>::build(
            &(linear(cfg.dim, cfg.dim)),
            &__ctx.child("proj"),
        )?;
        let __field_2 = <Tensor as ::reproducible::__private::ParamField>::from_tensor(
            __ctx
                .param(
                    "alpha",
                    &::reproducible::__private::ParamSpec {
                        shape: ::std::vec![
                            1, ::reproducible::__private::dim(cfg.num_heads), 1, 1
                        ],
                        scheme: ::reproducible::__private::Scheme::Ones,
                        version: 1u32,
                        dtype: ::core::option::Option::None,
                        trainable: false,
                    },
                )?,
        );
        let __field_3 = <Tensor as ::reproducible::__private::ParamField>::from_tensor(
            __ctx
                .param(
                    "gamma",
                    &::reproducible::__private::ParamSpec {
                        shape: ::std::vec![
                            1, ::reproducible::__private::dim(cfg.num_heads), 1, 1
                        ],
                        scheme: ::reproducible::__private::Scheme::Normal {
                            mean: 0.0,
                            std: 1.0,
                        },
                        version: 2u32,
                        dtype: ::core::option::Option::None,
                        trainable: true,
                    },
                )?,
        );
        let __field_4 = cfg.num_heads;
        let __field_5 = Dropout::new(cfg.attn_drop);
        ::core::result::Result::Ok(Self {
            qkv: __field_0,
            proj: __field_1,
            alpha: __field_2,
            gamma: __field_3,
            num_heads: __field_4,
            attn_drop: __field_5,
        })
    }
    fn visit_params<'a>(
        &'a self,
        __f: &mut dyn ::core::ops::FnMut(
            &str,
            &'a ::reproducible::__private::Tensor,
            bool,
        ),
    ) {
        <Linear as ::reproducible::__private::Model>::visit_params(
            &self.qkv,
            &mut |__path, __tensor, __trainable| __f(
                &::std::format!("{}.{}", "qkv", __path),
                __tensor,
                __trainable,
            ),
        );
        <Linear as ::reproducible::__private::Model>::visit_params(
            &self.proj,
            &mut |__path, __tensor, __trainable| __f(
                &::std::format!("{}.{}", "proj", __path),
                __tensor,
                __trainable,
            ),
        );
        __f(
            "alpha",
            <Tensor as ::reproducible::__private::ParamField>::tensor(&self.alpha),
            false,
        );
        __f(
            "gamma",
            <Tensor as ::reproducible::__private::ParamField>::tensor(&self.gamma),
            true,
        );
    }
    #[allow(unused_variables)]
    fn set_step(&self, __step: u64) {
        <Linear as ::reproducible::__private::Model>::set_step(&self.qkv, __step);
        <Linear as ::reproducible::__private::Model>::set_step(&self.proj, __step);
    }
}
#[automatically_derived]
impl Attention {
    /// The model-level version declared in `#[reproducible_model(version = ..)]`: recorded, never mixed into keys.
    pub const MODEL_VERSION: u32 = 1u32;
    /// Builds `Attention` with every parameter drawn from its own keyed stream under `init`.
    pub fn init(
        cfg: &AttentionConfig,
        init: &::reproducible::Init,
    ) -> ::reproducible::__private::Result<Self> {
        <Self as ::reproducible::__private::Model>::build(
            cfg,
            &::reproducible::__private::Ctx::init(init),
        )
    }
    /// Builds `Attention` with every parameter loaded by path from `vb` (a safetensors checkpoint), shape-checked.
    pub fn load(
        cfg: &AttentionConfig,
        vb: &::reproducible::__private::VarBuilder,
    ) -> ::reproducible::__private::Result<Self> {
        <Self as ::reproducible::__private::Model>::build(
            cfg,
            &::reproducible::__private::Ctx::load(vb),
        )
    }
}
#[doc(hidden)]
#[allow(non_camel_case_types, dead_code)]
pub struct __ReproducibleForwardOfAttention;
#[automatically_derived]
#[doc(hidden)]
impl __ReproducibleForwardOfAttention {
    pub(crate) const __FORWARD_PARTS: &'static [&'static str] = &[""];
}
const _: () = {
    if !(::reproducible::__private::contains(
        <__ReproducibleForwardOfAttention as ::reproducible::__private::SeveralForwardImplsNeedPartNames>::USED,
        "qkv",
    )) {
        ::core::panic!(
            "submodule `qkv` of `Attention` is never used in `forward`; use it, delete it, or mark it `#[module(..., unused = \"reason\")]`"
        );
    }
};
const _: () = {
    if !(::reproducible::__private::contains(
        <__ReproducibleForwardOfAttention as ::reproducible::__private::SeveralForwardImplsNeedPartNames>::USED,
        "proj",
    )) {
        ::core::panic!(
            "submodule `proj` of `Attention` is never used in `forward`; use it, delete it, or mark it `#[module(..., unused = \"reason\")]`"
        );
    }
};
const _: () = {
    if !(::reproducible::__private::contains(
        <__ReproducibleForwardOfAttention as ::reproducible::__private::SeveralForwardImplsNeedPartNames>::USED,
        "alpha",
    )) {
        ::core::panic!(
            "parameter `alpha` of `Attention` is never used in `forward`; use it, delete it, or mark it `#[param(..., unused = \"reason\")]`"
        );
    }
};
const _: () = {
    if !(::reproducible::__private::contains(
        <__ReproducibleForwardOfAttention as ::reproducible::__private::SeveralForwardImplsNeedPartNames>::USED,
        "gamma",
    )) {
        ::core::panic!(
            "parameter `gamma` of `Attention` is never used in `forward`; use it, delete it, or mark it `#[param(..., unused = \"reason\")]`"
        );
    }
};
impl Module for Attention {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let qkv = self.qkv.forward(x)?;
        let attn = self
            .attn_drop
            .forward(
                &qkv.broadcast_mul(&self.alpha)?.broadcast_add(&self.gamma)?,
                false,
            )?;
        let _ = self.num_heads;
        self.proj.forward(&attn)
    }
}
#[automatically_derived]
#[doc(hidden)]
impl ::reproducible::__private::SeveralForwardImplsNeedPartNames
for __ReproducibleForwardOfAttention {
    const USED: &'static [&'static str] = &[
        "alpha",
        "attn_drop",
        "gamma",
        "num_heads",
        "proj",
        "qkv",
    ];
}
const _: () = if !::reproducible::__private::contains(
    __ReproducibleForwardOfAttention::__FORWARD_PARTS,
    "",
) {
    ::core::panic!(
        "`Attention` lists the parts of its forward code (`forward = [..]`), and this `#[reproducible::forward]` impl has no part name: name it, e.g. `#[reproducible::forward(head)]`, and keep the name in `forward = [..]`"
    )
};

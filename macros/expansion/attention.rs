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
    #[allow(unused_variables, clippy::redundant_locals, clippy::unnecessary_cast)]
    fn build(
        cfg: &Self::Config,
        ctx: &::reproducible::__private::Ctx,
    ) -> ::reproducible::__private::Result<Self> {
        let field_0 = <Linear as ::reproducible::__private::Model>::build(
            &(linear_no_bias(cfg.dim, cfg.dim * 3)),
            &ctx.child("qkv"),
        )?;
        let field_1 = <Linear as ::reproducible::__private::Model>::build(
            &(linear(cfg.dim, cfg.dim)),
            &ctx.child("proj"),
        )?;
        let field_2 = ctx
            .param(
                "alpha",
                &::reproducible::__private::ParamSpec {
                    shape: ::std::vec![
                        (1) as usize, (cfg.num_heads) as usize, (1) as usize, (1) as
                        usize
                    ],
                    scheme: ::reproducible::__private::Scheme::Ones,
                    version: 1u32,
                    dtype: ::core::option::Option::None,
                    trainable: false,
                },
            )?;
        let field_3 = ctx
            .param(
                "gamma",
                &::reproducible::__private::ParamSpec {
                    shape: ::std::vec![
                        (1) as usize, (cfg.num_heads) as usize, (1) as usize, (1) as
                        usize
                    ],
                    scheme: ::reproducible::__private::Scheme::Normal {
                        mean: (0.0) as f64,
                        std: (1.0) as f64,
                    },
                    version: 2u32,
                    dtype: ::core::option::Option::None,
                    trainable: true,
                },
            )?;
        let field_4 = cfg.num_heads;
        let field_5 = Dropout::new(cfg.attn_drop);
        ::core::result::Result::Ok(Self {
            qkv: field_0,
            proj: field_1,
            alpha: field_2,
            gamma: field_3,
            num_heads: field_4,
            attn_drop: field_5,
        })
    }
    fn visit_params<'a>(
        &'a self,
        f: &mut dyn ::core::ops::FnMut(&str, &'a ::reproducible::__private::Tensor, bool),
    ) {
        <Linear as ::reproducible::__private::Model>::visit_params(
            &self.qkv,
            &mut |p, t, tr| f(&::std::format!("{}.{}", "qkv", p), t, tr),
        );
        <Linear as ::reproducible::__private::Model>::visit_params(
            &self.proj,
            &mut |p, t, tr| f(&::std::format!("{}.{}", "proj", p), t, tr),
        );
        f("alpha", &self.alpha, false);
        f("gamma", &self.gamma, true);
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
const _: () = {
    if !::reproducible::__private::contains(
        <Attention as ::reproducible::__private::ForwardUses>::USED,
        "qkv",
    ) {
        ::core::panic!(
            "submodule `qkv` of `Attention` is never used in `forward`; use it, delete it, or mark it `#[module(..., unused = \"reason\")]`"
        );
    }
    if !::reproducible::__private::contains(
        <Attention as ::reproducible::__private::ForwardUses>::USED,
        "proj",
    ) {
        ::core::panic!(
            "submodule `proj` of `Attention` is never used in `forward`; use it, delete it, or mark it `#[module(..., unused = \"reason\")]`"
        );
    }
    if !::reproducible::__private::contains(
        <Attention as ::reproducible::__private::ForwardUses>::USED,
        "alpha",
    ) {
        ::core::panic!(
            "parameter `alpha` of `Attention` is never used in `forward`; use it, delete it, or mark it `#[param(..., unused = \"reason\")]`"
        );
    }
    if !::reproducible::__private::contains(
        <Attention as ::reproducible::__private::ForwardUses>::USED,
        "gamma",
    ) {
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
impl ::reproducible::__private::ForwardUses for Attention {
    const USED: &'static [&'static str] = &[
        "alpha",
        "attn_drop",
        "gamma",
        "num_heads",
        "proj",
        "qkv",
    ];
}

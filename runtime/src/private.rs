//! Support for the code `#[reproducible_model]` generates. Not a public API.

pub use crate::layers;
pub use crate::model::{Ctx, Model, ParamSpec};
pub use crate::scheme::{FanMode, Nonlinearity, Scheme};
pub use crate::Result;
pub use candle_core::{DType, Tensor};

pub use candle_nn::VarBuilder;

/// Implemented by `#[reproducible::forward]` on a model's marker type for the
/// one unnamed part of its forward code: the fields that code reads. Named
/// parts (`#[reproducible::forward(head)]`) are associated constants of the
/// marker instead. The trait's name is what rustc shows when two unnamed
/// forward impls conflict.
#[diagnostic::on_unimplemented(
    message = "this model has no `#[reproducible::forward]` impl, so its unused parameters cannot be checked",
    label = "add `#[reproducible::forward]` to the impl that holds `forward` and its helpers",
    note = "every parameter of a reproducible model must be read by its forward code; \
            mark intended exceptions `#[param(..., unused = \"reason\")]`"
)]
pub trait SeveralForwardImplsNeedPartNames {
    /// The fields read through `self` anywhere in the annotated impl.
    const USED: &'static [&'static str];
}

/// Whether `list` contains `name` (usable in constants).
pub const fn contains(list: &[&str], name: &str) -> bool {
    let mut i = 0;
    while i < list.len() {
        let (a, b) = (list[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return true;
            }
        }
        i += 1;
    }
    false
}

// Identity functions the expansion passes the user's expressions through, so
// that each must have its type where it is written (no cast hides a mistake).

/// A shape dimension.
pub const fn dim(d: usize) -> usize {
    d
}

/// A count: of blocks (`count = ..`) or of groups.
pub const fn count(n: usize) -> usize {
    n
}

/// A scheme's numeric argument.
pub const fn number(x: f64) -> f64 {
    x
}

/// A scheme given as an expression.
pub fn scheme(s: Scheme) -> Scheme {
    s
}

/// A fan mode given as an expression.
pub const fn fan_mode(m: FanMode) -> FanMode {
    m
}

/// A nonlinearity given as an expression.
pub const fn nonlinearity(n: Nonlinearity) -> Nonlinearity {
    n
}

/// What a `#[param]` field can be: a `Tensor`. The expansion goes through it,
/// spanned at the field's type, so that any other type is one error there.
#[diagnostic::on_unimplemented(
    message = "a `#[param]` field must be a `Tensor`, not `{Self}`",
    label = "a `#[param]` field",
    note = "a parameter is one tensor: declare the field as `Tensor`; a plain value computed from the config is a `#[config(..)]` field"
)]
pub trait ParamField: Sized {
    /// The field's value from the tensor made for it.
    fn from_tensor(tensor: Tensor) -> Self;
    /// The tensor the field holds.
    fn tensor(&self) -> &Tensor;
}

impl ParamField for Tensor {
    fn from_tensor(tensor: Tensor) -> Self {
        tensor
    }

    fn tensor(&self) -> &Tensor {
        self
    }
}

/// The parameter at `below` in a built submodule, for a tie to `target` (its
/// path in the model).
pub fn find_param<M: Model>(module: &M, below: &str, target: &str) -> Result<Tensor> {
    let mut found = None;
    module.visit_params(&mut |path, tensor, _| {
        if path == below {
            found = Some(tensor.clone());
        }
    });
    found.ok_or_else(|| crate::Error::Config {
        path: target.to_owned(),
        layer: "tie".to_owned(),
        reason: format!("no such parameter to tie to (the submodule has no parameter `{below}`)"),
    })
}

/// Every parameter a submodule ties exists in it: a tie of a name it does not
/// have is an error, not a tie that silently does nothing.
pub fn check_ties<M: Model>(module: &M, params: &[&str], ctx: &Ctx) -> Result<()> {
    let mut seen = Vec::new();
    module.visit_params(&mut |path, _, _| seen.push(path.to_owned()));
    match params.iter().find(|p| !seen.iter().any(|s| s == *p)) {
        None => Ok(()),
        Some(missing) => Err(crate::Error::Config {
            path: ctx.path().to_owned(),
            layer: "tie".to_owned(),
            reason: format!(
                "the submodule has no parameter `{missing}` to tie (it has: {})",
                seen.join(", ")
            ),
        }),
    }
}

/// `#[config(build = |ctx| ..)]`: the closure called with the build context.
pub fn config_with<'a, T, E, F>(ctx: &Ctx<'a>, f: F) -> Result<T>
where
    F: FnOnce(&Ctx<'a>) -> std::result::Result<T, E>,
    E: Into<crate::Error>,
{
    f(ctx).map_err(Into::into)
}

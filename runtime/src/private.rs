//! Support for the code `#[reproducible_model]` generates. Not a public API.

pub use crate::layers;
pub use crate::model::{Ctx, Model, ParamSpec};
pub use crate::scheme::{FanMode, Nonlinearity, Scheme};
pub use crate::Result;
pub use candle_core::{DType, Tensor};
pub use candle_nn::VarBuilder;

/// Implemented by `#[reproducible::forward]` (or `#[reproducible::forward(part)]`)
/// on each impl holding a model's forward code: the fields that code reads.
/// `PART` numbers the part (see the macro crate's `forward::part_id`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `#[reproducible::forward]` impl (or lacks one of the parts its `forward = [..]` lists), so its unused parameters cannot be checked",
    label = "add `#[reproducible::forward]` to the impl that holds `forward` and its helpers",
    note = "every parameter of a reproducible model must be read by its forward code; \
            mark intended exceptions `#[param(..., unused = \"reason\")]`"
)]
pub trait ForwardUses<const PART: u64> {
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

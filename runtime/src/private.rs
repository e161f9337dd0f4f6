//! Support for the code `#[reproducible_model]` generates. Not a public API.

pub use crate::layers;
pub use crate::model::{Ctx, Model, ParamSpec};
pub use crate::scheme::{FanMode, Nonlinearity, Scheme};
pub use crate::Result;
pub use candle_core::{DType, Tensor};
pub use candle_nn::VarBuilder;

/// Implemented by `#[reproducible::forward]` on the impl holding a model's forward code:
/// the fields that code reads.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `#[reproducible::forward]` impl, so its unused parameters cannot be checked",
    label = "add `#[reproducible::forward]` to the impl that holds `forward` and its helpers",
    note = "every parameter of a reproducible model must be read by its forward code; \
            mark intended exceptions `#[param(..., unused = \"reason\")]`"
)]
pub trait ForwardUses {
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

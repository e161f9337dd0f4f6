//! Coordinates, not order: where each element's random bits come from.
//!
//! An element's Philox counter is built from its logical coordinates (SPEC.md
//! section 3), never from its flat index, so its value does not depend on the
//! tensor's total size, on other parameters or on the order of generation:
//!
//! | rank | counter `(c0, c1, c2, c3)` |
//! |------|-----------------------------|
//! | 0    | `(0, 0, 0, 0)` |
//! | 1    | `(0, 0, 0, blk(i0))` |
//! | 2    | `(0, 0, i0, blk(i1))` |
//! | 3    | `(0, i0, i1, blk(i2))` |
//! | 4    | `(i0, i1, i2, blk(i3))` |
//! | r>4  | `(i0, i1, fold(i2..=i[r-2]), blk(i[r-1]))` |
//!
//! `blk(i) = i / L` where `L` elements share one 128-bit block (4 for the f32
//! family, 2 for f64), and the element takes lanes `i % L` of it. `fold` is the
//! row-major index of `(i2, ..., i[r-2])` within dimensions `2..=r-2`.
//!
//! Growing any dimension of a tensor of rank up to 4 leaves the draws of the old
//! elements unchanged. Beyond rank 4, dimensions 0, 1, 2 and the last are still
//! growth-stable; growing dimensions `3..=r-2` re-maps the folded coordinate.
//! Slices and shards are exact at every rank.
//!
//! ```
//! use reproducible::coords::row_counter;
//! // Element [2, 5] of a [512, 768] weight and of a [768, 512] weight share a counter.
//! assert_eq!(row_counter(&[512, 768], &[2]), row_counter(&[768, 512], &[2]));
//! ```

use crate::error::{Error, Result};

/// The largest size a counter coordinate can address: 2^32.
pub const MAX_COORDINATE_SPAN: u64 = 1 << 32;

/// Checks that every element of `shape` has a distinct counter and that the
/// element count fits in memory arithmetic: no zero-sized dimension, no
/// coordinate beyond 2^32, no overflow of the element count.
pub fn check_shape(shape: &[usize]) -> Result<usize> {
    if let Some(d) = shape.iter().position(|&n| n == 0) {
        return Err(Error::shape(shape, format!("dimension {d} has size 0")));
    }
    let numel = shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n));
    let Some(numel) = numel else {
        return Err(Error::shape(shape, "element count overflows usize"));
    };
    if shape.len() <= 4 {
        if let Some(d) = shape.iter().position(|&n| n as u64 > MAX_COORDINATE_SPAN) {
            return Err(Error::shape(
                shape,
                format!("dimension {d} exceeds 2^32 elements, the counter's coordinate range"),
            ));
        }
    } else {
        let r = shape.len();
        let folded: u64 = shape[2..r - 1].iter().map(|&n| n as u64).product();
        if [shape[0], shape[1], shape[r - 1]]
            .iter()
            .any(|&n| n as u64 > MAX_COORDINATE_SPAN)
            || folded > MAX_COORDINATE_SPAN
        {
            return Err(Error::shape(
                shape,
                "a counter coordinate exceeds 2^32 (dimensions 2..rank-1 are folded into one)",
            ));
        }
    }
    Ok(numel)
}

/// Counter words `(c0, c1, c2)` of the row at `prefix`: the coordinates of all
/// dimensions but the last. `shape` must have passed [`check_shape`].
#[inline]
pub fn row_counter(shape: &[usize], prefix: &[usize]) -> [u32; 3] {
    debug_assert_eq!(prefix.len() + 1, shape.len().max(1));
    match *prefix {
        [] => [0, 0, 0],
        [i0] => [0, 0, i0 as u32],
        [i0, i1] => [0, i0 as u32, i1 as u32],
        [i0, i1, i2] => [i0 as u32, i1 as u32, i2 as u32],
        _ => {
            let r = shape.len();
            let folded = prefix[2..]
                .iter()
                .zip(&shape[2..r - 1])
                .fold(0u64, |acc, (&i, &n)| acc * n as u64 + i as u64);
            [prefix[0] as u32, prefix[1] as u32, folded as u32]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_are_left_padded() {
        assert_eq!(row_counter(&[7], &[]), [0, 0, 0]);
        assert_eq!(row_counter(&[3, 7], &[2]), [0, 0, 2]);
        assert_eq!(row_counter(&[5, 3, 7], &[4, 2]), [0, 4, 2]);
        assert_eq!(row_counter(&[6, 5, 3, 7], &[1, 4, 2]), [1, 4, 2]);
    }

    #[test]
    fn rank_five_folds_the_middle() {
        // [out, in, kd, kh, kw]: (i2, i3) folds to i2 * kh + i3.
        assert_eq!(row_counter(&[8, 4, 3, 5, 5], &[7, 3, 2, 4]), [7, 3, 2 * 5 + 4]);
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(check_shape(&[4, 0])
            .unwrap_err()
            .to_string()
            .contains("dimension 1 has size 0"));
        assert!(check_shape(&[usize::MAX, 2])
            .unwrap_err()
            .to_string()
            .contains("overflows"));
        assert!(check_shape(&[(1 << 32) + 1, 1]).is_err());
        assert_eq!(check_shape(&[]).unwrap(), 1);
    }
}

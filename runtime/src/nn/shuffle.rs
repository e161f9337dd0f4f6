//! Data order from keyed runtime streams: (seed, name, epoch).
//!
//! The permutation of epoch `e` depends only on the seed, a name such as
//! `data.train` and `e` (SPEC.md section 10): not on how many dropout layers or
//! parameters the model has, nor on any other randomness drawn before it.
//!
//! ```
//! use reproducible::shuffle::permutation;
//! let p = permutation(42, "data.train", 0, 10);
//! let mut sorted = p.clone();
//! sorted.sort();
//! assert_eq!(sorted, (0..10).collect::<Vec<_>>());
//! assert_eq!(p, permutation(42, "data.train", 0, 10));
//! assert_ne!(p, permutation(42, "data.train", 1, 10));
//! ```

use crate::philox::philox4x32_10;
use crate::stream::Stream;

/// The order of `n` examples in `epoch`: indices sorted by a 64-bit keyed draw
/// per index (ties, which need a 64-bit collision, by index).
pub fn permutation(seed: u64, name: &str, epoch: u64, n: usize) -> Vec<usize> {
    let key = Stream::runtime(seed, name, epoch).key();
    let mut keyed: Vec<(u64, usize)> = (0..n)
        .map(|i| {
            let i64 = i as u64;
            let x = philox4x32_10([0, 0, (i64 >> 32) as u32, i64 as u32], key);
            ((u64::from(x[0]) << 32) | u64::from(x[1]), i)
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

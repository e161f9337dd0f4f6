//! Stream identity: the key a parameter's values are drawn under.
//!
//! A stream is named by `(seed, path, version)` and the spec version. Its key is
//! BLAKE3 in key-derivation mode over an unambiguous, length-prefixed encoding of
//! the four (SPEC.md section 2). Nothing about a stream depends on any other
//! stream, on the order streams are created, or on the shape of the tensor drawn
//! from it: this is what makes adding, removing or reordering parameters leave
//! every other parameter's values unchanged.
//!
//! ```
//! use reproducible::stream::Stream;
//! let a = Stream::new(42, "blocks.0.attn.qkv.weight", 1);
//! let b = Stream::new(42, "blocks.1.attn.qkv.weight", 1);
//! assert_ne!(a.key(), b.key());
//! // ("ab", "c") and ("a", "bc") cannot collide: the path is one length-prefixed string.
//! assert_ne!(Stream::new(0, "ab.c", 1).key(), Stream::new(0, "a.bc", 1).key());
//! ```

use crate::philox::philox4x32_10;

/// The version of SPEC.md this crate implements. It is part of every key, so a
/// future algorithm can never silently collide with the values of this one.
pub const SPEC_VERSION: u32 = 1;

/// The BLAKE3 key-derivation context string (SPEC.md section 2). Fixed forever
/// for spec version 1.
pub const KEY_CONTEXT: &str = "reproducible 2026-11-26 parameter stream key v1";

/// The BLAKE3 context of runtime streams (dropout masks, data order; SPEC.md
/// section 10): a separate domain, so no runtime stream can share a key with a
/// parameter stream.
pub const RUNTIME_CONTEXT: &str = "reproducible 2026-11-26 runtime stream key v1";

/// A keyed stream of random 128-bit blocks, one per counter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Stream {
    seed: u64,
    path: String,
    version: u32,
    digest: [u8; 32],
}

impl Stream {
    /// The stream of parameter `path` (dotted, e.g. `blocks.3.attn.qkv.weight`)
    /// under `seed`, at declared `version`.
    pub fn new(seed: u64, path: &str, version: u32) -> Self {
        Self {
            seed,
            path: path.to_owned(),
            version,
            digest: derive(seed, path, version),
        }
    }

    /// A stream with no key, for a scheme that draws nothing (`constant`,
    /// `zeros`, `ones`): their values never read the key, so a constant
    /// parameter costs no key derivation.
    pub(crate) fn unkeyed(seed: u64, version: u32) -> Self {
        Self {
            seed,
            path: String::new(),
            version,
            digest: [0; 32],
        }
    }

    /// The stream of runtime randomness at `path` (a dropout layer's path, or a
    /// name such as `data.shuffle`) for training `step` (or epoch) under `seed`.
    /// Its `version()` reads 0; its key comes from [`RUNTIME_CONTEXT`].
    pub fn runtime(seed: u64, path: &str, step: u64) -> Self {
        Self {
            seed,
            path: path.to_owned(),
            version: 0,
            digest: blake3::derive_key(RUNTIME_CONTEXT, &material(seed, path, &step.to_le_bytes())),
        }
    }

    /// The seed this stream was keyed with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The parameter path this stream was keyed with.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The declared version this stream was keyed with.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The 32-byte BLAKE3 output the keys are taken from.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// The Philox key of the value stream: digest words 0 and 1 (little-endian).
    pub fn key(&self) -> [u32; 2] {
        [word(&self.digest, 0), word(&self.digest, 1)]
    }

    /// The Philox key of the auxiliary stream (used by `sparse` for its zero
    /// pattern): digest words 2 and 3. Words 4 to 7 are reserved.
    pub fn aux_key(&self) -> [u32; 2] {
        [word(&self.digest, 2), word(&self.digest, 3)]
    }

    /// The four random words of the value stream at `counter`.
    #[inline]
    pub fn block(&self, counter: [u32; 4]) -> [u32; 4] {
        philox4x32_10(counter, self.key())
    }
}

fn word(digest: &[u8; 32], i: usize) -> u32 {
    u32::from_le_bytes(digest[4 * i..4 * i + 4].try_into().expect("4 bytes"))
}

/// The key material of SPEC.md section 2: every field fixed-width little-endian,
/// the path prefixed by its byte length, so no two distinct inputs share an encoding.
pub fn encode(seed: u64, path: &str, version: u32) -> Vec<u8> {
    material(seed, path, &version.to_le_bytes())
}

/// Spec version, seed, length-prefixed path, then the fixed-width `tail`
/// (the version of a parameter stream, the step of a runtime stream).
fn material(seed: u64, path: &str, tail: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(4 + 8 + 8 + path.len() + tail.len());
    m.extend_from_slice(&SPEC_VERSION.to_le_bytes());
    m.extend_from_slice(&seed.to_le_bytes());
    m.extend_from_slice(&(path.len() as u64).to_le_bytes());
    m.extend_from_slice(path.as_bytes());
    m.extend_from_slice(tail);
    m
}

fn derive(seed: u64, path: &str, version: u32) -> [u8; 32] {
    blake3::derive_key(KEY_CONTEXT, &encode(seed, path, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_length_prefixed() {
        assert_eq!(
            encode(1, "ab", 2),
            [
                1, 0, 0, 0, // spec version
                1, 0, 0, 0, 0, 0, 0, 0, // seed
                2, 0, 0, 0, 0, 0, 0, 0, // path length
                b'a', b'b', // path
                2, 0, 0, 0, // version
            ]
        );
    }

    #[test]
    fn every_component_changes_the_key() {
        let base = Stream::new(0, "layers.0.weight", 1);
        assert_ne!(base.key(), Stream::new(1, "layers.0.weight", 1).key());
        assert_ne!(base.key(), Stream::new(0, "layers.1.weight", 1).key());
        assert_ne!(base.key(), Stream::new(0, "layers.0.weight", 2).key());
        assert_ne!(base.key(), base.aux_key());
        // Runtime streams live in their own domain.
        assert_ne!(
            Stream::runtime(0, "layers.0.weight", 1).key(),
            Stream::new(0, "layers.0.weight", 1).key()
        );
        assert_ne!(Stream::runtime(0, "drop", 1).key(), Stream::runtime(0, "drop", 2).key());
        // Empty segments are part of the path, not separators to normalise away.
        assert_ne!(Stream::new(0, "a..b", 1).key(), Stream::new(0, "a.b", 1).key());
    }
}

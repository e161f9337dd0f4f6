//! Instruction sets as tokens, and the table from [`Path`] to token.
//!
//! A token is a value of a zero-sized type that only the instruction set's
//! `detect` makes, and only on a CPU that has it; every vector of that
//! instruction set is made from a token (`Lanes::splat`, `V32::load`, ...).
//! Holding a token or a vector therefore proves the CPU runs the instructions,
//! which is what makes the vector methods safe to call (the `Machine` tokens
//! of `ppv-lite86`, under `rand_chacha`, work the same way).
//!
//! Adding an instruction set: a file with its token, its vector types and its
//! `impl Isa` (the [`vector_entries!`] macro writes the entries), a variant of
//! [`Path`] with its name, and one row in [`with`].

use std::mem::MaybeUninit;

use super::householder::Reflector;
use super::run::{Out32, Rows, Run};
use super::Path;
use crate::transform::{Prepared32, Prepared64};

/// An instruction set the kernels are compiled for; a value is a token (see
/// the module docs). Every entry writes every element of `out`.
pub(crate) trait Isa: Copy {
    /// A token, when this CPU runs the instruction set.
    fn detect() -> Option<Self>;

    /// Elements `start .. start + out.len()` of the f32-family row `ctr` under `key`.
    fn run32<O: Out32>(self, p: &Prepared32, key: [u32; 2], ctr: [u32; 3], start: usize, out: &mut [MaybeUninit<O>]);

    /// The `runs` of f32-family rows under `key`, one after the other, with
    /// batches gathered across runs (for rows shorter than a batch).
    fn runs32<O: Out32>(self, p: &Prepared32, key: [u32; 2], runs: &[Run], out: &mut [MaybeUninit<O>]);

    /// Whole short rows (the same part of each) under `key`, one after the
    /// other, packed into batches.
    fn rows32<O: Out32>(self, p: &Prepared32, key: [u32; 2], rows: Rows<'_>, out: &mut [MaybeUninit<O>]);

    /// [`Isa::run32`] for f64.
    fn run64(self, p: &Prepared64, key: [u32; 2], ctr: [u32; 3], start: usize, out: &mut [MaybeUninit<f64>]);

    /// Householder reflections of a panel of columns (`householder.rs`).
    fn reflect(self, reflectors: &[Reflector<'_>], panel: &mut [f64], width: usize);

    /// `f` of every lane of `xs` into `out` (both a multiple of 16 long),
    /// compiled as the f32 transforms are: for the tests of `draw32.rs`.
    #[cfg(test)]
    fn lanewise(self, f: super::tests::Lanewise, xs: &[u32], out: &mut [u32]);
}

/// Work generic over the instruction set, given its token by [`with`].
pub(crate) trait Task {
    /// What the work returns.
    type Output;
    /// Does the work with `isa`'s kernels.
    fn run<I: Isa>(self, isa: I) -> Self::Output;
}

/// The table: runs `task` with the token of `path`, or returns `None` when
/// this CPU does not run it (or it is not compiled for this target).
pub(crate) fn with<T: Task>(path: Path, task: T) -> Option<T::Output> {
    match path {
        Path::Scalar => Some(task.run(super::scalar::Scalar::detect()?)),
        Path::Portable => Some(task.run(super::portable::Portable::detect()?)),
        #[cfg(target_arch = "x86_64")]
        Path::Sse2 => Some(task.run(super::sse2::Sse2::detect()?)),
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => Some(task.run(super::avx2::Avx2::detect()?)),
        #[cfg(target_arch = "x86_64")]
        Path::Avx512 => Some(task.run(super::avx512::Avx512::detect()?)),
        #[cfg(target_arch = "aarch64")]
        Path::Neon => Some(task.run(super::neon::Neon::detect()?)),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// Whether [`with`] has a token for `path` on this machine.
pub(crate) fn is_supported(path: Path) -> bool {
    struct Nothing;
    impl Task for Nothing {
        type Output = ();
        fn run<I: Isa>(self, _: I) {}
    }
    with(path, Nothing).is_some()
}

/// The entries of [`Isa`] for a vector instruction set: the runs of `run.rs`
/// on its counter lanes `$lanes` and f32 vectors `$f`, compiled with
/// `#[target_feature(enable = $features)]` when given. `$r, $p, $k, $h` are the
/// batch sizes of `run::run32_on`.
macro_rules! vector_entries {
    ($token:ident, $lanes:ty, $f:ty, $r:literal, $p:literal, $k:literal, $h:literal $(, $features:literal)?) => {
        fn run32<O: $crate::kernels::run::Out32>(
            self,
            p: &$crate::transform::Prepared32,
            key: [u32; 2],
            ctr: [u32; 3],
            start: usize,
            out: &mut [::std::mem::MaybeUninit<O>],
        ) {
            $(#[target_feature(enable = $features)])?
            fn entry<O: $crate::kernels::run::Out32>(
                t: $token,
                p: &$crate::transform::Prepared32,
                key: [u32; 2],
                ctr: [u32; 3],
                start: usize,
                out: &mut [::std::mem::MaybeUninit<O>],
            ) {
                $crate::kernels::run::run32_on::<$token, $lanes, $f, $r, $p, $k, $h, O>(t, p, key, ctr, start, out)
            }
            $crate::kernels::isa::vector_entries!(@call $($features)? entry(self, p, key, ctr, start, out))
        }

        fn runs32<O: $crate::kernels::run::Out32>(
            self,
            p: &$crate::transform::Prepared32,
            key: [u32; 2],
            runs: &[$crate::kernels::run::Run],
            out: &mut [::std::mem::MaybeUninit<O>],
        ) {
            $(#[target_feature(enable = $features)])?
            fn entry<O: $crate::kernels::run::Out32>(
                t: $token,
                p: &$crate::transform::Prepared32,
                key: [u32; 2],
                runs: &[$crate::kernels::run::Run],
                out: &mut [::std::mem::MaybeUninit<O>],
            ) {
                $crate::kernels::run::runs32_on::<$token, $lanes, $f, $r, $p, $k, $h, O>(t, p, key, runs, out)
            }
            $crate::kernels::isa::vector_entries!(@call $($features)? entry(self, p, key, runs, out))
        }

        fn rows32<O: $crate::kernels::run::Out32>(
            self,
            p: &$crate::transform::Prepared32,
            key: [u32; 2],
            rows: $crate::kernels::run::Rows<'_>,
            out: &mut [::std::mem::MaybeUninit<O>],
        ) {
            $(#[target_feature(enable = $features)])?
            fn entry<O: $crate::kernels::run::Out32>(
                t: $token,
                p: &$crate::transform::Prepared32,
                key: [u32; 2],
                rows: $crate::kernels::run::Rows<'_>,
                out: &mut [::std::mem::MaybeUninit<O>],
            ) {
                $crate::kernels::run::rows32_on::<$token, $lanes, $f, $r, $p, $k, $h, O>(t, p, key, rows, out)
            }
            $crate::kernels::isa::vector_entries!(@call $($features)? entry(self, p, key, rows, out))
        }

        fn run64(
            self,
            p: &$crate::transform::Prepared64,
            key: [u32; 2],
            ctr: [u32; 3],
            start: usize,
            out: &mut [::std::mem::MaybeUninit<f64>],
        ) {
            $(#[target_feature(enable = $features)])?
            fn entry(
                t: $token,
                p: &$crate::transform::Prepared64,
                key: [u32; 2],
                ctr: [u32; 3],
                start: usize,
                out: &mut [::std::mem::MaybeUninit<f64>],
            ) {
                $crate::kernels::run::run64_on::<$token, $lanes, $r>(t, p, key, ctr, start, out)
            }
            $crate::kernels::isa::vector_entries!(@call $($features)? entry(self, p, key, ctr, start, out))
        }

        fn reflect(self, reflectors: &[$crate::kernels::householder::Reflector<'_>], panel: &mut [f64], width: usize) {
            $(#[target_feature(enable = $features)])?
            fn entry(_: $token, reflectors: &[$crate::kernels::householder::Reflector<'_>], panel: &mut [f64], width: usize) {
                $crate::kernels::householder::reflect_on(reflectors, panel, width)
            }
            $crate::kernels::isa::vector_entries!(@call $($features)? entry(self, reflectors, panel, width))
        }

        #[cfg(test)]
        fn lanewise(self, f: $crate::kernels::tests::Lanewise, xs: &[u32], out: &mut [u32]) {
            $(#[target_feature(enable = $features)])?
            fn entry(t: $token, f: $crate::kernels::tests::Lanewise, xs: &[u32], out: &mut [u32]) {
                $crate::kernels::tests::lanewise_on::<$f>(t, f, xs, out)
            }
            $crate::kernels::isa::vector_entries!(@call $($features)? entry(self, f, xs, out))
        }
    };
    // A `#[target_feature]` function is called in `unsafe`, justified by the token.
    (@call $features:literal $entry:ident($token:ident $(, $arg:ident)*)) => {
        // SAFETY: `$token` is a token of the instruction set, made only on a CPU
        // that has every feature the entry is compiled with.
        unsafe { $entry($token $(, $arg)*) }
    };
    (@call $entry:ident($token:ident $(, $arg:ident)*)) => {
        $entry($token $(, $arg)*)
    };
}
pub(crate) use vector_entries;

//! Huge pages for fresh tensors.
//!
//! A new tensor's memory is untouched when generation starts writing it, so
//! with 4 KiB pages every 1024 f32 elements cost a page fault, and the faults
//! cost more than generating the values (`repro bench`'s `fill` rows). On
//! Linux, the 2 MiB-aligned interior of each large output buffer is advised
//! to use transparent huge pages (`madvise(MADV_HUGEPAGE)`) before it is first
//! touched: one fault per 2 MiB instead of 512. The buffer stays an ordinary
//! `Vec` handed to candle; only its backing pages differ, never a value.
//!
//! It takes effect where the kernel's transparent huge pages are in `madvise`
//! mode (most distributions) and makes no difference in `always` mode (every
//! large mapping gets them anyway) or `never`; on other systems nothing is
//! advised. The environment variable `REPRODUCIBLE_HUGE_PAGES` (`madvise`, the
//! default, or `never`) or [`set_huge_pages`] turns the advice off, for
//! example where compaction stalls would cost more than faults.

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// The environment variable that turns huge-page advice off (`never`) or on
/// (`madvise`, the default; empty means the default).
pub const HUGE_PAGES_ENV: &str = "REPRODUCIBLE_HUGE_PAGES";

/// The size of a transparent huge page on x86-64 and on aarch64 with 4 KiB
/// base pages; advice is given on whole, aligned pages of this size only.
const HUGE_PAGE: usize = 2 << 20;

const UNSET: u8 = 0;
const ON: u8 = 1;
const OFF: u8 = 2;
static CHOSEN: AtomicU8 = AtomicU8::new(UNSET);

/// Advises huge pages for the output of all generation in this process from
/// now on (`Some(true)`), never (`Some(false)`), or, with `None`, drops an
/// earlier choice (back to `REPRODUCIBLE_HUGE_PAGES`, else on). Values never
/// depend on it.
pub fn set_huge_pages(on: Option<bool>) {
    let v = match on {
        None => UNSET,
        Some(true) => ON,
        Some(false) => OFF,
    };
    CHOSEN.store(v, Ordering::Relaxed);
}

/// Whether generation advises huge pages now: the choice made with
/// [`set_huge_pages`], else `REPRODUCIBLE_HUGE_PAGES` (read once per
/// process), else yes. A value of the variable other than `madvise`, `never`
/// or empty is an error naming it; the generation functions return it.
pub fn huge_pages() -> Result<bool> {
    match CHOSEN.load(Ordering::Relaxed) {
        ON => Ok(true),
        OFF => Ok(false),
        _ => from_env(),
    }
}

fn from_env() -> Result<bool> {
    static FROM_ENV: OnceLock<Result<bool, String>> = OnceLock::new();
    FROM_ENV
        .get_or_init(|| match std::env::var(HUGE_PAGES_ENV) {
            Err(std::env::VarError::NotPresent) => Ok(true),
            Err(std::env::VarError::NotUnicode(v)) => Err(format!("{HUGE_PAGES_ENV}={v:?}")),
            Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
                "" | "madvise" => Ok(true),
                "never" => Ok(false),
                _ => Err(format!("{HUGE_PAGES_ENV}={}", v.escape_debug())),
            },
        })
        .clone()
        .map_err(|setting| Error::Kernel(format!("{setting}: expected `madvise` or `never`")))
}

/// Advises the kernel to back the 2 MiB-aligned interior of `buf` with
/// transparent huge pages, and returns how many bytes were advised: 0 when
/// `buf` holds no whole aligned 2 MiB page, on systems other than Linux, or
/// when the kernel refuses (advice is only advice). Call it before the memory
/// is first written; it never changes the contents.
pub fn advise_huge_pages<T>(buf: &mut [MaybeUninit<T>]) -> usize {
    let start = buf.as_mut_ptr() as usize;
    let end = start + std::mem::size_of_val(buf);
    let first = start.next_multiple_of(HUGE_PAGE);
    let last = end / HUGE_PAGE * HUGE_PAGE;
    if last <= first {
        return 0;
    }
    if advise(first, last - first) {
        last - first
    } else {
        0
    }
}

#[cfg(target_os = "linux")]
fn advise(at: usize, len: usize) -> bool {
    // SAFETY: `[at, at + len)` lies inside a live slice the caller borrows
    // mutably, so it is mapped and ours; `at` is aligned to 2 MiB, a multiple
    // of the page size. `MADV_HUGEPAGE` sets a flag on the mapping and never
    // changes memory contents, so nothing that reads the slice can observe it.
    let rc = unsafe { libc::madvise(at as *mut libc::c_void, len, libc::MADV_HUGEPAGE) };
    rc == 0
}

#[cfg(not(target_os = "linux"))]
fn advise(_at: usize, _len: usize) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_aligned_huge_pages_are_advised() {
        let mut small: Vec<f32> = Vec::with_capacity(1000);
        assert_eq!(advise_huge_pages(&mut small.spare_capacity_mut()[..1000]), 0);
        let n = 3 * HUGE_PAGE / 4; // 6 MiB of f32
        let mut big: Vec<f32> = Vec::with_capacity(n);
        let buf = &mut big.spare_capacity_mut()[..n];
        let start = buf.as_ptr() as usize;
        let interior = (start + 4 * n) / HUGE_PAGE * HUGE_PAGE - start.next_multiple_of(HUGE_PAGE);
        let advised = advise_huge_pages(buf);
        assert!(advised == interior || advised == 0, "{advised} of {interior}");
        if cfg!(target_os = "linux") && std::path::Path::new("/sys/kernel/mm/transparent_hugepage").exists() {
            assert_eq!(advised, interior);
        }
    }
}

//! `--kernel`: which kernel path a command generates with.

use reproducible::kernels::{self, Path};

/// Help text of `--kernel`, shared by the commands that generate values.
pub const HELP: &str = "Kernel path: scalar, portable, sse2, avx2, avx512, neon or auto \
    (default: $REPRODUCIBLE_KERNEL, else auto, the fastest that passes its check); every path gives the same bits";

/// Applies `--kernel` (when given; it overrides `REPRODUCIBLE_KERNEL`) and
/// returns the path generation will use; an unknown or unsupported path is an
/// error naming the supported ones.
pub fn choose(name: Option<&str>) -> Result<Path, String> {
    if let Some(name) = name {
        // `auto` overrides the environment variable too.
        let path = kernels::parse(name)
            .map(|p| p.unwrap_or_else(Path::detect))
            .map_err(|e| format!("--kernel: {e}"))?;
        kernels::select(Some(path)).map_err(|e| format!("--kernel: {e}"))?;
    }
    kernels::current().map_err(|e| e.to_string())
}

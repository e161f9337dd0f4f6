//! Atomic file writes: a reader sees the old file or the whole new one, never half.

use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `file` through a temporary file in the same directory that is
/// synced and then renamed over `file`, so a killed process never leaves a
/// truncated file in place. On failure the temporary file is removed and `file`
/// is untouched.
pub(crate) fn write(file: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = file
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?
        .to_string_lossy();
    let tmp: PathBuf = file.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let attempt = || -> io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, file)?;
        // Make the rename itself durable where the platform allows it.
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    };
    attempt().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

//! Writing a file a user trusts, as if someone hostile shares its directory.
//!
//! * A regular file, or a new one, is replaced atomically: the bytes go to a
//!   temporary file created exclusively (`O_EXCL`) under an unpredictable name
//!   in the target's directory, synced, given the old file's permissions (and
//!   owner, where allowed), then renamed over the target. A reader sees the
//!   old file or the whole new one, never half of it. A symlink is followed:
//!   the file it names is replaced and the link kept.
//! * Anything else (a FIFO, a character device, a terminal) is opened and
//!   written in place: renaming over it would replace the node with a file.
//! * Temporary files are named `.{name}.{random}.repro-tmp` and locked by
//!   their writer for as long as it runs. Each write removes the temporary
//!   files of its target whose writer is gone (their lock is free and they
//!   are ours), so writers killed mid-write leave nothing behind for long. A
//!   writer checks, once it holds its lock, that its file was not removed by
//!   such a cleanup in the instant between creating and locking it (and makes
//!   another if it was).

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// The suffix of our temporary files.
const SUFFIX: &str = ".repro-tmp";

/// Attempts at a temporary file that a concurrent cleanup removed before we
/// could lock it (each attempt loses only to another write's cleanup).
const ATTEMPTS: usize = 16;

/// Writes `bytes` to `file` as the module docs describe. On failure the target
/// is untouched and the temporary file removed.
pub(crate) fn write(file: &Path, bytes: &[u8]) -> io::Result<()> {
    let target = follow(file)?;
    match fs::metadata(&target) {
        Ok(m) if m.is_dir() => Err(io::Error::new(io::ErrorKind::InvalidInput, "is a directory")),
        Ok(m) if !m.is_file() => {
            let mut f = OpenOptions::new().write(true).open(&target)?;
            f.write_all(bytes)?;
            f.flush()
        }
        Ok(m) => replace(&target, bytes, Some(&m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => replace(&target, bytes, None),
        Err(e) => Err(e),
    }
}

/// The file a symlink names (the link itself stays), or `file` itself.
fn follow(file: &Path) -> io::Result<PathBuf> {
    match fs::symlink_metadata(file) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(file).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("it is a symlink to a path that cannot be resolved: {e}"),
            )
        }),
        _ => Ok(file.to_owned()),
    }
}

fn replace(target: &Path, bytes: &[u8], old: Option<&fs::Metadata>) -> io::Result<()> {
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let prefix = prefix(name);
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(SUFFIX).rand_bytes(12);
    // A new file gets the permissions `File::create` would give it (the
    // umask applies); a replaced one its old permissions, set below.
    #[cfg(unix)]
    if old.is_none() {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut tmp = locked_temporary(&builder, dir)?;
    remove_abandoned(dir, &prefix, tmp.path(), tmp.as_file());
    tmp.write_all(bytes)?;
    if let Some(old) = old {
        tmp.as_file().set_permissions(old.permissions())?;
        keep_owner(tmp.as_file(), old);
    }
    tmp.as_file().sync_all()?;
    tmp.persist(target).map_err(|e| e.error)?;
    // Make the rename itself durable where the platform allows it.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A new temporary file in `dir`, locked, and still under its name: another
/// write's cleanup may take the lock of a file it finds unlocked and remove it,
/// so a file that lost its name before we locked it is replaced by a new one.
fn locked_temporary(builder: &tempfile::Builder<'_, '_>, dir: &Path) -> io::Result<tempfile::NamedTempFile> {
    for _ in 0..ATTEMPTS {
        let tmp = builder.tempfile_in(dir)?;
        tmp.as_file().lock()?;
        if still_named(&tmp)? {
            return Ok(tmp);
        }
    }
    Err(io::Error::other(
        "temporary files kept vanishing before they could be locked",
    ))
}

#[cfg(unix)]
fn still_named(tmp: &tempfile::NamedTempFile) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let ours = tmp.as_file().metadata()?;
    Ok(match fs::symlink_metadata(tmp.path()) {
        Ok(named) => (named.dev(), named.ino()) == (ours.dev(), ours.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    })
}

// Elsewhere an open file cannot be removed, so a locked one keeps its name.
#[cfg(not(unix))]
fn still_named(_: &tempfile::NamedTempFile) -> io::Result<bool> {
    Ok(true)
}

/// `.{name}.`: what our temporary files for `name` start with.
fn prefix(name: &OsStr) -> String {
    format!(".{}.", name.to_string_lossy())
}

/// Gives `file` the owner and group of `old`, when this process may (root, or
/// a group it belongs to); otherwise it keeps ours, as a new file would.
#[cfg(unix)]
fn keep_owner(file: &File, old: &fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    let _ = std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid()));
}

#[cfg(not(unix))]
fn keep_owner(_: &File, _: &fs::Metadata) {}

/// Removes the temporary files of the target that no writer holds: regular
/// files named `{prefix}*{SUFFIX}`, owned by us (as `ours` is), whose lock is
/// free. Failures are ignored: cleaning up is a courtesy, the write does not
/// depend on it.
fn remove_abandoned(dir: &Path, prefix: &str, mine: &Path, ours: &File) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let Ok(our_meta) = ours.metadata() else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(text) = name.to_str() else { continue };
        if !text.starts_with(prefix) || !text.ends_with(SUFFIX) || text.len() <= prefix.len() + SUFFIX.len() {
            continue;
        }
        let path = entry.path();
        if path.file_name() == mine.file_name() {
            continue;
        }
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.file_type().is_file() || !same_owner(&meta, &our_meta) {
            continue;
        }
        let Ok(f) = File::open(&path) else { continue };
        if f.try_lock().is_ok() {
            let _ = fs::remove_file(&path);
        }
    }
}

#[cfg(unix)]
fn same_owner(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.uid() == b.uid()
}

#[cfg(not(unix))]
fn same_owner(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_atomically_and_keeps_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.lock");
        write(&file, b"one").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
            write(&file, b"two").unwrap();
            assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(fs::read(&file).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["m.lock"]);
    }

    #[test]
    #[cfg(unix)]
    fn a_symlink_is_followed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.lock");
        let link = dir.path().join("link.lock");
        fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
    }

    #[test]
    #[cfg(unix)]
    fn planted_symlinks_at_temporary_names_are_never_followed_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"precious").unwrap();
        let file = dir.path().join("out.lock");
        let planted: Vec<PathBuf> = (0..50)
            .map(|i| dir.path().join(format!(".out.lock.{i:012}{SUFFIX}")))
            // The predictable name an earlier writer used: `.{name}.tmp-{pid}`.
            .chain([dir.path().join(format!(".out.lock.tmp-{}", std::process::id()))])
            .collect();
        for p in &planted {
            std::os::unix::fs::symlink(&victim, p).unwrap();
        }
        write(&file, b"lockfile").unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert_eq!(fs::read(&file).unwrap(), b"lockfile");
        assert!(planted.iter().all(|p| fs::symlink_metadata(p).is_ok()));
    }

    #[test]
    fn abandoned_temporary_files_are_removed_and_held_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.safetensors");
        let abandoned = dir.path().join(format!(".m.safetensors.abandoned000{SUFFIX}"));
        fs::write(&abandoned, b"half a checkpoint").unwrap();
        let held = dir.path().join(format!(".m.safetensors.held00000000{SUFFIX}"));
        fs::write(&held, b"a writer is still at it").unwrap();
        let holder = File::open(&held).unwrap();
        holder.lock().unwrap();
        let empty = dir.path().join(format!(".m.safetensors.killedearly{SUFFIX}"));
        fs::write(&empty, b"").unwrap();
        let other = dir.path().join(format!(".other.lock.abandoned000{SUFFIX}"));
        fs::write(&other, b"another target's").unwrap();
        write(&file, b"new").unwrap();
        assert!(!abandoned.exists() && !empty.exists());
        assert!(held.exists() && other.exists());
        drop(holder);
    }

    #[test]
    #[cfg(unix)]
    fn a_non_regular_target_is_written_in_place() {
        let before = fs::metadata("/dev/null").unwrap();
        write(Path::new("/dev/null"), b"discarded").unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device());
        assert_eq!(before.permissions(), fs::metadata("/dev/null").unwrap().permissions());
    }
}

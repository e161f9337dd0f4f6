//! Writing a file a user trusts, as if someone hostile shares its directory.
//!
//! * A regular file, or a new one, is replaced atomically: the bytes go to a
//!   temporary file created exclusively (`O_EXCL`) under an unpredictable name
//!   in the target's directory, synced, given the old file's permissions (and
//!   owner, where allowed), then renamed over the target. A reader sees the
//!   old file or the whole new one, never half of it. A symlink is followed:
//!   the file it names is replaced and the link kept.
//! * Anything else (a FIFO, a character device, a terminal, `/dev/stdout` on a
//!   pipe) is opened and written in place: renaming over it would replace the
//!   node with a file.
//! * Paths stay as given: a relative target is written relative to the
//!   working directory, which is never asked for (it may be too long to name).
//! * Temporary files are named `.{name}.{12 letters or digits}.repro-tmp`
//!   (a name too long for that keeps its start and a hash of the whole) and
//!   locked by their writer for as long as it runs. Each write removes the
//!   temporary files of its target whose writer is gone (their lock is free
//!   and they are ours), so writers killed mid-write leave nothing behind for
//!   long. A writer checks, once it holds its lock, that its file was not
//!   removed by such a cleanup in the instant between creating and locking it
//!   (and makes another if it was).
//! * A program that ends on a signal calls [`remove_unfinished`] first: it
//!   removes the temporary files being written then, and none is made after.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The suffix of our temporary files.
const SUFFIX: &str = ".repro-tmp";

/// The random letters and digits in a temporary file's name.
const RANDOM: usize = 12;

/// The longest file name most file systems allow, in bytes.
const NAME_MAX: usize = 255;

/// Attempts at a temporary file that a concurrent cleanup removed before we
/// could lock it (each attempt loses only to another write's cleanup).
const ATTEMPTS: usize = 16;

/// Symlinks followed from an output's name before giving up (Linux's limit).
const MAX_LINKS: usize = 40;

/// Writes `bytes` to `file` as the module docs describe. On failure the target
/// is untouched and the temporary file removed.
pub(crate) fn write(file: &Path, bytes: &[u8]) -> io::Result<()> {
    // What the name opens (through any links): a pipe behind `/dev/stdout`
    // has no path to resolve, but opening the name reaches it.
    match fs::metadata(file) {
        Ok(m) if m.is_dir() => return Err(io::Error::new(io::ErrorKind::InvalidInput, "is a directory")),
        Ok(m) if !m.is_file() => {
            let mut f = OpenOptions::new().write(true).open(file)?;
            f.write_all(bytes)?;
            return f.flush();
        }
        _ => {}
    }
    let target = follow(file)?;
    match fs::metadata(&target) {
        Ok(m) if m.is_dir() => Err(io::Error::new(io::ErrorKind::InvalidInput, "is a directory")),
        Ok(m) if !m.is_file() => {
            let mut f = OpenOptions::new().write(true).open(&target)?;
            f.write_all(bytes)?;
            f.flush()
        }
        Ok(m) => replace(&target, bytes, Some(&m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound && target != file => Err(io::Error::new(
            e.kind(),
            format!("it is a symlink to a file that does not exist: {e}"),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => replace(&target, bytes, None),
        Err(e) => Err(e),
    }
}

/// The file a chain of symlinks names (the links themselves stay), or `file`
/// itself; relative links are taken relative to their own directory, so
/// nothing needs an absolute path.
fn follow(file: &Path) -> io::Result<PathBuf> {
    let mut path = file.to_owned();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = fs::read_link(&path)?;
                path = match path.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(path),
        }
    }
    Err(io::Error::other(format!("more than {MAX_LINKS} symlinks in a row")))
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
    // A new file gets the permissions `File::create` would give it (the
    // umask applies); a replaced one its old permissions, set below.
    let mode = if old.is_none() { 0o666 } else { 0o600 };
    let mut tmp = locked_temporary(dir, &prefix, mode)?;
    remove_abandoned(dir, &prefix, &tmp.path, &tmp.file);
    tmp.file.write_all(bytes)?;
    if let Some(old) = old {
        tmp.file.set_permissions(old.permissions())?;
        keep_owner(&tmp.file, old);
    }
    tmp.file.sync_all()?;
    tmp.persist(target)?;
    // Make the rename itself durable where the platform allows it.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The temporary files being written, each with the identity of its file:
/// what [`remove_unfinished`] removes. A file is listed before anyone can see
/// it and delisted as it is renamed, both under this lock.
static UNFINISHED: Mutex<Vec<(PathBuf, Identity)>> = Mutex::new(Vec::new());

fn unfinished() -> MutexGuard<'static, Vec<(PathBuf, Identity)>> {
    // The list stays consistent whatever panicked while holding it.
    UNFINISHED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes every temporary file this process is writing, and blocks every
/// write from then on (none can start a file or finish one): for a program
/// about to end on a signal, which should not leave a full-size temporary
/// file behind. Returns the number of files removed. Safe to call from any
/// thread, but not from a signal handler itself (it takes a lock): a signal
/// thread such as `signal-hook`'s iterator's is the place.
pub fn remove_unfinished() -> usize {
    let list = unfinished();
    let mut removed = 0;
    for (path, id) in list.iter() {
        // Only the file we made: the name may have been taken over since.
        let ours = fs::symlink_metadata(path).is_ok_and(|m| identity(&m) == *id);
        if ours && fs::remove_file(path).is_ok() {
            removed += 1;
        }
    }
    // Held until the process ends: a write that gets this far waits for it.
    std::mem::forget(list);
    removed
}

/// A temporary file of ours: removed when dropped, unless persisted.
struct Temporary {
    path: PathBuf,
    file: File,
    id: Identity,
    persisted: bool,
}

impl Temporary {
    /// A new file in `dir`, created exclusively, listed as unfinished.
    fn create(dir: &Path, prefix: &OsStr, mode: u32) -> io::Result<Self> {
        let mut list = unfinished();
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        // A clash is with a file planted at a name we might pick: try others.
        for _ in 0..ATTEMPTS * 4 {
            let mut name = prefix.to_owned();
            name.push(random_name());
            name.push(SUFFIX);
            let path = dir.join(name);
            match options.open(&path) {
                Ok(file) => {
                    let id = identity(&file.metadata()?);
                    list.push((path.clone(), id));
                    return Ok(Self {
                        path,
                        file,
                        id,
                        persisted: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "every temporary name tried was taken",
        ))
    }

    /// Renames the file over `target`.
    fn persist(mut self, target: &Path) -> io::Result<()> {
        let list = unfinished();
        fs::rename(&self.path, target)?;
        self.persisted = true;
        drop(list);
        Ok(())
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        let mut list = unfinished();
        // Only our file: a cleanup may have removed it and another taken the name.
        if !self.persisted && still_named(self).unwrap_or(false) {
            let _ = fs::remove_file(&self.path);
        }
        list.retain(|(p, id)| !(p == &self.path && *id == self.id));
    }
}

/// A new temporary file in `dir`, locked, and still under its name: another
/// write's cleanup may take the lock of a file it finds unlocked and remove it,
/// so a file that lost its name before we locked it is replaced by a new one.
fn locked_temporary(dir: &Path, prefix: &OsStr, mode: u32) -> io::Result<Temporary> {
    for _ in 0..ATTEMPTS {
        let tmp = Temporary::create(dir, prefix, mode)?;
        tmp.file.lock()?;
        if still_named(&tmp)? {
            return Ok(tmp);
        }
    }
    Err(io::Error::other(
        "temporary files kept vanishing before they could be locked",
    ))
}

fn still_named(tmp: &Temporary) -> io::Result<bool> {
    Ok(match fs::symlink_metadata(&tmp.path) {
        Ok(named) => identity(&named) == tmp.id,
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    })
}

/// What tells two files apart: device and inode.
#[cfg(unix)]
type Identity = (u64, u64);

#[cfg(unix)]
fn identity(m: &fs::Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

// Elsewhere an open file cannot be removed, so a locked one keeps its name.
#[cfg(not(unix))]
type Identity = ();

#[cfg(not(unix))]
fn identity(_: &fs::Metadata) -> Identity {}

/// Random letters and digits for a temporary name: std's hasher keys come
/// from the operating system's randomness, so the name is unpredictable to
/// others; the counter and clock make every call differ.
fn random_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    const CHARS: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let keys = std::hash::RandomState::new();
    let mut h = keys.build_hasher();
    h.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    let a = h.finish();
    h.write_u8(1);
    let mut bits = (u128::from(a) << 64) | u128::from(h.finish());
    (0..RANDOM)
        .map(|_| {
            let c = CHARS[(bits % 62) as usize] as char;
            bits /= 62;
            c
        })
        .collect()
}

/// `.{name}.`: what our temporary files for `name` start with. A name too
/// long to leave room for the rest keeps its start and a hash of the whole,
/// so every target still has prefixes of its own.
fn prefix(name: &OsStr) -> OsString {
    let room = NAME_MAX - 2 - RANDOM - SUFFIX.len();
    let bytes = name.as_encoded_bytes();
    let mut prefix = OsString::from(".");
    if bytes.len() <= room {
        prefix.push(name);
    } else {
        let hash = blake3::hash(bytes).to_hex();
        prefix.push(start_of(name, room - 9));
        prefix.push(format!("~{}", &hash[..8]));
    }
    prefix.push(".");
    prefix
}

/// At most `len` bytes from the start of `name`.
#[cfg(unix)]
fn start_of(name: &OsStr, len: usize) -> OsString {
    use std::os::unix::ffi::OsStrExt;
    OsStr::from_bytes(&name.as_bytes()[..len]).to_owned()
}

#[cfg(not(unix))]
fn start_of(name: &OsStr, len: usize) -> OsString {
    let text = name.to_string_lossy();
    let end = (0..=len).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    OsString::from(&text[..end])
}

/// Whether `name` is one of our temporary names for the prefix: the prefix,
/// exactly [`RANDOM`] letters or digits, the suffix.
fn is_temporary_of(name: &OsStr, prefix: &OsStr) -> bool {
    name.as_encoded_bytes()
        .strip_prefix(prefix.as_encoded_bytes())
        .and_then(|rest| rest.strip_suffix(SUFFIX.as_bytes()))
        .is_some_and(|random| random.len() == RANDOM && random.iter().all(u8::is_ascii_alphanumeric))
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
/// files named as [`is_temporary_of`] says, owned by us (as `ours` is), whose
/// lock is free. Failures are ignored: cleaning up is a courtesy, the write
/// does not depend on it.
fn remove_abandoned(dir: &Path, prefix: &OsStr, mine: &Path, ours: &File) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let Ok(our_meta) = ours.metadata() else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !is_temporary_of(&name, prefix) || Some(name.as_os_str()) == mine.file_name() {
            continue;
        }
        let path = entry.path();
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
        let empty = dir.path().join(format!(".m.safetensors.killedearly0{SUFFIX}"));
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

    #[test]
    fn temporary_names_fit_a_file_name_and_stay_apart() {
        for len in [1, 200, 231, 232, 255] {
            let name = "n".repeat(len);
            let p = prefix(OsStr::new(&name));
            let temp = p.len() + RANDOM + SUFFIX.len();
            assert!(temp <= NAME_MAX, "{len}: {temp}");
            if len <= 231 {
                assert_eq!(p, OsString::from(format!(".{name}.")));
            }
        }
        // Two long names that share their start have prefixes of their own.
        let (a, b) = ("n".repeat(250) + "a", "n".repeat(250) + "b");
        assert_ne!(prefix(OsStr::new(&a)), prefix(OsStr::new(&b)));
        let p = prefix(OsStr::new("x.lock"));
        let temp = |rest: &str| is_temporary_of(OsStr::new(&format!(".x.lock.{rest}")), &p);
        assert!(temp("AbCdEf123456.repro-tmp"));
        assert!(!temp("bak.AbCdEf123456.repro-tmp"));
        assert!(!temp("AbCdEf12345.repro-tmp"));
        assert!(!temp("AbCdEf-23456.repro-tmp"));
        assert!(is_temporary_of(
            OsStr::new(&format!("{}{}{SUFFIX}", p.to_string_lossy(), random_name())),
            &p
        ));
    }
}

//! How every command reads its inputs: a lockfile or a checkpoint, told apart
//! by content (one detection for all commands, `checkpoint::is_safetensors`),
//! each read once, front to back (so pipes, FIFOs and `<(...)` work), `-` for
//! standard input, and at most [`TEXT_LIMIT`] bytes of anything that is not a
//! checkpoint. `explain`, which reads one tensor twice, reads a regular file
//! where the header places the tensor, and holds the tensor of a stream.

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use reproducible::checkpoint::{is_safetensors, Metadata, StoredCheckpoint};
use reproducible::manifest::Manifest;
use reproducible::provenance::Provenance;

use crate::report::{message, shown};

/// The most bytes read from an input that is not a checkpoint: a lockfile of
/// a million parameters is about 300 MB.
pub const TEXT_LIMIT: u64 = 1 << 31;

/// An opened input: a name for messages, the stream, and whether it is a
/// regular file (which can be read again by offset).
pub struct Input {
    pub name: String,
    reader: Box<dyn Read>,
    /// The size of a regular file (which can be read again by offset).
    regular: Option<u64>,
}

impl Input {
    /// Opens `arg` (`-` is standard input).
    pub fn open(arg: &Path) -> Result<Self, String> {
        if arg.as_os_str() == "-" {
            return Ok(Self {
                name: "standard input".into(),
                reader: Box::new(std::io::stdin()),
                regular: None,
            });
        }
        let name = shown(arg);
        let f = File::open(arg).map_err(|e| format!("{name}: reading: {e}"))?;
        let meta = f.metadata().map_err(|e| format!("{name}: reading: {e}"))?;
        if meta.is_dir() {
            return Err(format!("{name}: is a directory, not a lockfile or a checkpoint"));
        }
        Ok(Self {
            name,
            reader: Box::new(f),
            regular: meta.is_file().then_some(meta.len()),
        })
    }
}

/// The manifest of a lockfile or a checkpoint. Hashing a checkpoint shows a
/// progress bar when standard error is a terminal.
pub fn load(arg: &Path) -> Result<Manifest, String> {
    let Input {
        name,
        mut reader,
        regular,
    } = Input::open(arg)?;
    let mut head = Vec::with_capacity(9);
    (&mut reader)
        .take(9)
        .read_to_end(&mut head)
        .map_err(|e| format!("{name}: reading: {e}"))?;
    if !is_safetensors(&head) {
        let bytes = read_text(head.as_slice().chain(reader), &name, regular)?;
        return reproducible::lock::parse_bytes(&bytes, &name).map_err(message);
    }
    let bar = progress(&name);
    let manifest = if regular.is_some() {
        // A regular file is opened by path, so its header is checked against its size.
        let checkpoint = StoredCheckpoint::open(arg).map_err(message)?;
        bar.set_length(checkpoint.data_len());
        checkpoint.manifest(&mut |done, _| bar.set_position(done))
    } else {
        let mut stream = head.as_slice().chain(reader);
        StoredCheckpoint::read_manifest(&mut stream, &name, &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
    };
    bar.finish_and_clear();
    manifest.map_err(message)
}

/// A checkpoint opened for reading one tensor (`explain`).
pub enum Checkpoint {
    /// A regular file, read where its header places the tensor.
    File(StoredCheckpoint),
    /// A stream (a pipe, a FIFO, `-`), read once: its metadata and the
    /// tensor's bytes.
    Stream {
        name: String,
        metadata: Metadata,
        tensor: Option<Vec<u8>>,
    },
}

impl Checkpoint {
    /// The `reproducible` metadata.
    pub fn metadata(&self) -> &Metadata {
        match self {
            Checkpoint::File(c) => c.metadata(),
            Checkpoint::Stream { metadata, .. } => metadata,
        }
    }

    /// The provenance of `path`.
    pub fn provenance(&self, path: &str) -> Option<&Provenance> {
        self.metadata().params.iter().find(|p| p.path == path)
    }

    /// A reader of the stored bytes of the tensor `path`, front to back;
    /// errors name the file.
    pub fn tensor_reader(&self, path: &str) -> Result<Box<dyn Read + '_>, String> {
        match self {
            Checkpoint::File(c) => Ok(Box::new(c.tensor_reader(path).map_err(message)?)),
            // The tensor asked for when it was read; every recorded parameter has one.
            Checkpoint::Stream { name, tensor, .. } => match tensor {
                Some(bytes) => Ok(Box::new(bytes.as_slice())),
                None => Err(format!(
                    "{name}: holds no tensor `{}`",
                    reproducible::error::printable(path)
                )),
            },
        }
    }
}

/// Opens the checkpoint `arg` for the tensor `path`: a regular file by
/// offset, anything else read once, holding that tensor (so a tensor read
/// from a pipe must fit in memory).
pub fn open_checkpoint(arg: &Path, path: &str) -> Result<Checkpoint, String> {
    let Input {
        name,
        mut reader,
        regular,
    } = Input::open(arg)?;
    if regular.is_some() {
        return StoredCheckpoint::open(arg).map(Checkpoint::File).map_err(message);
    }
    let (metadata, tensor) = StoredCheckpoint::read_tensor(&mut reader, &name, path).map_err(message)?;
    Ok(Checkpoint::Stream { name, metadata, tensor })
}

/// All of `r` (`size` bytes, if known), which must be text: at most [`TEXT_LIMIT`] bytes and no NUL
/// byte (so `/dev/zero` is refused at once, not read until memory runs out).
fn read_text(mut r: impl Read, name: &str, size: Option<u64>) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    // A regular file's size (when plausible) saves growing the buffer.
    let _ = bytes.try_reserve_exact(size.filter(|&n| n <= TEXT_LIMIT).unwrap_or(0) as usize);
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let n = match r.read(&mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("{name}: reading: {e}")),
        };
        if let Some(i) = chunk[..n].iter().position(|&b| b == 0) {
            return Err(format!(
                "{name}: not a lockfile or a checkpoint: a NUL byte at offset {}",
                bytes.len() + i
            ));
        }
        if bytes.len() as u64 + n as u64 > TEXT_LIMIT {
            return Err(format!(
                "{name}: not a checkpoint, and more than {TEXT_LIMIT} bytes: too large for a lockfile"
            ));
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// A progress bar for hashing `name`, drawn only on a terminal.
fn progress(name: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})")
        .expect("a valid template")
        .progress_chars("=> ");
    let bar = ProgressBar::new(0).with_style(style);
    bar.set_message(format!("hashing {name}"));
    bar
}

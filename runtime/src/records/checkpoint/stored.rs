//! Reading a checkpoint: its safetensors header (the one reader of headers,
//! for files, streams and `CheckedVars`), its `reproducible` metadata checked
//! against the tensors, and the digests of its data, read in one pass.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};

use super::{err, Metadata, METADATA_KEY};
use crate::error::{printable, Error, Result};
use crate::manifest::{check_spec_version, common_seed, parse_dtype, Digest, Manifest, ParamRecord};
use crate::provenance::Provenance;

/// The largest safetensors header read (safetensors' own limit).
const MAX_HEADER: u64 = 100_000_000;

/// Whether `head`, the first 9 bytes of a file, starts a safetensors file: an
/// 8-byte little-endian header length, then `{`. Any length below 2^56
/// (safetensors' limit and far beyond) holds a zero byte, which text never
/// does: lockfiles never start so, so this tells the two apart whatever the
/// rest holds. A truncated checkpoint, or one whose header is over the limit,
/// is still a checkpoint, for its reader to reject as one.
pub fn is_safetensors(head: &[u8]) -> bool {
    head.len() >= 9 && head[..8].contains(&0) && head[8] == b'{'
}

/// A safetensors header: the tensors it describes, where their data lies,
/// and the `reproducible` metadata when there is some. The one reader of
/// checkpoint headers: files, streams and `CheckedVars` all go through it.
#[derive(Debug)]
pub(crate) struct Header {
    /// Bytes before the data: the 8-byte length and the header itself.
    pub(crate) data_start: u64,
    pub(crate) tensors: BTreeMap<String, StoredTensor>,
    /// The text of the `reproducible` metadata entry.
    pub(crate) metadata: Option<String>,
}

impl Header {
    /// Reads the header from the start of `r`, which holds `file_len` bytes when
    /// known (a regular file), checking that the data is all there. Only the
    /// header is read, never the data.
    pub(crate) fn read(r: &mut impl Read, file: &str, file_len: Option<u64>) -> Result<Header> {
        let err = |reason: String| Error::Checkpoint {
            file: file.to_owned(),
            reason,
        };
        let mut n = [0u8; 8];
        let got = read_up_to(r, &mut n).map_err(|e| err(format!("reading: {e}")))?;
        if got < 8 {
            return Err(err(format!(
                "not a safetensors file: {got} bytes, too short for a header"
            )));
        }
        let text = !n.contains(&0);
        let n = u64::from_le_bytes(n);
        if n > MAX_HEADER {
            return Err(err(if text {
                format!("not a safetensors file: its first 8 bytes, read as a header length, are {n}, over the limit of {MAX_HEADER} bytes")
            } else {
                format!("its header is {n} bytes long, over the limit of {MAX_HEADER} bytes (safetensors' own)")
            }));
        }
        if file_len.is_some_and(|len| n > len - 8) {
            let size = file_len.map(|len| format!(" in a {len}-byte file")).unwrap_or_default();
            return Err(err(format!(
                "truncated or not a safetensors file: its first 8 bytes announce a {n}-byte header{size}"
            )));
        }
        let mut header = vec![0u8; n as usize];
        r.read_exact(&mut header).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => err(format!("truncated: its {n}-byte header is cut short")),
            _ => err(format!("reading: {e}")),
        })?;
        let parsed: safetensors::tensor::Metadata =
            serde_json::from_slice(&header).map_err(|e| err(format!("not a safetensors file: header: {e}")))?;
        let data_len = parsed.data_len() as u64;
        if let Some(len) = file_len.filter(|&len| data_len != len - 8 - n) {
            return Err(err(format!(
                "truncated or corrupt: the header describes {data_len} bytes of tensor data, the file holds {}",
                len - 8 - n
            )));
        }
        let tensors = parsed
            .tensors()
            .into_iter()
            .map(|(name, info)| {
                let stored = StoredTensor {
                    shape: info.shape.clone(),
                    dtype: st_dtype_name(info.dtype),
                    offsets: (info.data_offsets.0 as u64, info.data_offsets.1 as u64),
                };
                (name, stored)
            })
            .collect();
        Ok(Header {
            data_start: 8 + n,
            tensors,
            metadata: parsed.metadata().as_ref().and_then(|m| m.get(METADATA_KEY)).cloned(),
        })
    }

    /// The `reproducible` metadata, parsed (`None` for a plain safetensors file).
    pub(crate) fn metadata(&self, file: &str) -> Result<Option<Metadata>> {
        match &self.metadata {
            None => Ok(None),
            Some(json) => serde_json::from_str(json).map(Some).map_err(|e| Error::Checkpoint {
                file: file.to_owned(),
                reason: format!("malformed `{METADATA_KEY}` metadata: {e}"),
            }),
        }
    }
}

/// Reads until `buf` is full or the input ends; the bytes read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Opens `file` and reads its header (see [`Header::read`]).
pub(crate) fn open_header(file: &Path) -> Result<(File, Header)> {
    let mut f = File::open(file).map_err(|e| err(file, format!("reading: {e}")))?;
    let meta = f.metadata().map_err(|e| err(file, format!("reading: {e}")))?;
    let len = meta.is_file().then_some(meta.len());
    let header = Header::read(&mut f, &file.display().to_string(), len)?;
    Ok((f, header))
}

/// The name of a safetensors dtype as candle writes it.
fn st_dtype_name(dtype: safetensors::Dtype) -> String {
    match DType::try_from(dtype) {
        Ok(d) => d.as_str().to_owned(),
        Err(_) => format!("{dtype:?}").to_lowercase(),
    }
}

/// A safetensors checkpoint with `reproducible` metadata, opened for streaming:
/// the header is parsed and validated, tensor data is read only when asked for.
#[derive(Clone, Debug)]
pub struct StoredCheckpoint {
    file: PathBuf,
    data_start: u64,
    metadata: Metadata,
    tensors: BTreeMap<String, StoredTensor>,
}

/// A tensor as a checkpoint's header describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTensor {
    /// Shape.
    pub shape: Vec<usize>,
    /// Element type name (`f32`, `bf16`, ...).
    pub dtype: String,
    /// Byte range within the data section.
    pub offsets: (u64, u64),
}

impl StoredCheckpoint {
    /// Opens `file`: reads and validates its header only. Fails, naming the
    /// file, on anything that is not a complete safetensors file with valid
    /// `reproducible` metadata whose records match the stored tensors.
    pub fn open(file: &Path) -> Result<Self> {
        let (_, header) = crate::checkpoint::open_header(file)?;
        Self::from_header(file, header)
    }

    /// Validates `header` as a checkpoint with `reproducible` metadata.
    fn from_header(file: &Path, header: Header) -> Result<Self> {
        let name = file.display().to_string();
        let err = |reason: String| Error::Checkpoint {
            file: name.clone(),
            reason,
        };
        let metadata = header.metadata(&name)?.ok_or_else(|| {
            err(format!(
                "has no `{METADATA_KEY}` metadata: it was not written by reproducible::checkpoint::save"
            ))
        })?;
        check_spec_version(metadata.spec_version).map_err(&err)?;
        let tensors = header.tensors;
        let mut problems = Vec::new();
        let mut seen = HashSet::new();
        for p in &metadata.params {
            if !seen.insert(p.path.as_str()) {
                problems.push(format!("its metadata records `{}` twice", printable(&p.path)));
                continue;
            }
            match tensors.get(&p.path) {
                None => problems.push(format!(
                    "its metadata records `{}` but it holds no such tensor",
                    printable(&p.path)
                )),
                Some(t) if t.shape != p.shape => problems.push(format!(
                    "tensor `{}` has shape {:?} but its metadata records {:?}",
                    printable(&p.path),
                    t.shape,
                    p.shape
                )),
                Some(t) if t.dtype != p.dtype => problems.push(format!(
                    "tensor `{}` has dtype {} but its metadata records {}",
                    printable(&p.path),
                    printable(&t.dtype),
                    printable(&p.dtype)
                )),
                Some(_) => {}
            }
            if let Err(e) = check_spec_version(p.spec_version) {
                problems.push(format!("`{}`: {e}", printable(&p.path)));
            }
        }
        let unrecorded: Vec<String> = tensors
            .keys()
            .filter(|k| !seen.contains(k.as_str()))
            .map(|k| format!("`{}`", printable(k)))
            .collect();
        if !unrecorded.is_empty() {
            problems.push(format!(
                "holds tensors its metadata does not describe: {}",
                unrecorded.join(", ")
            ));
        }
        if !problems.is_empty() {
            return Err(err(problems.join("; ")));
        }
        Ok(Self {
            file: file.to_owned(),
            data_start: header.data_start,
            metadata,
            tensors,
        })
    }

    /// The file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The `reproducible` metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The provenance of `path`.
    pub fn provenance(&self, path: &str) -> Option<&Provenance> {
        self.metadata.params.iter().find(|p| p.path == path)
    }

    /// The stored tensors by name.
    pub fn tensors(&self) -> &BTreeMap<String, StoredTensor> {
        &self.tensors
    }

    /// The total size of the tensor data in bytes.
    pub fn data_len(&self) -> u64 {
        self.tensors.values().map(|t| t.offsets.1 - t.offsets.0).sum()
    }

    fn err(&self, reason: String) -> Error {
        Error::Checkpoint {
            file: self.file.display().to_string(),
            reason,
        }
    }

    /// Reads the stored bytes of `path` (little-endian elements, row-major).
    pub fn tensor_bytes(&self, path: &str) -> Result<Vec<u8>> {
        let t = self
            .tensors
            .get(path)
            .ok_or_else(|| self.err(format!("holds no tensor `{path}`")))?;
        let mut f = File::open(&self.file).map_err(|e| self.err(format!("reading: {e}")))?;
        f.seek(SeekFrom::Start(self.data_start + t.offsets.0))
            .map_err(|e| self.err(format!("reading `{path}`: {e}")))?;
        let mut bytes = vec![0u8; (t.offsets.1 - t.offsets.0) as usize];
        f.read_exact(&mut bytes)
            .map_err(|e| self.err(format!("reading `{path}`: {e}")))?;
        Ok(bytes)
    }

    /// A reader of the stored bytes of `path`, front to back (for tensors too
    /// large to hold: read them piece by piece).
    pub fn tensor_reader(&self, path: &str) -> Result<impl Read> {
        let t = self
            .tensors
            .get(path)
            .ok_or_else(|| self.err(format!("holds no tensor `{}`", printable(path))))?;
        let mut f = File::open(&self.file).map_err(|e| self.err(format!("reading: {e}")))?;
        f.seek(SeekFrom::Start(self.data_start + t.offsets.0))
            .map_err(|e| self.err(format!("reading `{}`: {e}", printable(path))))?;
        Ok(std::io::BufReader::with_capacity(1 << 20, f).take(t.offsets.1 - t.offsets.0))
    }

    /// Reads the tensor `path` onto `device`, in its stored dtype.
    pub fn tensor(&self, path: &str, device: &Device) -> Result<Tensor> {
        let bytes = self.tensor_bytes(path)?;
        let t = &self.tensors[path];
        let dtype = parse_dtype(&t.dtype).map_err(|e| self.err(format!("tensor `{path}`: {e}")))?;
        Tensor::from_raw_buffer(&bytes, dtype, &t.shape, device).map_err(|e| self.err(format!("tensor `{path}`: {e}")))
    }

    /// The manifest of the checkpoint: its metadata, with digests of the stored
    /// bytes, read in one pass in file order. `progress(done, total)` is called
    /// with the number of bytes hashed so far.
    pub fn manifest(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<Manifest> {
        let mut f = File::open(&self.file).map_err(|e| self.err(format!("reading: {e}")))?;
        f.seek(SeekFrom::Start(self.data_start))
            .map_err(|e| self.err(format!("reading: {e}")))?;
        self.manifest_of_data(&mut std::io::BufReader::with_capacity(1 << 20, f), progress)
    }

    /// The manifest of a checkpoint read from a stream (a pipe, standard
    /// input), in one pass: the header, then every tensor's bytes in file
    /// order; `name` names it in errors. Nothing but the data of one read
    /// buffer is held at a time; a stream that ends early, or holds more than
    /// its header describes, is an error.
    pub fn read_manifest(r: &mut impl Read, name: &str, progress: &mut dyn FnMut(u64, u64)) -> Result<Manifest> {
        let header = Header::read(r, name, None)?;
        let checkpoint = Self::from_header(Path::new(name), header)?;
        let manifest = checkpoint.manifest_of_data(r, progress)?;
        let mut extra = [0u8; 1];
        match r.read(&mut extra) {
            Ok(0) => Ok(manifest),
            Ok(_) => Err(checkpoint.err("holds more bytes than its header describes".into())),
            Err(e) => Err(checkpoint.err(format!("reading: {e}"))),
        }
    }

    /// The metadata of a checkpoint read from a stream (a pipe, standard
    /// input), and the stored bytes of its tensor `path` (`None` when it holds
    /// no such tensor); `name` names it in errors. The stream is read once, to
    /// its end: the header is validated as [`StoredCheckpoint::open`] does, a
    /// stream that ends early or holds more than its header describes is an
    /// error, and only the bytes of `path` are held.
    pub fn read_tensor(r: &mut impl Read, name: &str, path: &str) -> Result<(Metadata, Option<Vec<u8>>)> {
        let header = Header::read(r, name, None)?;
        let checkpoint = Self::from_header(Path::new(name), header)?;
        let truncated = || checkpoint.err("truncated: the data ends before its header says it does".into());
        let reading = |e: std::io::Error| checkpoint.err(format!("reading: {e}"));
        let skip = |r: &mut dyn Read, n: u64| -> Result<()> {
            match std::io::copy(&mut (&mut *r).take(n), &mut std::io::sink()) {
                Ok(got) if got == n => Ok(()),
                Ok(_) => Err(truncated()),
                Err(e) => Err(reading(e)),
            }
        };
        let mut at = 0;
        let bytes = match checkpoint.tensors.get(path) {
            None => None,
            Some(t) => {
                skip(r, t.offsets.0)?;
                let len = t.offsets.1 - t.offsets.0;
                let mut bytes = Vec::new();
                usize::try_from(len)
                    .ok()
                    .and_then(|n| bytes.try_reserve_exact(n).ok())
                    .ok_or_else(|| {
                        checkpoint.err(format!(
                            "tensor `{}` ({len} bytes) does not fit in memory",
                            printable(path)
                        ))
                    })?;
                (&mut *r).take(len).read_to_end(&mut bytes).map_err(reading)?;
                if bytes.len() as u64 != len {
                    return Err(truncated());
                }
                at = t.offsets.1;
                Some(bytes)
            }
        };
        skip(r, checkpoint.data_len() - at)?;
        let mut extra = [0u8; 1];
        match r.read(&mut extra) {
            Ok(0) => Ok((checkpoint.metadata, bytes)),
            Ok(_) => Err(checkpoint.err("holds more bytes than its header describes".into())),
            Err(e) => Err(reading(e)),
        }
    }

    /// Hashes the data section, read from `f` in file order.
    fn manifest_of_data(&self, f: &mut impl Read, progress: &mut dyn FnMut(u64, u64)) -> Result<Manifest> {
        let total = self.data_len();
        let mut order: Vec<(&String, &StoredTensor)> = self.tensors.iter().collect();
        order.sort_by_key(|(_, t)| t.offsets.0);
        let mut buf = vec![0u8; 1 << 20];
        let mut digests = BTreeMap::new();
        let mut done = 0u64;
        progress(0, total);
        for (name, t) in order {
            let mut hasher = blake3::Hasher::new();
            let mut left = t.offsets.1 - t.offsets.0;
            while left > 0 {
                let take = left.min(buf.len() as u64) as usize;
                f.read_exact(&mut buf[..take]).map_err(|e| match e.kind() {
                    std::io::ErrorKind::UnexpectedEof => {
                        self.err(format!("truncated: the data ends inside `{}`", printable(name)))
                    }
                    _ => self.err(format!("reading `{}`: {e}", printable(name))),
                })?;
                hasher.update(&buf[..take]);
                left -= take as u64;
                done += take as u64;
                progress(done, total);
            }
            digests.insert(name.as_str(), Digest(*hasher.finalize().as_bytes()));
        }
        let params = self
            .metadata
            .params
            .iter()
            .map(|p| ParamRecord::described(p, digests[p.path.as_str()]))
            .collect::<Result<Vec<_>>>()
            .map_err(|e| self.err(e.to_string()))?;
        let seed = self.metadata.seed.or_else(|| common_seed(&params));
        Manifest::new(seed, self.metadata.model_version, params).map_err(|e| self.err(e.to_string()))
    }
}

impl Manifest {
    /// The manifest of the checkpoint `file` (see [`StoredCheckpoint::manifest`]).
    pub fn from_checkpoint(file: &Path) -> Result<Self> {
        StoredCheckpoint::open(file)?.manifest(&mut |_, _| {})
    }
}

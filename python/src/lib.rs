//! `reproducible._native`: the Rust runtime's generator for Python.
//!
//! Everything that decides a value stays in the `reproducible` crate; this
//! module only converts arguments, runs generation with the GIL released and
//! turns every error into a Python `ValueError` or `TypeError` naming what was
//! wrong (the parameter path, the scheme, the shape). No function here panics
//! on any input: shapes, regions and buffers are checked before use.

use std::ops::Range;

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use reproducible::generate::generate_into;
use reproducible::manifest::{Digest, Manifest, ParamRecord};
use reproducible::rules::Pattern;
use reproducible::scheme::presets;
use reproducible::stream::{Stream, SPEC_VERSION};
use reproducible::Scheme;

/// The element types, by their numpy / torch names.
#[derive(Clone, Copy)]
enum Dtype {
    F32,
    F64,
    F16,
    Bf16,
}

impl Dtype {
    fn parse(name: &str) -> PyResult<Self> {
        Ok(match name {
            "float32" | "f32" => Self::F32,
            "float64" | "f64" => Self::F64,
            "float16" | "f16" => Self::F16,
            "bfloat16" | "bf16" => Self::Bf16,
            other => {
                return Err(PyTypeError::new_err(format!(
                    "dtype {other:?} is not a parameter dtype (use float32, float64, float16 or bfloat16)"
                )))
            }
        })
    }

    fn size(self) -> usize {
        match self {
            Self::F64 => 8,
            Self::F32 => 4,
            Self::F16 | Self::Bf16 => 2,
        }
    }

    fn candle(self) -> candle_core::DType {
        match self {
            Self::F32 => candle_core::DType::F32,
            Self::F64 => candle_core::DType::F64,
            Self::F16 => candle_core::DType::F16,
            Self::Bf16 => candle_core::DType::BF16,
        }
    }
}

fn value_error(path: &str, e: impl std::fmt::Display) -> PyErr {
    if path.is_empty() {
        PyValueError::new_err(e.to_string())
    } else {
        PyValueError::new_err(format!("parameter `{path}`: {e}"))
    }
}

fn parse_scheme(path: &str, init: &str) -> PyResult<Scheme> {
    init.parse::<Scheme>().map_err(|e| value_error(path, e))
}

/// The region as ranges, checked against the shape (so that nothing below
/// can index out of bounds), and its element count.
fn region_of(
    path: &str,
    shape: &[usize],
    region: Option<Vec<(usize, usize)>>,
) -> PyResult<(Option<Vec<Range<usize>>>, usize)> {
    let count = |dims: Vec<usize>| {
        dims.iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| value_error(path, format!("shape {shape:?} has more elements than memory can hold")))
    };
    let Some(region) = region else {
        return Ok((None, count(shape.to_vec())?));
    };
    if region.len() != shape.len() {
        return Err(value_error(
            path,
            format!("region has {} ranges for a shape of rank {}", region.len(), shape.len()),
        ));
    }
    let mut ranges = Vec::with_capacity(region.len());
    for (d, (&(start, end), &n)) in region.iter().zip(shape).enumerate() {
        if start > end || end > n {
            return Err(value_error(
                path,
                format!("region range {start}..{end} of dimension {d} is not within 0..{n}"),
            ));
        }
        ranges.push(start..end);
    }
    let len = count(ranges.iter().map(|r| r.end - r.start).collect())?;
    Ok((Some(ranges), len))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Generates `path`'s values straight into `out`, a writable C-contiguous
/// buffer of bytes holding exactly the region's elements of `dtype` (a numpy
/// array's or a CPU tensor's own memory, viewed as `uint8`). With `digest`,
/// returns the BLAKE3 digest of the bytes written, in hex.
#[pyfunction]
#[pyo3(signature = (seed, path, shape, init, out, dtype = "float32", version = 1, region = None, digest = false))]
#[allow(clippy::too_many_arguments)]
fn fill(
    py: Python<'_>,
    seed: u64,
    path: &str,
    shape: Vec<usize>,
    init: &str,
    out: PyBuffer<u8>,
    dtype: &str,
    version: u32,
    region: Option<Vec<(usize, usize)>>,
    digest: bool,
) -> PyResult<Option<String>> {
    let dtype = Dtype::parse(dtype)?;
    let scheme = parse_scheme(path, init)?;
    let (region, n) = region_of(path, &shape, region)?;
    if out.readonly() {
        return Err(PyTypeError::new_err(format!(
            "parameter `{path}`: the output buffer is read-only"
        )));
    }
    if !out.is_c_contiguous() {
        return Err(PyTypeError::new_err(format!(
            "parameter `{path}`: the output buffer is not contiguous"
        )));
    }
    let bytes = n.saturating_mul(dtype.size());
    if out.len_bytes() != bytes {
        return Err(value_error(
            path,
            format!(
                "the output holds {} bytes; {n} elements of the dtype need {bytes}",
                out.len_bytes()
            ),
        ));
    }
    if n == 0 {
        // Nothing to write (the runtime rejects empty shapes; a buffer of no
        // bytes may have a null pointer, which no slice may be made from).
        return Err(value_error(path, "no elements to fill"));
    }
    let ptr = out.buf_ptr() as usize;
    if !ptr.is_multiple_of(dtype.size()) {
        return Err(PyTypeError::new_err(format!(
            "parameter `{path}`: the output buffer is not aligned to its element size"
        )));
    }
    let stream = Stream::new(seed, path, version);
    let digest = py
        .detach(|| {
            let region = region.as_deref();
            // SAFETY: the buffer is writable, C-contiguous, exactly
            // `n * size` bytes long and aligned for the element type (all
            // checked above); `out` holds the exporter's buffer view until
            // this function returns, so the memory stays valid. Every bit
            // pattern is a valid f16/bf16/f32/f64, and generation writes
            // every element. Concurrent writes to the same memory from
            // other threads are the caller's to avoid, as with numpy.
            let raw = out.buf_ptr().cast::<u8>();
            // Memory a tensor has not touched yet (`torch.empty`, `to_empty`)
            // faults in on first write: huge pages make that one fault per
            // 2 MiB, as for the runtime's own fresh tensors.
            if reproducible::kernels::huge_pages()? {
                // SAFETY: as below: `bytes` writable bytes of the buffer; the
                // advice changes no contents.
                let all = unsafe { std::slice::from_raw_parts_mut(raw.cast::<std::mem::MaybeUninit<u8>>(), bytes) };
                reproducible::kernels::advise_huge_pages(all);
            }
            let result = match dtype {
                Dtype::F32 => generate_into::<f32>(&stream, &scheme, &shape, region, unsafe {
                    std::slice::from_raw_parts_mut(raw.cast(), n)
                }),
                Dtype::F64 => generate_into::<f64>(&stream, &scheme, &shape, region, unsafe {
                    std::slice::from_raw_parts_mut(raw.cast(), n)
                }),
                Dtype::F16 => generate_into::<half::f16>(&stream, &scheme, &shape, region, unsafe {
                    std::slice::from_raw_parts_mut(raw.cast(), n)
                }),
                Dtype::Bf16 => generate_into::<half::bf16>(&stream, &scheme, &shape, region, unsafe {
                    std::slice::from_raw_parts_mut(raw.cast(), n)
                }),
            };
            // SAFETY: as above; the bytes were all written.
            result.map(|()| digest.then(|| hex(&Digest::of(unsafe { std::slice::from_raw_parts(raw, bytes) }).0)))
        })
        .map_err(|e| value_error(path, e))?;
    Ok(digest)
}

/// BLAKE3 of `data`, in hex: the digest lockfiles record.
#[pyfunction]
fn digest(data: &[u8]) -> String {
    hex(&Digest::of(data).0)
}

/// The canonical text of a scheme (`"kaiming_uniform(a=2.23..., ...)"`).
#[pyfunction]
fn scheme_text(init: &str) -> PyResult<String> {
    Ok(parse_scheme("", init)?.to_string())
}

/// The scheme text of one of the runtime's layer presets (PyTorch's own
/// defaults): `name` as in `reproducible::scheme::presets`, `size` the
/// `fan_in` of a bias or the `hidden_size` of a recurrent layer.
#[pyfunction]
#[pyo3(signature = (name, size = None))]
fn preset(name: &str, size: Option<usize>) -> PyResult<String> {
    let need = || size.ok_or_else(|| PyValueError::new_err(format!("preset {name:?} needs a size")));
    let scheme = match name {
        "linear_weight" => presets::linear_weight(),
        "linear_bias" => presets::linear_bias(need()?),
        "conv_weight" => presets::conv_weight(),
        "conv_bias" => presets::conv_bias(need()?),
        "embedding" => presets::embedding(),
        "norm_weight" => presets::norm_weight(),
        "norm_bias" => presets::norm_bias(),
        "mha_in_proj_weight" => presets::mha_in_proj_weight(),
        "mha_bias" => presets::mha_bias(),
        "mha_out_proj_weight" => presets::mha_out_proj_weight(),
        "rnn" => presets::rnn(need()?),
        other => return Err(PyValueError::new_err(format!("no layer preset named {other:?}"))),
    };
    Ok(scheme.to_string())
}

/// The index of the first of `patterns` (the rule syntax of the Rust side:
/// `*` within a path segment, `**` across segments) that matches `path`.
#[pyfunction]
fn first_match(patterns: Vec<String>, path: &str) -> PyResult<Option<usize>> {
    for (i, p) in patterns.iter().enumerate() {
        let pattern = Pattern::parse(p).map_err(|e| PyValueError::new_err(e.to_string()))?;
        if pattern.matches(path) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// Checks that every pattern parses, naming the first that does not.
#[pyfunction]
fn check_patterns(patterns: Vec<String>) -> PyResult<()> {
    for p in &patterns {
        Pattern::parse(p).map_err(|e| PyValueError::new_err(format!("rule `{p}`: {e}")))?;
    }
    Ok(())
}

/// One parameter of a lockfile: path, shape, dtype, scheme text, version,
/// rule label, trainable, digest (hex).
type Entry = (String, Vec<usize>, String, String, u32, Option<String>, bool, String);

fn record(seed: u64, e: Entry) -> PyResult<ParamRecord> {
    let (path, shape, dtype, init, version, rule, trainable, digest) = e;
    let scheme = parse_scheme(&path, &init)?;
    let dtype = Dtype::parse(&dtype)?.candle();
    let mut bytes = [0u8; 32];
    if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(value_error(&path, format!("digest {digest:?} is not 64 hex digits")));
    }
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&digest[2 * i..2 * i + 2], 16)
            .map_err(|_| value_error(&path, format!("digest {digest:?} is not 64 hex digits")))?;
    }
    Ok(ParamRecord {
        path,
        alias: None,
        rule,
        shape,
        dtype,
        scheme,
        version,
        seed,
        spec_version: SPEC_VERSION,
        trainable,
        digest: Digest(bytes),
    })
}

fn manifest(seed: u64, model_version: u32, entries: Vec<Entry>) -> PyResult<Manifest> {
    let params = entries
        .into_iter()
        .map(|e| record(seed, e))
        .collect::<PyResult<Vec<_>>>()?;
    Manifest::new(Some(seed), model_version, params).map_err(|e| value_error("", e))
}

/// Writes the lockfile of these parameters to `file` (atomically, as the
/// Rust side writes it).
#[pyfunction]
fn write_lockfile(
    py: Python<'_>,
    seed: u64,
    model_version: u32,
    entries: Vec<Entry>,
    file: std::path::PathBuf,
) -> PyResult<()> {
    let m = manifest(seed, model_version, entries)?;
    py.detach(|| reproducible::lock::write(&file, &m))
        .map_err(|e| value_error("", e))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("SPEC_VERSION", SPEC_VERSION)?;
    m.add_function(wrap_pyfunction!(fill, m)?)?;
    m.add_function(wrap_pyfunction!(digest, m)?)?;
    m.add_function(wrap_pyfunction!(scheme_text, m)?)?;
    m.add_function(wrap_pyfunction!(preset, m)?)?;
    m.add_function(wrap_pyfunction!(first_match, m)?)?;
    m.add_function(wrap_pyfunction!(check_patterns, m)?)?;
    m.add_function(wrap_pyfunction!(write_lockfile, m)?)?;
    Ok(())
}

//! The init context: seed, dtype and device, and the one call a constructor needs.
//!
//! [`Init::tensor`] is "the tensor at this path, with this shape, scheme,
//! version": values are generated on the host by [`crate::generate()`] and
//! uploaded, so every device receives exactly the same bits.
//!
//! ```
//! use reproducible::{Init, scheme::kaiming_uniform};
//! use candle_core::{DType, Device};
//! let init = Init::new(42).set_device(&Device::Cpu).set_dtype(DType::F32);
//! let w = init.tensor("blocks.0.mlp.fc1.weight", &[64, 32], &kaiming_uniform().a(5f64.sqrt()), 1)?;
//! assert_eq!(w.dims(), &[64, 32]);
//! # Ok::<(), reproducible::Error>(())
//! ```

use std::ops::Range;

use candle_core::{DType, Device, Tensor, Var};

use crate::error::{Error, Result};
use crate::generate::{generate, Element};
use crate::scheme::Scheme;
use crate::stream::Stream;

/// Where and how parameters are materialised: the seed, the dtype and the device.
#[derive(Clone, Debug)]
pub struct Init {
    seed: u64,
    dtype: DType,
    device: Device,
}

impl Init {
    /// A context for `seed`, producing F32 tensors on the CPU.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            dtype: DType::F32,
            device: Device::Cpu,
        }
    }

    /// This context with another device to upload tensors to (as candle's
    /// `VarBuilder::set_device`).
    #[must_use]
    pub fn set_device(mut self, device: &Device) -> Self {
        self.device = device.clone();
        self
    }

    /// This context with another dtype: F32, F64, F16 or BF16 (as candle's
    /// `VarBuilder::set_dtype`).
    #[must_use]
    pub fn set_dtype(mut self, dtype: DType) -> Self {
        self.dtype = dtype;
        self
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The dtype.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The dtype, under its former name.
    #[doc(hidden)]
    #[deprecated(since = "0.1.0", note = "renamed `dtype()`; the builder that sets it is `set_dtype`")]
    pub fn get_dtype(&self) -> DType {
        self.dtype
    }

    /// The device, under its former name.
    #[doc(hidden)]
    #[deprecated(
        since = "0.1.0",
        note = "renamed `device()`; the builder that sets it is `set_device`"
    )]
    pub fn get_device(&self) -> &Device {
        &self.device
    }

    /// The stream of parameter `path` at `version` under this context's seed.
    pub fn stream(&self, path: &str, version: u32) -> Stream {
        Stream::new(self.seed, path, version)
    }

    /// The parameter at `path` with `shape`, initialised by `scheme` from its
    /// stream at `version`, in this context's dtype and on its device.
    /// Errors name the path.
    pub fn tensor(&self, path: &str, shape: &[usize], scheme: &Scheme, version: u32) -> Result<Tensor> {
        self.make(path, shape, None, scheme, version, false)
    }

    /// Like [`Init::tensor`] with this context's dtype replaced by `dtype`.
    pub fn tensor_as(
        &self,
        path: &str,
        shape: &[usize],
        scheme: &Scheme,
        version: u32,
        dtype: DType,
    ) -> Result<Tensor> {
        self.clone().set_dtype(dtype).tensor(path, shape, scheme, version)
    }

    /// The `region` (one range per dimension) of the parameter of global `shape`:
    /// bit-for-bit the same as slicing [`Init::tensor`]'s result, and for
    /// elementwise schemes without generating the rest. This is how a
    /// tensor-parallel rank initialises its shard alone.
    pub fn shard(
        &self,
        path: &str,
        shape: &[usize],
        region: &[Range<usize>],
        scheme: &Scheme,
        version: u32,
    ) -> Result<Tensor> {
        self.make(path, shape, Some(region), scheme, version, false)
    }

    /// [`Init::tensor`] or [`Init::shard`] (with a `region`); when `variable`,
    /// the tensor of a candle `Var` built on the generated values themselves
    /// (`Var::from_tensor` on a plain tensor would copy them into new storage).
    pub(crate) fn make(
        &self,
        path: &str,
        shape: &[usize],
        region: Option<&[Range<usize>]>,
        scheme: &Scheme,
        version: u32,
        variable: bool,
    ) -> Result<Tensor> {
        let stream = if scheme.draws_nothing() {
            Stream::unkeyed(self.seed, version)
        } else {
            self.stream(path, version)
        };
        let dims: std::borrow::Cow<[usize]> = match region {
            Some(r) => r.iter().map(|r| r.end.saturating_sub(r.start)).collect(),
            None => shape.into(),
        };
        let build = || -> Result<Tensor> {
            match self.dtype {
                DType::F32 => upload::<f32>(&stream, scheme, shape, region, &dims, &self.device, variable),
                DType::F64 => upload::<f64>(&stream, scheme, shape, region, &dims, &self.device, variable),
                DType::F16 => upload::<half::f16>(&stream, scheme, shape, region, &dims, &self.device, variable),
                DType::BF16 => upload::<half::bf16>(&stream, scheme, shape, region, &dims, &self.device, variable),
                other => Err(Error::Scheme {
                    scheme: scheme.to_string(),
                    reason: format!(
                        "dtype {other:?} is not a floating-point parameter dtype (use F32, F64, F16 or BF16)"
                    ),
                }),
            }
        };
        build().map_err(|e| e.at_path(path))
    }
}

fn upload<T: Element + candle_core::WithDType>(
    stream: &Stream,
    scheme: &Scheme,
    shape: &[usize],
    region: Option<&[Range<usize>]>,
    dims: &[usize],
    device: &Device,
    variable: bool,
) -> Result<Tensor> {
    let values: Vec<T> = generate(stream, scheme, shape, region)?;
    // On the CPU both take the vector's memory as the tensor's storage, no copy.
    Ok(if variable {
        Var::from_vec(values, dims, device)?.into_inner()
    } else {
        Tensor::from_vec(values, dims, device)?
    })
}

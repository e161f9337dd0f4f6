//! AdamW whose state is saved and restored, so a resumed run takes the steps
//! an uninterrupted one takes, bit for bit.
//!
//! candle-nn's `AdamW` keeps its moments and step count private: a run resumed
//! from a checkpoint starts them again from zero and diverges from the run it
//! continues. [`AdamW`] here is candle-nn's algorithm, the same tensor
//! operations in the same order (so it takes the same steps to the bit, which
//! the tests check), with its state as named tensors: [`AdamW::save`] writes
//! the first and second moments of every parameter and the step count, and
//! [`AdamW::load_state`] restores them. candle-nn's `SGD` has no state and
//! resumes as it is.
//!
//! ```
//! use candle_nn::{Optimizer, ParamsAdamW};
//! use reproducible::layers::{linear, Linear};
//! use reproducible::optim::AdamW;
//! use reproducible::{Init, Model};
//! use reproducible::model::Ctx;
//! use candle_core::{Module, Tensor};
//! let init = Init::new(1);
//! let fc = Linear::build(&linear(4, 2), &Ctx::init(&init))?;
//! let mut opt = AdamW::for_model(&fc, ParamsAdamW::default())?;
//! let x = Tensor::ones((3, 4), candle_core::DType::F32, &candle_core::Device::Cpu)?;
//! opt.backward_step(&fc.forward(&x)?.sqr()?.sum_all()?)?;
//! let dir = tempfile::tempdir()?;
//! let file = dir.path().join("adamw.safetensors");
//! opt.save(&file)?;
//! let mut resumed = AdamW::for_model(&fc, ParamsAdamW::default())?;
//! resumed.load_state(&file)?;
//! assert_eq!(resumed.steps(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use candle_core::{DType, Tensor, Var};
use candle_nn::{Optimizer, ParamsAdamW};

use crate::error::{printable, Error, Result};
use crate::model::{Model, ModelExt};

/// The name of the step count in a saved state.
const STEP: &str = "step";

/// One parameter and its moments.
#[derive(Debug)]
struct Slot {
    name: String,
    var: Var,
    first_moment: Var,
    second_moment: Var,
}

/// AdamW with decoupled weight decay, as candle-nn computes it, with a state
/// that [`AdamW::save`] and [`AdamW::load_state`] carry across a restart.
#[derive(Debug)]
pub struct AdamW {
    slots: Vec<Slot>,
    step_t: usize,
    params: ParamsAdamW,
}

impl AdamW {
    /// An optimizer for named variables; the names key the saved state.
    /// Variables of integer dtypes are left out, as candle-nn does.
    pub fn named(vars: Vec<(String, Var)>, params: ParamsAdamW) -> Result<Self> {
        let mut seen = BTreeSet::new();
        let mut slots = Vec::new();
        for (name, var) in vars {
            if !seen.insert(name.clone()) {
                return Err(Error::Config {
                    path: name,
                    layer: "optimizer".to_owned(),
                    reason: "two variables share this name".to_owned(),
                });
            }
            if !var.dtype().is_float() {
                continue;
            }
            let (shape, dtype, device) = (var.shape(), var.dtype(), var.device());
            slots.push(Slot {
                first_moment: Var::zeros(shape, dtype, device)?,
                second_moment: Var::zeros(shape, dtype, device)?,
                name,
                var,
            });
        }
        Ok(Self {
            slots,
            step_t: 0,
            params,
        })
    }

    /// An optimizer for a model's trainable parameters, named by their paths.
    pub fn for_model<M: Model>(model: &M, params: ParamsAdamW) -> Result<Self> {
        let vars = model
            .parameters()
            .into_iter()
            .filter(|p| p.trainable)
            .map(|p| Ok((p.path, Var::from_tensor(&p.tensor)?)))
            .collect::<Result<Vec<_>>>()?;
        Self::named(vars, params)
    }

    /// The number of steps taken (restored by [`AdamW::load_state`]).
    pub fn steps(&self) -> usize {
        self.step_t
    }

    /// The hyper-parameters.
    pub fn params(&self) -> &ParamsAdamW {
        &self.params
    }

    /// The state: `{name}.exp_avg` and `{name}.exp_avg_sq` (PyTorch's names)
    /// for every parameter, and `step`.
    pub fn state(&self) -> Result<Vec<(String, Tensor)>> {
        let step = i64::try_from(self.step_t).map_err(|_| self.error("the step count is past i64".to_owned()))?;
        let device = self
            .slots
            .first()
            .map_or(candle_core::Device::Cpu, |s| s.var.device().clone());
        let mut out = vec![(STEP.to_owned(), Tensor::new(step, &device)?)];
        for s in &self.slots {
            out.push((format!("{}.exp_avg", s.name), s.first_moment.as_tensor().clone()));
            out.push((format!("{}.exp_avg_sq", s.name), s.second_moment.as_tensor().clone()));
        }
        Ok(out)
    }

    /// Writes the state to `file` (safetensors), atomically.
    pub fn save(&self, file: &Path) -> Result<()> {
        let state = self.state()?;
        let bytes = safetensors::serialize(state.iter().map(|(n, t)| (n.as_str(), t)), None)
            .map_err(|e| file_error(file, format!("encoding: {e}")))?;
        crate::atomic::write(file, &bytes).map_err(|e| file_error(file, format!("writing: {e}")))
    }

    /// Restores the state [`AdamW::save`] wrote. Every parameter's moments must
    /// be there with its shape and dtype, and nothing else; the errors name each
    /// offending tensor, and on error the optimizer is unchanged.
    pub fn load_state(&mut self, file: &Path) -> Result<()> {
        let device = self
            .slots
            .first()
            .map_or(candle_core::Device::Cpu, |s| s.var.device().clone());
        let mut stored: HashMap<String, Tensor> = crate::checkpoint::read(file, &device)?;
        let mut problems = Vec::new();
        let step = match stored.remove(STEP) {
            Some(t) if t.dtype() == DType::I64 && t.rank() == 0 => {
                let n = t.to_scalar::<i64>()?;
                let step = usize::try_from(n).ok();
                if step.is_none() {
                    problems.push(format!("`{STEP}` is {n}"));
                }
                step
            }
            Some(_) => {
                problems.push(format!("`{STEP}` is not an i64 scalar"));
                None
            }
            None => {
                problems.push(format!("no `{STEP}`"));
                None
            }
        };
        let mut moments = Vec::new();
        for s in &self.slots {
            for (suffix, var) in [("exp_avg", &s.first_moment), ("exp_avg_sq", &s.second_moment)] {
                let name = format!("{}.{suffix}", s.name);
                match stored.remove(&name) {
                    None => problems.push(format!("no `{}`", printable(&name))),
                    Some(t) if t.dims() != var.dims() || t.dtype() != var.dtype() => problems.push(format!(
                        "`{}` is {:?} {}, the parameter {:?} {}",
                        printable(&name),
                        t.dims(),
                        t.dtype().as_str(),
                        var.dims(),
                        var.dtype().as_str()
                    )),
                    Some(t) => moments.push((var, t)),
                }
            }
        }
        let mut extra: Vec<String> = stored.keys().map(|k| format!("`{}`", printable(k))).collect();
        if !extra.is_empty() {
            extra.sort();
            problems.push(format!("holds state of no parameter: {}", extra.join(", ")));
        }
        match (problems.is_empty(), step) {
            (true, Some(step)) => {
                for (var, t) in moments {
                    var.set(&t)?;
                }
                self.step_t = step;
                Ok(())
            }
            _ => Err(file_error(file, problems.join("; "))),
        }
    }

    fn error(&self, reason: String) -> Error {
        Error::Config {
            path: String::new(),
            layer: "optimizer".to_owned(),
            reason,
        }
    }
}

fn file_error(file: &Path, reason: String) -> Error {
    Error::Checkpoint {
        file: file.display().to_string(),
        reason: format!("optimizer state: {reason}"),
    }
}

impl Optimizer for AdamW {
    type Config = ParamsAdamW;

    /// Unnamed variables are named by their index, `0`, `1`, ...
    fn new(vars: Vec<Var>, params: ParamsAdamW) -> candle_core::Result<Self> {
        let named = vars.into_iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect();
        Self::named(named, params).map_err(|e| candle_core::Error::Msg(e.to_string()))
    }

    fn learning_rate(&self) -> f64 {
        self.params.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.params.lr = lr;
    }

    /// candle-nn's AdamW step, operation for operation.
    fn step(&mut self, grads: &candle_core::backprop::GradStore) -> candle_core::Result<()> {
        self.step_t += 1;
        let lr = self.params.lr;
        let lr_lambda = lr * self.params.weight_decay;
        let (beta1, beta2) = (self.params.beta1, self.params.beta2);
        // candle-nn's `powi(step as i32)`, for the same bits.
        let t = i32::try_from(self.step_t).unwrap_or(i32::MAX);
        let scale_m = 1f64 / (1f64 - beta1.powi(t));
        let scale_v = 1f64 / (1f64 - beta2.powi(t));
        for s in &self.slots {
            let (theta, m, v) = (&s.var, &s.first_moment, &s.second_moment);
            if let Some(g) = grads.get(theta) {
                let next_m = ((m.as_tensor() * beta1)? + (g * (1.0 - beta1))?)?;
                let next_v = ((v.as_tensor() * beta2)? + (g.sqr()? * (1.0 - beta2))?)?;
                let m_hat = (&next_m * scale_m)?;
                let v_hat = (&next_v * scale_v)?;
                let next_theta = (theta.as_tensor() * (1f64 - lr_lambda))?;
                let adjusted_grad = (m_hat / (v_hat.sqrt()? + self.params.eps)?)?;
                let next_theta = (next_theta - (adjusted_grad * lr)?)?;
                m.set(&next_m)?;
                v.set(&next_v)?;
                theta.set(&next_theta)?;
            }
        }
        Ok(())
    }
}

//! Weights files: safetensors, f64, keyed without a system prefix.
//!
//! A net `f` with layers k = 0, 1, ... stores `f.w{k}` of shape (fan_in, fan_out)
//! (row-major, as numpy writes it) and `f.b{k}` of shape (fan_out,); a `learn`
//! scalar `g` is the tensor `g` of shape (). Tensors nobody asks for are ignored; a
//! missing tensor, a wrong shape or a dtype other than F64 is an error naming it.

use super::mlp::Mlp;
use crate::check::Net;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::BTreeMap;

/// Why weights could not be read, matched or written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WeightsError {
    /// The bytes are not a safetensors file.
    #[error("not a safetensors file: {0}")]
    Format(String),
    /// A tensor the system needs is absent.
    #[error("tensor `{0}` is missing")]
    Missing(String),
    /// A tensor has the wrong shape.
    #[error("tensor `{tensor}` has shape {found:?}, expected {expected:?}")]
    Shape {
        /// Its name.
        tensor: String,
        /// The shape the system needs.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A tensor holds NaN or an infinity.
    #[error("tensor `{tensor}` holds a non-finite value ({value}) at element {index}")]
    NonFinite {
        /// Its name.
        tensor: String,
        /// The flat index of the first non-finite element.
        index: usize,
        /// That element, as text (`NaN`, `inf`).
        value: String,
    },
    /// A tensor is not f64.
    #[error("tensor `{tensor}` has dtype {found}, expected F64")]
    Dtype {
        /// Its name.
        tensor: String,
        /// The dtype in the file.
        found: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
struct Tensor {
    dtype: String,
    shape: Vec<usize>,
    /// The values when the dtype is F64.
    data: Option<Vec<f64>>,
}

/// The tensors of a weights file, by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Weights {
    tensors: BTreeMap<String, Tensor>,
}

impl Weights {
    /// No tensors.
    pub fn new() -> Weights {
        Weights::default()
    }

    /// Parses a safetensors file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Weights, WeightsError> {
        let st =
            SafeTensors::deserialize(bytes).map_err(|e| WeightsError::Format(e.to_string()))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in st.iter() {
            let data: Option<Vec<f64>> = (view.dtype() == Dtype::F64).then(|| {
                view.data()
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                    .collect()
            });
            let bad = data
                .iter()
                .flat_map(|d| d.iter().enumerate())
                .find(|(_, x)| !x.is_finite());
            if let Some((index, &value)) = bad {
                return Err(WeightsError::NonFinite {
                    tensor: name.to_string(),
                    index,
                    value: value.to_string(),
                });
            }
            tensors.insert(
                name.to_string(),
                Tensor {
                    dtype: format!("{:?}", view.dtype()),
                    shape: view.shape().to_vec(),
                    data,
                },
            );
        }
        Ok(Weights { tensors })
    }

    /// The safetensors bytes of every tensor (all F64).
    pub fn to_bytes(&self) -> Result<Vec<u8>, WeightsError> {
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = self
            .tensors
            .iter()
            .filter_map(|(name, t)| {
                let d = t.data.as_ref()?;
                let b: Vec<u8> = d.iter().flat_map(|v| v.to_le_bytes()).collect();
                Some((name.clone(), t.shape.clone(), b))
            })
            .collect();
        let views = bytes
            .iter()
            .map(|(name, shape, b)| {
                TensorView::new(Dtype::F64, shape.clone(), b).map(|v| (name.clone(), v))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| WeightsError::Format(e.to_string()))?;
        safetensors::tensor::serialize(views, None).map_err(|e| WeightsError::Format(e.to_string()))
    }

    /// Adds every tensor of `other`, replacing tensors of the same name.
    pub fn merge(&mut self, other: Weights) {
        self.tensors.extend(other.tensors);
    }

    /// Tensor names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// The shape of tensor `name`, if there is one.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.tensors.get(name).map(|t| t.shape.as_slice())
    }

    /// Sets tensor `name` to `data` (row-major) of shape `shape`; `None` when the
    /// lengths disagree.
    pub fn insert(&mut self, name: &str, shape: &[usize], data: Vec<f64>) -> Option<()> {
        if shape.iter().product::<usize>() != data.len() {
            return None;
        }
        self.tensors.insert(
            name.to_string(),
            Tensor {
                dtype: "F64".into(),
                shape: shape.to_vec(),
                data: Some(data),
            },
        );
        Some(())
    }

    /// The values of tensor `name`, checked against `shape` and the dtype.
    pub fn get(&self, name: &str, shape: &[usize]) -> Result<&[f64], WeightsError> {
        let t = self
            .tensors
            .get(name)
            .ok_or_else(|| WeightsError::Missing(name.to_string()))?;
        if t.shape != shape {
            return Err(WeightsError::Shape {
                tensor: name.to_string(),
                expected: shape.to_vec(),
                found: t.shape.clone(),
            });
        }
        t.data.as_deref().ok_or_else(|| WeightsError::Dtype {
            tensor: name.to_string(),
            found: t.dtype.clone(),
        })
    }

    /// The scalar (shape `()`) tensor `name`: a `learn` parameter.
    pub fn scalar(&self, name: &str) -> Result<f64, WeightsError> {
        Ok(self.get(name, &[])?[0])
    }

    /// Sets the scalar tensor `name`.
    pub fn insert_scalar(&mut self, name: &str, value: f64) {
        let _ = self.insert(name, &[], vec![value]);
    }

    /// The MLP of `net`'s shape with the weights `net.name.w{k}`, `net.name.b{k}`.
    pub fn mlp(&self, net: &Net) -> Result<Mlp, WeightsError> {
        let mut mlp = Mlp::for_net(net);
        for k in 0..mlp.n_layers() {
            let (fi, fo) = (mlp.widths()[k], mlp.widths()[k + 1]);
            let w = self.get(&format!("{}.w{k}", net.name), &[fi, fo])?.to_vec();
            let b = self.get(&format!("{}.b{k}", net.name), &[fo])?.to_vec();
            let (wr, br) = mlp.layer_ranges(k);
            mlp.params_mut()[wr].copy_from_slice(&w);
            mlp.params_mut()[br].copy_from_slice(&b);
        }
        Ok(mlp)
    }

    /// Stores `mlp`'s parameters as `name.w{k}`, `name.b{k}`.
    pub fn insert_mlp(&mut self, name: &str, mlp: &Mlp) {
        for k in 0..mlp.n_layers() {
            let (fi, fo) = (mlp.widths()[k], mlp.widths()[k + 1]);
            let (w, b) = mlp.layer(k);
            let _ = self.insert(&format!("{name}.w{k}"), &[fi, fo], w.to_vec());
            let _ = self.insert(&format!("{name}.b{k}"), &[fo], b.to_vec());
        }
    }
}

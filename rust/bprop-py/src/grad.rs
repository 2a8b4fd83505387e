//! Gradients as the core sees them ([`PyGrad`]): a native `f64` for float-valued nodes, an owned
//! float64 array for array-valued ones, the reached components of a container, any Python object
//! otherwise (accumulated with the generic `bprop.classes.add`), and their arithmetic for the
//! sweep (`Backprop`, `NativeGrad`). Reading them from Python and handing them back is in
//! `convert.rs`.

use std::sync::Arc;

use bprop_core::{Array, Backprop, IntoArrayError, NativeGrad, Parts};
use pyo3::prelude::*;

use crate::errors;
use crate::python;

/// A gradient as the core's sweep holds it (see `convert.rs` for the conversions from and to
/// Python).
pub enum PyGrad {
    /// The gradient of a float-valued node.
    Float(f64),
    /// The gradient of a float64-array node, owned. Boxed so that a gradient slot stays two
    /// words (sweeps keep one slot per node).
    Array(Box<Array>),
    /// The gradient of any other node: a Python value, accumulated by the package's `add`.
    Object(Py<PyAny>),
    /// Some components of a container (a field read, a split): see `bprop_core::parts`.
    Parts(Box<PartGrads>),
}

pub type PartGrads = Parts<PyGrad, Arc<Layout>>;

/// What a container gradient needs to become a whole value.
pub enum Layout {
    /// A float64 array of this shape, taken apart along axis 0: rebuilt natively.
    Array(Vec<usize>),
    /// Any other container, kept by value: rebuilt by `bprop._containers.embed`.
    Object(Py<PyAny>),
}

impl PyGrad {
    pub fn array(a: Array) -> Self {
        PyGrad::Array(Box::new(a))
    }

    /// The same gradient as a whole value (never `Parts`): arrays are rebuilt natively, other
    /// containers by `bprop._containers.embed` from the container's value.
    pub fn whole(self) -> PyResult<PyGrad> {
        let PyGrad::Parts(p) = self else {
            return Ok(self);
        };
        let (layout, slots) = p.into_slots();
        match layout.as_ref() {
            Layout::Array(shape) => whole_array(shape, slots)
                .map(PyGrad::array)
                .map_err(|e| Python::attach(|py| errors::from_row_error(py, e))),
            Layout::Object(value) => Python::attach(|py| {
                let slots = slots
                    .into_iter()
                    .map(|g| g.map_or_else(|| Ok(py.None()), |g| g.into_py(py)))
                    .collect::<PyResult<Vec<_>>>()?;
                Ok(PyGrad::Object(
                    python::containers_embed(py)?
                        .call1((value.bind(py), slots))?
                        .unbind(),
                ))
            }),
        }
    }
}

/// Why the gradients of an array's rows do not make a gradient of the array (the error adapter,
/// `errors::from_row_error`, turns it into a Python exception).
#[derive(Debug)]
pub enum RowError {
    /// The gradient of row `row` has shape `got`, but the row has shape `want`.
    Shape {
        row: usize,
        got: Vec<usize>,
        want: Vec<usize>,
    },
    /// The gradient of row `row` of an array of shape `shape` is not a real number or array.
    NotReal { row: usize, shape: Vec<usize> },
}

fn not_real(row: usize, shape: &[usize]) -> RowError {
    RowError::NotReal {
        row,
        shape: shape.to_vec(),
    }
}

/// An array of `shape` rebuilt from its rows' gradients: zeros, then each reached row.
fn whole_array(shape: &[usize], slots: Vec<Option<PyGrad>>) -> Result<Array, RowError> {
    let mut out = Array::zeros(shape);
    for (i, g) in slots.into_iter().enumerate() {
        let mut row = out.index_axis_mut(ndarray::Axis(0), i);
        let a = match g {
            None => continue,
            Some(PyGrad::Float(x)) if row.ndim() == 0 => {
                row.fill(x);
                continue;
            }
            Some(PyGrad::Array(a)) => *a,
            Some(PyGrad::Parts(p)) => {
                let (layout, rows) = p.into_slots();
                match layout.as_ref() {
                    Layout::Array(inner) => whole_array(inner, rows)?,
                    Layout::Object(_) => return Err(not_real(i, shape)),
                }
            }
            Some(PyGrad::Float(_) | PyGrad::Object(_)) => return Err(not_real(i, shape)),
        };
        if a.shape() != row.shape() {
            return Err(RowError::Shape {
                row: i,
                got: a.shape().to_vec(),
                want: row.shape().to_vec(),
            });
        }
        row.assign(&a);
    }
    Ok(out)
}

fn call_generic(
    f: impl for<'py> FnOnce(Python<'py>) -> PyResult<&'py Bound<'py, PyAny>>,
    args: impl for<'py> FnOnce(Python<'py>) -> PyResult<Vec<Py<PyAny>>>,
) -> PyResult<PyGrad> {
    Python::attach(|py| {
        let args = pyo3::types::PyTuple::new(py, args(py)?)?;
        Ok(PyGrad::Object(f(py)?.call1(args)?.unbind()))
    })
}

impl Backprop for PyGrad {
    type Error = PyErr;

    fn zero_like(&self) -> PyResult<Self> {
        match self {
            PyGrad::Float(_) => Ok(PyGrad::Float(0.0)),
            PyGrad::Array(a) => Ok(PyGrad::array(Array::zeros(a.raw_dim()))),
            PyGrad::Object(o) => call_generic(python::generic_zero, |py| Ok(vec![o.clone_ref(py)])),
            PyGrad::Parts(p) => Ok(PyGrad::Parts(Box::new(Parts::from_slots(
                p.layout().clone(),
                (0..p.len()).map(|_| None).collect(),
            )))),
        }
    }

    fn one_like(&self) -> PyResult<Self> {
        match self {
            PyGrad::Float(_) => Ok(PyGrad::Float(1.0)),
            PyGrad::Array(a) => Ok(PyGrad::array(Array::ones(a.raw_dim()))),
            PyGrad::Object(o) => call_generic(python::generic_one, |py| Ok(vec![o.clone_ref(py)])),
            PyGrad::Parts(p) => match p.layout().as_ref() {
                Layout::Array(shape) => Ok(PyGrad::array(Array::ones(shape.as_slice()))),
                Layout::Object(v) => {
                    call_generic(python::generic_one, |py| Ok(vec![v.clone_ref(py)]))
                }
            },
        }
    }

    #[inline]
    fn add(self, other: Self) -> PyResult<Self> {
        match (self, other) {
            (PyGrad::Float(a), PyGrad::Float(b)) => Ok(PyGrad::Float(a + b)),
            (PyGrad::Array(mut a), PyGrad::Array(b)) if a.shape() == b.shape() => {
                bprop_core::array::add_assign(&mut a, &b);
                Ok(PyGrad::Array(a))
            }
            // Parts of one container: only the reached slots are touched, in place.
            (PyGrad::Parts(a), PyGrad::Parts(b)) if a.len() == b.len() => {
                Ok(PyGrad::Parts(Box::new((*a).merge(*b)?)))
            }
            (a @ PyGrad::Parts(_), b) | (b, a @ PyGrad::Parts(_)) => a.whole()?.add(b.whole()?),
            (a, b) => call_generic(python::generic_add, move |py| {
                Ok(vec![a.into_py(py)?, b.into_py(py)?])
            }),
        }
    }
}

impl NativeGrad for PyGrad {
    #[inline]
    fn from_f64(x: f64) -> Self {
        PyGrad::Float(x)
    }
    #[inline]
    fn as_f64(&self) -> Option<f64> {
        match self {
            PyGrad::Float(x) => Some(*x),
            PyGrad::Array(_) | PyGrad::Object(_) | PyGrad::Parts(_) => None,
        }
    }
    fn from_array(a: Array) -> Option<Self> {
        Some(PyGrad::array(a))
    }
    fn into_array(self) -> Result<Array, IntoArrayError<PyErr>> {
        match self {
            PyGrad::Float(x) => Ok(ndarray::arr0(x).into_dyn()),
            PyGrad::Array(a) => Ok(*a),
            PyGrad::Parts(p) => {
                let (layout, slots) = p.into_slots();
                match layout.as_ref() {
                    Layout::Array(shape) => whole_array(shape, slots).map_err(|e| {
                        IntoArrayError::Failed(Python::attach(|py| errors::from_row_error(py, e)))
                    }),
                    Layout::Object(_) => Err(IntoArrayError::NotArray),
                }
            }
            PyGrad::Object(_) => Err(IntoArrayError::NotArray),
        }
    }
    fn array_mut(&mut self) -> Option<&mut Array> {
        match self {
            PyGrad::Array(a) => Some(a),
            _ => None,
        }
    }
}

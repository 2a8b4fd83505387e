//! Gradients as the core sees them: a native `f64` for float-valued nodes, an owned float64
//! array for array-valued ones, any Python object otherwise (accumulated with the generic
//! `bprop.classes.add`).

use bprop_core::{Array, Backprop, NativeGrad};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt};

use crate::python;

pub enum PyGrad {
    F(f64),
    A(Array),
    O(Py<PyAny>),
}

impl PyGrad {
    /// The gradient as a Python value; arrays become fresh numpy arrays (moved, not copied).
    pub fn into_py(self, py: Python<'_>) -> Py<PyAny> {
        match self {
            PyGrad::F(x) => PyFloat::new(py, x).into_any().unbind(),
            PyGrad::A(a) => crate::array::to_numpy(py, a),
            PyGrad::O(o) => o,
        }
    }
}

/// Read a Python number as the gradient of a float-valued node: floats, ints and 0-d numpy
/// values are accepted; anything else is a type error naming `what`.
pub fn scalar_from_py(obj: &Bound<'_, PyAny>, what: impl FnOnce() -> String) -> PyResult<f64> {
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(f.value());
    }
    if obj.is_instance_of::<PyInt>() {
        return obj.extract::<f64>();
    }
    let zero_dim = obj
        .getattr(pyo3::intern!(obj.py(), "ndim"))
        .and_then(|n| n.extract::<usize>())
        .map(|n| n == 0)
        .unwrap_or(false);
    if zero_dim {
        if let Ok(x) = obj.extract::<f64>() {
            return Ok(x);
        }
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "{}: expected a real number, got {} ({})",
        what(),
        obj.get_type().name().map(|n| n.to_string()).unwrap_or_default(),
        obj.repr().map(|r| r.to_string()).unwrap_or_default()
    )))
}

fn call_generic(
    f: impl for<'py> FnOnce(Python<'py>) -> PyResult<&'py Bound<'py, PyAny>>,
    args: impl for<'py> FnOnce(Python<'py>) -> Vec<Py<PyAny>>,
) -> PyResult<PyGrad> {
    Python::attach(|py| {
        let args = pyo3::types::PyTuple::new(py, args(py))?;
        Ok(PyGrad::O(f(py)?.call1(args)?.unbind()))
    })
}

impl Backprop for PyGrad {
    type Error = PyErr;

    fn zero_like(&self) -> PyResult<Self> {
        match self {
            PyGrad::F(_) => Ok(PyGrad::F(0.0)),
            PyGrad::A(a) => Ok(PyGrad::A(Array::zeros(a.raw_dim()))),
            PyGrad::O(o) => call_generic(python::generic_zero, |py| vec![o.clone_ref(py)]),
        }
    }

    fn one_like(&self) -> PyResult<Self> {
        match self {
            PyGrad::F(_) => Ok(PyGrad::F(1.0)),
            PyGrad::A(a) => Ok(PyGrad::A(Array::ones(a.raw_dim()))),
            PyGrad::O(o) => call_generic(python::generic_one, |py| vec![o.clone_ref(py)]),
        }
    }

    #[inline]
    fn add(self, other: Self) -> PyResult<Self> {
        match (self, other) {
            (PyGrad::F(a), PyGrad::F(b)) => Ok(PyGrad::F(a + b)),
            (PyGrad::A(mut a), PyGrad::A(b)) if a.shape() == b.shape() => {
                a += &b;
                Ok(PyGrad::A(a))
            }
            (a, b) => call_generic(python::generic_add, move |py| vec![a.into_py(py), b.into_py(py)]),
        }
    }
}

impl NativeGrad for PyGrad {
    #[inline]
    fn from_f64(x: f64) -> Self {
        PyGrad::F(x)
    }
    #[inline]
    fn as_f64(&self) -> Option<f64> {
        match self {
            PyGrad::F(x) => Some(*x),
            PyGrad::A(_) | PyGrad::O(_) => None,
        }
    }
    fn from_array(a: Array) -> Option<Self> {
        Some(PyGrad::A(a))
    }
    fn into_array(self) -> Result<Array, Self> {
        match self {
            PyGrad::F(x) => Ok(ndarray::arr0(x).into_dyn()),
            PyGrad::A(a) => Ok(a),
            o @ PyGrad::O(_) => Err(o),
        }
    }
    fn array_mut(&mut self) -> Option<&mut Array> {
        match self {
            PyGrad::A(a) => Some(a),
            _ => None,
        }
    }
}

/// Read a Python value as the gradient of an array of `shape`: a real array (or, for a 0-d
/// array, a number) of exactly that shape, copied into an owned array. `Err` carries the
/// offending shape for the caller's `ShapeError`, or `None` if the value is not an array.
pub fn array_from_py(obj: &Bound<'_, PyAny>, shape: &[usize]) -> PyResult<Result<Array, Option<Vec<usize>>>> {
    if shape.is_empty() {
        if let Ok(x) = obj.extract::<f64>() {
            if obj.cast::<pyo3::types::PyFloat>().is_ok() || obj.is_instance_of::<PyInt>() {
                return Ok(Ok(ndarray::arr0(x).into_dyn()));
            }
        }
    }
    let Some(data) = crate::array::numpy_data(obj)? else { return Ok(Err(None)) };
    let view = bprop_core::ArrayData::data(&*data);
    if view.shape() != shape {
        return Ok(Err(Some(view.shape().to_vec())));
    }
    Ok(Ok(view.to_owned()))
}

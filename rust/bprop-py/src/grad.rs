//! Gradients as the core sees them: a native `f64` for float-valued nodes, any Python object
//! otherwise (accumulated with the generic `bprop.classes.add`).

use bprop_core::{Backprop, ScalarGrad};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt};

use crate::python;

pub enum PyGrad {
    F(f64),
    O(Py<PyAny>),
}

impl PyGrad {
    pub fn into_py(self, py: Python<'_>) -> Py<PyAny> {
        match self {
            PyGrad::F(x) => PyFloat::new(py, x).into_any().unbind(),
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
            PyGrad::O(o) => call_generic(python::generic_zero, |py| vec![o.clone_ref(py)]),
        }
    }

    fn one_like(&self) -> PyResult<Self> {
        match self {
            PyGrad::F(_) => Ok(PyGrad::F(1.0)),
            PyGrad::O(o) => call_generic(python::generic_one, |py| vec![o.clone_ref(py)]),
        }
    }

    #[inline]
    fn add(self, other: Self) -> PyResult<Self> {
        match (self, other) {
            (PyGrad::F(a), PyGrad::F(b)) => Ok(PyGrad::F(a + b)),
            (a, b) => call_generic(python::generic_add, move |py| vec![a.into_py(py), b.into_py(py)]),
        }
    }
}

impl ScalarGrad for PyGrad {
    #[inline]
    fn from_f64(x: f64) -> Self {
        PyGrad::F(x)
    }
    #[inline]
    fn as_f64(&self) -> Option<f64> {
        match self {
            PyGrad::F(x) => Some(*x),
            PyGrad::O(_) => None,
        }
    }
}

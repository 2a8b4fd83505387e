//! Gradients as the core sees them: a native `f64` for float-valued nodes, an owned float64
//! array for array-valued ones, the reached components of a container, any Python object
//! otherwise (accumulated with the generic `bprop.classes.add`).

use std::sync::Arc;

use bprop_core::{Array, Backprop, NativeGrad, Parts};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt};

use crate::bvar::{BVar, Val};
use crate::python;

pub enum PyGrad {
    F(f64),
    /// Boxed so that a gradient slot stays two words (sweeps keep one slot per node).
    A(Box<Array>),
    O(Py<PyAny>),
    /// Some components of a container (a field read, a split): see `bprop_core::parts`.
    P(Box<PartGrads>),
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
        PyGrad::A(Box::new(a))
    }

    /// The gradient as a Python value; arrays become fresh numpy arrays (moved, not copied),
    /// container parts become the whole container (unreached components zero).
    pub fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(match self {
            PyGrad::F(x) => PyFloat::new(py, x).into_any().unbind(),
            PyGrad::A(a) => crate::array::to_numpy(py, *a),
            PyGrad::O(o) => o,
            p @ PyGrad::P(_) => return p.whole()?.into_py(py),
        })
    }

    fn layout(&self) -> Option<&Layout> {
        match self {
            PyGrad::P(p) => Some(p.layout().as_ref()),
            _ => None,
        }
    }

    /// The same gradient as a whole value (never `P`): arrays are rebuilt natively, other
    /// containers by `bprop._containers.embed` from the container's value.
    fn whole(self) -> PyResult<PyGrad> {
        let PyGrad::P(p) = self else { return Ok(self) };
        let (layout, slots) = p.into_slots();
        match layout.as_ref() {
            Layout::Array(shape) => Ok(PyGrad::array(whole_array(shape, slots)?)),
            Layout::Object(value) => Python::attach(|py| {
                let slots = slots
                    .into_iter()
                    .map(|g| g.map_or_else(|| Ok(py.None()), |g| g.into_py(py)))
                    .collect::<PyResult<Vec<_>>>()?;
                Ok(PyGrad::O(
                    python::containers_embed(py)?
                        .call1((value.bind(py), slots))?
                        .unbind(),
                ))
            }),
        }
    }
}

/// An array of `shape` rebuilt from its rows' gradients: zeros, then each reached row.
fn whole_array(shape: &[usize], slots: Vec<Option<PyGrad>>) -> PyResult<Array> {
    let mut out = Array::zeros(shape);
    for (i, g) in slots.into_iter().enumerate() {
        let mut row = out.index_axis_mut(ndarray::Axis(0), i);
        match g {
            None => {}
            Some(PyGrad::F(x)) if row.ndim() == 0 => row.fill(x),
            Some(g @ (PyGrad::A(_) | PyGrad::P(_))) => {
                let a = match g.whole()? {
                    PyGrad::A(a) => a,
                    _ => {
                        return Err(PyTypeError::new_err(
                            "internal error: array row rebuilt as a non-array",
                        ))
                    }
                };
                if a.shape() != row.shape() {
                    return Err(PyTypeError::new_err(format!(
                        "gradient of row {i} has shape {:?}, but the row has shape {:?}",
                        a.shape(),
                        row.shape()
                    )));
                }
                row.assign(&a);
            }
            Some(_) => {
                return Err(PyTypeError::new_err(format!(
                "gradient of row {i} of an array of shape {shape:?} is not a real number or array"
            )))
            }
        }
    }
    Ok(out)
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
        obj.get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default(),
        obj.repr().map(|r| r.to_string()).unwrap_or_default()
    )))
}

fn call_generic(
    f: impl for<'py> FnOnce(Python<'py>) -> PyResult<&'py Bound<'py, PyAny>>,
    args: impl for<'py> FnOnce(Python<'py>) -> PyResult<Vec<Py<PyAny>>>,
) -> PyResult<PyGrad> {
    Python::attach(|py| {
        let args = pyo3::types::PyTuple::new(py, args(py)?)?;
        Ok(PyGrad::O(f(py)?.call1(args)?.unbind()))
    })
}

impl Backprop for PyGrad {
    type Error = PyErr;

    fn zero_like(&self) -> PyResult<Self> {
        match self {
            PyGrad::F(_) => Ok(PyGrad::F(0.0)),
            PyGrad::A(a) => Ok(PyGrad::array(Array::zeros(a.raw_dim()))),
            PyGrad::O(o) => call_generic(python::generic_zero, |py| Ok(vec![o.clone_ref(py)])),
            PyGrad::P(p) => Ok(PyGrad::P(Box::new(Parts::from_slots(
                p.layout().clone(),
                (0..p.len()).map(|_| None).collect(),
            )))),
        }
    }

    fn one_like(&self) -> PyResult<Self> {
        match self {
            PyGrad::F(_) => Ok(PyGrad::F(1.0)),
            PyGrad::A(a) => Ok(PyGrad::array(Array::ones(a.raw_dim()))),
            PyGrad::O(o) => call_generic(python::generic_one, |py| Ok(vec![o.clone_ref(py)])),
            PyGrad::P(p) => match p.layout().as_ref() {
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
            (PyGrad::F(a), PyGrad::F(b)) => Ok(PyGrad::F(a + b)),
            (PyGrad::A(mut a), PyGrad::A(b)) if a.shape() == b.shape() => {
                *a += &*b;
                Ok(PyGrad::A(a))
            }
            // Parts of one container: only the reached slots are touched, in place.
            (PyGrad::P(a), PyGrad::P(b)) if a.len() == b.len() => {
                Ok(PyGrad::P(Box::new((*a).add(*b)?)))
            }
            (a @ PyGrad::P(_), b) | (b, a @ PyGrad::P(_)) => a.whole()?.add(b.whole()?),
            (a, b) => call_generic(python::generic_add, move |py| {
                Ok(vec![a.into_py(py)?, b.into_py(py)?])
            }),
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
            PyGrad::A(_) | PyGrad::O(_) | PyGrad::P(_) => None,
        }
    }
    fn from_array(a: Array) -> Option<Self> {
        Some(PyGrad::array(a))
    }
    fn into_array(self) -> Result<Array, Self> {
        match self {
            PyGrad::F(x) => Ok(ndarray::arr0(x).into_dyn()),
            PyGrad::A(a) => Ok(*a),
            g @ PyGrad::P(_) if matches!(g.layout(), Some(Layout::Array(_))) => match g.whole() {
                Ok(PyGrad::A(a)) => Ok(*a),
                // A malformed row fails the sweep as "not a real array" (the sweep's own error).
                _ => Err(PyGrad::F(f64::NAN)),
            },
            g @ (PyGrad::O(_) | PyGrad::P(_)) => Err(g),
        }
    }
    fn array_mut(&mut self) -> Option<&mut Array> {
        match self {
            PyGrad::A(a) => Some(a),
            _ => None,
        }
    }
}

/// What an argument of a recorded node is, which decides how a Python gradient for it is read.
pub enum Kind {
    /// Not on the tape: its gradient is dropped unchecked (it may be of any type).
    Constant,
    /// A float-valued BVar: its gradient must be a real number.
    Float,
    /// A float64-array BVar: its gradient must be a real array of the same shape.
    Array(Vec<usize>),
    /// Any other BVar: its gradient is kept as the Python object.
    Object,
}

impl Kind {
    pub fn of(var: Option<&BVar>) -> Kind {
        match var {
            Some(v) if v.tape.is_some() => match (&v.val, v.val.array_shape()) {
                (Val::F(_), _) => Kind::Float,
                (_, Some(shape)) => Kind::Array(shape),
                _ => Kind::Object,
            },
            _ => Kind::Constant,
        }
    }

    /// The Python gradient `g` of such an argument (`None`: no contribution). `what` names it
    /// in errors, e.g. "op f: pullback gradient for argument 0".
    pub fn gradient(
        &self,
        py: Python<'_>,
        g: &Bound<'_, PyAny>,
        what: &dyn Fn() -> String,
    ) -> PyResult<Option<PyGrad>> {
        if g.is_none() {
            return Ok(None);
        }
        match self {
            Kind::Constant => Ok(None),
            Kind::Float => Ok(Some(PyGrad::F(scalar_from_py(g, || {
                format!("{} (a float)", what())
            })?))),
            Kind::Array(shape) => match array_from_py(g, shape)? {
                Ok(a) => Ok(Some(PyGrad::array(a))),
                Err(Some(got)) => Err(python::error(
                    python::shape_error(py),
                    format!(
                        "{} has shape {got:?}, but the argument has shape {shape:?}",
                        what()
                    ),
                )),
                Err(None) => Err(PyTypeError::new_err(format!(
                    "{} must be a real array of shape {shape:?}, got {}",
                    what(),
                    g.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ))),
            },
            Kind::Object => Ok(Some(PyGrad::O(g.clone().unbind()))),
        }
    }
}

/// Read a Python value as the gradient of an array of `shape`: a real array (or, for a 0-d
/// array, a number) of exactly that shape, copied into an owned array. `Err` carries the
/// offending shape for the caller's `ShapeError`, or `None` if the value is not an array.
pub fn array_from_py(
    obj: &Bound<'_, PyAny>,
    shape: &[usize],
) -> PyResult<Result<Array, Option<Vec<usize>>>> {
    if shape.is_empty() {
        if let Ok(x) = obj.extract::<f64>() {
            if obj.cast::<pyo3::types::PyFloat>().is_ok() || obj.is_instance_of::<PyInt>() {
                return Ok(Ok(ndarray::arr0(x).into_dyn()));
            }
        }
    }
    // Read in place and copied at once: the tape never keeps the caller's memory.
    let read = |view: ndarray::ArrayViewD<'_, f64>| {
        if view.shape() == shape {
            Ok(view.to_owned())
        } else {
            Err(Some(view.shape().to_vec()))
        }
    };
    Ok(crate::array::numpy_view(obj, read)?.unwrap_or(Err(None)))
}

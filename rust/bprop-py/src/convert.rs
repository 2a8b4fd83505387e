//! Every conversion between Python values and the Rust encodings of the bindings, each once.
//!
//! The encodings of a value:
//! * the core's `Value` (`Scalar(f64)` or `Array(Shared)`): what native kernels compute on;
//! * [`Val`] (`bvar.rs`): what a BVar holds: a native `Float`, a frozen float64 `Array` shared
//!   with the core, or any other Python `Object`;
//! * [`PyGrad`] (`grad.rs`): a gradient during a sweep: `Float`, owned `Array`, Python `Object`,
//!   or the reached `Parts` of a container;
//! * [`Kind`] (here): for each argument of a node recorded from Python, how a gradient that Python
//!   code returns for it is read into a `PyGrad`.
//!
//! Python to Rust: [`real_number`] reads plain numbers, [`array_value`] real numpy arrays (as
//! frozen memory, `frozen.rs`); on them are built [`Val::from_py`], the kernel arguments
//! [`scalar_arg`] (the per-op hot path) and [`native_arg`], [`kept_arg`] for plain arguments of
//! recorded Python ops, and the gradient readers [`Kind::gradient`] and [`seed_gradient`] (with
//! [`scalar_gradient`] and [`array_gradient`]); [`basic_index`] reads numpy's basic index keys
//! for the native indexing kernel. Rust to Python: [`Val::to_py`] (frozen arrays as
//! they are) and [`PyGrad::into_py`] (fresh, writable arrays).

use std::sync::Arc;

use bprop_core::array::{Arg, Array, Shared, SliceInfoElem, Value};
use bprop_core::Scalar;
use numpy::npyffi::NPY_ORDER;
use numpy::{
    PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PySlice, PyTuple};

use crate::bvar::{BVar, Val};
use crate::errors::{self, type_name};
use crate::frozen::{self, NumpyData};
use crate::grad::PyGrad;
use crate::tape::Tape;

// ---------------------------------------------------------------------------------------------
// Plain Python values

/// A plain real number: a float (or float subclass, such as numpy.float64) or an int (bools
/// too), read as f64. `None` for anything else; `Some(Err)` for an int too large for a float.
#[inline]
pub fn real_number(obj: &Bound<'_, PyAny>) -> Option<PyResult<f64>> {
    if let Ok(f) = obj.cast::<PyFloat>() {
        Some(Ok(f.value()))
    } else if obj.is_instance_of::<PyInt>() {
        Some(obj.extract::<f64>())
    } else {
        None
    }
}

/// `obj` as a real numpy array (float, integer or boolean dtype, subclasses included); complex,
/// object and other arrays are not real (they take the generic path).
fn real_array<'a, 'py>(obj: &'a Bound<'py, PyAny>) -> Option<&'a Bound<'py, PyUntypedArray>> {
    let arr = obj.cast::<PyUntypedArray>().ok()?;
    matches!(arr.dtype().kind(), b'i' | b'u' | b'b' | b'f').then_some(arr)
}

/// A real numpy array as frozen float64 data: frozen arrays (BVar values and views of them) are
/// shared as they are; any other float64, integer, boolean or float32 array is snapshotted (see
/// `frozen.rs`). `None` for anything else (complex, object, not an array).
pub fn array_value(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arc<NumpyData>>> {
    real_array(obj).map(frozen::freeze).transpose()
}

/// The numpy array behind a shared value (every array value of the bindings is one).
pub fn numpy_of(py: Python<'_>, data: &Shared) -> Py<PyAny> {
    match data.as_any().downcast_ref::<NumpyData>() {
        Some(n) => n.object(py),
        // Every `Shared` the bindings make comes from `frozen::freeze` or `frozen::share_owned`.
        None => unreachable!("array values of the bindings are numpy arrays"),
    }
}

/// A plain argument of a recorded Python op as the op may keep it (its forward and pullback see
/// this, and the pullback runs at sweep time): a frozen array as it is; any other real float64
/// array as a frozen snapshot; a numpy array of another dtype (an index array, a mask) as a
/// private read-only copy of the same dtype; anything else (ndarray subclasses too) as it is.
pub fn kept_arg(obj: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let py = obj.py();
    // Subclasses (masked arrays, matrices) are passed as they are: a copy could lose what they add.
    let Ok(arr) = obj.cast::<PyUntypedArray>() else {
        return Ok(obj.clone().unbind());
    };
    if unsafe { numpy::npyffi::PyArray_CheckExact(py, obj.as_ptr()) } == 0 {
        return Ok(obj.clone().unbind());
    }
    if obj.cast::<PyArrayDyn<f64>>().is_ok() {
        return Ok(frozen::freeze(arr)?.object(py));
    }
    frozen::read_only_copy(arr)
}

// ---------------------------------------------------------------------------------------------
// BVar values

impl Val {
    /// Floats (and float subclasses such as numpy.float64) and real numpy arrays (converted to
    /// float64) are native; anything else is kept as a Python object.
    pub fn from_py(v: Bound<'_, PyAny>) -> PyResult<Val> {
        if let Ok(f) = v.cast::<PyFloat>() {
            return Ok(Val::Float(f.value()));
        }
        Ok(match array_value(&v)? {
            Some(d) => Val::Array(d),
            None => Val::Object(v.unbind()),
        })
    }

    /// The plain value: a float, the frozen numpy array itself, or the object.
    pub fn to_py(&self, py: Python<'_>) -> Py<PyAny> {
        match self {
            Val::Float(x) => PyFloat::new(py, *x).into_any().unbind(),
            Val::Array(a) => numpy_of(py, a),
            Val::Object(o) => o.clone_ref(py),
        }
    }

    /// A kernel's result.
    pub fn from_core(value: Value) -> Val {
        match value {
            Value::Scalar(x) => Val::Float(x),
            // a 0-d result is a float, as numpy's ufuncs and reductions give scalars (the node's
            // gradient then comes as a float, which array nodes take as a 0-d array)
            Value::Array(a) if a.data().ndim() == 0 => {
                Val::Float(a.data().iter().copied().next().unwrap_or(f64::NAN))
            }
            Value::Array(a) => Val::Array(a),
        }
    }

    /// The value as a kernel argument; `None` for objects.
    pub fn to_core(&self) -> Option<Value> {
        match self {
            Val::Float(x) => Some(Value::Scalar(*x)),
            Val::Array(a) => Some(Value::Array(a.clone())),
            Val::Object(_) => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Arguments of native kernels

/// Whether `v` is recorded on a nested run's tape, which takes no native nodes (see
/// `Tape::parent`): ops on it go to the Python-level rules.
#[inline]
pub fn on_nested_tape(v: &BVar) -> bool {
    v.tape.as_ref().is_some_and(|t| t.get().is_nested())
}

/// Whether any of `args` is a BVar on a nested run's tape.
pub fn any_on_nested_tape(args: &[&Bound<'_, PyAny>]) -> bool {
    args.iter()
        .any(|a| a.cast::<BVar>().is_ok_and(|v| on_nested_tape(v.get())))
}

/// A float argument of a native kernel: a float-valued BVar or a plain real number. The fast
/// path of [`native_arg`] for the per-op scalar kernels.
pub struct ScalarArg<'a> {
    pub tape: Option<&'a Py<Tape>>,
    pub scalar: Scalar,
    pub is_bvar: bool,
}

#[inline]
pub fn scalar_arg<'a>(obj: &'a Bound<'_, PyAny>) -> Option<ScalarArg<'a>> {
    if let Ok(v) = obj.cast::<BVar>() {
        let v = v.get();
        return match v.val {
            Val::Float(value) => Some(ScalarArg {
                tape: v.tape.as_ref(),
                scalar: Scalar {
                    value,
                    node: v.tape.as_ref().map(|_| v.node),
                },
                is_bvar: true,
            }),
            Val::Array(_) | Val::Object(_) => None,
        };
    }
    let value = real_number(obj)?.ok()?;
    Some(ScalarArg {
        tape: None,
        scalar: Scalar::constant(value),
        is_bvar: false,
    })
}

/// A native argument: a float or array BVar, or a plain float, int or real numpy array.
pub struct NativeArg<'a> {
    pub arg: Arg,
    pub tape: Option<&'a Py<Tape>>,
    pub is_bvar: bool,
}

/// `obj` as an argument of a native kernel; `None` if it is not native (the generic path).
pub fn native_arg<'a>(obj: &'a Bound<'_, PyAny>) -> PyResult<Option<NativeArg<'a>>> {
    if let Ok(v) = obj.cast::<BVar>() {
        let v = v.get();
        if on_nested_tape(v) {
            return Ok(None);
        }
        let Some(value) = v.val.to_core() else {
            return Ok(None);
        };
        let node = v.tape.as_ref().map(|_| v.node);
        return Ok(Some(NativeArg {
            arg: Arg { value, node },
            tape: v.tape.as_ref(),
            is_bvar: true,
        }));
    }
    let value = match real_number(obj) {
        Some(Ok(x)) => Value::Scalar(x),
        Some(Err(_)) => return Ok(None),
        None => match array_value(obj)? {
            Some(d) => Value::Array(d),
            None => return Ok(None),
        },
    };
    Ok(Some(NativeArg {
        arg: Arg { value, node: None },
        tape: None,
        is_bvar: false,
    }))
}

// ---------------------------------------------------------------------------------------------
// Index keys

/// An integer index array on the first axis (`v[idx]`, `v[[0, 0, 2]]`: a numpy int64 array or
/// a list of Python integers, of any shape) resolved against `n` rows for the native gather:
/// the rows (negative ones counted from the end) and the index's shape. `None` for any other
/// key, and for a row out of range (numpy's own IndexError is raised on the package's path).
pub fn row_index(key: &Bound<'_, PyAny>, n: usize) -> PyResult<Option<(Vec<usize>, Vec<usize>)>> {
    let (raw, shape): (Vec<i64>, Vec<usize>) = if let Ok(a) = key.cast::<PyArrayDyn<i64>>() {
        // (a misaligned index array goes to numpy's own indexing)
        if a.ndim() == 0 || !frozen::is_aligned(a.as_untyped()) {
            return Ok(None);
        }
        let ro = a.readonly();
        let raw = match ro.as_slice() {
            Ok(s) => s.to_vec(),
            Err(_) => ro.as_array().iter().copied().collect(),
        };
        (raw, a.shape().to_vec())
    } else if let Ok(l) = key.cast::<pyo3::types::PyList>() {
        let mut raw = Vec::with_capacity(l.len());
        for item in l.iter() {
            if item.is_instance_of::<PyBool>() || !item.is_instance_of::<PyInt>() {
                return Ok(None);
            }
            raw.push(item.extract::<i64>()?);
        }
        let len = raw.len();
        (raw, vec![len])
    } else {
        return Ok(None);
    };
    let n = n as i64;
    let mut rows = Vec::with_capacity(raw.len());
    for r in raw {
        let r = if r < 0 { r + n } else { r };
        if !(0..n).contains(&r) {
            return Ok(None);
        }
        rows.push(r as usize);
    }
    Ok(Some((rows, shape)))
}
/// numpy's basic index (`v[1:3]`, `v[:, 0]`, `v[..., None]`) resolved against `shape` for the
/// native kernel. `None` for everything else, which the package's indexing handles: a lone
/// integer (a row, read as a component), integer and boolean arrays, and invalid keys (numpy's
/// own error is raised there).
pub fn basic_index(
    key: &Bound<'_, PyAny>,
    shape: &[usize],
) -> PyResult<Option<Vec<SliceInfoElem>>> {
    let items: Vec<Bound<'_, PyAny>> = match key.cast::<PyTuple>() {
        Ok(t) => t.iter().collect(),
        Err(_) if key.is_instance_of::<PyInt>() => return Ok(None),
        Err(_) => vec![key.clone()],
    };
    let py = key.py();
    let mut consumed = 0usize;
    let mut ellipses = 0usize;
    for it in &items {
        if it.is_none() {
        } else if it.is(py.Ellipsis()) {
            ellipses += 1;
        } else if it.cast::<PySlice>().is_ok() || is_integer(it) {
            consumed += 1;
        } else {
            return Ok(None);
        }
    }
    if ellipses > 1 || consumed > shape.len() {
        return Ok(None);
    }
    let mut axes = shape.iter();
    let mut out = Vec::with_capacity(items.len() + shape.len());
    let full = |n: usize| SliceInfoElem::Slice {
        start: 0,
        end: Some(n as isize),
        step: 1,
    };
    for it in &items {
        if it.is_none() {
            out.push(SliceInfoElem::NewAxis);
        } else if it.is(py.Ellipsis()) {
            for _ in 0..shape.len() - consumed {
                out.push(full(*axes.next().unwrap_or(&0)));
            }
        } else if let Ok(sl) = it.cast::<PySlice>() {
            let n = *axes.next().unwrap_or(&0);
            let r = sl.indices(n as isize)?;
            out.push(match (r.slicelength, r.step) {
                (0, _) => SliceInfoElem::Slice {
                    start: 0,
                    end: Some(0),
                    step: 1,
                },
                (len, step) if step > 0 => SliceInfoElem::Slice {
                    start: r.start,
                    end: Some(r.start + (len as isize - 1) * step + 1),
                    step,
                },
                (len, step) => SliceInfoElem::Slice {
                    start: r.start + (len as isize - 1) * step,
                    end: Some(r.start + 1),
                    step,
                },
            });
        } else {
            let n = *axes.next().unwrap_or(&0) as isize;
            let i: isize = it.extract()?;
            let i = if i < 0 { i + n } else { i };
            if !(0..n).contains(&i) {
                return Ok(None); // numpy raises its IndexError on the package's path
            }
            out.push(SliceInfoElem::Index(i));
        }
    }
    for &n in axes {
        out.push(full(n));
    }
    Ok(Some(out))
}

/// An integer index (Python or numpy integer), not a bool.
fn is_integer(x: &Bound<'_, PyAny>) -> bool {
    !x.is_instance_of::<PyBool>()
        && (x.is_instance_of::<PyInt>()
            || (x
                .hasattr(pyo3::intern!(x.py(), "__index__"))
                .unwrap_or(false)
                && x.extract::<isize>().is_ok()))
}

// ---------------------------------------------------------------------------------------------
// Gradients from Python

/// Read a Python number as the gradient of a float-valued node: floats, ints and 0-d numpy
/// values are accepted; anything else is a type error naming `what`.
pub fn scalar_gradient(obj: &Bound<'_, PyAny>, what: impl FnOnce() -> String) -> PyResult<f64> {
    if let Some(x) = real_number(obj) {
        return x;
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
    Err(PyTypeError::new_err(format!(
        "{}: expected a real number, got {} ({})",
        what(),
        type_name(obj),
        obj.repr().map(|r| r.to_string()).unwrap_or_default()
    )))
}

/// Read a Python value as the gradient of an array of `shape`: a real array (or, for a 0-d
/// array, a number) of exactly that shape, copied into an owned array (the tape never keeps the
/// caller's memory). `Err` carries the offending shape for the caller's `ShapeError`, or `None`
/// if the value is not a real array.
pub fn array_gradient(
    obj: &Bound<'_, PyAny>,
    shape: &[usize],
) -> PyResult<Result<Array, Option<Vec<usize>>>> {
    if shape.is_empty() {
        if let Some(Ok(x)) = real_number(obj) {
            return Ok(Ok(ndarray::arr0(x).into_dyn()));
        }
    }
    let Some(arr) = real_array(obj) else {
        return Ok(Err(None));
    };
    let copy = |view: ndarray::ArrayViewD<'_, f64>| {
        if view.shape() == shape {
            Ok(view.to_owned())
        } else {
            Err(Some(view.shape().to_vec()))
        }
    };
    if let Ok(a) = arr.cast::<PyArrayDyn<f64>>() {
        if frozen::is_aligned(arr) {
            // SAFETY: the view is read at once, under the GIL, while `obj` is alive.
            return Ok(copy(unsafe { a.as_array() }));
        }
    }
    // Converted by numpy, keeping the memory order (as `np.asarray(obj, float64)`).
    let converted = frozen::float64_copy(arr, NPY_ORDER::NPY_KEEPORDER)?;
    // SAFETY: as above; `converted` is a fresh array only this function holds.
    Ok(copy(unsafe { converted.as_array() }))
}

/// The gradient type expected for one argument of a node recorded from Python (a lifted Op's
/// argument, a joined container's component, a node with a caller-chosen add). Fixed when the
/// node is recorded, from the argument ([`Kind::of`]); it decides how the Python gradient that a
/// pullback or add function returns for that argument is read into a [`PyGrad`]
/// ([`Kind::gradient`]).
#[derive(Clone)]
pub enum Kind {
    /// Not on the tape: its gradient is dropped unchecked (it may be of any type).
    Constant,
    /// A float-valued BVar: its gradient must be a real number.
    Float,
    /// A float64-array BVar: its gradient must be a real array of the same shape.
    Array(Vec<usize>),
    /// Any other BVar: its gradient is kept as the Python object.
    Object,
    /// A nested run's BVar whose value is a BVar of the enclosing run, over a plain float or
    /// array of this shape: its gradient is such a BVar or a plain value, of the same shape.
    Enclosing(Vec<usize>),
}

/// The shape of the plain float or array under any number of BVar layers (`None` for other
/// values).
fn plain_shape(py: Python<'_>, v: &BVar) -> Option<Vec<usize>> {
    match &v.val {
        Val::Float(_) => Some(Vec::new()),
        Val::Array(a) => Some(a.data().shape().to_vec()),
        Val::Object(o) => o
            .bind(py)
            .cast::<BVar>()
            .ok()
            .and_then(|b| plain_shape(py, b.get())),
    }
}

impl Kind {
    pub fn of(var: Option<&BVar>) -> Kind {
        match var {
            Some(v) if v.tape.is_some() => match &v.val {
                Val::Float(_) => Kind::Float,
                Val::Array(a) => Kind::Array(a.data().shape().to_vec()),
                Val::Object(o) => Python::attach(|py| {
                    match o
                        .bind(py)
                        .cast::<BVar>()
                        .ok()
                        .and_then(|b| plain_shape(py, b.get()))
                    {
                        Some(shape) => Kind::Enclosing(shape),
                        None => Kind::Object,
                    }
                }),
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
        // In a nested run, gradients are BVars of the enclosing run (its pullbacks compute on
        // them); they are kept as they are and accumulated by the generic `add`, once their
        // shape is checked (a wrong one would silently give a wrong higher derivative).
        if let Ok(b) = g.cast::<BVar>() {
            let want = match self {
                Kind::Constant => return Ok(None),
                Kind::Object => None,
                Kind::Float => Some(Vec::new()),
                Kind::Array(shape) | Kind::Enclosing(shape) => Some(shape.clone()),
            };
            if let Some(want) = want {
                let got = plain_shape(py, b.get());
                if got.as_ref() != Some(&want) {
                    return Err(errors::new_shape_error(
                        py,
                        format!(
                            "{} has shape {}, but the argument has shape {want:?}",
                            what(),
                            got.map_or_else(|| "of no array".to_string(), |g| format!("{g:?}"))
                        ),
                    ));
                }
            }
            return Ok(Some(PyGrad::Object(g.clone().unbind())));
        }
        match self {
            Kind::Enclosing(shape) if shape.is_empty() => {
                Ok(Some(PyGrad::Float(scalar_gradient(g, || {
                    format!("{} (a float)", what())
                })?)))
            }
            Kind::Enclosing(shape) => Kind::Array(shape.clone()).gradient(py, g, what),
            Kind::Constant => Ok(None),
            Kind::Float => Ok(Some(PyGrad::Float(scalar_gradient(g, || {
                format!("{} (a float)", what())
            })?))),
            Kind::Array(shape) => match array_gradient(g, shape)? {
                Ok(a) => Ok(Some(PyGrad::array(a))),
                Err(Some(got)) => Err(errors::new_shape_error(
                    py,
                    format!(
                        "{} has shape {got:?}, but the argument has shape {shape:?}",
                        what()
                    ),
                )),
                Err(None) => Err(PyTypeError::new_err(format!(
                    "{} must be a real array of shape {shape:?}, got {}",
                    what(),
                    type_name(g)
                ))),
            },
            Kind::Object => Ok(Some(PyGrad::Object(g.clone().unbind()))),
        }
    }
}

/// The seed of a reverse sweep from an output holding `out`: a real number for a float, a real
/// array of the output's shape for an array (else `ShapeError`), anything for an object.
pub fn seed_gradient(py: Python<'_>, out: &Val, seed: &Bound<'_, PyAny>) -> PyResult<PyGrad> {
    if seed.cast::<BVar>().is_ok() {
        // a cotangent of an enclosing run (a nested `backprop_with` pullback)
        return Ok(PyGrad::Object(seed.clone().unbind()));
    }
    Ok(match out {
        Val::Float(_) => PyGrad::Float(scalar_gradient(seed, || {
            "the output gradient (seed)".to_string()
        })?),
        Val::Array(a) => {
            let shape = a.data().shape().to_vec();
            match array_gradient(seed, &shape)? {
                Ok(s) => PyGrad::array(s),
                Err(got) => {
                    return Err(errors::new_shape_error(
                        py,
                        match got {
                            Some(got) => format!("backward: the output gradient (seed) has shape {got:?}, but the output has shape {shape:?}"),
                            None => format!(
                                "backward: the output gradient (seed) must be a real array of shape {shape:?}, got {}",
                                type_name(seed)
                            ),
                        },
                    ))
                }
            }
        }
        Val::Object(_) => PyGrad::Object(seed.clone().unbind()),
    })
}

// ---------------------------------------------------------------------------------------------
// Gradients to Python

impl PyGrad {
    /// The gradient as a Python value; arrays become fresh, writable numpy arrays (moved, not
    /// copied), container parts become the whole container (unreached components zero).
    pub fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(match self {
            PyGrad::Float(x) => PyFloat::new(py, x).into_any().unbind(),
            PyGrad::Array(a) => numpy::PyArray::from_owned_array(py, *a).into_any().unbind(),
            PyGrad::Object(o) => o,
            p @ PyGrad::Parts(_) => return p.whole()?.into_py(py),
        })
    }
}

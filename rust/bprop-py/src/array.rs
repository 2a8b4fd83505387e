//! numpy float64 arrays as BVar values: zero-copy sharing with the core, argument conversion,
//! and the Python entry points of the core's array kernels.
//!
//! Every array value is a numpy array. The core reads it through [`NumpyData`], a view of the
//! numpy buffer kept alive by a reference to the array object, so nothing is copied in or out;
//! kernel results are moved into numpy (`from_owned_array`) and made read-only, because the tape
//! reads them again in the backward pass. Integer, boolean and float32 arrays are converted to
//! float64 once, on the way in; complex arrays are not native (they take the generic path).

use std::sync::Arc;

use bprop_core::array::{self as kernels, Arg, Array, ArrayData, ArrayOp, ShapeError, Shared, Value};
use numpy::{PyArrayDyn, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt};

use crate::bvar::{common_tape, BVar, Val};
use crate::python;
use crate::tape::{tape_full, Tape};

/// A numpy float64 array seen by the core.
pub struct NumpyData {
    owner: Py<PyAny>,
    view: ndarray::ArrayViewD<'static, f64>,
}

// SAFETY: `view` points into the buffer of `owner`, which this struct keeps alive; numpy never
// moves or frees the buffer of a live array that is referenced (resizing refuses). The data is
// only read.
unsafe impl Send for NumpyData {}
unsafe impl Sync for NumpyData {}

impl ArrayData for NumpyData {
    fn data(&self) -> ndarray::ArrayViewD<'_, f64> {
        self.view.view()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl NumpyData {
    fn new(arr: &Bound<'_, PyArrayDyn<f64>>) -> Arc<NumpyData> {
        // SAFETY: see the `Send` impl; the lifetime is tied to `owner`, stored alongside.
        let view: ndarray::ArrayViewD<'_, f64> = unsafe { arr.as_array() };
        let view: ndarray::ArrayViewD<'static, f64> = unsafe { std::mem::transmute(view) };
        Arc::new(NumpyData { owner: arr.clone().into_any().unbind(), view })
    }

    pub fn object(&self, py: Python<'_>) -> Py<PyAny> {
        self.owner.clone_ref(py)
    }
}

/// The numpy array behind a shared value (every array value of the bindings is one).
pub fn numpy_of(py: Python<'_>, data: &Shared) -> Py<PyAny> {
    match data.as_any().downcast_ref::<NumpyData>() {
        Some(n) => n.object(py),
        None => unreachable!("array values of the bindings are numpy arrays"),
    }
}

/// Hand a kernel's result to numpy (no copy) as a read-only array.
pub fn share_owned(py: Python<'_>, a: Array) -> Shared {
    let arr = numpy::PyArray::from_owned_array(py, a);
    drop(arr.readwrite().make_nonwriteable());
    NumpyData::new(&arr)
}

/// A fresh, writable numpy array owning `a` (gradients handed to users).
pub fn to_numpy(py: Python<'_>, a: Array) -> Py<PyAny> {
    numpy::PyArray::from_owned_array(py, a).into_any().unbind()
}

/// A real numpy array as float64 data: float64 arrays are shared as they are; integer, boolean
/// and float32 arrays are converted. `None` for anything else (complex, object, not an array).
pub fn numpy_data(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arc<NumpyData>>> {
    if let Ok(arr) = obj.cast::<PyArrayDyn<f64>>() {
        return Ok(Some(NumpyData::new(arr)));
    }
    let py = obj.py();
    let ndarray_type = python::numpy_ndarray(py)?;
    if !obj.is_instance(ndarray_type)? {
        return Ok(None);
    }
    let kind: String = obj.getattr("dtype")?.getattr("kind")?.extract()?;
    if !matches!(kind.as_str(), "i" | "u" | "b" | "f") {
        return Ok(None);
    }
    let converted = python::numpy_asarray(py)?.call1((obj, "float64"))?;
    match converted.cast::<PyArrayDyn<f64>>() {
        Ok(arr) => Ok(Some(NumpyData::new(arr))),
        Err(_) => Ok(None),
    }
}

/// A native argument: a float or array BVar, or a plain float, int or real numpy array.
pub struct NativeArg<'a> {
    pub arg: Arg,
    pub tape: Option<&'a Py<Tape>>,
    pub is_bvar: bool,
}

pub fn native_arg<'a>(obj: &'a Bound<'_, PyAny>) -> PyResult<Option<NativeArg<'a>>> {
    if let Ok(v) = obj.cast::<BVar>() {
        let v = v.get();
        let value = match &v.val {
            Val::F(x) => Value::Scalar(*x),
            Val::A(a) => Value::Array(a.clone()),
            Val::O(_) => return Ok(None),
        };
        let node = v.tape.as_ref().map(|_| v.node);
        return Ok(Some(NativeArg { arg: Arg { value, node }, tape: v.tape.as_ref(), is_bvar: true }));
    }
    let value = if let Ok(f) = obj.cast::<PyFloat>() {
        Value::Scalar(f.value())
    } else if obj.is_instance_of::<PyInt>() {
        match obj.extract::<f64>() {
            Ok(x) => Value::Scalar(x),
            Err(_) => return Ok(None),
        }
    } else {
        match numpy_data(obj)? {
            Some(d) => Value::Array(d),
            None => return Ok(None),
        }
    };
    Ok(Some(NativeArg { arg: Arg { value, node: None }, tape: None, is_bvar: false }))
}

pub fn shape_error(py: Python<'_>, e: ShapeError) -> PyErr {
    python::error(python::shape_error(py), e.to_string())
}

/// Run a native kernel on Python arguments. `Ok(None)` if some argument is not native (the
/// caller then falls back to the generic path). Plain arguments only give a plain result.
pub fn run_kernel(
    py: Python<'_>,
    name: &str,
    args: &[&Bound<'_, PyAny>],
    kernel: impl FnOnce(&[Arg], kernels::Share<'_>) -> Result<(Value, Option<ArrayOp>), ShapeError>,
) -> PyResult<Option<Py<PyAny>>> {
    let mut native = Vec::with_capacity(args.len());
    for a in args {
        match native_arg(a)? {
            Some(n) => native.push(n),
            None => return Ok(None),
        }
    }
    let op = || name.to_string();
    let tape = common_tape(py, &op, native.iter().map(|n| n.tape))?;
    let any_bvar = native.iter().any(|n| n.is_bvar);
    let kargs: Vec<Arg> = native.into_iter().map(|n| n.arg).collect();
    let share = |a: Array| share_owned(py, a);
    let (value, node) = kernel(&kargs, &share).map_err(|e| shape_error(py, e))?;
    if !any_bvar {
        return Ok(Some(match value {
            Value::Scalar(x) => PyFloat::new(py, x).into_any().unbind(),
            Value::Array(a) => numpy_of(py, &a),
        }));
    }
    let val = match value {
        Value::Scalar(x) => Val::F(x),
        Value::Array(a) => Val::A(a),
    };
    let var = match (tape, node) {
        (Some(t), Some(node)) => {
            let id = t.get().lock(&op)?.array(node).map_err(tape_full)?;
            BVar { tape: Some(t.clone_ref(py)), node: id, val }
        }
        _ => BVar::constant(val),
    };
    Ok(Some(Bound::new(py, var)?.into_any().unbind()))
}

/// Run a kernel that has no generic fallback: non-native arguments are a type error.
fn run_native(
    py: Python<'_>,
    name: &str,
    args: &[&Bound<'_, PyAny>],
    kernel: impl FnOnce(&[Arg], kernels::Share<'_>) -> Result<(Value, Option<ArrayOp>), ShapeError>,
) -> PyResult<Py<PyAny>> {
    match run_kernel(py, name, args, kernel)? {
        Some(r) => Ok(r),
        None => Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "{name}: arguments must be float64 arrays, real numbers or BVars of them, got ({})",
            args.iter()
                .map(|a| a.get_type().name().map(|n| n.to_string()).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// `x[index]` for a basic index already resolved against `x`'s shape (see `bvar::basic_index`).
pub fn run_native_index(py: Python<'_>, x: &Bound<'_, PyAny>, index: Vec<kernels::SliceInfoElem>) -> PyResult<Py<PyAny>> {
    run_native(py, "getitem", &[x], move |xs, share| kernels::index(&xs[0], index, share))
}

/// `a @ b` with the native kernel when both are native values of 1 or 2 axes; `Ok(None)`
/// otherwise (batched or non-float operands: the caller goes to numpy's rule in the package).
pub fn matmul_native(py: Python<'_>, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<Option<Py<PyAny>>> {
    let low_rank = |x: &Bound<'_, PyAny>| -> PyResult<bool> {
        Ok(match native_arg(x)? {
            Some(n) => matches!(n.arg.value.shape().len(), 1 | 2),
            None => false,
        })
    };
    if !(low_rank(a)? && low_rank(b)?) {
        return Ok(None);
    }
    run_kernel(py, "matmul", &[a, b], |xs, share| kernels::matmul(&xs[0], &xs[1], share))
}

/// `a @ b` (numpy's `matmul` for 1-D and 2-D operands).
#[pyfunction]
pub fn matmul(py: Python<'_>, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    run_native(py, "matmul", &[a, b], |xs, share| kernels::matmul(&xs[0], &xs[1], share))
}

/// The axes of `a` reversed (`a.T`).
#[pyfunction]
pub fn transpose(py: Python<'_>, a: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    run_native(py, "transpose", &[a], |xs, share| Ok(kernels::transpose(&xs[0], share)))
}

/// `a` reshaped (C order; one dimension may be -1).
#[pyfunction]
pub fn reshape(py: Python<'_>, a: &Bound<'_, PyAny>, shape: Vec<isize>) -> PyResult<Py<PyAny>> {
    run_native(py, "reshape", &[a], |xs, share| kernels::reshape(&xs[0], &shape, share))
}

/// Sum of the elements (a float), or along `axis`.
#[pyfunction]
#[pyo3(signature = (a, axis=None))]
pub fn sum(py: Python<'_>, a: &Bound<'_, PyAny>, axis: Option<isize>) -> PyResult<Py<PyAny>> {
    run_native(py, "sum", &[a], |xs, share| kernels::sum(&xs[0], axis, false, share))
}

/// Mean of the elements (a float), or along `axis`; divides by the number of elements.
#[pyfunction]
#[pyo3(signature = (a, axis=None))]
pub fn mean(py: Python<'_>, a: &Bound<'_, PyAny>, axis: Option<isize>) -> PyResult<Py<PyAny>> {
    run_native(py, "mean", &[a], |xs, share| kernels::sum(&xs[0], axis, true, share))
}

/// Mean over rows of `-sum(targets * log_softmax(logits, axis=-1), axis=-1)`, fused.
#[pyfunction]
pub fn softmax_cross_entropy(py: Python<'_>, logits: &Bound<'_, PyAny>, targets: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    run_native(py, "softmax_cross_entropy", &[logits, targets], |xs, _share| {
        kernels::softmax_cross_entropy(&xs[0], &xs[1])
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(matmul, m)?)?;
    m.add_function(wrap_pyfunction!(transpose, m)?)?;
    m.add_function(wrap_pyfunction!(reshape, m)?)?;
    m.add_function(wrap_pyfunction!(sum, m)?)?;
    m.add_function(wrap_pyfunction!(mean, m)?)?;
    m.add_function(wrap_pyfunction!(softmax_cross_entropy, m)?)?;
    Ok(())
}

//! numpy float64 arrays as BVar values: immutable array memory shared with the core, argument
//! conversion, and the Python entry points of the core's array kernels.
//!
//! Every array value is a numpy array whose memory nobody can write: the tape reads it again in
//! the backward pass (without the GIL), so a gradient must not change when the user writes to an
//! array after an op recorded it. Such memory is held by a [`FrozenBuffer`] and exposed as a numpy
//! array made read-only before any Python code sees it; numpy refuses to make it (or any view of
//! it) writeable again, because a `FrozenBuffer` exports no buffer. Kernel results are moved into
//! one (no copy). An array that comes from the user is snapshotted: copied into a new
//! `FrozenBuffer` (by numpy, which also converts integer, boolean and float32 arrays to float64),
//! unless it is already frozen memory, such as the `.value` of a BVar or a view of it, which is
//! shared as it is. Complex arrays are not native (they take the generic path).

use std::sync::Arc;

use bprop_core::array::{
    self as kernels, Arg, Array, ArrayData, ArrayOp, ShapeError, Shared, Value,
};
use numpy::npyffi::{self, NPY_ARRAY_OWNDATA, NPY_ARRAY_WRITEABLE, PY_ARRAY_API};
use numpy::{
    PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt};

use crate::bvar::{common_tape, BVar, Val};
use crate::python;
use crate::tape::{tape_full, Tape};

/// The owner of immutable array memory: the base object of the read-only numpy arrays that BVars
/// hold. It exports no buffer and shows Python nothing of what it holds, so numpy cannot make an
/// array over it writeable again and no Python code can reach the memory another way.
#[pyclass(module = "bprop._core", frozen)]
pub struct FrozenBuffer {
    _memory: Memory,
}

/// Held only to keep the memory alive.
#[allow(dead_code)]
enum Memory {
    /// A kernel's result, moved in.
    Owned(Array),
    /// A numpy array that only this buffer references. Snapshots are allocated by numpy, whose
    /// allocator asks for huge pages: a fresh 8 MB copy then costs a few page faults, not 2048.
    Numpy(Py<PyAny>),
}

/// A numpy float64 array seen by the core; its memory is frozen (see the module docs).
pub struct NumpyData {
    owner: Py<PyAny>,
    view: ndarray::ArrayViewD<'static, f64>,
}

// SAFETY: `view` points into frozen memory (a `FrozenBuffer`) that `owner` keeps alive; numpy never
// moves or frees the buffer of a live array, and nothing writes to frozen memory, so it may be
// read from any thread, with or without the GIL.
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
    /// `arr` must be frozen (`is_frozen`).
    fn new(arr: &Bound<'_, PyArrayDyn<f64>>) -> Arc<NumpyData> {
        // SAFETY: see the `Send` impl; the lifetime is tied to `owner`, stored alongside.
        let view: ndarray::ArrayViewD<'_, f64> = unsafe { arr.as_array() };
        let view: ndarray::ArrayViewD<'static, f64> = unsafe { std::mem::transmute(view) };
        Arc::new(NumpyData {
            owner: arr.clone().into_any().unbind(),
            view,
        })
    }

    pub fn object(&self, py: Python<'_>) -> Py<PyAny> {
        self.owner.clone_ref(py)
    }
}

/// Clear the WRITEABLE flag of `arr`.
fn make_read_only(arr: &Bound<'_, PyArrayDyn<f64>>) {
    // SAFETY: `arr` is a live array; only its flags are changed, under the GIL.
    unsafe { (*npyffi::_PyArray_GET_ITEM_DATA(arr.as_array_ptr())).flags &= !NPY_ARRAY_WRITEABLE };
}

/// A numpy array over the memory of `view`, whose base is a new `FrozenBuffer` holding `memory`
/// (which must own that memory), made read-only before any Python code sees it.
fn frozen_array<'py>(
    py: Python<'py>,
    view: ndarray::ArrayViewD<'_, f64>,
    memory: Memory,
) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    let owner = Bound::new(py, FrozenBuffer { _memory: memory })?;
    // SAFETY: the array's base is `owner`, which keeps the memory alive and never reallocates it.
    let arr = unsafe { PyArrayDyn::<f64>::borrow_from_array(&view, owner.into_any()) };
    make_read_only(&arr);
    Ok(arr)
}

/// Whether `arr` is frozen memory: it and every array between it and the owner of its memory are
/// read-only views, and that owner is a `FrozenBuffer`. Such memory can never be written: the
/// only array made over a `FrozenBuffer` is made read-only at once, views of a read-only array are
/// read-only, and numpy refuses to make them writeable again. A read-only view of a writeable
/// array, or a read-only array that owns its memory (its flag may be set back), is not frozen.
fn is_frozen(arr: &Bound<'_, PyUntypedArray>) -> bool {
    let py = arr.py();
    let mut cur = arr.as_array_ptr();
    loop {
        // SAFETY: `cur` is a live array (`arr`, or the base of a live array), read under the GIL.
        let (flags, base) = unsafe {
            let f = &*npyffi::_PyArray_GET_ITEM_DATA(cur);
            (f.flags, f.base)
        };
        if flags & (NPY_ARRAY_WRITEABLE | NPY_ARRAY_OWNDATA) != 0 || base.is_null() {
            return false;
        }
        // SAFETY: `base` is a live object owned by the array `cur`.
        let base = unsafe { Bound::from_borrowed_ptr(py, base) };
        if base.is_exact_instance_of::<FrozenBuffer>() {
            return true;
        }
        if unsafe { npyffi::PyArray_Check(py, base.as_ptr()) } == 0 {
            return false;
        }
        cur = base.as_ptr().cast();
    }
}

/// A read-only float64 snapshot of the real array `src`, in new frozen memory: numpy copies (and
/// converts) the elements, so user memory is only ever read by numpy, under the GIL.
fn snapshot(src: &Bound<'_, PyUntypedArray>) -> PyResult<Arc<NumpyData>> {
    let py = src.py();
    // SAFETY: uninitialized, but every element is written by the copy below before it is read.
    let copy = unsafe { PyArrayDyn::<f64>::new(py, src.shape(), false) };
    // SAFETY: both are live arrays of the same shape; `copy` is writeable and only we hold it.
    if unsafe { PY_ARRAY_API.PyArray_CopyInto(py, copy.as_array_ptr(), src.as_array_ptr()) } < 0 {
        return Err(PyErr::fetch(py));
    }
    // SAFETY: `copy` stays alive (the new buffer holds it); the view only lends its layout.
    let view = unsafe { copy.as_array() };
    let arr = frozen_array(py, view, Memory::Numpy(copy.clone().into_any().unbind()))?;
    Ok(NumpyData::new(&arr))
}

/// The numpy array behind a shared value (every array value of the bindings is one).
pub fn numpy_of(py: Python<'_>, data: &Shared) -> Py<PyAny> {
    match data.as_any().downcast_ref::<NumpyData>() {
        Some(n) => n.object(py),
        None => unreachable!("array values of the bindings are numpy arrays"),
    }
}

/// Hand a kernel's result to numpy (no copy) as frozen memory.
pub fn share_owned(py: Python<'_>, a: Array) -> Shared {
    // SAFETY: the view only lends the layout; `a`'s heap memory does not move when `a` moves into
    // the buffer, which then keeps it alive as long as the array.
    let view: ndarray::ArrayViewD<'static, f64> = unsafe { std::mem::transmute(a.view()) };
    // Only an allocation failure of the small owner object can fail here.
    let arr =
        frozen_array(py, view, Memory::Owned(a)).expect("bprop: cannot allocate a FrozenBuffer");
    NumpyData::new(&arr)
}

/// A fresh, writable numpy array owning `a` (gradients handed to users).
pub fn to_numpy(py: Python<'_>, a: Array) -> Py<PyAny> {
    numpy::PyArray::from_owned_array(py, a).into_any().unbind()
}

/// A real numpy array as frozen float64 data: frozen arrays (BVar values and views of them) are
/// shared as they are; any other float64, integer, boolean or float32 array is snapshotted (see
/// the module docs). `None` for anything else (complex, object, not an array).
pub fn numpy_data(obj: &Bound<'_, PyAny>) -> PyResult<Option<Arc<NumpyData>>> {
    let Ok(arr) = obj.cast::<PyUntypedArray>() else {
        return Ok(None);
    };
    if !matches!(arr.dtype().kind(), b'i' | b'u' | b'b' | b'f') {
        return Ok(None);
    }
    if let Ok(a) = obj.cast::<PyArrayDyn<f64>>() {
        if is_frozen(arr) {
            return Ok(Some(NumpyData::new(a)));
        }
    }
    snapshot(arr).map(Some)
}

/// A real numpy array's elements as float64, read at once (the caller copies them before it
/// returns the GIL): float64 arrays are borrowed, other real arrays converted. For gradients
/// handed to the tape, which are copied into owned arrays anyway. `None` as for `numpy_data`.
pub fn numpy_view<R>(
    obj: &Bound<'_, PyAny>,
    read: impl FnOnce(ndarray::ArrayViewD<'_, f64>) -> R,
) -> PyResult<Option<R>> {
    let Ok(arr) = obj.cast::<PyUntypedArray>() else {
        return Ok(None);
    };
    if !matches!(arr.dtype().kind(), b'i' | b'u' | b'b' | b'f') {
        return Ok(None);
    }
    if let Ok(a) = obj.cast::<PyArrayDyn<f64>>() {
        // SAFETY: the view is used only inside `read`, while `obj` is alive and the GIL is held.
        return Ok(Some(read(unsafe { a.as_array() })));
    }
    let converted = python::numpy_asarray(obj.py())?.call1((obj, "float64"))?;
    match converted.cast::<PyArrayDyn<f64>>() {
        // SAFETY: as above; `converted` is a fresh array only this function holds.
        Ok(a) => Ok(Some(read(unsafe { a.as_array() }))),
        Err(_) => Ok(None),
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
    if unsafe { npyffi::PyArray_CheckExact(py, obj.as_ptr()) } == 0 {
        return Ok(obj.clone().unbind());
    }
    if obj.cast::<PyArrayDyn<f64>>().is_ok() {
        if let Some(d) = numpy_data(obj)? {
            return Ok(d.object(py));
        }
    }
    // SAFETY: `arr` is a live array; the result is a new reference (or NULL with an exception set).
    let copy = unsafe {
        PY_ARRAY_API.PyArray_NewCopy(py, arr.as_array_ptr(), npyffi::NPY_ORDER::NPY_KEEPORDER)
    };
    if copy.is_null() {
        return Err(PyErr::fetch(py));
    }
    // SAFETY: a new reference to an array that only we hold.
    let copy = unsafe { Bound::from_owned_ptr(py, copy) };
    // SAFETY: as in `make_read_only`.
    unsafe {
        (*npyffi::_PyArray_GET_ITEM_DATA(copy.as_ptr().cast())).flags &= !NPY_ARRAY_WRITEABLE
    };
    Ok(copy.unbind())
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
        return Ok(Some(NativeArg {
            arg: Arg { value, node },
            tape: v.tape.as_ref(),
            is_bvar: true,
        }));
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
    Ok(Some(NativeArg {
        arg: Arg { value, node: None },
        tape: None,
        is_bvar: false,
    }))
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
            BVar {
                tape: Some(t.clone_ref(py)),
                node: id,
                val,
            }
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
                .map(|a| a
                    .get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// `x[index]` for a basic index already resolved against `x`'s shape (see `bvar::basic_index`).
pub fn run_native_index(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    index: Vec<kernels::SliceInfoElem>,
) -> PyResult<Py<PyAny>> {
    run_native(py, "getitem", &[x], move |xs, share| {
        kernels::index(&xs[0], index, share)
    })
}

/// `a @ b` with the native kernel when both are native values of 1 or 2 axes; `Ok(None)`
/// otherwise (batched or non-float operands: the caller goes to numpy's rule in the package).
pub fn matmul_native(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> PyResult<Option<Py<PyAny>>> {
    let low_rank = |x: &Bound<'_, PyAny>| -> PyResult<bool> {
        Ok(match native_arg(x)? {
            Some(n) => matches!(n.arg.value.shape().len(), 1 | 2),
            None => false,
        })
    };
    if !(low_rank(a)? && low_rank(b)?) {
        return Ok(None);
    }
    run_kernel(py, "matmul", &[a, b], |xs, share| {
        kernels::matmul(&xs[0], &xs[1], share)
    })
}

/// `a @ b` (numpy's `matmul` for 1-D and 2-D operands).
#[pyfunction]
pub fn matmul(py: Python<'_>, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    run_native(py, "matmul", &[a, b], |xs, share| {
        kernels::matmul(&xs[0], &xs[1], share)
    })
}

/// The axes of `a` reversed (`a.T`).
#[pyfunction]
pub fn transpose(py: Python<'_>, a: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    run_native(py, "transpose", &[a], |xs, share| {
        Ok(kernels::transpose(&xs[0], share))
    })
}

/// `a` reshaped (C order; one dimension may be -1).
#[pyfunction]
pub fn reshape(py: Python<'_>, a: &Bound<'_, PyAny>, shape: Vec<isize>) -> PyResult<Py<PyAny>> {
    run_native(py, "reshape", &[a], |xs, share| {
        kernels::reshape(&xs[0], &shape, share)
    })
}

/// Sum of the elements (a float), or along `axis`.
#[pyfunction]
#[pyo3(signature = (a, axis=None))]
pub fn sum(py: Python<'_>, a: &Bound<'_, PyAny>, axis: Option<isize>) -> PyResult<Py<PyAny>> {
    run_native(py, "sum", &[a], |xs, share| {
        kernels::sum(&xs[0], axis, false, share)
    })
}

/// Mean of the elements (a float), or along `axis`; divides by the number of elements.
#[pyfunction]
#[pyo3(signature = (a, axis=None))]
pub fn mean(py: Python<'_>, a: &Bound<'_, PyAny>, axis: Option<isize>) -> PyResult<Py<PyAny>> {
    run_native(py, "mean", &[a], |xs, share| {
        kernels::sum(&xs[0], axis, true, share)
    })
}

/// Mean over rows of `-sum(targets * log_softmax(logits, axis=-1), axis=-1)`, fused.
#[pyfunction]
pub fn softmax_cross_entropy(
    py: Python<'_>,
    logits: &Bound<'_, PyAny>,
    targets: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    run_native(
        py,
        "softmax_cross_entropy",
        &[logits, targets],
        |xs, _share| kernels::softmax_cross_entropy(&xs[0], &xs[1]),
    )
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

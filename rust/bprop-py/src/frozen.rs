//! Ownership of array memory: the immutable float64 memory behind every array a BVar holds.
//!
//! Every array value is a numpy array whose memory nobody can write: the tape reads it again in
//! the backward pass (without the GIL), so a gradient must not change when the user writes to an
//! array after an op recorded it. Such memory is held by a [`FrozenBuffer`] and exposed as a numpy
//! array made read-only before any Python code sees it; numpy refuses to make it (or any view of
//! it) writeable again, because a `FrozenBuffer` exports no buffer. Kernel results are moved into
//! one (no copy, [`share_owned`]). An array that comes from the user is snapshotted: copied into
//! a new `FrozenBuffer` (by numpy, which also converts integer, boolean and float32 arrays to
//! float64), unless it is already frozen memory, such as the `.value` of a BVar or a view of it,
//! which is shared as it is ([`freeze`]).
//!
//! Which Python values become arrays, and when, is decided in `convert.rs`; this module only
//! makes, recognises and copies memory.

use std::mem::MaybeUninit;
use std::sync::Arc;

use bprop_core::array::{Array, ArrayData, Shared};
use numpy::npyffi::{
    self, NPY_ARRAY_ALIGNED, NPY_ARRAY_OWNDATA, NPY_ARRAY_WRITEABLE, NPY_ORDER, PY_ARRAY_API,
};
use numpy::{
    PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::prelude::*;

/// The owner of immutable array memory: the base object of the read-only numpy arrays that BVars
/// hold. It exports no buffer and shows Python nothing of what it holds, so numpy cannot make an
/// array over it writeable again and no Python code can reach the memory another way.
#[pyclass(module = "bprop._core", frozen)]
pub struct FrozenBuffer {
    /// Held only to keep the memory alive (never read through).
    _memory: Memory,
}

/// The memory a [`FrozenBuffer`] keeps alive (held, never read: hence `dead_code`).
#[allow(dead_code)]
enum Memory {
    /// A kernel's result, moved in.
    Result(Array),
    /// A snapshot: allocated uninitialised, then filled by numpy's copy (typed `MaybeUninit`
    /// because Rust never sees it written).
    Snapshot(ndarray::ArrayD<MaybeUninit<f64>>),
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

    /// The read-only numpy array over this memory.
    pub fn object(&self, py: Python<'_>) -> Py<PyAny> {
        self.owner.clone_ref(py)
    }
}

/// Clear the WRITEABLE flag of the array `arr`.
///
/// # Safety
/// `arr` must point to a live numpy array; the GIL must be held.
unsafe fn clear_writeable(arr: *mut npyffi::PyArrayObject) {
    (*npyffi::_PyArray_GET_ITEM_DATA(arr)).flags &= !NPY_ARRAY_WRITEABLE;
}

/// A numpy array over the memory of `view`, whose base is a new `FrozenBuffer` holding `memory`
/// (which must own that memory), made read-only before any Python code sees it.
fn frozen_array<'py>(
    py: Python<'py>,
    view: ndarray::ArrayViewD<'_, f64>,
    memory: Array,
) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    let owner = Bound::new(
        py,
        FrozenBuffer {
            _memory: Memory::Result(memory),
        },
    )?;
    // SAFETY: the array's base is `owner`, which keeps the memory alive and never reallocates it.
    let arr = unsafe { PyArrayDyn::<f64>::borrow_from_array(&view, owner.into_any()) };
    // SAFETY: `arr` is the live array just made, under the GIL.
    unsafe { clear_writeable(arr.as_array_ptr()) };
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

/// A new float64 array, allocated by numpy in `order`, holding the elements of the real array
/// `src` converted by numpy (integers, booleans and other float widths; unsafe casting, as
/// `np.asarray(src, float64)`). Only we hold the result, and it is writeable.
pub fn float64_copy<'py>(
    src: &Bound<'py, PyUntypedArray>,
    order: NPY_ORDER,
) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    let py = src.py();
    let descr = numpy::dtype::<f64>(py).into_dtype_ptr();
    // SAFETY: `src` is a live array; `descr` is a new reference, which the call steals. The
    // result is a new reference (or NULL with an exception set).
    let copy =
        unsafe { PY_ARRAY_API.PyArray_NewLikeArray(py, src.as_array_ptr(), order, descr, 0) };
    if copy.is_null() {
        return Err(PyErr::fetch(py));
    }
    // SAFETY: a new reference to a float64 base-class array of `src`'s shape.
    let copy = unsafe { Bound::from_owned_ptr(py, copy) };
    let copy = copy.cast_into::<PyArrayDyn<f64>>()?;
    // SAFETY: both are live arrays of the same shape; `copy` is writeable and only we hold it.
    if unsafe { PY_ARRAY_API.PyArray_CopyInto(py, copy.as_array_ptr(), src.as_array_ptr()) } < 0 {
        return Err(PyErr::fetch(py));
    }
    Ok(copy)
}

/// A read-only float64 snapshot of the real array `src`, in new frozen memory: numpy copies (and
/// converts) the elements, so user memory is only ever read by numpy, under the GIL. The memory
/// is the extension's own (its allocator keeps freed memory for reuse, so repeated snapshots of
/// one size do not fault fresh pages in each time).
fn snapshot(src: &Bound<'_, PyUntypedArray>) -> PyResult<Arc<NumpyData>> {
    let py = src.py();
    // Not zeroed: numpy's copy below writes every element before anything reads one.
    let memory = Array::uninit(ndarray::IxDyn(src.shape()));
    // SAFETY: a C-ordered view of `memory`'s own elements (a view is a pointer and a layout; it
    // is not read before numpy has written it); the heap block does not move when `memory` moves
    // into the buffer below, which then keeps it alive as long as the array.
    let view: ndarray::ArrayViewD<'static, f64> = unsafe {
        ndarray::ArrayViewD::from_shape_ptr(memory.raw_dim(), memory.as_ptr().cast::<f64>())
    };
    let owner = Bound::new(
        py,
        FrozenBuffer {
            _memory: Memory::Snapshot(memory),
        },
    )?;
    // SAFETY: the array's base is `owner`, which keeps the memory alive and never reallocates it.
    let arr = unsafe { PyArrayDyn::<f64>::borrow_from_array(&view, owner.into_any()) };
    // SAFETY: both are live arrays of one shape; `arr` is writeable and only we hold it (until
    // it is made read-only just below, before any Python code sees it).
    if unsafe { PY_ARRAY_API.PyArray_CopyInto(py, arr.as_array_ptr(), src.as_array_ptr()) } < 0 {
        return Err(PyErr::fetch(py));
    }
    // SAFETY: `arr` is the live array just made, under the GIL.
    unsafe { clear_writeable(arr.as_array_ptr()) };
    Ok(NumpyData::new(&arr))
}

/// Whether numpy marks `arr`'s memory as aligned for its dtype. Views at a byte offset
/// (`a.view(np.uint8)[1:-7].view(np.float64)`) are not, and Rust may only read `f64`s at aligned
/// addresses: such arrays are copied by numpy before any kernel sees them.
pub fn is_aligned(arr: &Bound<'_, PyUntypedArray>) -> bool {
    // SAFETY: `arr` is a live array, read under the GIL.
    let flags = unsafe { (*npyffi::_PyArray_GET_ITEM_DATA(arr.as_array_ptr())).flags };
    flags & NPY_ARRAY_ALIGNED != 0
}

/// The real array `arr` as frozen float64 memory: frozen float64 arrays (BVar values and views of
/// them) are shared as they are, anything else (misaligned views included) is snapshotted.
pub fn freeze(arr: &Bound<'_, PyUntypedArray>) -> PyResult<Arc<NumpyData>> {
    if let Ok(a) = arr.cast::<PyArrayDyn<f64>>() {
        if is_aligned(arr) && is_frozen(arr) {
            return Ok(NumpyData::new(a));
        }
    }
    snapshot(arr)
}

/// Hand a kernel's result to numpy (no copy) as frozen memory. Fails only if the small owner
/// object cannot be allocated.
pub fn share_owned(py: Python<'_>, a: Array) -> PyResult<Shared> {
    // SAFETY: the view only lends the layout; `a`'s heap memory does not move when `a` moves into
    // the buffer, which then keeps it alive as long as the array.
    let view: ndarray::ArrayViewD<'static, f64> = unsafe { std::mem::transmute(a.view()) };
    let arr = frozen_array(py, view, a)?;
    Ok(NumpyData::new(&arr))
}

/// A private read-only copy of `arr`, of its own dtype and memory order (for arrays that are not
/// float64 and are kept as they are, such as index arrays and masks). It owns its memory, so it
/// is not frozen memory: it is safe because only the holder of this copy could set the flag back.
pub fn read_only_copy(arr: &Bound<'_, PyUntypedArray>) -> PyResult<Py<PyAny>> {
    let py = arr.py();
    // SAFETY: `arr` is a live array; the result is a new reference (or NULL with an exception set).
    let copy =
        unsafe { PY_ARRAY_API.PyArray_NewCopy(py, arr.as_array_ptr(), NPY_ORDER::NPY_KEEPORDER) };
    if copy.is_null() {
        return Err(PyErr::fetch(py));
    }
    // SAFETY: a new reference to an array that only we hold.
    let copy = unsafe { Bound::from_owned_ptr(py, copy) };
    // SAFETY: `copy` is a live array, under the GIL.
    unsafe { clear_writeable(copy.as_ptr().cast()) };
    Ok(copy.unbind())
}

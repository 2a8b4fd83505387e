//! The Python entry points of the core's array kernels (`bprop._core.matmul`, `sum`, ...) and
//! the driver that runs a native kernel on Python arguments (`run_kernel`, also used by the
//! elementwise math of `bvar.rs` for arrays). Arguments are read and results handed back by
//! `convert.rs`; the memory of results is owned as `frozen.rs` describes.

use std::cell::Cell;
use std::sync::Arc;

use bprop_core::array::{self as kernels, Arg, Array, ArrayOp, ShapeError, Shared, Value};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::bvar::{BVar, Val};
use crate::convert::{any_on_nested_tape, native_arg};
use crate::errors::{self, type_name};
use crate::frozen;
use crate::python;
use crate::tape::common_tape;

/// Kernels whose arguments hold at least this many elements in all run without the GIL (other
/// threads run meanwhile); below it, releasing and taking back the GIL would cost more than the
/// kernel saves.
const DETACH_MIN_ELEMENTS: usize = 1 << 14;

/// What a kernel gives: its value, and the node to record if an argument is on a tape.
type KernelResult = Result<(Value, Option<ArrayOp>), ShapeError>;

/// Run `kernel` on `args`, handing its results to numpy with `share` (`frozen::share_owned`,
/// which needs the GIL: a kernel run without it takes the GIL back for each result). A failure
/// to hand one over comes back separately: the kernel cannot fail there, so the error is kept for
/// after it, and a zero array of the same shape stands in for the result (which is then dropped).
/// It fails only if the small owner object cannot be allocated.
fn call_kernel(
    args: &[Arg],
    kernel: impl FnOnce(&[Arg], kernels::Share<'_>) -> KernelResult,
    share: impl Fn(Array) -> PyResult<Shared>,
) -> (KernelResult, Option<PyErr>) {
    let failed: Cell<Option<PyErr>> = Cell::new(None);
    let share = |a: Array| -> Shared {
        let shape = a.raw_dim();
        share(a).unwrap_or_else(|e| {
            failed.set(Some(e));
            Arc::new(Array::zeros(shape))
        })
    };
    let result = kernel(args, &share);
    (result, failed.take())
}

/// Run a native kernel on Python arguments. `Ok(None)` if some argument is not native (the
/// caller then falls back to the generic path). Plain arguments only give a plain result.
/// Kernels on large arrays run without the GIL: they read only frozen memory (`frozen.rs`).
pub fn run_kernel(
    py: Python<'_>,
    name: &str,
    args: &[&Bound<'_, PyAny>],
    kernel: impl FnOnce(&[Arg], kernels::Share<'_>) -> Result<(Value, Option<ArrayOp>), ShapeError>
        + Send,
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
    let elements: usize = kargs.iter().map(|a| a.value.element_count()).sum();
    let (result, failed) = if elements >= DETACH_MIN_ELEMENTS {
        let args: &[Arg] = &kargs;
        py.detach(move || {
            call_kernel(args, kernel, |a| {
                Python::attach(|py| frozen::share_owned(py, a))
            })
        })
    } else {
        call_kernel(&kargs, kernel, |a| frozen::share_owned(py, a))
    };
    // The arguments are dropped here, under the GIL (they may hold the last reference to a
    // snapshot of a plain numpy argument).
    drop(kargs);
    if let Some(e) = failed {
        return Err(e);
    }
    let (value, node) = result.map_err(|e| errors::from_shape_error(py, e))?;
    let val = Val::from_core(value);
    if !any_bvar {
        return Ok(Some(val.to_py(py)));
    }
    let var = match (tape, node) {
        (Some(t), Some(node)) => {
            let id = t
                .get()
                .lock(&op)?
                .array(node)
                .map_err(errors::from_tape_full)?;
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

/// The static parameters of a kernel (an axis, a shape), for its Python-level rule.
type Params<'a> = &'a dyn Fn(Python<'_>) -> PyResult<Vec<Py<PyAny>>>;

/// Run a kernel that has no generic fallback: non-native arguments are a type error. On a
/// nested run's tape (see `Tape::parent`) the kernel's Python-level rule runs instead,
/// `bprop._nested.kernel(name, args, params)`, whose pullback is itself differentiable.
pub(crate) fn run_native(
    py: Python<'_>,
    name: &str,
    args: &[&Bound<'_, PyAny>],
    params: Params<'_>,
    kernel: impl FnOnce(&[Arg], kernels::Share<'_>) -> Result<(Value, Option<ArrayOp>), ShapeError>
        + Send,
) -> PyResult<Py<PyAny>> {
    if any_on_nested_tape(args) {
        let args = PyTuple::new(py, args)?;
        let params = PyTuple::new(py, params(py)?)?;
        return Ok(python::nested_kernel(py)?
            .call1((name, args, params))?
            .unbind());
    }
    match run_kernel(py, name, args, kernel)? {
        Some(r) => Ok(r),
        None => Err(PyTypeError::new_err(format!(
            "{name}: arguments must be float64 arrays, real numbers or BVars of them, got ({})",
            args.iter()
                .map(|a| type_name(a))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

pub(crate) fn no_params(_py: Python<'_>) -> PyResult<Vec<Py<PyAny>>> {
    Ok(Vec::new())
}

fn axis_param(py: Python<'_>, axis: Option<isize>) -> PyResult<Vec<Py<PyAny>>> {
    Ok(vec![axis.into_pyobject(py)?.unbind()])
}

/// `x[index]` for a basic index already resolved against `x`'s shape (see `convert::basic_index`).
pub fn run_native_index(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    index: Vec<kernels::SliceInfoElem>,
) -> PyResult<Py<PyAny>> {
    run_native(py, "getitem", &[x], &no_params, move |xs, share| {
        kernels::index(&xs[0], index, share)
    })
}

/// `x[rows]` for an integer index array on the first axis (see `convert::row_index`).
pub fn run_native_take_rows(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    rows: Vec<usize>,
    rows_shape: Vec<usize>,
) -> PyResult<Py<PyAny>> {
    run_native(py, "getitem", &[x], &no_params, move |xs, share| {
        kernels::take_rows(&xs[0], rows, &rows_shape, share)
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
    run_native(py, "matmul", &[a, b], &no_params, |xs, share| {
        kernels::matmul(&xs[0], &xs[1], share)
    })
}

/// The axes of `a` reversed (`a.T`).
#[pyfunction]
pub fn transpose(py: Python<'_>, a: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    run_native(py, "transpose", &[a], &no_params, |xs, share| {
        Ok(kernels::transpose(&xs[0], share))
    })
}

/// `a` reshaped (C order; one dimension may be -1).
#[pyfunction]
pub fn reshape(py: Python<'_>, a: &Bound<'_, PyAny>, shape: Vec<isize>) -> PyResult<Py<PyAny>> {
    run_native(
        py,
        "reshape",
        &[a],
        &|py| Ok(vec![shape.clone().into_pyobject(py)?.into_any().unbind()]),
        |xs, share| kernels::reshape(&xs[0], &shape, share),
    )
}

/// Sum of the elements (a float), or along `axis`.
#[pyfunction]
#[pyo3(signature = (a, axis=None))]
pub fn sum(py: Python<'_>, a: &Bound<'_, PyAny>, axis: Option<isize>) -> PyResult<Py<PyAny>> {
    run_native(py, "sum", &[a], &|py| axis_param(py, axis), |xs, share| {
        kernels::sum(&xs[0], axis, false, share)
    })
}

/// Mean of the elements (a float), or along `axis`; divides by the number of elements.
#[pyfunction]
#[pyo3(signature = (a, axis=None))]
pub fn mean(py: Python<'_>, a: &Bound<'_, PyAny>, axis: Option<isize>) -> PyResult<Py<PyAny>> {
    run_native(py, "mean", &[a], &|py| axis_param(py, axis), |xs, share| {
        kernels::sum(&xs[0], axis, true, share)
    })
}

/// Mean over rows of `-sum(targets * log_softmax(logits, axis=-1), axis=-1)`, fused.
/// Maximum of the elements (a float), or along `axis`; NaN propagates, ties share the gradient.
#[pyfunction]
#[pyo3(signature = (a, axis=None))]
pub fn max(py: Python<'_>, a: &Bound<'_, PyAny>, axis: Option<isize>) -> PyResult<Py<PyAny>> {
    run_native(py, "max", &[a], &|py| axis_param(py, axis), |xs, share| {
        kernels::extremum(&xs[0], axis, true, share)
    })
}

/// Minimum of the elements (a float), or along `axis`; NaN propagates, ties share the gradient.
#[pyfunction]
#[pyo3(signature = (a, axis=None))]
pub fn min(py: Python<'_>, a: &Bound<'_, PyAny>, axis: Option<isize>) -> PyResult<Py<PyAny>> {
    run_native(py, "min", &[a], &|py| axis_param(py, axis), |xs, share| {
        kernels::extremum(&xs[0], axis, false, share)
    })
}

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
        &no_params,
        |xs, _share| kernels::softmax_cross_entropy(&xs[0], &xs[1]),
    )
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(matmul, m)?)?;
    m.add_function(wrap_pyfunction!(transpose, m)?)?;
    m.add_function(wrap_pyfunction!(reshape, m)?)?;
    m.add_function(wrap_pyfunction!(sum, m)?)?;
    m.add_function(wrap_pyfunction!(mean, m)?)?;
    m.add_function(wrap_pyfunction!(max, m)?)?;
    m.add_function(wrap_pyfunction!(min, m)?)?;
    m.add_function(wrap_pyfunction!(softmax_cross_entropy, m)?)?;
    Ok(())
}

//! Native fast paths of the registry's hottest entries, taken before the call would go to the
//! package: `np.sum/mean/max/min(v, axis=int|None, keepdims=bool)` and `v.reshape(...)`. They
//! run the same kernels the package's implementations call (`bprop/numpy/_reductions.py`,
//! `_shape.py`), only without the round trip through Python; anything else (tuple axes, other
//! keywords, floats, empty reductions, bad axes) returns `None` and goes to the package, which
//! also raises numpy's errors.

use bprop_core::array as kernels;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PyTuple};

use crate::array::{no_params, run_native};
use crate::bvar::{BVar, Val};
use crate::convert::on_nested_tape;

#[derive(Clone, Copy, PartialEq)]
enum Reduction {
    Sum,
    Mean,
    Max,
    Min,
}

fn numpy_function(
    py: Python<'_>,
    name: &'static str,
    cell: &'static PyOnceLock<Py<PyAny>>,
) -> PyResult<*mut pyo3::ffi::PyObject> {
    Ok(cell.import(py, "numpy", name)?.as_ptr())
}

fn reduction_of(func: &Bound<'_, PyAny>) -> PyResult<Option<Reduction>> {
    static SUM: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    static MEAN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    static MAX: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    static AMAX: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    static MIN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    static AMIN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let py = func.py();
    let f = func.as_ptr();
    Ok(if f == numpy_function(py, "sum", &SUM)? {
        Some(Reduction::Sum)
    } else if f == numpy_function(py, "mean", &MEAN)? {
        Some(Reduction::Mean)
    } else if f == numpy_function(py, "max", &MAX)? || f == numpy_function(py, "amax", &AMAX)? {
        Some(Reduction::Max)
    } else if f == numpy_function(py, "min", &MIN)? || f == numpy_function(py, "amin", &AMIN)? {
        Some(Reduction::Min)
    } else {
        None
    })
}

/// An integer that is not a bool.
fn plain_int(x: &Bound<'_, PyAny>) -> Option<isize> {
    (x.is_instance_of::<PyInt>() && !x.is_instance_of::<PyBool>())
        .then(|| x.extract().ok())
        .flatten()
}

/// `func(*args, **kwargs)` natively when it is a plain reduction of an array BVar.
pub fn reduction(
    func: &Bound<'_, PyAny>,
    args: &Bound<'_, PyAny>,
    kwargs: &Bound<'_, PyAny>,
) -> PyResult<Option<Py<PyAny>>> {
    let Some(kind) = reduction_of(func)? else {
        return Ok(None);
    };
    let (Ok(args), Ok(kwargs)) = (args.cast::<PyTuple>(), kwargs.cast::<PyDict>()) else {
        return Ok(None);
    };
    let (a, mut axis, mut keepdims) = match args.len() {
        1 => (args.get_item(0)?, None, false),
        2 => (args.get_item(0)?, Some(args.get_item(1)?), false),
        _ => return Ok(None),
    };
    for (k, v) in kwargs.iter() {
        match k.extract::<String>()?.as_str() {
            "axis" if axis.is_none() => axis = Some(v),
            "keepdims" if v.is_instance_of::<PyBool>() => keepdims = v.extract()?,
            _ => return Ok(None),
        }
    }
    let Ok(var) = a.cast::<BVar>() else {
        return Ok(None);
    };
    let Val::Array(data) = &var.get().val else {
        return Ok(None);
    };
    if on_nested_tape(var.get()) {
        return Ok(None);
    }
    let shape = data.data().shape().to_vec();
    let ndim = shape.len() as isize;
    let axis = match axis {
        None => None,
        Some(x) if x.is_none() => None,
        Some(x) => match plain_int(&x) {
            Some(i) if (-ndim..ndim).contains(&i) => {
                Some(if i < 0 { i + ndim } else { i } as usize)
            }
            _ => return Ok(None),
        },
    };
    let count: usize = match axis {
        None => shape.iter().product(),
        Some(i) => shape[i],
    };
    if ndim == 0 || (count == 0 && matches!(kind, Reduction::Max | Reduction::Min)) {
        return Ok(None);
    }
    // A one-axis array reduced along its axis gives a float, as without an axis.
    let kernel_axis = axis.filter(|_| ndim > 1).map(|i| i as isize);
    let py = func.py();
    let x = a.as_any();
    let out = match kind {
        Reduction::Sum => run_native(py, "sum", &[x], &no_params, |xs, share| {
            kernels::sum(&xs[0], kernel_axis, false, share)
        })?,
        Reduction::Mean => run_native(py, "mean", &[x], &no_params, |xs, share| {
            kernels::sum(&xs[0], kernel_axis, true, share)
        })?,
        Reduction::Max => run_native(py, "max", &[x], &no_params, |xs, share| {
            kernels::extremum(&xs[0], kernel_axis, true, share)
        })?,
        Reduction::Min => run_native(py, "min", &[x], &no_params, |xs, share| {
            kernels::extremum(&xs[0], kernel_axis, false, share)
        })?,
    };
    if !keepdims {
        return Ok(Some(out));
    }
    let kept: Vec<isize> = shape
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            if axis.is_none_or(|a| a == i) {
                1
            } else {
                n as isize
            }
        })
        .collect();
    Ok(Some(run_native(
        py,
        "reshape",
        &[out.bind(py)],
        &no_params,
        |xs, share| kernels::reshape(&xs[0], &kept, share),
    )?))
}

/// The dimensions of `v.reshape(*shape, order='C')` when given as integers or one sequence of
/// integers, with no other keyword than `order='C'`.
pub fn reshape_dims(
    shape: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Option<Vec<isize>>> {
    if let Some(kw) = kwargs {
        for (k, v) in kw.iter() {
            if k.extract::<String>()? != "order"
                || v.extract::<String>().ok().as_deref() != Some("C")
            {
                return Ok(None);
            }
        }
    }
    let items: Vec<Bound<'_, PyAny>> = match shape.len() {
        1 => {
            let only = shape.get_item(0)?;
            if let Ok(t) = only.cast::<PyTuple>() {
                t.iter().collect()
            } else if let Ok(l) = only.cast::<PyList>() {
                l.iter().collect()
            } else {
                vec![only]
            }
        }
        _ => shape.iter().collect(),
    };
    Ok(items.iter().map(plain_int).collect())
}

/// `v.reshape(...)` natively for array BVars.
pub fn reshape(var: &Bound<'_, BVar>, dims: Vec<isize>) -> PyResult<Option<Py<PyAny>>> {
    if !matches!(var.get().val, Val::Array(_)) || on_nested_tape(var.get()) {
        return Ok(None);
    }
    Ok(Some(run_native(
        var.py(),
        "reshape",
        &[var.as_any()],
        &no_params,
        |xs, share| kernels::reshape(&xs[0], &dims, share),
    )?))
}

//! The error adapter: every mapping from a Rust error to a Python exception, in one place (as the
//! tokenizers and pydantic-core bindings do). The core's errors (`TapeFull`, `ShapeError`,
//! `SweepError`) become Python exceptions here, and bprop's own exception classes (defined in
//! Python, `bprop.errors`, with two bases each) are built here from the classes the package
//! installed as hooks (`python.rs`). Other modules raise through these functions.

use bprop_core::{ShapeError, SweepError, TapeFull};
use pyo3::exceptions::{PyMemoryError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyType;

use crate::grad::RowError;
use crate::python;

/// The name of `obj`'s type, for messages (empty if it cannot be read).
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// An exception of one of the package's classes (or the error met looking the class up).
fn of_class(cls: PyResult<&Bound<'_, PyAny>>, msg: String) -> PyErr {
    match cls.and_then(|c| Ok(c.cast::<PyType>()?)) {
        Ok(cls) => PyErr::from_type(cls.clone(), msg),
        Err(e) => e,
    }
}

/// `bprop.errors.TapeScopeError`: a BVar used outside its run, or BVars of two runs mixed.
pub fn new_tape_scope_error(py: Python<'_>, msg: String) -> PyErr {
    of_class(python::tape_scope_error(py), msg)
}

/// `bprop.errors.ArityError`: a pullback returned the wrong number of gradients.
pub fn new_arity_error(py: Python<'_>, msg: String) -> PyErr {
    of_class(python::arity_error(py), msg)
}

/// `bprop.errors.ShapeError`: shapes that do not fit (a kernel's operands, a gradient).
pub fn new_shape_error(py: Python<'_>, msg: String) -> PyErr {
    of_class(python::shape_error(py), msg)
}

/// The core's tape ran out of node ids: `MemoryError`.
pub fn from_tape_full(e: TapeFull) -> PyErr {
    PyMemoryError::new_err(e.to_string())
}

/// A core kernel's `ShapeError`: bprop's `ShapeError`.
pub fn from_shape_error(py: Python<'_>, e: ShapeError) -> PyErr {
    new_shape_error(py, e.to_string())
}

/// A failed reverse sweep. Errors raised by Python code during the sweep (a pullback, an add
/// function) pass through unchanged.
pub fn from_sweep_error(py: Python<'_>, e: SweepError<PyErr>) -> PyErr {
    match e {
        SweepError::Pullback { error, .. } | SweepError::Accumulate { error, .. } => error,
        SweepError::Arity {
            node,
            expected,
            got,
        } => new_arity_error(
            py,
            format!("node {node}: pullback returned {got} gradients for {expected} arguments"),
        ),
        SweepError::NotScalar { node } => PyTypeError::new_err(format!(
            "node {node}: a float-valued node received a non-float gradient"
        )),
        SweepError::NotArray { node } => PyTypeError::new_err(format!(
            "node {node}: an array-valued node received a gradient that is not a real array"
        )),
        SweepError::ArrayGradient { node, op, error } => {
            // The error says what was wrong with the gradient; name the node it was for.
            let wrapped = PyErr::from_type(
                error.get_type(py),
                format!(
                    "{op} (node {node}): the gradient of its result could not be built: {}",
                    error.value(py)
                ),
            );
            wrapped.set_cause(py, Some(error));
            wrapped
        }
        SweepError::UnknownNode { node } => {
            new_tape_scope_error(py, format!("node {node} is not on this tape"))
        }
    }
}

/// The gradients of an array's rows do not fit the array: `ShapeError` for a row gradient of
/// the wrong shape, `TypeError` for one that is not a real number or array.
pub fn from_row_error(py: Python<'_>, e: RowError) -> PyErr {
    match e {
        RowError::Shape { row, got, want } => new_shape_error(
            py,
            format!("the gradient of row {row} has shape {got:?}, but the row has shape {want:?}"),
        ),
        RowError::NotReal { row, shape } => PyTypeError::new_err(format!(
            "the gradient of row {row} of an array of shape {shape:?} is not a real number or array"
        )),
    }
}

/// `bool(v)`, `float(v)`, ... of a BVar: refused, since the plain value carries no gradient.
pub fn drops_gradient(what: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "{what}() of a BVar would silently drop its gradient; use v.value for the plain value \
         (no gradient flows through it), or compare values with < <= > >="
    ))
}

/// `pow(v, w, m)` with a modulus: not differentiable.
pub fn pow_with_modulus() -> PyErr {
    PyTypeError::new_err("pow() with a modulus is not differentiable")
}

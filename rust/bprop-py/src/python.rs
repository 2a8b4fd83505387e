//! Python objects the bindings call back into, looked up once per interpreter.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

macro_rules! python_attr {
    ($fn_name:ident, $module:literal, $attr:literal, $ty:ty) => {
        pub fn $fn_name(py: Python<'_>) -> PyResult<&Bound<'_, $ty>> {
            static CELL: PyOnceLock<Py<$ty>> = PyOnceLock::new();
            CELL.import(py, $module, $attr)
        }
    };
}

// Exception classes (defined in Python so they can inherit from two bases).
python_attr!(tape_scope_error, "bprop.errors", "TapeScopeError", PyType);
python_attr!(arity_error, "bprop.errors", "ArityError", PyType);
python_attr!(shape_error, "bprop.errors", "ShapeError", PyType);

// numpy, for recognising and converting arrays that are not float64.
python_attr!(numpy_ndarray, "numpy", "ndarray", PyType);
python_attr!(numpy_asarray, "numpy", "asarray", PyAny);

// The generic Backprop functions (dispatch on the value's type).
python_attr!(generic_zero, "bprop.classes", "zero", PyAny);
python_attr!(generic_one, "bprop.classes", "one", PyAny);
python_attr!(generic_add, "bprop.classes", "add", PyAny);

// Containers: rebuilding a whole gradient from its parts, taking a gradient apart, `v[i]`.
python_attr!(containers_embed, "bprop._containers", "embed", PyAny);
python_attr!(containers_components, "bprop._containers", "components", PyAny);
python_attr!(optics_getitem, "bprop.optics", "getitem", PyAny);

// Fallbacks for BVars whose values are not floats (ints, complex, user numeric types).
python_attr!(generic_unary, "bprop._generic", "unary", PyAny);
python_attr!(generic_binary, "bprop._generic", "binary", PyAny);
python_attr!(array_ufunc, "bprop._generic", "array_ufunc", PyAny);

/// Build an exception of one of the Python-defined classes above.
pub fn error(cls: PyResult<&Bound<'_, PyType>>, msg: String) -> PyErr {
    match cls {
        Ok(cls) => PyErr::from_type(cls.clone(), msg),
        Err(e) => e,
    }
}

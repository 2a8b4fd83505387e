//! Python-level behaviour the extension calls back into. The package hands it over once, at
//! import (`bprop/_hooks.py` calls `install_hooks`), so the extension never imports the package
//! it belongs to; only numpy is looked up here directly. Exceptions of the package's classes
//! are built from these hooks by `errors.rs`.

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

macro_rules! hooks {
    ($($(#[doc = $doc:literal])* $name:ident),* $(,)?) => {
        /// The callables and classes installed by the package.
        pub struct Hooks {
            $($(#[doc = $doc])* pub $name: Py<PyAny>,)*
        }

        impl Hooks {
            const NAMES: &'static [&'static str] = &[$(stringify!($name)),*];

            fn from_kwargs(kwargs: &Bound<'_, PyDict>) -> PyResult<Hooks> {
                for key in kwargs.keys() {
                    let key: String = key.extract()?;
                    if !Self::NAMES.contains(&key.as_str()) {
                        return Err(PyTypeError::new_err(format!("install_hooks: unknown hook {key:?}")));
                    }
                }
                Ok(Hooks {
                    $($name: kwargs
                        .get_item(stringify!($name))?
                        .ok_or_else(|| PyTypeError::new_err(concat!("install_hooks: missing hook ", stringify!($name))))?
                        .unbind(),)*
                })
            }
        }

        $(
            $(#[doc = $doc])*
            pub fn $name(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
                Ok(installed(py)?.$name.bind(py))
            }
        )*
    };
}

hooks! {
    /// `bprop.errors.TapeScopeError` (the error classes are Python classes with two bases).
    tape_scope_error,
    /// `bprop.errors.ArityError`.
    arity_error,
    /// `bprop.errors.ShapeError`.
    shape_error,
    /// The Backprop class: `zero(x)`, `one(x)`, `add(a, b)`, dispatched on the value's type.
    generic_zero,
    generic_one,
    generic_add,
    /// `embed(container, slots)`: a whole container gradient from the gradients of some components.
    containers_embed,
    /// `components(g)`: a container gradient taken apart into its components.
    containers_components,
    /// `getitem(v, key)`: `v[key]` (components of containers, numpy indexing of arrays).
    getitem,
    /// `getattr(v, name)`: ndarray methods and attributes of BVars (`v.sum`, `v.size`, ...).
    getattr,
    /// `iterate(v)`: `iter(v)`, over the first axis or the components.
    iterate,
    /// `unary(name, x)` / `binary(name, x, y)`: the built-in math of values that are not native
    /// (complex numbers, ints, user numeric types).
    generic_unary,
    generic_binary,
    /// `array_ufunc(ufunc, method, inputs, kwargs)`: numpy ufuncs with no native kernel.
    array_ufunc,
    /// `array_function(func, types, args, kwargs)`: numpy's functions (NEP 18).
    array_function,
    /// `nested_kernel(name, args, params)`: a native kernel on a nested run's BVars, as a
    /// Python-level op with a differentiable pullback (`bprop/_nested.py`).
    nested_kernel,
    /// `nested_forward(op, forward, bare, values)`: an op's forward on a nested run's values,
    /// `(value, pullback)` as `forward` gives.
    nested_forward,
}

static HOOKS: PyOnceLock<Hooks> = PyOnceLock::new();

fn installed(py: Python<'_>) -> PyResult<&Hooks> {
    HOOKS.get(py).ok_or_else(|| {
        PyRuntimeError::new_err("bprop._core was used before the bprop package installed its hooks")
    })
}

/// `install_hooks(**hooks)`: called once by the package at import; later calls (a reloaded
/// package) keep the first set.
#[pyfunction]
#[pyo3(signature = (**hooks))]
pub fn install_hooks(py: Python<'_>, hooks: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    let empty = PyDict::new(py);
    let hooks = Hooks::from_kwargs(hooks.unwrap_or(&empty))?;
    let _ = HOOKS.set(py, hooks);
    Ok(())
}

macro_rules! numpy_attr {
    ($fn_name:ident, $attr:literal, $ty:ty) => {
        pub fn $fn_name(py: Python<'_>) -> PyResult<&Bound<'_, $ty>> {
            static CELL: PyOnceLock<Py<$ty>> = PyOnceLock::new();
            CELL.import(py, "numpy", $attr)
        }
    };
}

// numpy's `matmul`, for `@` where the native kernel does not apply (batched or non-float
// operands): numpy hands BVars on to the package's rule through `__array_ufunc__`.
numpy_attr!(numpy_matmul, "matmul", PyAny);
// `//` and `%` on BVars are numpy's ufuncs (zero gradient for `//`, the registry's rule for `%`).
numpy_attr!(numpy_floor_divide, "floor_divide", PyAny);
numpy_attr!(numpy_remainder, "remainder", PyAny);

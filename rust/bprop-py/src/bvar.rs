//! The `BVar` class: a value recorded on one run's tape (or a constant, with no tape), and the
//! per-op hot path. Arithmetic between float-valued BVars and plain numbers runs the core's
//! scalar kernels here (`unary`, `binary`); float64 arrays run the array kernels (`array.rs`);
//! other values go through the generic Python fallback (`bprop._generic`, through the hooks).
//! How Python values become a `Val` and back is in `convert.rs`.

use bprop_core::array as kernels;
use bprop_core::{Binary, NodeId, Scalar, Shared, Unary};
use pyo3::basic::CompareOp;
use pyo3::exceptions::{PyAttributeError, PyTypeError};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyString, PyTuple, PyType};
use pyo3::PyTraverseError;

use crate::array;
use crate::convert::{basic_index, on_nested_tape, row_index, scalar_arg};
use crate::errors;
use crate::fastpath;
use crate::python;
use crate::tape::{common_tape, Tape};

/// A BVar's value (see `convert.rs` for the conversions from and to Python).
pub enum Val {
    /// A native float (a Python float, or a float subclass such as numpy.float64, read as f64).
    Float(f64),
    /// A float64 numpy array in frozen memory (`frozen.rs`), shared with the core as is.
    Array(Shared),
    /// Any other Python value (complex numbers, containers, user types): the generic path.
    Object(Py<PyAny>),
}

impl Val {
    pub fn clone_ref(&self, py: Python<'_>) -> Val {
        match self {
            Val::Float(x) => Val::Float(*x),
            Val::Array(a) => Val::Array(a.clone()),
            Val::Object(o) => Val::Object(o.clone_ref(py)),
        }
    }
}

/// A value recorded on a tape (Haskell's `BVar s a`): what the functions given to the runners
/// receive and return. Arithmetic, the math functions and numpy work on it as on its value,
/// and every operation records a node, so that the runners can give the gradient.
///
/// >>> bp.grad_bp(lambda v: v * v + 3 * v, 2.0)
/// 7.0
/// >>> bp.eval_bp(lambda v: v * 2, 2.0)
/// 4.0
// No `freelist`: it saves about 6 % of W1's instructions, but pyo3 0.30 hands a recycled object out
// without tracking it for the cycle collector, so cycles through BVars would never be collected
// (tests/test_memory.py catches it).
#[pyclass(module = "bprop._core", name = "BVar", frozen, weakref)]
pub struct BVar {
    /// `None` for constants: they have no node and receive no gradient.
    pub tape: Option<Py<Tape>>,
    pub node: NodeId,
    pub val: Val,
}

impl BVar {
    pub fn constant(val: Val) -> Self {
        BVar {
            tape: None,
            node: 0,
            val,
        }
    }
}

fn new_float_var(py: Python<'_>, tape: Option<&Py<Tape>>, s: Scalar) -> PyResult<Py<PyAny>> {
    let var = match (tape, s.node) {
        (Some(t), Some(node)) => BVar {
            tape: Some(t.clone_ref(py)),
            node,
            val: Val::Float(s.value),
        },
        _ => BVar::constant(Val::Float(s.value)),
    };
    Ok(Bound::new(py, var)?.into_any().unbind())
}

/// `kernel(x)` by the package's generic rule (`bprop._generic`). Cold and out of line: the
/// native paths of `unary` and `binary` stay small enough for the core's kernels to be inlined.
#[cold]
#[inline(never)]
fn generic_unary(py: Python<'_>, kernel: Unary, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    Ok(python::generic_unary(py)?
        .call1((kernel.name(), x))?
        .unbind())
}

#[cold]
#[inline(never)]
fn generic_binary(
    py: Python<'_>,
    kernel: Binary,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    Ok(python::generic_binary(py)?
        .call1((kernel.name(), x, y))?
        .unbind())
}

/// `kernel(x)`: native for floats and float64 arrays (BVar or plain), generic otherwise.
pub fn unary(py: Python<'_>, kernel: Unary, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let Some(a) = scalar_arg(x) else {
        if let Some(r) = array::run_kernel(py, kernel.name(), &[x], |xs, share| {
            Ok(kernels::unary(kernel, &xs[0], share))
        })? {
            return Ok(r);
        }
        return generic_unary(py, kernel, x);
    };
    if !a.is_bvar {
        return Ok(PyFloat::new(py, kernel.eval(a.scalar.value))
            .into_any()
            .unbind());
    }
    let op = || kernel.name().to_string();
    let tape = common_tape(py, &op, [a.tape])?;
    if tape.is_some_and(|t| t.get().is_nested()) {
        // a nested run records no native nodes (see `Tape::parent`); checked here, where the
        // tape is read anyway, to keep the first-order path as it was
        return generic_unary(py, kernel, x);
    }
    let s = match tape {
        None => Scalar::constant(kernel.eval(a.scalar.value)),
        Some(t) => t
            .get()
            .lock(&op)?
            .apply_unary(kernel, a.scalar)
            .map_err(errors::from_tape_full)?,
    };
    new_float_var(py, tape, s)
}

/// `kernel(x, y)`: native when both are floats or float64 arrays (broadcasting), generic otherwise.
pub fn binary(
    py: Python<'_>,
    kernel: Binary,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    let (Some(a), Some(b)) = (scalar_arg(x), scalar_arg(y)) else {
        if let Some(r) = array::run_kernel(py, kernel.name(), &[x, y], |xs, share| {
            kernels::binary(kernel, &xs[0], &xs[1], share)
        })? {
            return Ok(r);
        }
        return generic_binary(py, kernel, x, y);
    };
    if !a.is_bvar && !b.is_bvar {
        return Ok(
            PyFloat::new(py, kernel.eval(a.scalar.value, b.scalar.value))
                .into_any()
                .unbind(),
        );
    }
    let op = || kernel.name().to_string();
    let tape = common_tape(py, &op, [a.tape, b.tape])?;
    if tape.is_some_and(|t| t.get().is_nested()) {
        return generic_binary(py, kernel, x, y);
    }
    let s = match tape {
        None => Scalar::constant(kernel.eval(a.scalar.value, b.scalar.value)),
        Some(t) => t
            .get()
            .lock(&op)?
            .apply_binary(kernel, a.scalar, b.scalar)
            .map_err(errors::from_tape_full)?,
    };
    new_float_var(py, tape, s)
}

/// `a @ b`: the native kernel for 1-D and 2-D operands, numpy's `matmul` (the package's
/// batched rule) otherwise.
fn matmul(py: Python<'_>, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    if let Some(r) = array::matmul_native(py, a, b)? {
        return Ok(r);
    }
    Ok(python::numpy_matmul(py)?.call1((a, b))?.unbind())
}

/// A constant BVar (no node, no gradient): Haskell's `constVar`/`auto`.
///
/// >>> c = bp.const_var(3.0)
/// >>> c.is_constant, c.value
/// (True, 3.0)
/// >>> bp.grad_bp(lambda x: x * c, 2.0)
/// 3.0
#[pyfunction]
pub fn const_var(x: Bound<'_, PyAny>) -> PyResult<BVar> {
    if x.cast::<BVar>().is_ok() {
        return Err(PyTypeError::new_err(
            "const_var: the argument is already a BVar (use v.value to drop its gradient)",
        ));
    }
    Ok(BVar::constant(Val::from_py(x)?))
}

#[pymethods]
impl BVar {
    /// Cycle-collector support: the tape and an object value. (Array values are numpy arrays
    /// over frozen memory, which cannot be part of a cycle.) No `__clear__`: a BVar never
    /// changes, so a cycle through one also passes through a mutable object whose clear breaks
    /// it (its tape, or a container in its value).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.tape)?;
        if let Val::Object(o) = &self.val {
            visit.call(o)?;
        }
        Ok(())
    }

    /// The plain value (no gradient flows through it).
    ///
    /// >>> bp.grad_bp(lambda v: v * v.value, 3.0)
    /// 3.0
    #[getter]
    fn value(&self, py: Python<'_>) -> Py<PyAny> {
        self.val.to_py(py)
    }

    /// Whether this BVar is a constant (it has no node on any tape).
    ///
    /// >>> bp.const_var(1.0).is_constant
    /// True
    #[getter]
    fn is_constant(&self) -> bool {
        self.tape.is_none()
    }

    #[classmethod]
    fn __class_getitem__(cls: &Bound<'_, PyType>, item: Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let py = cls.py();
        let alias = py.import("types")?.getattr("GenericAlias")?;
        Ok(alias.call1((cls, item))?.unbind())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let v = self.val.to_py(py).bind(py).repr()?.to_string();
        Ok(match self.tape {
            None => format!("BVar({v}, constant)"),
            Some(_) => format!("BVar({v}, node={})", self.node),
        })
    }

    fn __add__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary(slf.py(), Binary::Add, slf.as_any(), other)
    }
    fn __radd__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary(slf.py(), Binary::Add, other, slf.as_any())
    }
    fn __sub__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary(slf.py(), Binary::Sub, slf.as_any(), other)
    }
    fn __rsub__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary(slf.py(), Binary::Sub, other, slf.as_any())
    }
    fn __mul__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary(slf.py(), Binary::Mul, slf.as_any(), other)
    }
    fn __rmul__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary(slf.py(), Binary::Mul, other, slf.as_any())
    }
    fn __truediv__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary(slf.py(), Binary::Div, slf.as_any(), other)
    }
    fn __rtruediv__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        binary(slf.py(), Binary::Div, other, slf.as_any())
    }
    fn __pow__(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        if modulo.is_some() {
            return Err(errors::pow_with_modulus());
        }
        binary(slf.py(), Binary::Pow, slf.as_any(), other)
    }
    fn __rpow__(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        if modulo.is_some() {
            return Err(errors::pow_with_modulus());
        }
        binary(slf.py(), Binary::Pow, other, slf.as_any())
    }
    fn __matmul__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        matmul(slf.py(), slf.as_any(), other)
    }
    fn __rmatmul__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        matmul(slf.py(), other, slf.as_any())
    }
    /// The transpose (axes reversed) of an array BVar.
    ///
    /// >>> bp.eval_bp(lambda m: m.T, np.array([[1.0, 2.0], [3.0, 4.0]]))
    /// array([[1., 3.],
    ///        [2., 4.]])
    #[getter(T)]
    fn transposed(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        array::transpose(slf.py(), slf.as_any())
    }
    /// The shape of the value (numpy's `shape`; `()` for floats).
    ///
    /// >>> bp.const_var(np.zeros((2, 3))).shape, bp.const_var(1.0).shape
    /// ((2, 3), ())
    #[getter]
    fn shape(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match &self.val {
            Val::Float(_) => Ok(PyTuple::empty(py).into_any().unbind()),
            other => Ok(other.to_py(py).bind(py).getattr("shape")?.unbind()),
        }
    }
    /// The number of axes of the value (`0` for floats).
    ///
    /// >>> bp.const_var(np.zeros((2, 3))).ndim, bp.const_var(1.0).ndim
    /// (2, 0)
    #[getter]
    fn ndim(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match &self.val {
            Val::Float(_) => Ok(0_i64.into_pyobject(py)?.into_any().unbind()),
            other => Ok(other.to_py(py).bind(py).getattr("ndim")?.unbind()),
        }
    }
    /// `v[key]`: numpy indexing of arrays, components of containers (the package's `getitem`).
    fn __getitem__(slf: &Bound<'_, Self>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        // (a nested run's BVars take the package's indexing, whose pullback is differentiable)
        if let (Val::Array(a), false) = (&slf.get().val, on_nested_tape(slf.get())) {
            let shape = a.data().shape().to_vec();
            // index arrays first: `basic_index` would probe them as integers (an exception each)
            if let Some(&n) = shape.first() {
                if let Some((rows, rows_shape)) = row_index(key, n)? {
                    return array::run_native_take_rows(py, slf.as_any(), rows, rows_shape);
                }
            }
            if let Some(index) = basic_index(key, &shape)? {
                return array::run_native_index(py, slf.as_any(), index);
            }
        }
        Ok(python::getitem(py)?.call1((slf, key))?.unbind())
    }
    /// BVars are immutable: `v[i] = x` would edit a recorded value behind the tape's back.
    fn __setitem__(&self, _key: &Bound<'_, PyAny>, _value: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(PyTypeError::new_err(
            "BVars are immutable: v[i] = x is not supported; use the functional update \
             v = v.at[i].set(x) (or v.at[i].add(x)), which returns a new BVar",
        ))
    }
    /// The length of the first axis (`len` of an array value; of a container, its size).
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        match &self.val {
            Val::Float(_) => Err(PyTypeError::new_err(
                "len() of a float BVar (it has no axes)",
            )),
            Val::Array(a) => a
                .data()
                .shape()
                .first()
                .copied()
                .ok_or_else(|| PyTypeError::new_err("len() of a 0-d array BVar")),
            Val::Object(o) => o.bind(py).len(),
        }
    }
    /// Iteration over the first axis of an array, or over a container's components.
    fn __iter__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Ok(python::iterate(slf.py())?.call1((slf,))?.unbind())
    }
    /// ndarray methods and attributes (`v.sum()`, `v.reshape(...)`, `v.size`, `v.at`, ...),
    /// looked up only when the class has no such attribute.
    fn __getattr__(slf: &Bound<'_, Self>, name: &Bound<'_, PyString>) -> PyResult<Py<PyAny>> {
        let n = name.to_str()?;
        // Protocol probes (`__array_interface__`, `__array_struct__`, ...) are answered here, fast.
        if n.starts_with("__") && n != "__array_namespace__" {
            return Err(PyAttributeError::new_err(n.to_string()));
        }
        Ok(python::getattr(slf.py())?.call1((slf, name))?.unbind())
    }
    /// A BVar never becomes a plain array: that would drop its gradient, and inside
    /// `np.array([...])` silently build an object array.
    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__(
        &self,
        dtype: Option<&Bound<'_, PyAny>>,
        copy: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let _ = (dtype, copy);
        Err(PyTypeError::new_err(
            "a BVar cannot be converted to a plain numpy array (its gradient would be lost): \
             use np.stack([...]) or np.concatenate([...]) to build an array from BVars, \
             or v.value for the plain value (scipy.special's logsumexp, softmax and log_softmax \
             convert their input this way: use bprop.numpy.special's functions of those names)",
        ))
    }
    /// `v.reshape(*shape)`: the registry's `reshape`, run natively for array BVars. The
    /// gradient is reshaped back.
    ///
    /// >>> bp.grad_bp(lambda m: m.reshape(4)[1], np.array([[1.0, 2.0], [3.0, 4.0]]))
    /// array([[0., 1.],
    ///        [0., 0.]])
    #[pyo3(signature = (*shape, **kwargs))]
    fn reshape(
        slf: &Bound<'_, Self>,
        shape: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        if let Some(dims) = fastpath::reshape_dims(shape, kwargs)? {
            if let Some(r) = fastpath::reshape(slf, dims)? {
                return Ok(r);
            }
        }
        let method = python::getattr(slf.py())?.call1((slf, "reshape"))?;
        Ok(method.call(shape, kwargs)?.unbind())
    }
    /// numpy functions on BVars (NEP 18): `np.sum(v)`, `np.stack([v, w])`, ...
    fn __array_function__(
        &self,
        func: &Bound<'_, PyAny>,
        types: &Bound<'_, PyAny>,
        args: &Bound<'_, PyAny>,
        kwargs: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        if let Some(r) = fastpath::reduction(func, args, kwargs)? {
            return Ok(r);
        }
        Ok(python::array_function(func.py())?
            .call1((func, types, args, kwargs))?
            .unbind())
    }

    fn __neg__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        unary(slf.py(), Unary::Neg, slf.as_any())
    }
    fn __floordiv__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Ok(python::numpy_floor_divide(slf.py())?
            .call1((slf, other))?
            .unbind())
    }
    fn __rfloordiv__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Ok(python::numpy_floor_divide(slf.py())?
            .call1((other, slf))?
            .unbind())
    }
    fn __mod__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Ok(python::numpy_remainder(slf.py())?
            .call1((slf, other))?
            .unbind())
    }
    fn __rmod__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Ok(python::numpy_remainder(slf.py())?
            .call1((other, slf))?
            .unbind())
    }
    fn __pos__(slf: &Bound<'_, Self>) -> Py<PyAny> {
        slf.clone().into_any().unbind()
    }
    fn __abs__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        unary(slf.py(), Unary::Abs, slf.as_any())
    }

    /// Comparisons look at values and return plain results (branching works; the gradient
    /// follows the branch taken).
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let rhs = match other.cast::<BVar>() {
            Ok(o) => o.get().val.to_py(py).into_bound(py),
            Err(_) => other.clone(),
        };
        if let (Val::Float(a), Ok(b)) = (&self.val, rhs.cast::<PyFloat>()) {
            let (a, b) = (*a, b.value());
            let r = match op {
                CompareOp::Lt => a < b,
                CompareOp::Le => a <= b,
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                CompareOp::Gt => a > b,
                CompareOp::Ge => a >= b,
            };
            return Ok(pyo3::types::PyBool::new(py, r)
                .to_owned()
                .into_any()
                .unbind());
        }
        Ok(self.val.to_py(py).bind(py).rich_compare(rhs, op)?.unbind())
    }

    /// Hashing is by identity (values may be unhashable arrays); `==` compares values.
    fn __hash__(slf: &Bound<'_, Self>) -> isize {
        slf.as_ptr() as isize
    }

    fn __bool__(&self) -> PyResult<bool> {
        Err(errors::drops_gradient("bool"))
    }
    fn __float__(&self) -> PyResult<f64> {
        Err(errors::drops_gradient("float"))
    }
    fn __int__(&self) -> PyResult<i64> {
        Err(errors::drops_gradient("int"))
    }
    fn __complex__(&self) -> PyResult<Py<PyAny>> {
        Err(errors::drops_gradient("complex"))
    }

    /// numpy ufuncs on BVars (NEP 13). Plain calls of ufuncs with a native kernel run it
    /// directly; everything else (other ufuncs, `reduce`, `accumulate`, keyword arguments) goes
    /// to the package's `array_ufunc`.
    #[pyo3(signature = (ufunc, method, *inputs, **kwargs))]
    fn __array_ufunc__(
        &self,
        ufunc: &Bound<'_, PyAny>,
        method: &Bound<'_, PyString>,
        inputs: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let py = ufunc.py();
        if method.to_str()? == "__call__" && kwargs.is_none_or(|k| k.is_empty()) {
            let name = ufunc.getattr(pyo3::intern!(py, "__name__"))?;
            if let Some(r) = native_ufunc(py, name.cast::<PyString>()?.to_str()?, inputs)? {
                return Ok(r);
            }
        }
        Ok(python::array_ufunc(py)?
            .call1((ufunc, method, inputs, kwargs))?
            .unbind())
    }
}

/// A plain ufunc call with a native kernel: `Ok(None)` if there is none for `name` at this
/// number of inputs.
fn native_ufunc(
    py: Python<'_>,
    name: &str,
    inputs: &Bound<'_, PyTuple>,
) -> PyResult<Option<Py<PyAny>>> {
    match inputs.len() {
        1 => {
            let kernel = match name {
                "negative" => Unary::Neg,
                "absolute" | "fabs" => Unary::Abs,
                "sign" => Unary::Signum,
                "reciprocal" => Unary::Recip,
                "exp" => Unary::Exp,
                "log" => Unary::Log,
                "sqrt" => Unary::Sqrt,
                "sin" => Unary::Sin,
                "cos" => Unary::Cos,
                "tan" => Unary::Tan,
                "arcsin" => Unary::Asin,
                "arccos" => Unary::Acos,
                "arctan" => Unary::Atan,
                "sinh" => Unary::Sinh,
                "cosh" => Unary::Cosh,
                "tanh" => Unary::Tanh,
                "arcsinh" => Unary::Asinh,
                "arccosh" => Unary::Acosh,
                "arctanh" => Unary::Atanh,
                _ => return Ok(None),
            };
            unary(py, kernel, &inputs.get_item(0)?).map(Some)
        }
        2 => {
            let (x, y) = (inputs.get_item(0)?, inputs.get_item(1)?);
            let kernel = match name {
                "add" => Binary::Add,
                "subtract" => Binary::Sub,
                "multiply" => Binary::Mul,
                "divide" => Binary::Div,
                "power" | "float_power" => Binary::Pow,
                "maximum" => Binary::Maximum,
                "minimum" => Binary::Minimum,
                "matmul" => return array::matmul_native(py, &x, &y),
                _ => return Ok(None),
            };
            binary(py, kernel, &x, &y).map(Some)
        }
        _ => Ok(None),
    }
}

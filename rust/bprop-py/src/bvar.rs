//! The `BVar` class: a value recorded on one run's tape (or a constant, with no tape).
//! Arithmetic between float-valued BVars and plain numbers runs the core's native kernels; other
//! values go through the generic Python fallback (`bprop._generic`).

use bprop_core::array as kernels;
use bprop_core::{Binary, NodeId, Scalar, Shared, Unary};
use pyo3::basic::CompareOp;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt, PyTuple, PyType};

use crate::array::{self, numpy_data, numpy_of};
use crate::python;
use crate::tape::{tape_full, Tape};

/// A BVar's value: a native float, a numpy float64 array shared with the core, or any other
/// Python object.
pub enum Val {
    F(f64),
    A(Shared),
    O(Py<PyAny>),
}

impl Val {
    /// Floats (and float subclasses such as numpy.float64) and real numpy arrays (converted to
    /// float64) are native; anything else is kept as a Python object.
    pub fn from_value(v: Bound<'_, PyAny>) -> PyResult<Val> {
        if let Ok(f) = v.cast::<PyFloat>() {
            return Ok(Val::F(f.value()));
        }
        Ok(match numpy_data(&v)? {
            Some(d) => Val::A(d),
            None => Val::O(v.unbind()),
        })
    }

    pub fn clone_ref(&self, py: Python<'_>) -> Val {
        match self {
            Val::F(x) => Val::F(*x),
            Val::A(a) => Val::A(a.clone()),
            Val::O(o) => Val::O(o.clone_ref(py)),
        }
    }

    pub fn to_py(&self, py: Python<'_>) -> Py<PyAny> {
        match self {
            Val::F(x) => PyFloat::new(py, *x).into_any().unbind(),
            Val::A(a) => numpy_of(py, a),
            Val::O(o) => o.clone_ref(py),
        }
    }

    /// The shape of an array value.
    pub fn array_shape(&self) -> Option<Vec<usize>> {
        match self {
            Val::A(a) => Some(a.data().shape().to_vec()),
            _ => None,
        }
    }
}

#[pyclass(module = "bprop._core", name = "BVar", frozen, weakref)]
pub struct BVar {
    /// `None` for constants: they have no node and receive no gradient.
    pub tape: Option<Py<Tape>>,
    pub node: NodeId,
    pub val: Val,
}

impl BVar {
    pub fn constant(val: Val) -> Self {
        BVar { tape: None, node: 0, val }
    }
}

/// The tape shared by the arguments of `op`, or `None` if all are constants. Mixing two runs,
/// or using a finished run's BVar, raises `TapeScopeError`.
pub fn common_tape<'a>(
    py: Python<'_>,
    op: &dyn Fn() -> String,
    tapes: impl IntoIterator<Item = Option<&'a Py<Tape>>>,
) -> PyResult<Option<&'a Py<Tape>>> {
    let mut found: Option<&'a Py<Tape>> = None;
    for t in tapes.into_iter().flatten() {
        match found {
            Some(f) if !f.is(t) => {
                return Err(python::error(
                    python::tape_scope_error(py),
                    format!("{}: arguments come from two different backprop runs", op()),
                ))
            }
            _ => found = Some(t),
        }
    }
    if let Some(t) = found {
        t.get().check_open(py, op)?;
    }
    Ok(found)
}

/// A float argument of a native kernel: a float-valued BVar or a plain real number.
struct ScalarArg<'a> {
    tape: Option<&'a Py<Tape>>,
    scalar: Scalar,
    is_bvar: bool,
}

fn scalar_arg<'a>(obj: &'a Bound<'_, PyAny>) -> Option<ScalarArg<'a>> {
    if let Ok(v) = obj.cast::<BVar>() {
        let v = v.get();
        return match v.val {
            Val::F(value) => Some(ScalarArg {
                tape: v.tape.as_ref(),
                scalar: Scalar { value, node: v.tape.as_ref().map(|_| v.node) },
                is_bvar: true,
            }),
            Val::A(_) | Val::O(_) => None,
        };
    }
    let value = if let Ok(f) = obj.cast::<PyFloat>() {
        f.value()
    } else if obj.is_instance_of::<PyInt>() {
        obj.extract::<f64>().ok()?
    } else {
        return None;
    };
    Some(ScalarArg { tape: None, scalar: Scalar::constant(value), is_bvar: false })
}

fn new_float_var(py: Python<'_>, tape: Option<&Py<Tape>>, s: Scalar) -> PyResult<Py<PyAny>> {
    let var = match (tape, s.node) {
        (Some(t), Some(node)) => BVar { tape: Some(t.clone_ref(py)), node, val: Val::F(s.value) },
        _ => BVar::constant(Val::F(s.value)),
    };
    Ok(Bound::new(py, var)?.into_any().unbind())
}

/// `kernel(x)`: native for floats and float64 arrays (BVar or plain), generic otherwise.
pub fn unary(py: Python<'_>, kernel: Unary, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let Some(a) = scalar_arg(x) else {
        if let Some(r) = array::run_kernel(py, kernel.name(), &[x], |xs, share| Ok(kernels::unary(kernel, &xs[0], share)))? {
            return Ok(r);
        }
        return Ok(python::generic_unary(py)?.call1((kernel.name(), x))?.unbind());
    };
    if !a.is_bvar {
        return Ok(PyFloat::new(py, kernel.eval(a.scalar.value)).into_any().unbind());
    }
    let op = || kernel.name().to_string();
    let tape = common_tape(py, &op, [a.tape])?;
    let s = match tape {
        None => Scalar::constant(kernel.eval(a.scalar.value)),
        Some(t) => t.get().lock(&op)?.apply_unary(kernel, a.scalar).map_err(tape_full)?,
    };
    new_float_var(py, tape, s)
}

/// `kernel(x, y)`: native when both are floats or float64 arrays (broadcasting), generic otherwise.
pub fn binary(py: Python<'_>, kernel: Binary, x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let (Some(a), Some(b)) = (scalar_arg(x), scalar_arg(y)) else {
        if let Some(r) =
            array::run_kernel(py, kernel.name(), &[x, y], |xs, share| kernels::binary(kernel, &xs[0], &xs[1], share))?
        {
            return Ok(r);
        }
        return Ok(python::generic_binary(py)?.call1((kernel.name(), x, y))?.unbind());
    };
    if !a.is_bvar && !b.is_bvar {
        return Ok(PyFloat::new(py, kernel.eval(a.scalar.value, b.scalar.value)).into_any().unbind());
    }
    let op = || kernel.name().to_string();
    let tape = common_tape(py, &op, [a.tape, b.tape])?;
    let s = match tape {
        None => Scalar::constant(kernel.eval(a.scalar.value, b.scalar.value)),
        Some(t) => t.get().lock(&op)?.apply_binary(kernel, a.scalar, b.scalar).map_err(tape_full)?,
    };
    new_float_var(py, tape, s)
}

fn drops_gradient(what: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "{what}() of a BVar would silently drop its gradient; use v.value for the plain value \
         (no gradient flows through it), or compare values with < <= > >="
    ))
}

/// A constant BVar (no node, no gradient): Haskell's `constVar`/`auto`.
#[pyfunction]
pub fn const_var(x: Bound<'_, PyAny>) -> PyResult<BVar> {
    if x.cast::<BVar>().is_ok() {
        return Err(PyTypeError::new_err("const_var: the argument is already a BVar (use v.value to drop its gradient)"));
    }
    Ok(BVar::constant(Val::from_value(x)?))
}

#[pymethods]
impl BVar {
    /// The plain value (no gradient flows through it).
    #[getter]
    fn value(&self, py: Python<'_>) -> Py<PyAny> {
        self.val.to_py(py)
    }

    /// Whether this BVar is a constant (it has no node on any tape).
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
    fn __pow__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>, modulo: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        if modulo.is_some() {
            return Err(PyTypeError::new_err("pow() with a modulus is not differentiable"));
        }
        binary(slf.py(), Binary::Pow, slf.as_any(), other)
    }
    fn __rpow__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>, modulo: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        if modulo.is_some() {
            return Err(PyTypeError::new_err("pow() with a modulus is not differentiable"));
        }
        binary(slf.py(), Binary::Pow, other, slf.as_any())
    }
    fn __matmul__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        array::matmul(slf.py(), slf.as_any(), other)
    }
    fn __rmatmul__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        array::matmul(slf.py(), other, slf.as_any())
    }
    /// The transpose (axes reversed) of an array BVar.
    #[getter(T)]
    fn transposed(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        array::transpose(slf.py(), slf.as_any())
    }
    /// The shape of the value (numpy's `shape`; `()` for floats).
    #[getter]
    fn shape(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match &self.val {
            Val::F(_) => Ok(PyTuple::empty(py).into_any().unbind()),
            other => Ok(other.to_py(py).bind(py).getattr("shape")?.unbind()),
        }
    }
    /// The number of axes of the value (`0` for floats).
    #[getter]
    fn ndim(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match &self.val {
            Val::F(_) => Ok(0_i64.into_pyobject(py)?.into_any().unbind()),
            other => Ok(other.to_py(py).bind(py).getattr("ndim")?.unbind()),
        }
    }
    /// `v[i]` / `v[key]`: `view_var` of a component of a container or array (bprop.optics).
    fn __getitem__(slf: &Bound<'_, Self>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Ok(python::optics_getitem(slf.py())?.call1((slf, key))?.unbind())
    }

    fn __neg__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        unary(slf.py(), Unary::Neg, slf.as_any())
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
        if let (Val::F(a), Ok(b)) = (&self.val, rhs.cast::<PyFloat>()) {
            let (a, b) = (*a, b.value());
            let r = match op {
                CompareOp::Lt => a < b,
                CompareOp::Le => a <= b,
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                CompareOp::Gt => a > b,
                CompareOp::Ge => a >= b,
            };
            return Ok(pyo3::types::PyBool::new(py, r).to_owned().into_any().unbind());
        }
        Ok(self.val.to_py(py).bind(py).rich_compare(rhs, op)?.unbind())
    }

    /// Hashing is by identity (values may be unhashable arrays); `==` compares values.
    fn __hash__(slf: &Bound<'_, Self>) -> isize {
        slf.as_ptr() as isize
    }

    fn __bool__(&self) -> PyResult<bool> {
        Err(drops_gradient("bool"))
    }
    fn __float__(&self) -> PyResult<f64> {
        Err(drops_gradient("float"))
    }
    fn __int__(&self) -> PyResult<i64> {
        Err(drops_gradient("int"))
    }
    fn __complex__(&self) -> PyResult<Py<PyAny>> {
        Err(drops_gradient("complex"))
    }

    /// numpy ufuncs on BVars (`np.sin(v)`, `np.add(v, w)`) dispatch to bprop's functions.
    #[pyo3(signature = (ufunc, method, *inputs, **kwargs))]
    fn __array_ufunc__(
        &self,
        ufunc: &Bound<'_, PyAny>,
        method: &Bound<'_, PyAny>,
        inputs: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        let py = ufunc.py();
        Ok(python::array_ufunc(py)?.call1((ufunc, method, inputs, kwargs))?.unbind())
    }
}

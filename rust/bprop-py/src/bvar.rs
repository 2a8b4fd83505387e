//! The `BVar` class: a value recorded on one run's tape (or a constant, with no tape).
//! Arithmetic between float-valued BVars and plain numbers runs the core's native kernels; other
//! values go through the generic Python fallback (`bprop._generic`).

use bprop_core::array as kernels;
use bprop_core::array::SliceInfoElem;
use bprop_core::{Binary, NodeId, Scalar, Shared, Unary};
use pyo3::basic::CompareOp;
use pyo3::exceptions::{PyAttributeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PySlice, PyString, PyTuple, PyType};

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
        BVar {
            tape: None,
            node: 0,
            val,
        }
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
                scalar: Scalar {
                    value,
                    node: v.tape.as_ref().map(|_| v.node),
                },
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
    Some(ScalarArg {
        tape: None,
        scalar: Scalar::constant(value),
        is_bvar: false,
    })
}

fn new_float_var(py: Python<'_>, tape: Option<&Py<Tape>>, s: Scalar) -> PyResult<Py<PyAny>> {
    let var = match (tape, s.node) {
        (Some(t), Some(node)) => BVar {
            tape: Some(t.clone_ref(py)),
            node,
            val: Val::F(s.value),
        },
        _ => BVar::constant(Val::F(s.value)),
    };
    Ok(Bound::new(py, var)?.into_any().unbind())
}

/// `kernel(x)`: native for floats and float64 arrays (BVar or plain), generic otherwise.
pub fn unary(py: Python<'_>, kernel: Unary, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let Some(a) = scalar_arg(x) else {
        if let Some(r) = array::run_kernel(py, kernel.name(), &[x], |xs, share| {
            Ok(kernels::unary(kernel, &xs[0], share))
        })? {
            return Ok(r);
        }
        return Ok(python::generic_unary(py)?
            .call1((kernel.name(), x))?
            .unbind());
    };
    if !a.is_bvar {
        return Ok(PyFloat::new(py, kernel.eval(a.scalar.value))
            .into_any()
            .unbind());
    }
    let op = || kernel.name().to_string();
    let tape = common_tape(py, &op, [a.tape])?;
    let s = match tape {
        None => Scalar::constant(kernel.eval(a.scalar.value)),
        Some(t) => t
            .get()
            .lock(&op)?
            .apply_unary(kernel, a.scalar)
            .map_err(tape_full)?,
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
        return Ok(python::generic_binary(py)?
            .call1((kernel.name(), x, y))?
            .unbind());
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
    let s = match tape {
        None => Scalar::constant(kernel.eval(a.scalar.value, b.scalar.value)),
        Some(t) => t
            .get()
            .lock(&op)?
            .apply_binary(kernel, a.scalar, b.scalar)
            .map_err(tape_full)?,
    };
    new_float_var(py, tape, s)
}

/// numpy's basic index (`v[1:3]`, `v[:, 0]`, `v[..., None]`) resolved against `shape` for the
/// native kernel. `None` for everything else, which the package's indexing handles: a lone
/// integer (a row, read as a component), integer and boolean arrays, and invalid keys (numpy's
/// own error is raised there).
fn basic_index(key: &Bound<'_, PyAny>, shape: &[usize]) -> PyResult<Option<Vec<SliceInfoElem>>> {
    let items: Vec<Bound<'_, PyAny>> = match key.cast::<PyTuple>() {
        Ok(t) => t.iter().collect(),
        Err(_) if key.is_instance_of::<PyInt>() => return Ok(None),
        Err(_) => vec![key.clone()],
    };
    let py = key.py();
    let mut consumed = 0usize;
    let mut ellipses = 0usize;
    for it in &items {
        if it.is_none() {
        } else if it.is(&py.Ellipsis()) {
            ellipses += 1;
        } else if it.cast::<PySlice>().is_ok() || is_integer(it) {
            consumed += 1;
        } else {
            return Ok(None);
        }
    }
    if ellipses > 1 || consumed > shape.len() {
        return Ok(None);
    }
    let mut axes = shape.iter();
    let mut out = Vec::with_capacity(items.len() + shape.len());
    let full = |n: usize| SliceInfoElem::Slice {
        start: 0,
        end: Some(n as isize),
        step: 1,
    };
    for it in &items {
        if it.is_none() {
            out.push(SliceInfoElem::NewAxis);
        } else if it.is(&py.Ellipsis()) {
            for _ in 0..shape.len() - consumed {
                out.push(full(*axes.next().unwrap_or(&0)));
            }
        } else if let Ok(sl) = it.cast::<PySlice>() {
            let n = *axes.next().unwrap_or(&0);
            let r = sl.indices(n as isize)?;
            out.push(match (r.slicelength, r.step) {
                (0, _) => SliceInfoElem::Slice {
                    start: 0,
                    end: Some(0),
                    step: 1,
                },
                (len, step) if step > 0 => SliceInfoElem::Slice {
                    start: r.start,
                    end: Some(r.start + (len as isize - 1) * step + 1),
                    step,
                },
                (len, step) => SliceInfoElem::Slice {
                    start: r.start + (len as isize - 1) * step,
                    end: Some(r.start + 1),
                    step,
                },
            });
        } else {
            let n = *axes.next().unwrap_or(&0) as isize;
            let i: isize = it.extract()?;
            let i = if i < 0 { i + n } else { i };
            if !(0..n).contains(&i) {
                return Ok(None); // numpy raises its IndexError on the package's path
            }
            out.push(SliceInfoElem::Index(i));
        }
    }
    for &n in axes {
        out.push(full(n));
    }
    Ok(Some(out))
}

/// An integer index (Python or numpy integer), not a bool.
fn is_integer(x: &Bound<'_, PyAny>) -> bool {
    !x.is_instance_of::<PyBool>()
        && (x.is_instance_of::<PyInt>()
            || (x
                .hasattr(pyo3::intern!(x.py(), "__index__"))
                .unwrap_or(false)
                && x.extract::<isize>().is_ok()))
}

/// `a @ b`: the native kernel for 1-D and 2-D operands, numpy's `matmul` (the package's
/// batched rule) otherwise.
fn matmul(py: Python<'_>, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    if let Some(r) = array::matmul_native(py, a, b)? {
        return Ok(r);
    }
    Ok(python::numpy_matmul(py)?.call1((a, b))?.unbind())
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
        return Err(PyTypeError::new_err(
            "const_var: the argument is already a BVar (use v.value to drop its gradient)",
        ));
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
    fn __pow__(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        if modulo.is_some() {
            return Err(PyTypeError::new_err(
                "pow() with a modulus is not differentiable",
            ));
        }
        binary(slf.py(), Binary::Pow, slf.as_any(), other)
    }
    fn __rpow__(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        if modulo.is_some() {
            return Err(PyTypeError::new_err(
                "pow() with a modulus is not differentiable",
            ));
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
    /// `v[key]`: numpy indexing of arrays, components of containers (the package's `getitem`).
    fn __getitem__(slf: &Bound<'_, Self>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        if let Val::A(a) = &slf.get().val {
            if let Some(index) = basic_index(key, a.data().shape())? {
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
            Val::F(_) => Err(PyTypeError::new_err(
                "len() of a float BVar (it has no axes)",
            )),
            Val::A(a) => a
                .data()
                .shape()
                .first()
                .copied()
                .ok_or_else(|| PyTypeError::new_err("len() of a 0-d array BVar")),
            Val::O(o) => o.bind(py).len(),
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
    /// numpy functions on BVars (NEP 18): `np.sum(v)`, `np.stack([v, w])`, ...
    fn __array_function__(
        &self,
        func: &Bound<'_, PyAny>,
        types: &Bound<'_, PyAny>,
        args: &Bound<'_, PyAny>,
        kwargs: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        Ok(python::array_function(func.py())?
            .call1((func, types, args, kwargs))?
            .unbind())
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
    use Binary as B;
    use Unary as U;
    match inputs.len() {
        1 => {
            let kernel = match name {
                "negative" => U::Neg,
                "absolute" | "fabs" => U::Abs,
                "sign" => U::Signum,
                "reciprocal" => U::Recip,
                "exp" => U::Exp,
                "log" => U::Log,
                "sqrt" => U::Sqrt,
                "sin" => U::Sin,
                "cos" => U::Cos,
                "tan" => U::Tan,
                "arcsin" => U::Asin,
                "arccos" => U::Acos,
                "arctan" => U::Atan,
                "sinh" => U::Sinh,
                "cosh" => U::Cosh,
                "tanh" => U::Tanh,
                "arcsinh" => U::Asinh,
                "arccosh" => U::Acosh,
                "arctanh" => U::Atanh,
                _ => return Ok(None),
            };
            unary(py, kernel, &inputs.get_item(0)?).map(Some)
        }
        2 => {
            let (x, y) = (inputs.get_item(0)?, inputs.get_item(1)?);
            let kernel = match name {
                "add" => B::Add,
                "subtract" => B::Sub,
                "multiply" => B::Mul,
                "divide" => B::Div,
                "power" | "float_power" => B::Pow,
                "maximum" => B::Maximum,
                "minimum" => B::Minimum,
                "matmul" => return array::matmul_native(py, &x, &y),
                _ => return Ok(None),
            };
            binary(py, kernel, &x, &y).map(Some)
        }
        _ => Ok(None),
    }
}

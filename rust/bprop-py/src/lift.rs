//! Lifting user-defined Ops onto BVars: run the forward function on the values, then record the
//! pullback as the core's typed arity variant. The pullback is a Python callable; its results
//! are checked (count, and real numbers for float arguments) and converted here.

use std::sync::Arc;

use bprop_core::{CustomOp, Input};
use pyo3::exceptions::PyTypeError;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use pyo3::PyTraverseError;

use crate::bvar::{BVar, Val};
use crate::convert::{kept_arg, Kind};
use crate::errors::{self, type_name};
use crate::grad::PyGrad;
use crate::python;
use crate::tape::{common_tape, HoldsPython, Tape};

/// A recorded Python pullback with what is needed to check and convert its results.
struct PyPullback {
    op: Py<PyAny>,
    pullback: Py<PyAny>,
    /// Per argument: how to take its gradient.
    args: Box<[Kind]>,
}

fn op_name(op: &Bound<'_, PyAny>) -> String {
    op.getattr(pyo3::intern!(op.py(), "name"))
        .and_then(|n| n.extract::<String>())
        .or_else(|_| op.repr().map(|r| r.to_string()))
        .unwrap_or_else(|_| "<op>".to_string())
}

impl HoldsPython for PyPullback {
    fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.op)?;
        visit.call(&self.pullback)
    }
}

impl PyPullback {
    fn name(&self, py: Python<'_>) -> String {
        op_name(self.op.bind(py))
    }

    /// Call the user's pullback; its exceptions pass through with a note naming the op.
    fn call<'py>(&self, py: Python<'py>, g: PyGrad) -> PyResult<Bound<'py, PyAny>> {
        self.pullback
            .bind(py)
            .call1((g.into_py(py)?,))
            .inspect_err(|e| {
                let _ = e.add_note(
                    py,
                    format!("raised in the pullback of op {}", self.name(py)),
                );
            })
    }

    /// The pullback's result as exactly `n` gradients (a tuple or list), else `ArityError`.
    fn expect_n<'py>(
        &self,
        py: Python<'py>,
        r: &Bound<'py, PyAny>,
        n: usize,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let items: Option<Vec<Bound<'py, PyAny>>> = if let Ok(t) = r.cast::<PyTuple>() {
            Some(t.iter().collect())
        } else if let Ok(l) = r.cast::<PyList>() {
            Some(l.iter().collect())
        } else {
            None
        };
        match items {
            Some(items) if items.len() == n => Ok(items),
            Some(items) => Err(errors::new_arity_error(
                py,
                format!(
                    "op {}: pullback returned {} gradients for {} arguments",
                    self.name(py),
                    items.len(),
                    n
                ),
            )),
            None => Err(errors::new_arity_error(
                py,
                format!(
                    "op {}: pullback returned a {} where a tuple of {} gradients was expected",
                    self.name(py),
                    type_name(r),
                    n
                ),
            )),
        }
    }

    /// Argument `i`'s gradient: `None` means no contribution (zero).
    fn convert(&self, py: Python<'_>, i: usize, g: &Bound<'_, PyAny>) -> PyResult<Option<PyGrad>> {
        self.args[i].gradient(py, g, &|| {
            format!("op {}: pullback gradient for argument {i}", self.name(py))
        })
    }

    fn gradients<const N: usize>(&self, g: PyGrad) -> PyResult<[Option<PyGrad>; N]> {
        Python::attach(|py| {
            let r = self.call(py, g)?;
            let items = self.expect_n(py, &r, N)?;
            let mut out: [Option<PyGrad>; N] = std::array::from_fn(|_| None);
            for (i, item) in items.iter().enumerate() {
                out[i] = self.convert(py, i, item)?;
            }
            Ok(out)
        })
    }
}

/// Whether `y` (what a forward function returned) is a BVar of a run that `tape` is nested in:
/// the forward computed on such BVars, which is how a nested run records on the enclosing tape.
fn returns_outer(y: &BVar, tape: Option<&Py<Tape>>) -> bool {
    match (y.tape.as_ref(), tape) {
        (Some(outer), Some(t)) => !outer.is(t) && t.get().is_within(t, outer),
        (None, _) => true,
        _ => false,
    }
}

/// `lift_custom(op, forward, bare, args)`: apply a user Op to BVars/plain values.
///
/// `forward(*values)` must return `(value, pullback)`. `bare` means the pullback returns the
/// single gradient of a one-argument op (`op1`), otherwise a tuple with one entry per argument.
/// If every argument is a constant, the op is constant-folded: nothing is recorded.
#[pyfunction]
pub fn lift_custom(
    py: Python<'_>,
    op: &Bound<'_, PyAny>,
    forward: &Bound<'_, PyAny>,
    bare: bool,
    args: &Bound<'_, PyTuple>,
) -> PyResult<Py<PyAny>> {
    let n = args.len();
    let args: Vec<Bound<'_, PyAny>> = args.iter().collect();
    let all_vars: Vec<Option<&BVar>> = args
        .iter()
        .map(|a| a.cast::<BVar>().ok().map(|b| b.get()))
        .collect();
    let name = || op_name(op);
    let tape: Option<&Py<Tape>> = common_tape(
        py,
        &name,
        all_vars.iter().map(|v| v.and_then(|v| v.tape.as_ref())),
    )?;
    // BVars of the runs the tape is nested in are constants of this op: their value is the BVar
    // itself, so that the forward and the pullback compute on it (and record on its tape).
    let vars: Vec<Option<&BVar>> = all_vars
        .iter()
        .map(|v| {
            v.filter(|v| {
                v.tape.is_none() || v.tape.as_ref().zip(tape).is_some_and(|(a, b)| a.is(b))
            })
        })
        .collect();

    let values: Vec<Py<PyAny>> = args
        .iter()
        .zip(&vars)
        .map(|(a, v)| match v {
            Some(v) => Ok(v.val.to_py(py)),
            None if a.cast::<BVar>().is_ok() => Ok(a.clone().unbind()),
            // A recorded op may read its constants again at sweep time: never the user's memory.
            None if tape.is_some() => kept_arg(a),
            None => Ok(a.clone().unbind()),
        })
        .collect::<PyResult<_>>()?;
    let values = PyTuple::new(py, values)?;
    let out = match tape {
        // On a nested run's tape the values are BVars of the enclosing run: the package runs
        // the forward there, falling back to plain values for an op whose code cannot compute
        // on BVars (its gradient then cannot be differentiated again, which it reports).
        Some(t) if t.get().is_nested() => {
            python::nested_forward(py)?.call1((op, forward, bare, values))?
        }
        _ => forward.call1(values)?,
    };
    let (y, pullback) = match out.cast::<PyTuple>() {
        Ok(t) if t.len() == 2 => (t.get_item(0)?, t.get_item(1)?),
        _ => {
            return Err(PyTypeError::new_err(format!(
                "op {}: the forward function must return a (value, pullback) pair, got {}",
                name(),
                type_name(&out)
            )))
        }
    };
    let nested = tape.is_some_and(|t| t.get().is_nested());
    if y.cast::<BVar>()
        .is_ok_and(|b| !(nested && returns_outer(b.get(), tape)))
    {
        return Err(PyTypeError::new_err(format!(
            "op {}: the forward function returned a BVar; Op functions work on plain values (use bp_op for functions of BVars)",
            name()
        )));
    }
    let Some(tape) = tape else {
        return Ok(Bound::new(py, BVar::constant(Val::from_py(y)?))?
            .into_any()
            .unbind());
    };

    let inputs: Vec<Input> = vars
        .iter()
        .map(|v| v.and_then(|v| v.tape.as_ref().map(|_| v.node)))
        .collect();
    // Shared with the tape, which shows its Python objects to the cycle collector.
    let pb = Arc::new(PyPullback {
        op: op.clone().unbind(),
        pullback: pullback.unbind(),
        args: vars.iter().map(|v| Kind::of(*v)).collect(),
    });
    let kept = pb.clone();
    let custom = match (bare, n) {
        (true, 1) => CustomOp::Unary {
            // A recorded op has a tape, so its one argument is a BVar on it.
            x: inputs[0].ok_or_else(|| {
                PyTypeError::new_err(format!("op {}: internal error: no node", name()))
            })?,
            pullback: Box::new(move |g| {
                Python::attach(|py| {
                    let r = pb.call(py, g)?;
                    pb.convert(py, 0, &r)
                })
            }),
        },
        (true, _) => {
            return Err(errors::new_arity_error(
                py,
                format!(
                    "op {}: a one-argument op was applied to {n} arguments",
                    name()
                ),
            ))
        }
        (false, 2) => CustomOp::Binary {
            xs: [inputs[0], inputs[1]],
            pullback: Box::new(move |g| pb.gradients::<2>(g)),
        },
        (false, 3) => CustomOp::Ternary {
            xs: [inputs[0], inputs[1], inputs[2]],
            pullback: Box::new(move |g| pb.gradients::<3>(g)),
        },
        (false, _) => CustomOp::Nary {
            xs: inputs.into(),
            pullback: Box::new(move |g| {
                Python::attach(|py| {
                    let r = pb.call(py, g)?;
                    let items = pb.expect_n(py, &r, n)?;
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| pb.convert(py, i, item))
                        .collect()
                })
            }),
        },
    };
    let node = tape
        .get()
        .lock(&name)?
        .custom(custom)
        .map_err(errors::from_tape_full)?;
    tape.get().keep(kept);
    let val = Val::from_py(y)?;
    let var = BVar {
        tape: Some(tape.clone_ref(py)),
        node,
        val,
    };
    Ok(Bound::new(py, var)?.into_any().unbind())
}

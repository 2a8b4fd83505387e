//! Containers on the tape: `project` reads components of a container BVar (lens views, splits),
//! `join` builds a container BVar from component BVars. A projection's pullback hands its
//! gradient to the container as that one component (`PyGrad::Parts`), so reading many fields adds
//! slot by slot instead of whole records (see `bprop_core::parts`).

use std::sync::Arc;

use bprop_core::{CustomOp, Input, Parts};
use pyo3::exceptions::PyValueError;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::PyTraverseError;

use crate::bvar::{BVar, Val};
use crate::convert::Kind;
use crate::errors;
use crate::grad::{Layout, PyGrad};
use crate::python;
use crate::tape::{common_tape, lock_parts, HoldsPython};

impl HoldsPython for Layout {
    fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        match self {
            Layout::Array(_) => Ok(()),
            Layout::Object(value) => visit.call(value),
        }
    }
}

/// `project(v, length, indices, values)`: BVars for components `indices` of the container held by
/// `v` (which has `length` components; `values` are those components, read by the caller). Each
/// component read is one node, made the first time it is read in the run and reused after.
/// Components of a constant are constants.
#[pyfunction]
pub fn project(
    py: Python<'_>,
    v: &Bound<'_, BVar>,
    length: usize,
    indices: Vec<usize>,
    values: Vec<Bound<'_, PyAny>>,
) -> PyResult<Vec<BVar>> {
    if indices.len() != values.len() {
        return Err(PyValueError::new_err(format!(
            "project: {} indices for {} values",
            indices.len(),
            values.len()
        )));
    }
    if let Some(&bad) = indices.iter().find(|&&i| i >= length) {
        return Err(PyValueError::new_err(format!(
            "project: component {bad} of a container of {length}"
        )));
    }
    let var = v.get();
    let Some(tape) = &var.tape else {
        return values
            .into_iter()
            .map(|x| Ok(BVar::constant(Val::from_py(x)?)))
            .collect();
    };
    let name = || "view_var".to_string();
    let mut t = tape.get().record(py, &name)?;
    let mut seen = lock_parts(tape.get());
    seen.reserve(indices.len());
    let mut layout: Option<Arc<Layout>> = None;
    let mut out = Vec::with_capacity(indices.len());
    for (index, value) in indices.into_iter().zip(values) {
        // A component read before is the same value: reuse its node (one gradient slot).
        if let Some((node, val)) = seen.get(&(var.node, index)) {
            out.push(BVar {
                tape: Some(tape.clone_ref(py)),
                node: *node,
                val: val.clone_ref(py),
            });
            continue;
        }
        let val = Val::from_py(value)?;
        let layout = layout
            .get_or_insert_with(|| {
                let made = Arc::new(match &var.val {
                    Val::Array(a) => Layout::Array(a.data().shape().to_vec()),
                    other => Layout::Object(other.to_py(py)),
                });
                // the tape shows the layout's container to the cycle collector
                tape.get().keep(made.clone());
                made
            })
            .clone();
        let part = CustomOp::Unary {
            x: var.node,
            pullback: Box::new(move |g| {
                Ok(Some(PyGrad::Parts(Box::new(Parts::one(
                    layout.clone(),
                    length,
                    index,
                    g,
                )))))
            }),
        };
        let node = t.custom(part).map_err(errors::from_tape_full)?;
        seen.insert((var.node, index), (node, val.clone_ref(py)));
        out.push(BVar {
            tape: Some(tape.clone_ref(py)),
            node,
            val,
        });
    }
    Ok(out)
}

/// `join(name, value, parts)`: a BVar holding `value`, a container whose components are the
/// values of `parts` (BVars or constants), as one node. Its pullback passes each component's
/// gradient to its part: slot by slot when the gradient came as parts, otherwise by taking the
/// whole gradient apart with `bprop._containers.components`.
#[pyfunction]
pub fn join(
    py: Python<'_>,
    name: String,
    value: Bound<'_, PyAny>,
    parts: Vec<Bound<'_, PyAny>>,
) -> PyResult<BVar> {
    let vars: Vec<Option<&BVar>> = parts
        .iter()
        .map(|p| p.cast::<BVar>().ok().map(|b| b.get()))
        .collect();
    let op_name = || name.clone();
    let tape = common_tape(
        py,
        &op_name,
        vars.iter().map(|v| v.and_then(|v| v.tape.as_ref())),
    )?;
    let val = Val::from_py(value)?;
    let Some(tape) = tape else {
        return Ok(BVar::constant(val));
    };
    let inputs: Box<[Input]> = vars
        .iter()
        .map(|v| v.and_then(|v| v.tape.as_ref().map(|_| v.node)))
        .collect();
    let kinds: Box<[Kind]> = vars.iter().map(|v| Kind::of(*v)).collect();
    let n = kinds.len();
    let pb_name = name.clone();
    let pullback = move |g: PyGrad| -> PyResult<Vec<Option<PyGrad>>> {
        let slots = match g {
            PyGrad::Parts(p) if p.len() == n => p.into_slots().1,
            whole => Python::attach(|py| {
                let g = whole.into_py(py)?;
                let comps: Vec<Bound<'_, PyAny>> = python::containers_components(py)?
                    .call1((g.bind(py),))?
                    .extract()?;
                if comps.len() != n {
                    return Err(PyValueError::new_err(format!(
                        "{pb_name}: the gradient has {} components, but the container has {n}",
                        comps.len()
                    )));
                }
                comps
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        kinds[i]
                            .gradient(py, c, &|| format!("{pb_name}: gradient of component {i}"))
                    })
                    .collect::<PyResult<Vec<_>>>()
            })?,
        };
        // Constant components get nothing, whatever the gradient holds for them.
        Ok(slots
            .into_iter()
            .zip(kinds.iter())
            .map(|(g, k)| g.filter(|_| !matches!(k, Kind::Constant)))
            .collect())
    };
    let node = tape
        .get()
        .lock(&op_name)?
        .custom(CustomOp::Nary {
            xs: inputs,
            pullback: Box::new(pullback),
        })
        .map_err(errors::from_tape_full)?;
    Ok(BVar {
        tape: Some(tape.clone_ref(py)),
        node,
        val,
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(project, m)?)?;
    m.add_function(wrap_pyfunction!(join, m)?)?;
    Ok(())
}

//! The `Tape` class: one per `backprop` run. Recording happens through `BVar` operations; the
//! runner closes the tape when the user's function returns and then sweeps it (any number of
//! times, for `backprop_with`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError};

use bprop_core::{Backprop, NodeId};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;

use crate::bvar::{BVar, Val};
use crate::convert::{seed_gradient, Kind};
use crate::errors;
use crate::grad::PyGrad;

pub type CoreTape = bprop_core::Tape<PyGrad>;

#[pyclass(module = "bprop._core", frozen)]
pub struct Tape {
    /// Recording takes it for writing; sweeps only read the tape, so any number of them (one
    /// pullback of `backprop_with` called from several threads) run at once.
    inner: RwLock<CoreTape>,
    open: AtomicBool,
    /// Caller-chosen `add` functions (bprop.explicit) by node, with how to read their results.
    adds: Mutex<HashMap<NodeId, (Py<PyAny>, Kind)>>,
    /// The node reading component `i` of container node `x`, by `(x, i)`: reading a component
    /// again reuses it, so its gradients accumulate in one slot (in place for arrays).
    parts: Mutex<HashMap<(NodeId, usize), (NodeId, Val)>>,
}

impl Tape {
    /// The tape, locked for recording by `op`. Refuses closed tapes (a BVar used after its run).
    pub fn record(
        &self,
        py: Python<'_>,
        op: &dyn Fn() -> String,
    ) -> PyResult<RwLockWriteGuard<'_, CoreTape>> {
        self.check_open(py, op)?;
        self.lock(op)
    }

    /// `TapeScopeError` if the run that owns this tape has finished.
    pub fn check_open(&self, py: Python<'_>, op: &dyn Fn() -> String) -> PyResult<()> {
        if self.open.load(Ordering::Relaxed) {
            return Ok(());
        }
        Err(errors::new_tape_scope_error(
            py,
            format!("{}: a BVar was used after its backprop run finished (BVars belong to one run; use .value to keep a result)", op()),
        ))
    }

    /// The tape, locked for recording; callers that got the tape from `common_tape` have
    /// checked it is open. Never waits (the caller holds the GIL, which a sweep may need): a
    /// tape being swept refuses.
    pub fn lock(&self, op: &dyn Fn() -> String) -> PyResult<RwLockWriteGuard<'_, CoreTape>> {
        match self.inner.try_write() {
            Ok(g) => Ok(g),
            Err(TryLockError::WouldBlock) => Err(PyRuntimeError::new_err(format!(
                "{}: the tape is in use by a reverse sweep (a pullback may not record on the tape being swept)",
                op()
            ))),
            // Only a panic while holding the lock poisons it, and the core does not panic; the
            // tape data is append-only, so it is still consistent.
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
        }
    }

    /// The tape, locked for reading (sweeps, `len`); shared with other readers. Never waits: a
    /// tape that another thread is recording on refuses.
    fn read(&self, op: &dyn Fn() -> String) -> PyResult<RwLockReadGuard<'_, CoreTape>> {
        match self.inner.try_read() {
            Ok(g) => Ok(g),
            Err(TryLockError::WouldBlock) => Err(PyRuntimeError::new_err(format!(
                "{}: another thread is recording on this tape",
                op()
            ))),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
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
                return Err(errors::new_tape_scope_error(
                    py,
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

/// The same `Tape` object (identity), as BVars refer to it.
pub fn same_tape(a: &Py<Tape>, b: &Bound<'_, Tape>) -> bool {
    a.as_ptr() == b.as_ptr()
}

#[pymethods]
impl Tape {
    #[new]
    fn new() -> Self {
        Tape {
            inner: RwLock::new(CoreTape::new()),
            open: AtomicBool::new(true),
            adds: Mutex::new(HashMap::new()),
            parts: Mutex::new(HashMap::new()),
        }
    }

    /// A new input of the run holding `value`.
    fn input(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<BVar> {
        let py = slf.py();
        if value.cast::<BVar>().is_ok() {
            return Err(PyTypeError::new_err(
                "Tape.input: the value is already a BVar",
            ));
        }
        let node = slf
            .get()
            .record(py, &|| "input".to_string())?
            .leaf()
            .map_err(errors::from_tape_full)?;
        Ok(BVar {
            tape: Some(slf.clone().unbind()),
            node,
            val: Val::from_py(value)?,
        })
    }

    /// End recording: later operations on this tape's BVars raise `TapeScopeError`.
    fn close(&self) {
        self.open.store(false, Ordering::Relaxed);
    }

    fn __len__(&self) -> PyResult<usize> {
        Ok(self.read(&|| "len".to_string())?.len())
    }

    /// Sweep from `output` seeded with `seed`; returns each input's gradient, or `None` where the
    /// gradient never reached it. The sweep runs without the GIL unless a node calls Python.
    /// (What the user's function returned is checked by the runners, which join a container
    /// result into the one BVar passed here.)
    fn backward(
        slf: &Bound<'_, Self>,
        output: &Bound<'_, BVar>,
        seed: &Bound<'_, PyAny>,
        inputs: Vec<Bound<'_, BVar>>,
    ) -> PyResult<Vec<Option<Py<PyAny>>>> {
        let py = slf.py();
        let out = output.get();
        for (i, x) in inputs.iter().enumerate() {
            if !x.get().tape.as_ref().is_some_and(|t| same_tape(t, slf)) {
                return Err(PyTypeError::new_err(format!(
                    "Tape.backward: input {i} is not an input of this tape"
                )));
            }
        }
        let out_node = match &out.tape {
            None => return Ok(inputs.iter().map(|_| None).collect()), // constant output: no gradient anywhere
            Some(t) if !same_tape(t, slf) => {
                return Err(errors::new_tape_scope_error(
                    py,
                    "backward: the returned BVar belongs to another backprop run".to_string(),
                ))
            }
            Some(_) => out.node,
        };
        let seed = seed_gradient(py, &out.val, seed)?;
        let tape = slf.get().read(&|| "backward".to_string())?;
        // A copy: the lock is not held while the sweep runs Python code (another thread sweeping
        // this tape may need it, and it would wait holding the GIL).
        let adds: HashMap<NodeId, (Py<PyAny>, Kind)> = lock_adds(&slf.get().adds)
            .iter()
            .map(|(node, (add, kind))| (*node, (add.clone_ref(py), kind.clone())))
            .collect();
        let swept = if !adds.is_empty() {
            // Explicit adds see every contribution as a whole value (no in-place accumulation).
            tape.backward_with(out_node, seed, |node, a, b| match adds.get(&node) {
                None => a.add(b),
                Some((add, kind)) => Python::attach(|py| {
                    let r = add.bind(py).call1((a.into_py(py)?, b.into_py(py)?))?;
                    Ok(kind
                        .gradient(py, &r, &|| {
                            format!("the add function given for node {node}")
                        })?
                        .unwrap_or_else(|| PyGrad::Object(py.None())))
                }),
            })
        } else if tape.has_custom_nodes() {
            tape.backward(out_node, seed)
        } else {
            let core: &CoreTape = &tape;
            py.detach(move || core.backward(out_node, seed))
        };
        drop(adds);
        drop(tape);
        let mut grads = swept.map_err(|e| errors::from_sweep_error(py, e))?;
        // Each input is a distinct leaf, so its gradient can be moved out (arrays are not copied).
        inputs
            .iter()
            .map(|x| grads.take(x.get().node).map(|g| g.into_py(py)).transpose())
            .collect()
    }
}

/// `set_add(var, add)`: accumulate the gradients of `var` with `add(a, b)` instead of its type's
/// own add (bprop.explicit); `add` sees whole values. No effect on constants.
#[pyfunction]
pub fn set_add(var: &Bound<'_, BVar>, add: Bound<'_, PyAny>) -> PyResult<()> {
    let v = var.get();
    if let Some(t) = &v.tape {
        t.get().check_open(var.py(), &|| "set_add".to_string())?;
        lock_adds(&t.get().adds).insert(v.node, (add.unbind(), Kind::of(Some(v))));
    }
    Ok(())
}

/// The component-node cache of `tape` (see `Tape::parts`).
pub fn lock_parts(tape: &Tape) -> MutexGuard<'_, HashMap<(NodeId, usize), (NodeId, Val)>> {
    // Only a panic while holding the lock poisons it; the map is still whole.
    tape.parts.lock().unwrap_or_else(|p| p.into_inner())
}

fn lock_adds(
    m: &Mutex<HashMap<NodeId, (Py<PyAny>, Kind)>>,
) -> MutexGuard<'_, HashMap<NodeId, (Py<PyAny>, Kind)>> {
    // Only a panic while holding the lock poisons it; the map is still whole.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

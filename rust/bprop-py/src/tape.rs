//! The `Tape` class: one per `backprop` run. Recording happens through `BVar` operations; the
//! runner closes the tape when the user's function returns and then sweeps it (any number of
//! times, for `backprop_with`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError};

use bprop_core::{Backprop, NodeId};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::PyTraverseError;
use rustc_hash::FxHashMap as HashMap;

use crate::bvar::{BVar, Val};
use crate::convert::{seed_gradient, Kind};
use crate::errors;
use crate::grad::PyGrad;

pub type CoreTape = bprop_core::Tape<PyGrad>;

/// Python objects held by a closure recorded on the tape (a user Op's pullback, a container's
/// layout). The closure keeps an `Arc` of it, and the tape another ([`Tape::keep`]), so that the
/// cycle collector can see those objects through the tape (`Tape.__traverse__`): closures are
/// opaque. Each object must be visited once per strong reference it holds.
pub trait HoldsPython: Send + Sync {
    fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError>;
}

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
    /// What the recorded closures hold of Python (see [`HoldsPython`]), for `__traverse__`.
    kept: Mutex<Vec<Arc<dyn HoldsPython>>>,
    /// The run this one is nested in (a runner called while that run was recording, on this
    /// thread): its BVars are constants here, whose values are those BVars themselves, so the
    /// whole computation and reverse sweep of this run is recorded on the enclosing tape. A
    /// nested tape records every op as a Python-level node whose pullback is differentiable
    /// code (`bprop/_nested.py`, the generic path and the numpy registry): no native nodes.
    parent: Option<Py<Tape>>,
}

impl Tape {
    /// Whether this run is nested in another (see [`Tape::parent`]).
    #[inline]
    pub fn is_nested(&self) -> bool {
        self.parent.is_some()
    }

    /// Whether `outer` is this tape or one of the runs it is nested in.
    pub fn is_within(&self, this: &Py<Tape>, outer: &Py<Tape>) -> bool {
        if this.is(outer) {
            return true;
        }
        let mut at = self.parent.as_ref();
        while let Some(t) = at {
            if t.is(outer) {
                return true;
            }
            at = t.get().parent.as_ref();
        }
        false
    }

    /// Let the cycle collector see what `held` (captured by a closure recorded on this tape)
    /// holds of Python, for as long as the tape lives.
    pub fn keep(&self, held: Arc<dyn HoldsPython>) {
        // Only a panic while holding the lock poisons it; the list is still whole.
        self.kept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(held);
    }

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

/// The tape shared by the arguments of `op`, or `None` if all are constants. BVars of a run and
/// of the runs it is nested in give the innermost run (the others are its constants). Mixing two
/// unrelated runs, or using a finished run's BVar, raises `TapeScopeError`.
pub fn common_tape<'a>(
    py: Python<'_>,
    op: &dyn Fn() -> String,
    tapes: impl IntoIterator<Item = Option<&'a Py<Tape>>>,
) -> PyResult<Option<&'a Py<Tape>>> {
    let mut found: Option<&'a Py<Tape>> = None;
    for t in tapes.into_iter().flatten() {
        match found {
            Some(f) if f.is(t) => {}
            Some(f) if t.get().is_within(t, f) => found = Some(t),
            Some(f) if f.get().is_within(f, t) => {}
            Some(_) => {
                return Err(errors::new_tape_scope_error(
                    py,
                    format!("{}: arguments come from two different backprop runs", op()),
                ))
            }
            None => found = Some(t),
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
    /// A new tape; `parent` is the run this one is nested in (see [`Tape::parent`]).
    #[new]
    #[pyo3(signature = (parent=None))]
    fn new(parent: Option<Py<Tape>>) -> Self {
        Tape {
            parent,
            inner: RwLock::new(CoreTape::new()),
            open: AtomicBool::new(true),
            adds: Mutex::new(HashMap::default()),
            parts: Mutex::new(HashMap::default()),
            kept: Mutex::new(Vec::new()),
        }
    }

    /// Cycle-collector support: every Python object the tape holds. The recorded closures' ones
    /// are reached through `kept` (the core tape itself holds no other Python object: its array
    /// nodes keep numpy arrays over frozen memory, which cannot be part of a cycle), then the
    /// explicit add functions and the cached component values.
    ///
    /// Only `try_lock`: the collector may run while this thread holds one of these locks (any
    /// allocation inside `project` or `set_add` can start a collection), and waiting there would
    /// deadlock. Skipping a contended map only under-counts the references the tape holds, so
    /// its objects look referenced from outside and survive this collection; nothing is freed
    /// that is still in use, and the cycle goes at a later collection.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.parent)?;
        if let Ok(kept) = self.kept.try_lock() {
            for held in kept.iter() {
                held.traverse(&visit)?;
            }
        }
        if let Ok(adds) = self.adds.try_lock() {
            for (add, _) in adds.values() {
                visit.call(add)?;
            }
        }
        if let Ok(parts) = self.parts.try_lock() {
            for (_, val) in parts.values() {
                if let Val::Object(o) = val {
                    visit.call(o)?;
                }
            }
        }
        Ok(())
    }

    /// Cycle-collector support: drop everything the tape holds of Python (the recorded nodes
    /// with their closures, the add functions, the cached components), breaking the cycles
    /// through it. The tape is closed; a sweep of it afterwards reports an unknown node. Only
    /// unreachable tapes are cleared, so no sweep or recording is running on it; the contents
    /// are moved out first and dropped without any lock held (dropping them may run Python
    /// code).
    fn __clear__(&self) {
        self.open.store(false, Ordering::Relaxed);
        let nodes = match self.inner.try_write() {
            Ok(mut g) => std::mem::take(&mut *g),
            Err(TryLockError::Poisoned(p)) => std::mem::take(&mut *p.into_inner()),
            Err(TryLockError::WouldBlock) => CoreTape::new(),
        };
        let kept = self
            .kept
            .try_lock()
            .map(|mut k| std::mem::take(&mut *k))
            .unwrap_or_default();
        let adds = self
            .adds
            .try_lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default();
        let parts = self
            .parts
            .try_lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default();
        drop((nodes, kept, adds, parts));
    }

    /// A new input of the run holding `value`: a plain value, or a BVar of a run this one is
    /// nested in (then the input's value is that BVar).
    fn input(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<BVar> {
        let py = slf.py();
        if let Ok(v) = value.cast::<BVar>() {
            let outer = v.get().tape.as_ref();
            let parent = slf.get().parent.as_ref();
            if outer.is_none() {
                return Err(PyTypeError::new_err(
                    "Tape.input: the value is a constant BVar; pass its .value",
                ));
            }
            if !outer.is_some_and(|o| parent.is_some_and(|p| p.get().is_within(p, o))) {
                return Err(PyTypeError::new_err(
                    "Tape.input: the value is a BVar of a run this one is not nested in (a \
                     finished run, or another thread's)",
                ));
            }
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

    /// Whether this run is nested in another.
    #[getter]
    fn nested(&self) -> bool {
        self.is_nested()
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
                    // `None` would read as "no gradient" and silently drop both contributions:
                    // an add function must return their sum.
                    if r.is_none() {
                        return Err(PyTypeError::new_err(format!(
                            "the add function given for node {node} returned None; it must return the sum of its two arguments"
                        )));
                    }
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

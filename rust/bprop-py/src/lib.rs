//! PyO3 bindings of bprop (`bprop._core`). All differentiation logic lives in `bprop-core`; the
//! typed API lives in the Python package. This crate only converts values, maps errors and
//! defines the `Tape`/`BVar` classes.
//!
//! Dependencies go one way: the core knows nothing of the bindings (core <- bindings), and the
//! extension never imports the package it belongs to: the package hands its Python-level
//! behaviour (error classes, generic math, container and numpy dispatch) to the extension once,
//! at import, through the hooks of `python.rs`.
//!
//! Modules:
//! * `lib.rs`: the `_core` module: registers the classes and functions below.
//! * `convert.rs`: every conversion between Python values and the bindings' encodings
//!   (`Val`, `PyGrad`, `Kind`, kernel arguments, index keys), each once.
//! * `errors.rs`: the error adapter: every Rust error to Python exception mapping, and the
//!   builders of bprop's exception classes.
//! * `frozen.rs`: ownership of array memory: `FrozenBuffer`, snapshots, kernel results moved in.
//! * `python.rs`: the hooks installed by the package, and numpy attributes.
//! * `bvar.rs`: the `BVar` class, its value `Val`, and the per-op scalar hot path.
//! * `tape.rs`: the `Tape` class (recording, sweeps), `common_tape`, `set_add`.
//! * `grad.rs`: `PyGrad`, gradients as the sweep holds them, and their arithmetic.
//! * `array.rs`: the array kernels' entry points and the native kernel driver `run_kernel`.
//! * `fastpath.rs`: native shortcuts of the registry's hottest entries (`np.sum(v, axis=1)`,
//!   `v.reshape(...)`) that skip the round trip through the package.
//! * `math.rs`: module-level functions for the elementwise kernels (`bprop._core.sin`, ...).
//! * `lift.rs`: user-defined Ops lifted onto BVars (`lift_custom`).
//! * `parts.rs`: containers on the tape (`project`, `join`).

use pyo3::prelude::*;

/// See `Cargo.toml`: large arrays are reused instead of faulted in fresh on every op.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod array;
mod bvar;
mod convert;
mod errors;
mod fastpath;
mod frozen;
mod grad;
mod lift;
mod math;
mod parts;
mod python;
mod tape;

/// mimalloc's `mi_option_purge_delay`: its place in `mi_option_t` (mimalloc.h, v2 and v3), which
/// libmimalloc-sys does not name.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// Its default in the mimalloc v3 that libmimalloc-sys builds, in ms.
const DEFAULT_PURGE_DELAY: std::ffi::c_long = 1000;
/// Ours, in ms.
const PURGE_DELAY_MS: std::ffi::c_long = 10_000;

/// Keep freed memory for reuse 10 s instead of 1 s. mimalloc returns free memory to the OS when
/// the purge delay has passed since the first free of a round, all of it at once, so a loop over
/// large arrays keeps faulting fresh pages back in: 16 page faults (about a tenth of the CPU time)
/// per W3 gradient at 1 s, none at 10 s. Left alone when it is not at mimalloc's default (set
/// with `MIMALLOC_PURGE_DELAY`, or another mimalloc whose option list differs).
fn lengthen_purge_delay() {
    // SAFETY: plain reads and writes of mimalloc's option table (atomic), valid at any time.
    unsafe {
        if libmimalloc_sys::mi_option_get(PURGE_DELAY) == DEFAULT_PURGE_DELAY {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS);
        }
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    lengthen_purge_delay();
    m.add_class::<tape::Tape>()?;
    m.add_class::<bvar::BVar>()?;
    m.add_function(wrap_pyfunction!(bvar::const_var, m)?)?;
    m.add_function(wrap_pyfunction!(lift::lift_custom, m)?)?;
    m.add_function(wrap_pyfunction!(tape::set_add, m)?)?;
    m.add_function(wrap_pyfunction!(python::install_hooks, m)?)?;
    math::register(m)?;
    array::register(m)?;
    parts::register(m)?;
    Ok(())
}

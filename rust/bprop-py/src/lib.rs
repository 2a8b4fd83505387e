//! PyO3 bindings of bprop (`bprop._core`): conversion between Python values and the core's
//! gradients, error mapping, and the `Tape`/`BVar` classes. All differentiation logic lives in
//! `bprop-core`; the typed API lives in the Python package.

use pyo3::prelude::*;

mod array;
mod bvar;
mod grad;
mod lift;
mod math;
mod parts;
mod python;
mod tape;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
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

//! Module-level functions for every native kernel (`bprop.sin`, `bprop._core.mul`, ...). They
//! accept BVars and plain values alike; plain floats give plain floats.

use bprop_core::{Binary, Unary};
use pyo3::prelude::*;

use crate::bvar;

macro_rules! kernel_functions {
    (unary: $($u:ident => $uk:ident),* ; binary: $($b:ident => $bk:ident),* $(,)?) => {
        $(
            #[pyfunction]
            fn $u(py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                bvar::unary(py, Unary::$uk, x)
            }
        )*
        $(
            #[pyfunction]
            fn $b(py: Python<'_>, x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                bvar::binary(py, Binary::$bk, x, y)
            }
        )*
        pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
            $( m.add_function(wrap_pyfunction!($u, m)?)?; )*
            $( m.add_function(wrap_pyfunction!($b, m)?)?; )*
            Ok(())
        }
    };
}

kernel_functions! {
    unary: neg => Neg, abs => Abs, signum => Signum, recip => Recip, exp => Exp, log => Log,
        sqrt => Sqrt, sin => Sin, cos => Cos, tan => Tan, asin => Asin, acos => Acos, atan => Atan,
        sinh => Sinh, cosh => Cosh, tanh => Tanh, asinh => Asinh, acosh => Acosh, atanh => Atanh;
    binary: add => Add, sub => Sub, mul => Mul, div => Div, pow => Pow, log_base => LogBase,
        maximum => Maximum, minimum => Minimum,
}

//! Module-level functions for every native kernel (`bprop.sin`, `bprop._core.mul`, ...). They
//! accept BVars and plain values alike; plain floats give plain floats.

use bprop_core::{Binary, Unary};
use pyo3::prelude::*;

use crate::bvar;

macro_rules! kernel_functions {
    (unary: $($u:ident => $uk:ident, $ud:literal),* ; binary: $($b:ident => $bk:ident, $bd:literal),* $(,)?) => {
        $(
            #[doc = $ud]
            #[pyfunction]
            fn $u(py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                bvar::unary(py, Unary::$uk, x)
            }
        )*
        $(
            #[doc = $bd]
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
    unary:
        neg => Neg, r#"Negation, `-x`; gradient `-g`.

>>> bp._core.neg(2.0), bp.grad_bp(bp._core.neg, 2.0)
(-2.0, -1.0)"#,
        abs => Abs, r#"Absolute value; gradient `g·signum(x)`.

>>> bp._core.abs(-2.0), bp.grad_bp(bp._core.abs, -2.0)
(2.0, -1.0)"#,
        signum => Signum, r#"The sign of `x` (-1, 0 or 1); gradient 0.

>>> bp.signum(-2.0), bp.grad_bp(bp.signum, -2.0)
(-1.0, 0.0)"#,
        recip => Recip, r#"Reciprocal, `1/x`; gradient `-g/x²`.

>>> bp.recip(2.0), bp.grad_bp(bp.recip, 2.0)
(0.5, -0.25)"#,
        exp => Exp, r#"Exponential; gradient `g·exp(x)`.

>>> bp.exp(0.0), bp.grad_bp(bp.exp, 0.0)
(1.0, 1.0)"#,
        log => Log, r#"Natural logarithm; gradient `g/x`.

>>> bp.log(1.0), bp.grad_bp(bp.log, 2.0)
(0.0, 0.5)"#,
        sqrt => Sqrt, r#"Square root; gradient `g/(2·√x)`.

>>> bp.sqrt(4.0), bp.grad_bp(bp.sqrt, 4.0)
(2.0, 0.25)"#,
        sin => Sin, r#"Sine; gradient `g·cos(x)`.

>>> bp.sin(0.0), bp.grad_bp(bp.sin, 0.0)
(0.0, 1.0)"#,
        cos => Cos, r#"Cosine; gradient `-g·sin(x)`.

>>> bp.cos(0.0), bp.grad_bp(bp.cos, bp.pi / 2)
(1.0, -1.0)"#,
        tan => Tan, r#"Tangent; gradient `g·(1 + tan²x)`.

>>> bp.tan(0.0), bp.grad_bp(bp.tan, 0.0)
(0.0, 1.0)"#,
        asin => Asin, r#"Arcsine; gradient `g/√(1 - x²)`.

>>> bp.asin(0.0), bp.grad_bp(bp.asin, 0.0)
(0.0, 1.0)"#,
        acos => Acos, r#"Arccosine; gradient `-g/√(1 - x²)`.

>>> bp.acos(1.0), bp.grad_bp(bp.acos, 0.0)
(0.0, -1.0)"#,
        atan => Atan, r#"Arctangent; gradient `g/(1 + x²)`.

>>> bp.atan(0.0), bp.grad_bp(bp.atan, 1.0)
(0.0, 0.5)"#,
        sinh => Sinh, r#"Hyperbolic sine; gradient `g·cosh(x)`.

>>> bp.sinh(0.0), bp.grad_bp(bp.sinh, 0.0)
(0.0, 1.0)"#,
        cosh => Cosh, r#"Hyperbolic cosine; gradient `g·sinh(x)`.

>>> bp.cosh(0.0), bp.grad_bp(bp.cosh, 0.0)
(1.0, 0.0)"#,
        tanh => Tanh, r#"Hyperbolic tangent; gradient `g·(1 - tanh²x)`.

>>> bp.tanh(0.0), bp.grad_bp(bp.tanh, 0.0)
(0.0, 1.0)"#,
        asinh => Asinh, r#"Inverse hyperbolic sine; gradient `g/√(x² + 1)`.

>>> bp.asinh(0.0), bp.grad_bp(bp.asinh, 0.0)
(0.0, 1.0)"#,
        acosh => Acosh, r#"Inverse hyperbolic cosine; gradient `g/√(x² - 1)`.

>>> bp.acosh(1.0), round(bp.grad_bp(bp.acosh, 2.0), 4)
(0.0, 0.5774)"#,
        atanh => Atanh, r#"Inverse hyperbolic tangent; gradient `g/(1 - x²)`.

>>> bp.atanh(0.0), round(bp.grad_bp(bp.atanh, 0.5), 4)
(0.0, 1.3333)"#;
    binary:
        add => Add, r#"Sum, `x + y`; gradients `(g, g)` (summed back over broadcast axes).

>>> bp.grad_bp2(bp._core.add, 1.0, 2.0)
(1.0, 1.0)"#,
        sub => Sub, r#"Difference, `x - y`; gradients `(g, -g)`.

>>> bp.grad_bp2(bp._core.sub, 1.0, 2.0)
(1.0, -1.0)"#,
        mul => Mul, r#"Product, `x·y`; gradients `(g·y, g·x)`.

>>> bp.grad_bp2(bp._core.mul, 3.0, 4.0)
(4.0, 3.0)"#,
        div => Div, r#"Quotient, `x/y`; gradients `(g/y, -g·x/y²)`.

>>> bp.grad_bp2(bp._core.div, 1.0, 4.0)
(0.25, -0.0625)"#,
        pow => Pow, r#"Power, `x**y`; gradients `(g·y·x^(y-1), g·x^y·log x)`.

>>> bp.grad_bp2(bp._core.pow, 2.0, 3.0)
(12.0, 5.545...)"#,
        log_base => LogBase, r#"Logarithm of `y` to base `x` (Haskell's `logBase x y`),
`log y / log x`; gradients `(-g·log y/(x·log²x), g/(y·log x))`.

>>> bp.log_base(2.0, 8.0), round(bp.grad_bp(lambda y: bp.log_base(2.0, y), 8.0), 4)
(3.0, 0.1803)"#,
        maximum => Maximum, r#"Elementwise maximum; the gradient goes to the larger argument (split evenly
on ties).

>>> bp.grad_bp2(bp._core.maximum, 1.0, 2.0)
(0.0, 1.0)"#,
        minimum => Minimum, r#"Elementwise minimum; the gradient goes to the smaller argument (split evenly
on ties).

>>> bp.grad_bp2(bp._core.minimum, 1.0, 2.0)
(1.0, 0.0)"#,
}

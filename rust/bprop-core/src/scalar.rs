//! Native scalar kernels: value and partial derivatives in one evaluation.
//!
//! Conventions where a derivative is undefined or its formula gives NaN (a NaN partial would
//! poison every gradient that flows through the node): `abs` and `signum` have derivative 0 at 0
//! (the middle of abs's subgradients, and signum is flat on both sides); for `x ** y` the
//! exponent's partial `x^y ln x` is 0 at `x == 0` (its limit for `y > 0`, where the formula gives
//! `0 * -inf`), and the base's partial `y x^(y-1)` is 0 when `y == 0` (`x ** 0` is constant in
//! `x`, where the formula gives `0 * inf` at `x == 0`).

/// Built-in one-argument kernels (Haskell's `Num`/`Fractional`/`Floating` methods).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unary {
    Neg,
    Abs,
    Signum,
    Recip,
    Exp,
    Log,
    Sqrt,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
}

/// Built-in two-argument kernels. `LogBase` takes `(base, x)` like Haskell's `logBase`.
/// `Maximum`/`Minimum` are numpy's (NaN propagates); at a tie each side gets half the gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    LogBase,
    Maximum,
    Minimum,
}

/// Haskell's `signum`: -1, 0 or 1 (NaN stays NaN).
#[inline]
pub fn signum(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x // 0.0, -0.0 or NaN
    }
}

impl Unary {
    pub const ALL: [Unary; 19] = [
        Unary::Neg,
        Unary::Abs,
        Unary::Signum,
        Unary::Recip,
        Unary::Exp,
        Unary::Log,
        Unary::Sqrt,
        Unary::Sin,
        Unary::Cos,
        Unary::Tan,
        Unary::Asin,
        Unary::Acos,
        Unary::Atan,
        Unary::Sinh,
        Unary::Cosh,
        Unary::Tanh,
        Unary::Asinh,
        Unary::Acosh,
        Unary::Atanh,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Unary::Neg => "neg",
            Unary::Abs => "abs",
            Unary::Signum => "signum",
            Unary::Recip => "recip",
            Unary::Exp => "exp",
            Unary::Log => "log",
            Unary::Sqrt => "sqrt",
            Unary::Sin => "sin",
            Unary::Cos => "cos",
            Unary::Tan => "tan",
            Unary::Asin => "asin",
            Unary::Acos => "acos",
            Unary::Atan => "atan",
            Unary::Sinh => "sinh",
            Unary::Cosh => "cosh",
            Unary::Tanh => "tanh",
            Unary::Asinh => "asinh",
            Unary::Acosh => "acosh",
            Unary::Atanh => "atanh",
        }
    }

    /// Value only (used when nothing is recorded).
    #[inline]
    pub fn eval(self, x: f64) -> f64 {
        match self {
            Unary::Neg => -x,
            Unary::Abs => x.abs(),
            Unary::Signum => signum(x),
            Unary::Recip => 1.0 / x,
            Unary::Exp => x.exp(),
            Unary::Log => x.ln(),
            Unary::Sqrt => x.sqrt(),
            Unary::Sin => x.sin(),
            Unary::Cos => x.cos(),
            Unary::Tan => x.tan(),
            Unary::Asin => x.asin(),
            Unary::Acos => x.acos(),
            Unary::Atan => x.atan(),
            Unary::Sinh => x.sinh(),
            Unary::Cosh => x.cosh(),
            Unary::Tanh => x.tanh(),
            Unary::Asinh => x.asinh(),
            Unary::Acosh => x.acosh(),
            Unary::Atanh => x.atanh(),
        }
    }

    /// `(f(x), f'(x))`.
    #[inline]
    pub fn eval_with_derivative(self, x: f64) -> (f64, f64) {
        let y = self.eval(x);
        (y, self.derivative(x, y))
    }

    /// `f'(x)` given `y = f(x)`, reusing the value where the derivative is expressed through it
    /// (the array kernels call this per element in the backward pass, with `y` stored).
    #[inline]
    pub fn derivative(self, x: f64, y: f64) -> f64 {
        match self {
            Unary::Neg => -1.0,
            Unary::Abs => signum(x),
            Unary::Signum => 0.0,
            Unary::Recip => -y * y,
            Unary::Exp => y,
            Unary::Log => 1.0 / x,
            Unary::Sqrt => 0.5 / y,
            Unary::Sin => x.cos(),
            Unary::Cos => -x.sin(),
            Unary::Tan => 1.0 + y * y,
            Unary::Asin => 1.0 / (1.0 - x * x).sqrt(),
            Unary::Acos => -1.0 / (1.0 - x * x).sqrt(),
            Unary::Atan => 1.0 / (1.0 + x * x),
            Unary::Sinh => x.cosh(),
            Unary::Cosh => x.sinh(),
            Unary::Tanh => 1.0 - y * y,
            Unary::Asinh => 1.0 / (x * x + 1.0).sqrt(),
            Unary::Acosh => 1.0 / ((x - 1.0).sqrt() * (x + 1.0).sqrt()),
            Unary::Atanh => 1.0 / (1.0 - x * x),
        }
    }
}

/// Partials of a selection between two arguments: all to the first, all to the second, or half
/// each at a tie; NaN when the arguments do not compare (either is NaN). Branch-free on the
/// comparisons, so that a loop over random signs (`np.maximum(z, 0.0)`) does not mispredict.
#[inline]
fn select(first: bool, second: bool, unordered: bool) -> (f64, f64) {
    let (a, b) = (f64::from(u8::from(first)), f64::from(u8::from(second)));
    let tie = 0.5 * (1.0 - a - b);
    if unordered {
        (f64::NAN, f64::NAN)
    } else {
        (a + tie, b + tie)
    }
}

impl Binary {
    pub const ALL: [Binary; 8] = [
        Binary::Add,
        Binary::Sub,
        Binary::Mul,
        Binary::Div,
        Binary::Pow,
        Binary::LogBase,
        Binary::Maximum,
        Binary::Minimum,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Sub => "sub",
            Binary::Mul => "mul",
            Binary::Div => "div",
            Binary::Pow => "pow",
            Binary::LogBase => "log_base",
            Binary::Maximum => "maximum",
            Binary::Minimum => "minimum",
        }
    }

    #[inline]
    pub fn eval(self, x: f64, y: f64) -> f64 {
        match self {
            Binary::Add => x + y,
            Binary::Sub => x - y,
            Binary::Mul => x * y,
            Binary::Div => x / y,
            Binary::Pow => x.powf(y),
            Binary::LogBase => y.ln() / x.ln(),
            // `f64::max` would drop a NaN; numpy's maximum propagates it (x + y is then NaN).
            Binary::Maximum => {
                if x >= y {
                    x
                } else if x < y {
                    y
                } else {
                    x + y
                }
            }
            Binary::Minimum => {
                if x <= y {
                    x
                } else if x > y {
                    y
                } else {
                    x + y
                }
            }
        }
    }

    /// `(f(x, y), ∂f/∂x, ∂f/∂y)`.
    #[inline]
    pub fn eval_with_derivatives(self, x: f64, y: f64) -> (f64, f64, f64) {
        let z = self.eval(x, y);
        let (dx, dy) = self.derivatives(x, y, z);
        (z, dx, dy)
    }

    /// `(∂f/∂x, ∂f/∂y)` given `z = f(x, y)` (per element in the array backward pass).
    #[inline]
    pub fn derivatives(self, x: f64, y: f64, z: f64) -> (f64, f64) {
        match self {
            Binary::Add => (1.0, 1.0),
            Binary::Sub => (1.0, -1.0),
            Binary::Mul => (y, x),
            Binary::Div => {
                // z = x / y is computed exactly as plain division (x * (1/y) can differ by an ulp)
                let r = 1.0 / y;
                (r, -z * r)
            }
            Binary::Pow => {
                let dx = if y == 0.0 { 0.0 } else { y * x.powf(y - 1.0) };
                let dy = if x == 0.0 { 0.0 } else { z * x.ln() };
                (dx, dy)
            }
            // log_b(x) = ln x / ln b, with (x, y) = (b, x)
            Binary::LogBase => {
                let lb = x.ln();
                (-z / (x * lb), 1.0 / (y * lb))
            }
            Binary::Maximum => select(x > y, x < y, x.is_nan() | y.is_nan()),
            Binary::Minimum => select(x < y, x > y, x.is_nan() | y.is_nan()),
        }
    }
}

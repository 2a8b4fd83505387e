//! The gradient algebra the tape is generic over (Haskell's `Backprop` class).

/// How gradients of a type are zeroed, seeded and accumulated.
///
/// Laws (as in `Numeric.Backprop.Class`): `add(zero(x), y) == y`, `add` is commutative and
/// associative, `zero(zero(x)) == zero(x)`, `one(one(x)) == one(x)`.
/// Every operation may fail (a Python `add` can raise), hence the associated error type.
pub trait Backprop: Sized {
    type Error;
    fn zero_like(&self) -> Result<Self, Self::Error>;
    fn one_like(&self) -> Result<Self, Self::Error>;
    fn add(self, other: Self) -> Result<Self, Self::Error>;
}

/// Gradient types that can carry a plain `f64`, so that the native scalar kernels (which store
/// `f64` partial derivatives) can run on them.
pub trait ScalarGrad: Backprop {
    fn from_f64(x: f64) -> Self;
    /// `None` if this gradient is not a scalar (a type error the sweep reports).
    fn as_f64(&self) -> Option<f64>;
}

impl Backprop for f64 {
    type Error = std::convert::Infallible;
    #[inline]
    fn zero_like(&self) -> Result<Self, Self::Error> {
        Ok(0.0)
    }
    #[inline]
    fn one_like(&self) -> Result<Self, Self::Error> {
        Ok(1.0)
    }
    #[inline]
    fn add(self, other: Self) -> Result<Self, Self::Error> {
        Ok(self + other)
    }
}

impl ScalarGrad for f64 {
    #[inline]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline]
    fn as_f64(&self) -> Option<f64> {
        Some(*self)
    }
}

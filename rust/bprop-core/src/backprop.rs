//! The gradient algebra the tape is generic over (Haskell's `Backprop` class).

use crate::types::{Array, ShapeError};

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

/// Gradient types the native kernels can run on: every one carries a plain `f64` (scalar nodes
/// store `f64` partial derivatives); types that also carry float64 arrays override the array
/// methods, whose defaults make array nodes fail the sweep with `SweepError::NotArray`.
pub trait NativeGrad: Backprop {
    fn from_f64(x: f64) -> Self;
    /// `None` if this gradient is not a scalar (a type error the sweep reports).
    fn as_f64(&self) -> Option<f64>;

    /// An array gradient, or `None` if this type cannot hold arrays.
    fn from_array(_a: Array) -> Option<Self> {
        None
    }
    /// This gradient as an array (a scalar as a 0-d array). [`IntoArrayError::NotArray`] if it is
    /// neither; [`IntoArrayError::Failed`] if it stands for an array that could not be built
    /// (a container gradient whose components do not fit together).
    fn into_array(self) -> Result<Array, IntoArrayError<Self::Error>> {
        self.as_f64()
            .map(|x| ndarray::arr0(x).into_dyn())
            .ok_or(IntoArrayError::NotArray)
    }
    /// The array inside this gradient, to accumulate into in place.
    fn array_mut(&mut self) -> Option<&mut Array> {
        None
    }
}

/// Why [`NativeGrad::into_array`] gave no array.
#[derive(Debug)]
pub enum IntoArrayError<E> {
    /// The gradient is neither a float nor an array (the sweep's `SweepError::NotArray`).
    NotArray,
    /// The gradient stands for an array, but building it failed (the sweep's
    /// `SweepError::ArrayGradient`, carrying this error).
    Failed(E),
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

impl NativeGrad for f64 {
    #[inline]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline]
    fn as_f64(&self) -> Option<f64> {
        Some(*self)
    }
}

/// A native gradient: a float or a float64 array. The core's own gradient type (its tests and
/// benches use it); the bindings have their own, which can also hold Python objects.
#[derive(Clone, Debug, PartialEq)]
pub enum Grad {
    Scalar(f64),
    Array(Array),
}

impl Backprop for Grad {
    type Error = ShapeError;
    fn zero_like(&self) -> Result<Self, ShapeError> {
        Ok(match self {
            Grad::Scalar(_) => Grad::Scalar(0.0),
            Grad::Array(a) => Grad::Array(Array::zeros(a.raw_dim())),
        })
    }
    fn one_like(&self) -> Result<Self, ShapeError> {
        Ok(match self {
            Grad::Scalar(_) => Grad::Scalar(1.0),
            Grad::Array(a) => Grad::Array(Array::ones(a.raw_dim())),
        })
    }
    fn add(self, other: Self) -> Result<Self, ShapeError> {
        match (self, other) {
            (Grad::Scalar(a), Grad::Scalar(b)) => Ok(Grad::Scalar(a + b)),
            (Grad::Array(mut a), Grad::Array(b)) if a.shape() == b.shape() => {
                crate::array::add_assign(&mut a, &b);
                Ok(Grad::Array(a))
            }
            (a, b) => Err(ShapeError {
                op: "add",
                message: format!("cannot add gradients {a:?} and {b:?}"),
            }),
        }
    }
}

impl NativeGrad for Grad {
    fn from_f64(x: f64) -> Self {
        Grad::Scalar(x)
    }
    fn as_f64(&self) -> Option<f64> {
        match self {
            Grad::Scalar(x) => Some(*x),
            Grad::Array(_) => None,
        }
    }
    fn from_array(a: Array) -> Option<Self> {
        Some(Grad::Array(a))
    }
    fn into_array(self) -> Result<Array, IntoArrayError<ShapeError>> {
        Ok(match self {
            Grad::Scalar(x) => ndarray::arr0(x).into_dyn(),
            Grad::Array(a) => a,
        })
    }
    fn array_mut(&mut self) -> Option<&mut Array> {
        match self {
            Grad::Array(a) => Some(a),
            Grad::Scalar(_) => None,
        }
    }
}

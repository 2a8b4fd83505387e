//! Helpers shared by the core's integration tests (each test file uses a subset).
// Each test file is its own crate, so helpers that one of them does not use would be reported.
#![allow(dead_code)]

use bprop_core::Unary;
use ndarray::{ArrayD, IxDyn};

/// Tiny deterministic generator so the core tests need no extra crates.
pub struct Lcg(pub u64);

impl Lcg {
    /// Uniform in [0, 1).
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }

    pub fn array(&mut self, shape: &[usize], lo: f64, hi: f64) -> ArrayD<f64> {
        ArrayD::from_shape_fn(IxDyn(shape), |_| self.uniform(lo, hi))
    }
}

/// A point inside the domain of `k` (and away from the kinks of abs/signum) for `u` in [0, 1).
pub fn domain_sample(k: Unary, u: f64) -> f64 {
    match k {
        Unary::Log | Unary::Sqrt => 0.1 + 3.0 * u,
        Unary::Asin | Unary::Acos | Unary::Atanh => -0.9 + 1.8 * u,
        Unary::Acosh => 1.1 + 3.0 * u,
        Unary::Recip => 0.2 + 2.0 * u,
        Unary::Tan => -1.2 + 2.4 * u,
        Unary::Abs | Unary::Signum => {
            let v = -2.0 + 4.0 * u;
            if v.abs() < 0.05 {
                0.5
            } else {
                v
            }
        }
        _ => -2.0 + 4.0 * u,
    }
}

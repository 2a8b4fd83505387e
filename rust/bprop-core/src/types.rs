//! Types shared by the tape, the array kernels and the gradient algebra. They live here, below
//! all three, so that the modules depend on each other one way only: `tape` -> `array` ->
//! `types`, and `backprop` -> `types`.

use ndarray::ArrayD;

/// Index of a node on its tape. Ids grow monotonically, so id order is a topological order.
pub type NodeId = u32;

/// An argument position of a custom op: the node it reads, or `None` for a constant
/// (constants get no gradient and have no node).
pub type Input = Option<NodeId>;

/// An owned float64 array of any shape (values, gradients).
pub type Array = ArrayD<f64>;

/// A shape error of a kernel: which op, and what was wrong (both shapes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    pub op: &'static str,
    pub message: String,
}

impl std::fmt::Display for ShapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.op, self.message)
    }
}

impl std::error::Error for ShapeError {}

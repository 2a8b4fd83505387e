//! The pure-Rust core of bprop: a per-run Wengert tape, the typed Op arity variants, native
//! scalar kernels and the reverse sweep. No Python here; the PyO3 crate adapts it.
//!
//! * [`Tape`] records nodes append-only, so node ids are a topological order and the reverse
//!   sweep is one backwards pass over a vector.
//! * Built-in scalar ops are recorded *linearised*: their partial derivatives are computed at
//!   forward time and stored inline ([`Node::Lin1`], [`Node::Lin2`]); no boxed closure per node.
//! * User-defined ops are recorded as one of the typed arity variants of [`CustomOp`]
//!   (unary, binary, ternary, n-ary), each with a pullback of the matching shape.
//! * Native float64 array kernels ([`array`]) record one [`Node::Array`] each, holding shared
//!   references to the values their backward pass reads; that pass accumulates in place.
//! * Gradients are any [`Backprop`] type; the sweep seeds the *output's own node*.
//! * A gradient reaching one component of a container stays a [`Parts`] (component index plus
//!   gradient) and is added slot by slot, so field reads never cost a whole-record add.

pub mod array;
pub mod backprop;
pub mod gemm;
mod par;
pub mod parts;
pub mod scalar;
pub mod tape;
pub mod types;
pub mod vmath;

pub use array::{Arg, Array, ArrayData, ArrayOp, Operand, ShapeError, Shared, Value};
pub use backprop::{Backprop, Grad, IntoArrayError, NativeGrad};
pub use parts::Parts;
pub use scalar::{Binary, Unary};
pub use tape::{
    CustomOp, Gradients, Input, Node, NodeId, Pullback1, Pullback2, Pullback3, PullbackN, Scalar,
    SweepError, Tape, TapeFull,
};

//! Native float64 array kernels with numpy's semantics (broadcasting, `matmul`'s 1-D rules) and
//! the array nodes they record.
//!
//! A kernel is a plain function from its arguments to `(value, node)`: the node ([`ArrayOp`]) is
//! `None` when no argument is on a tape (constant folding), so the same code serves `eval_bp`.
//! Nodes keep shared references ([`Shared`]) to the values their backward pass reads, never copies.
//!
//! The backward pass of a node receives its output gradient by value and writes each argument's
//! contribution through a [`Sink`]: into the argument's existing gradient buffer in place when it
//! has one of the right shape (one fused, vectorisable loop, no temporary), otherwise as a new
//! array, reusing the output gradient's own buffer where the shapes allow.

use std::any::Any;
use std::sync::Arc;

use ndarray::{arr0, Array2, ArrayView2, ArrayViewD, Axis, Ix2, IxDyn, SliceInfo, Zip};

use crate::gemm::gemm;
use crate::scalar::{Binary, Unary};
use crate::types::NodeId;
pub use crate::types::{Array, ShapeError};
use crate::vmath::{self, Isa};
pub use ndarray::SliceInfoElem;

/// Read-only array data shared by a value and the nodes that read it in the backward pass.
/// Implemented for owned arrays here and for borrowed numpy buffers by the bindings.
pub trait ArrayData: Send + Sync + 'static {
    fn data(&self) -> ArrayViewD<'_, f64>;
    fn as_any(&self) -> &dyn Any;
}

impl ArrayData for Array {
    fn data(&self) -> ArrayViewD<'_, f64> {
        self.view()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

pub type Shared = Arc<dyn ArrayData>;

/// How a kernel turns its freshly computed result into a shared value: the bindings hand it to
/// numpy (zero-copy); pure-Rust callers use [`owned`].
pub type Share<'a> = &'a dyn Fn(Array) -> Shared;

/// Share an owned array as is.
pub fn owned(a: Array) -> Shared {
    Arc::new(a)
}

/// The value of a kernel argument or result: a float, or an array (possibly 0-d).
#[derive(Clone)]
pub enum Value {
    Scalar(f64),
    Array(Shared),
}

impl Value {
    pub fn shape(&self) -> Vec<usize> {
        match self {
            Value::Scalar(_) => Vec::new(),
            Value::Array(a) => a.data().shape().to_vec(),
        }
    }

    /// The number of elements (1 for a float).
    pub fn element_count(&self) -> usize {
        match self {
            Value::Scalar(_) => 1,
            Value::Array(a) => a.data().len(),
        }
    }

    fn is_scalar(&self) -> bool {
        matches!(self, Value::Scalar(_))
    }

    /// Run `f` on a view of the value (a float is viewed as a 0-d array).
    fn with_view<R>(&self, f: impl FnOnce(ArrayViewD<'_, f64>) -> R) -> R {
        match self {
            Value::Scalar(s) => {
                let a = arr0(*s).into_dyn();
                f(a.view())
            }
            Value::Array(a) => f(a.data()),
        }
    }
}

/// An argument of a kernel: its value and its node (`None` for constants).
#[derive(Clone)]
pub struct Arg {
    pub value: Value,
    pub node: Option<NodeId>,
}

/// What the backward pass needs to know about an argument: where its gradient goes, the shape
/// the gradient must have, and whether it is a float (gradient reduced to a number).
pub struct Operand {
    pub node: Option<NodeId>,
    pub shape: Box<[usize]>,
    pub scalar: bool,
}

impl Operand {
    fn of(arg: &Arg) -> Operand {
        Operand {
            node: arg.node,
            shape: arg.value.shape().into(),
            scalar: arg.value.is_scalar(),
        }
    }
}

/// A recorded native array op.
pub enum ArrayOp {
    /// `y = f(x)` elementwise.
    Unary {
        kernel: Unary,
        x: Operand,
        xv: Value,
        y: Value,
    },
    /// `z = f(x, y)` elementwise with broadcasting.
    Binary {
        kernel: Binary,
        x: Operand,
        y: Operand,
        xv: Value,
        yv: Value,
        z: Value,
    },
    /// `a @ b` with numpy's rules for 1-D operands.
    MatMul {
        a: Operand,
        b: Operand,
        av: Value,
        bv: Value,
    },
    /// `scale * sum(x, axis)` (`mean` has `scale = 1/n`).
    Sum {
        x: Operand,
        axis: Option<usize>,
        scale: f64,
    },
    /// `max`/`min` of `x` along `axis` (all elements when `None`); keeps the argument and the
    /// result to find the elements the gradient goes to.
    Extremum {
        x: Operand,
        axis: Option<usize>,
        xv: Value,
        y: Value,
    },
    Reshape {
        x: Operand,
    },
    /// Reverse the axes (`.T`).
    Transpose {
        x: Operand,
    },
    /// `x[index]` with numpy's basic indexing (integers, slices, new axes).
    Index {
        x: Operand,
        index: Box<[SliceInfoElem]>,
    },
    /// `x[rows]`: whole rows (axis 0) picked by an integer array, repeats allowed.
    TakeRows {
        x: Operand,
        rows: Box<[usize]>,
    },
    /// Mean over rows of `-sum(t * log_softmax(z))`; keeps `log_softmax(z)` as rows.
    SoftmaxCrossEntropy {
        logits: Operand,
        targets: Operand,
        log_probs: Array2<f64>,
        t: Value,
    },
}

impl ArrayOp {
    /// The name of the op that recorded this node, for error messages.
    pub fn name(&self) -> &'static str {
        match self {
            ArrayOp::Unary { kernel, .. } => kernel.name(),
            ArrayOp::Binary { kernel, .. } => kernel.name(),
            ArrayOp::MatMul { .. } => "matmul",
            ArrayOp::Sum { scale, .. } if *scale != 1.0 => "mean",
            ArrayOp::Sum { .. } => "sum",
            ArrayOp::Extremum { .. } => "max or min",
            ArrayOp::Reshape { .. } => "reshape",
            ArrayOp::Transpose { .. } => "transpose",
            ArrayOp::Index { .. } | ArrayOp::TakeRows { .. } => "getitem",
            ArrayOp::SoftmaxCrossEntropy { .. } => "softmax_cross_entropy",
        }
    }
}

fn shape_error(op: &'static str, message: String) -> ShapeError {
    ShapeError { op, message }
}

/// numpy's broadcast of two shapes.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let at = |s: &[usize], i: usize| {
        if i + s.len() >= n {
            s[i + s.len() - n]
        } else {
            1
        }
    };
    (0..n)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// `sum_to` of a view: the reduced array, without first copying `c` whole.
pub fn sum_view_to(c: ArrayViewD<'_, f64>, shape: &[usize]) -> Array {
    if c.shape() == shape {
        return c.to_owned();
    }
    let lead = c.ndim() - shape.len();
    let stretched = |s: &[usize]| (0..shape.len()).find(|&i| shape[i] == 1 && s[i] != 1);
    // the first reduction makes the owned array; the others reduce it further
    let mut out = if lead > 0 {
        c.sum_axis(Axis(0))
    } else {
        match stretched(c.shape()) {
            Some(i) => c.sum_axis(Axis(i)).insert_axis(Axis(i)),
            None => c.to_owned(),
        }
    };
    while out.ndim() > shape.len() {
        out = out.sum_axis(Axis(0));
    }
    while let Some(i) = stretched(out.shape()) {
        out = out.sum_axis(Axis(i)).insert_axis(Axis(i));
    }
    out
}

/// Sum `c` down to `shape` (undo a broadcast): leading axes are summed away, stretched axes of
/// length 1 are summed and kept.
pub fn sum_to(c: Array, shape: &[usize]) -> Array {
    if c.shape() == shape {
        return c;
    }
    sum_view_to(c.view(), shape)
}

// ---- forward kernels -------------------------------------------------------------------------

/// Evaluate `$body` with `$k` bound to `$kernel`, once per variant: each arm sees the kernel
/// as a constant, so the `match` inside `eval`/`derivative` folds away and every elementwise
/// loop is compiled for one kernel (no per-element dispatch; the loop can vectorise). `$k` is a
/// `const`, not a variable, so closures do not capture it: the constant survives into the
/// dispatched loop copies of `vmath`, which are separate functions.
macro_rules! specialize {
    ($kernel:expr, $Enum:ident [$($v:ident),*], |$k:ident| $body:expr) => {
        match $kernel {
            $($Enum::$v => {
                #[allow(non_upper_case_globals)]
                const $k: $Enum = $Enum::$v;
                $body
            })*
        }
    };
}

macro_rules! specialize_unary {
    ($kernel:expr, |$k:ident| $body:expr) => {
        specialize!($kernel, Unary [Neg, Abs, Signum, Recip, Exp, Log, Sqrt, Sin, Cos, Tan, Asin, Acos,
            Atan, Sinh, Cosh, Tanh, Asinh, Acosh, Atanh], |$k| $body)
    };
}

macro_rules! specialize_binary {
    ($kernel:expr, |$k:ident| $body:expr) => {
        specialize!($kernel, Binary [Add, Sub, Mul, Div, Pow, LogBase, Maximum, Minimum], |$k| $body)
    };
}

/// `k(x)` in a slice loop compiled for `isa`: exp and tanh have vectorisable versions (`vmath`);
/// the others call libm per element.
#[inline(always)]
fn elementwise(isa: Isa, k: Unary, x: f64) -> f64 {
    match k {
        Unary::Exp => isa.exp(x),
        Unary::Tanh => isa.tanh(x),
        k => k.eval(x),
    }
}

/// The instruction set for a unary kernel's loops (see [`Isa::at_most_avx2`]).
fn unary_isa(k: Unary) -> Isa {
    use Unary::*;
    match k {
        Neg | Abs | Signum | Recip | Sqrt | Exp | Tanh => Isa::best(),
        Log | Sin | Cos | Tan | Asin | Acos | Atan | Sinh | Cosh | Asinh | Acosh | Atanh => {
            Isa::best().at_most_avx2()
        }
    }
}

/// The instruction set for a binary kernel's loops (see [`Isa::at_most_avx2`]).
fn binary_isa(k: Binary) -> Isa {
    match k {
        Binary::Add
        | Binary::Sub
        | Binary::Mul
        | Binary::Div
        | Binary::Maximum
        | Binary::Minimum => Isa::best(),
        Binary::Pow | Binary::LogBase => Isa::best().at_most_avx2(),
    }
}

/// The elements of each view in order if all are C-contiguous (the layout numpy and these kernels
/// produce; a stretched broadcast is not), for the dispatched slice loops of `vmath`. Views of one
/// shape then pair up element by element.
fn c_slices<'a, const N: usize>(views: [&ArrayViewD<'a, f64>; N]) -> Option<[&'a [f64]; N]> {
    let mut slices: [&[f64]; N] = [&[]; N];
    for (s, v) in slices.iter_mut().zip(views) {
        *s = v.to_slice()?;
    }
    Some(slices)
}

/// `f` of each element of `v`, as a new C-ordered array of its shape. Always a slice loop (another
/// layout is copied to C order first), so that exp and tanh give the same bits for any layout.
#[inline(always)]
fn map_array(isa: Isa, v: &ArrayViewD<'_, f64>, f: impl Fn(Isa, f64) -> f64 + Sync) -> Array {
    let v = v.as_standard_layout();
    let xs = v
        .as_slice()
        .unwrap_or_else(|| unreachable!("a standard layout is C-contiguous"));
    from_vec(v.shape(), isa.map([xs], |isa, [x]| f(isa, x)))
}

/// A C-ordered array of `shape` holding `data`.
fn from_vec(shape: &[usize], data: Vec<f64>) -> Array {
    Array::from_shape_vec(IxDyn(shape), data)
        .unwrap_or_else(|_| unreachable!("a slice loop keeps the element count"))
}

fn node_if(args: &[&Arg], make: impl FnOnce() -> ArrayOp) -> Option<ArrayOp> {
    args.iter().any(|a| a.node.is_some()).then(make)
}

/// `kernel(x)` elementwise.
pub fn unary(kernel: Unary, x: &Arg, share: Share<'_>) -> (Value, Option<ArrayOp>) {
    let y = match &x.value {
        Value::Scalar(s) => Value::Scalar(kernel.eval(*s)),
        Value::Array(a) => Value::Array(share(specialize_unary!(kernel, |k| {
            map_array(unary_isa(k), &a.data(), |isa, e| elementwise(isa, k, e))
        }))),
    };
    let node = node_if(&[x], || ArrayOp::Unary {
        kernel,
        x: Operand::of(x),
        xv: x.value.clone(),
        y: y.clone(),
    });
    (y, node)
}

/// `kernel(x, y)` elementwise with numpy broadcasting.
pub fn binary(
    kernel: Binary,
    x: &Arg,
    y: &Arg,
    share: Share<'_>,
) -> Result<(Value, Option<ArrayOp>), ShapeError> {
    let z = match (&x.value, &y.value) {
        (Value::Scalar(a), Value::Scalar(b)) => Value::Scalar(kernel.eval(*a, *b)),
        (Value::Array(a), Value::Scalar(b)) => Value::Array(share(specialize_binary!(
            kernel,
            |k| map_array(binary_isa(k), &a.data(), |_, v| k.eval(v, *b))
        ))),
        (Value::Scalar(a), Value::Array(b)) => Value::Array(share(specialize_binary!(
            kernel,
            |k| map_array(binary_isa(k), &b.data(), |_, v| k.eval(*a, v))
        ))),
        (Value::Array(a), Value::Array(b)) => {
            let (a, b) = (a.data(), b.data());
            let shape = broadcast_shapes(a.shape(), b.shape()).ok_or_else(|| {
                shape_error(
                    kernel.name(),
                    format!(
                        "shapes {:?} and {:?} do not broadcast",
                        a.shape(),
                        b.shape()
                    ),
                )
            })?;
            let (ab, bb) = (broadcast(&a, &shape), broadcast(&b, &shape));
            Value::Array(share(specialize_binary!(kernel, |k| {
                let f = |u: f64, v: f64| k.eval(u, v);
                match c_slices([&ab, &bb]) {
                    Some(xs) => from_vec(&shape, binary_isa(k).map(xs, |_, [u, v]| f(u, v))),
                    None => match tiled(binary_isa(k), f, &a, &b, &shape) {
                        Some(out) => out,
                        None => Zip::from(&ab).and(&bb).map_collect(|&u, &v| f(u, v)),
                    },
                }
            })))
        }
    };
    let node = node_if(&[x, y], || ArrayOp::Binary {
        kernel,
        x: Operand::of(x),
        y: Operand::of(y),
        xv: x.value.clone(),
        yv: y.value.clone(),
        z: z.clone(),
    });
    Ok((z, node))
}

/// `f(a, b)` broadcast, when one operand is a C-contiguous array of the output's shape and the
/// other a C-contiguous array that repeats in blocks: a suffix of the shape (a bias row `(n,)`
/// against `(m, n)`) or a prefix followed by ones (a `keepdims` column `(m, 1)`). Slice loops
/// per block instead of a strided walk; `None` for other broadcasts.
#[inline(always)]
fn tiled(
    isa: Isa,
    f: impl Fn(f64, f64) -> f64 + Sync,
    a: &ArrayViewD<'_, f64>,
    b: &ArrayViewD<'_, f64>,
    shape: &[usize],
) -> Option<Array> {
    let (full_first, full, small) = if a.shape() == shape {
        (true, a, b)
    } else if b.shape() == shape {
        (false, b, a)
    } else {
        return None;
    };
    let (Some(big), Some(sm)) = (full.as_slice(), small.as_slice()) else {
        return None;
    };
    let n = shape.len();
    let mut padded = vec![1; n - small.ndim()];
    padded.extend_from_slice(small.shape());
    if sm.is_empty() || big.is_empty() {
        return None;
    }
    // every element is written by one block below (not zeroed first)
    let mut out = Vec::with_capacity(big.len());
    let slots = &mut out.spare_capacity_mut()[..big.len()];
    // suffix: leading ones, then the output's own trailing dimensions (a single element is
    // done as one prefix block below)
    let lead = padded.iter().take_while(|&&d| d == 1).count();
    if sm.len() > 1 && padded[lead..] == shape[lead..] {
        for (o, x) in slots.chunks_mut(sm.len()).zip(big.chunks(sm.len())) {
            if full_first {
                isa.update(o, [x, sm], |_, o, [u, v]| {
                    o.write(f(u, v));
                });
            } else {
                isa.update(o, [x, sm], |_, o, [u, v]| {
                    o.write(f(v, u));
                });
            }
        }
        // SAFETY: the blocks (the whole output in order, `big.len()` being a multiple of the
        // block length) wrote every element.
        unsafe { out.set_len(big.len()) };
        return Some(from_vec(shape, out));
    }
    // prefix: the output's leading dimensions, then ones
    let trail = padded.iter().rev().take_while(|&&d| d == 1).count();
    if padded[..n - trail] == shape[..n - trail] {
        let block = big.len() / sm.len();
        for ((o, x), &c) in slots.chunks_mut(block).zip(big.chunks(block)).zip(sm) {
            if full_first {
                isa.update(o, [x], |_, o, [u]| {
                    o.write(f(u, c));
                });
            } else {
                isa.update(o, [x], |_, o, [u]| {
                    o.write(f(c, u));
                });
            }
        }
        // SAFETY: one block per element of `sm`, `block` elements each: the whole output.
        unsafe { out.set_len(big.len()) };
        return Some(from_vec(shape, out));
    }
    None
}

fn broadcast<'a>(a: &'a ArrayViewD<'_, f64>, shape: &[usize]) -> ArrayViewD<'a, f64> {
    // Shapes were checked with `broadcast_shapes` by the caller.
    a.broadcast(IxDyn(shape))
        .unwrap_or_else(|| unreachable!("broadcast of a checked shape"))
}

/// An operand of `matmul` seen as a matrix: a 1-D `a` is a row (left) or a column (right).
fn as_matrix<'a>(v: &ArrayViewD<'a, f64>, left: bool) -> ArrayView2<'a, f64> {
    let v = v.clone();
    let m = match (v.ndim(), left) {
        (1, true) => v.insert_axis(Axis(0)),
        (1, false) => v.insert_axis(Axis(1)),
        _ => v,
    };
    m.into_dimensionality::<Ix2>()
        .unwrap_or_else(|_| unreachable!("matmul operands are checked to be 1-D or 2-D"))
}

/// `a @ b` for 1-D and 2-D operands (numpy's `matmul`; a vector times a vector is their dot product).
pub fn matmul(a: &Arg, b: &Arg, share: Share<'_>) -> Result<(Value, Option<ArrayOp>), ShapeError> {
    let (sa, sb) = (a.value.shape(), b.value.shape());
    for s in [&sa, &sb] {
        if s.is_empty() || s.len() > 2 {
            return Err(shape_error(
                "matmul",
                format!(
                    "operands must be 1-D or 2-D, got shapes {sa:?} and {sb:?} (use * for scalars)"
                ),
            ));
        }
    }
    let (ka, kb) = (sa[sa.len() - 1], sb[0]);
    if ka != kb {
        return Err(shape_error(
            "matmul",
            format!("inner dimensions differ: shapes {sa:?} and {sb:?}"),
        ));
    }
    let out = a.value.with_view(|av| {
        b.value
            .with_view(|bv| product(as_matrix(&av, true), as_matrix(&bv, false)))
    });
    let value = match (sa.len(), sb.len()) {
        (1, 1) => Value::Scalar(out[[0, 0]]),
        (1, _) => Value::Array(share(out.index_axis_move(Axis(0), 0).into_dyn())),
        (_, 1) => Value::Array(share(out.index_axis_move(Axis(1), 0).into_dyn())),
        _ => Value::Array(share(out.into_dyn())),
    };
    let node = node_if(&[a, b], || ArrayOp::MatMul {
        a: Operand::of(a),
        b: Operand::of(b),
        av: a.value.clone(),
        bv: b.value.clone(),
    });
    Ok((value, node))
}

/// `l · r` in a new row-major matrix.
fn product(l: ArrayView2<'_, f64>, r: ArrayView2<'_, f64>) -> Array2<f64> {
    let mut out = Array2::zeros((l.nrows(), r.ncols()));
    gemm(1.0, l, r, false, out.view_mut());
    out
}

fn normalize_axis(op: &'static str, axis: isize, ndim: usize) -> Result<usize, ShapeError> {
    let n = ndim as isize;
    if axis < -n || axis >= n {
        return Err(shape_error(
            op,
            format!("axis {axis} is out of range for an array of {ndim} dimensions"),
        ));
    }
    Ok(if axis < 0 {
        (axis + n) as usize
    } else {
        axis as usize
    })
}

/// `sum(x, axis)`, or `mean` when `mean` is set (dividing by the number of summed elements,
/// zeros included). Without an axis the result is a float.
/// A reduction's axis checked against `shape` (negative counts from the end; `None`: every
/// element), and how many elements each result reduces.
fn reduced_axis(
    op: &'static str,
    shape: &[usize],
    axis: Option<isize>,
) -> Result<(Option<usize>, usize), ShapeError> {
    let axis = axis
        .map(|a| normalize_axis(op, a, shape.len()))
        .transpose()?;
    let count = match axis {
        None => shape.iter().product(),
        Some(a) => shape[a],
    };
    Ok((axis, count))
}

/// `max(x, axis)` (or `min` when `!max`) with numpy's semantics: NaN propagates; without an
/// axis the result is a float. An empty reduction is a `ShapeError` (numpy: no identity). The
/// gradient is split evenly among the elements equal to the result (ties; the NaNs when the
/// result is NaN).
pub fn extremum(
    x: &Arg,
    axis: Option<isize>,
    max: bool,
    share: Share<'_>,
) -> Result<(Value, Option<ArrayOp>), ShapeError> {
    let op = if max { "max" } else { "min" };
    let shape = x.value.shape();
    let (axis, count) = reduced_axis(op, &shape, axis)?;
    if count == 0 {
        return Err(shape_error(
            op,
            format!("zero-size reduction of an array of shape {shape:?} (it has no identity)"),
        ));
    }
    let pick = |m: f64, v: f64| {
        if m.is_nan() || !(v.is_nan() || if max { v > m } else { v < m }) {
            m
        } else {
            v
        }
    };
    let reduce = |lane: ArrayViewD<'_, f64>| {
        let mut it = lane.iter();
        let first = *it
            .next()
            .unwrap_or_else(|| unreachable!("non-empty reductions only"));
        it.fold(first, |m, &v| pick(m, v))
    };
    let value = x.value.with_view(|v| match axis {
        None => Value::Scalar(reduce(v)),
        Some(a) => Value::Array(share(v.map_axis(Axis(a), |lane| reduce(lane.into_dyn())))),
    });
    let node = node_if(&[x], || ArrayOp::Extremum {
        x: Operand::of(x),
        axis,
        xv: x.value.clone(),
        y: value.clone(),
    });
    Ok((value, node))
}

/// Whether `v` is one of the elements an extremum `m` picked (NaN picks the NaNs).
#[inline]
fn picked(v: f64, m: f64) -> bool {
    v == m || (v.is_nan() && m.is_nan())
}

/// The sum of every element: [`Isa::sum`]'s fixed order over the elements in memory order when
/// they are contiguous (every core on a long array), ndarray's otherwise.
fn sum_all(v: &ArrayViewD<'_, f64>) -> f64 {
    match v.as_slice_memory_order() {
        Some(xs) => Isa::best().sum(xs),
        None => v.sum(),
    }
}

pub fn sum(
    x: &Arg,
    axis: Option<isize>,
    mean: bool,
    share: Share<'_>,
) -> Result<(Value, Option<ArrayOp>), ShapeError> {
    let op = if mean { "mean" } else { "sum" };
    let (axis, count) = reduced_axis(op, &x.value.shape(), axis)?;
    let scale = if mean { 1.0 / count as f64 } else { 1.0 };
    let value = x.value.with_view(|v| match axis {
        None => Value::Scalar(sum_all(&v) * scale),
        Some(a) => {
            let mut s = v.sum_axis(Axis(a));
            if mean {
                s.mapv_inplace(|e| e * scale);
            }
            Value::Array(share(s))
        }
    });
    Ok((
        value,
        node_if(&[x], || ArrayOp::Sum {
            x: Operand::of(x),
            axis,
            scale,
        }),
    ))
}

/// The number of elements of an array of shape `dims`, or `None` when the product of its
/// non-zero dimensions exceeds `isize::MAX` (ndarray's limit, also for an empty array), so that
/// a user-given shape can never wrap around in the multiplication.
pub fn checked_size(dims: &[usize]) -> Option<usize> {
    let nonzero = dims
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize)?;
    Some(if dims.contains(&0) { 0 } else { nonzero })
}

/// `x` with a new shape of the same size (one entry may be `-1`: inferred), in C order.
pub fn reshape(
    x: &Arg,
    shape: &[isize],
    share: Share<'_>,
) -> Result<(Value, Option<ArrayOp>), ShapeError> {
    let from = x.value.shape();
    let size: usize = from.iter().product();
    let bad = || {
        shape_error(
            "reshape",
            format!("cannot reshape an array of shape {from:?} into {shape:?}"),
        )
    };
    let inferred = shape.iter().filter(|&&d| d < 0).count();
    if inferred > 1 || shape.iter().any(|&d| d < -1) {
        return Err(bad());
    }
    // The product of the given dimensions, checked: in wrapping arithmetic a huge shape such as
    // (2**63-1, 2**63-1, 4) would come out as 4 and pass the size check below.
    let given: Vec<usize> = shape
        .iter()
        .filter(|&&d| d >= 0)
        .map(|&d| d as usize)
        .collect();
    let known = checked_size(&given).ok_or_else(bad)?;
    let dims: Vec<usize> = if inferred == 1 {
        if known == 0 || !size.is_multiple_of(known) {
            return Err(bad());
        }
        shape
            .iter()
            .map(|&d| if d < 0 { size / known } else { d as usize })
            .collect()
    } else {
        if known != size {
            return Err(bad());
        }
        shape.iter().map(|&d| d as usize).collect()
    };
    let value = x.value.with_view(|v| {
        let out = v
            .to_shape(IxDyn(&dims))
            .unwrap_or_else(|_| unreachable!("sizes checked above"))
            .into_owned();
        Value::Array(share(out))
    });
    Ok((
        value,
        node_if(&[x], || ArrayOp::Reshape { x: Operand::of(x) }),
    ))
}

/// `x[index]` for numpy's basic indexing. `index` is already resolved against `x`'s shape by the
/// caller (integers in range and non-negative, slices as ndarray ranges, one integer or slice
/// per axis of `x`, plus new axes); a mismatch is a `ShapeError`, never a panic. The result is
/// a copy (the tape keeps it), a float when every axis is indexed by an integer.
/// `x[rows]` for an integer index array on the first axis (numpy's advanced indexing with one
/// index array): the result has shape `rows_shape + x.shape[1..]`. `rows` are in range (the
/// caller resolved negative ones; a bad one is a `ShapeError`, never a panic). The gradient is
/// a scatter-add of the result's rows (repeated rows accumulate), in place into the argument's
/// gradient when it has one.
pub fn take_rows(
    x: &Arg,
    rows: Vec<usize>,
    rows_shape: &[usize],
    share: Share<'_>,
) -> Result<(Value, Option<ArrayOp>), ShapeError> {
    let shape = x.value.shape();
    let Some((&n, inner)) = shape.split_first() else {
        return Err(shape_error(
            "getitem",
            "an index array on a 0-d array".to_string(),
        ));
    };
    if let Some(bad) = rows.iter().find(|&&r| r >= n) {
        return Err(shape_error(
            "getitem",
            format!("row {bad} out of range for shape {shape:?}"),
        ));
    }
    if rows_shape.iter().product::<usize>() != rows.len() {
        return Err(shape_error(
            "getitem",
            format!("{} rows for an index of shape {rows_shape:?}", rows.len()),
        ));
    }
    let width: usize = inner.iter().product();
    let out_shape: Vec<usize> = rows_shape.iter().chain(inner).copied().collect();
    let value = x.value.with_view(|v| {
        let v = v.as_standard_layout();
        let data = v
            .as_slice()
            .unwrap_or_else(|| unreachable!("a standard layout is C-contiguous"));
        let out: Vec<f64> = if width == 1 {
            rows.iter().map(|&r| data[r]).collect()
        } else {
            let mut out = Vec::with_capacity(rows.len() * width);
            for &r in &rows {
                out.extend_from_slice(&data[r * width..(r + 1) * width]);
            }
            out
        };
        from_vec(&out_shape, out)
    });
    let node = node_if(&[x], || ArrayOp::TakeRows {
        x: Operand::of(x),
        rows: rows.into(),
    });
    Ok((Value::Array(share(value)), node))
}

pub fn index(
    x: &Arg,
    index: Vec<SliceInfoElem>,
    share: Share<'_>,
) -> Result<(Value, Option<ArrayOp>), ShapeError> {
    let shape = x.value.shape();
    check_index(&shape, &index)?;
    let info = slice_info(&index);
    let value = x.value.with_view(|v| {
        let part = v.slice(info.as_ref());
        if part.ndim() == 0 {
            Value::Scalar(
                part.first()
                    .copied()
                    .unwrap_or_else(|| unreachable!("a 0-d view has one element")),
            )
        } else {
            Value::Array(share(part.to_owned()))
        }
    });
    Ok((
        value,
        node_if(&[x], || ArrayOp::Index {
            x: Operand::of(x),
            index: index.into(),
        }),
    ))
}

/// A `ShapeError` unless `index` fits `shape` exactly as `index` documents.
fn check_index(shape: &[usize], index: &[SliceInfoElem]) -> Result<(), ShapeError> {
    let bad = |why: String| {
        Err(shape_error(
            "getitem",
            format!("index {index:?} for shape {shape:?}: {why}"),
        ))
    };
    let axes: Vec<&SliceInfoElem> = index
        .iter()
        .filter(|e| !matches!(e, SliceInfoElem::NewAxis))
        .collect();
    if axes.len() != shape.len() {
        return bad(format!(
            "{} indexed axes for {} axes",
            axes.len(),
            shape.len()
        ));
    }
    for (e, &n) in axes.into_iter().zip(shape) {
        let n = n as isize;
        match *e {
            SliceInfoElem::Index(i) if !(0..n).contains(&i) => {
                return bad(format!("index {i} out of range"))
            }
            SliceInfoElem::Slice { start, end, step } => {
                let end = end.unwrap_or(n);
                if step == 0 || start < 0 || end < start || end > n {
                    return bad(format!("slice {start}..{end} step {step} out of range"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn slice_info(index: &[SliceInfoElem]) -> SliceInfo<&[SliceInfoElem], IxDyn, IxDyn> {
    // `check_index` made every element valid for the array's shape.
    SliceInfo::try_from(index)
        .unwrap_or_else(|_| unreachable!("a dynamic-dimension slice info is always valid"))
}

/// `x` with its axes reversed.
pub fn transpose(x: &Arg, share: Share<'_>) -> (Value, Option<ArrayOp>) {
    let value = x
        .value
        .with_view(|v| Value::Array(share(v.to_owned().reversed_axes())));
    (
        value,
        node_if(&[x], || ArrayOp::Transpose { x: Operand::of(x) }),
    )
}

/// Rows of a softmax argument: a 1-D vector is one row.
fn rows<'a>(v: &ArrayViewD<'a, f64>) -> ArrayView2<'a, f64> {
    as_matrix(v, true)
}

/// `mean over rows of -sum(t * log_softmax(z, axis=-1), axis=-1)`, fused and max-shifted.
pub fn softmax_cross_entropy(z: &Arg, t: &Arg) -> Result<(Value, Option<ArrayOp>), ShapeError> {
    let (sz, st) = (z.value.shape(), t.value.shape());
    if sz != st || sz.is_empty() || sz.len() > 2 {
        return Err(shape_error(
            "softmax_cross_entropy",
            format!(
                "logits and targets must be 1-D or 2-D arrays of one shape, got {sz:?} and {st:?}"
            ),
        ));
    }
    let (loss, log_probs) = z.value.with_view(|zv| {
        t.value.with_view(|tv| {
            let (zr, tr) = (rows(&zv), rows(&tv));
            let mut log_probs = Array2::<f64>::zeros(zr.raw_dim());
            let mut total = 0.0;
            for ((zrow, trow), mut lrow) in zr
                .outer_iter()
                .zip(tr.outer_iter())
                .zip(log_probs.outer_iter_mut())
            {
                let m = zrow.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                let m = if m.is_finite() { m } else { 0.0 };
                let lse = m + zrow.fold(0.0, |s, &v| s + vmath::exp(v - m)).ln();
                Zip::from(&mut lrow)
                    .and(&zrow)
                    .for_each(|l, &v| *l = v - lse);
                total -= Zip::from(&lrow).and(&trow).fold(0.0, |s, &l, &t| s + t * l);
            }
            (total / zr.nrows() as f64, log_probs)
        })
    });
    let node = node_if(&[z, t], || ArrayOp::SoftmaxCrossEntropy {
        logits: Operand::of(z),
        targets: Operand::of(t),
        log_probs,
        t: t.value.clone(),
    });
    Ok((Value::Scalar(loss), node))
}

// ---- backward --------------------------------------------------------------------------------

/// Where a node's backward pass puts its arguments' gradients.
pub trait Sink {
    type Error;
    /// The gradient accumulated so far for `node`, if it is an array of `shape` that may be
    /// added to in place.
    fn existing(&mut self, node: NodeId, shape: &[usize]) -> Option<&mut Array>;
    /// [`Sink::existing`] for two distinct nodes at once (one loop then updates both).
    fn existing_pair(
        &mut self,
        a: (NodeId, &[usize]),
        b: (NodeId, &[usize]),
    ) -> [Option<&mut Array>; 2];
    /// Whether two contributions to one node may be added up before they are deposited (true
    /// when gradients accumulate with their type's own add; a caller-chosen add sees each one).
    fn combines(&self) -> bool;
    /// Add `g` (of the operand's shape; a float operand gets the sum) to the operand's gradient.
    fn deposit(&mut self, operand: &Operand, g: Array) -> Result<(), Self::Error>;
}

/// The gradient accumulated so far for `operand`, to add a contribution of the operand's own
/// shape to in place (floats are never updated in place: their gradient is a number).
fn target<'s, S: Sink>(sink: &'s mut S, operand: &Operand) -> Option<&'s mut Array> {
    let node = operand.node?;
    if operand.scalar {
        return None;
    }
    sink.existing(node, &operand.shape)
}

/// `acc += d` for arrays of one shape: the in-place accumulation of gradients (the sweep's add of
/// two array gradients, and backward passes adding into an existing one). One slice loop (on
/// every core when long) when both are C-contiguous, ndarray's strided loop otherwise.
pub fn add_assign(acc: &mut Array, d: &Array) {
    add_signed(acc, d, false)
}

/// `acc += d`, or `acc -= d` when `negate`.
fn add_signed(acc: &mut Array, d: &Array, negate: bool) {
    debug_assert_eq!(acc.shape(), d.shape());
    match (acc.as_slice_mut(), d.as_slice()) {
        (Some(a), Some(ds)) if negate => Isa::best().update(a, [ds], |_, a, [d]| *a -= d),
        (Some(a), Some(ds)) => Isa::best().update(a, [ds], |_, a, [d]| *a += d),
        _ if negate => *acc -= d,
        _ => *acc += d,
    }
}

/// `a = -a` elementwise.
fn negate_in_place(a: &mut Array) {
    match a.as_slice_mut() {
        Some(s) => Isa::best().update(s, [], |_, v, []| *v = -*v),
        None => a.mapv_inplace(|v| -v),
    }
}

/// The gradients accumulated so far for two array operands on distinct nodes, as slices to add
/// contributions of the operands' own shapes to in place (`None` where there is none, or where
/// it is not C-contiguous).
fn targets<'s, S: Sink>(sink: &'s mut S, [x, y]: [&Operand; 2]) -> [Option<&'s mut [f64]>; 2] {
    let (Some(xn), Some(yn)) = (x.node, y.node) else {
        unreachable!("called for taped operands only")
    };
    debug_assert!(xn != yn && !x.scalar && !y.scalar);
    sink.existing_pair((xn, &x.shape), (yn, &y.shape))
        .map(|a| a.and_then(|a| a.as_slice_mut()))
}

/// Deposit a contribution computed over the output's shape, reduced to the operand's shape.
fn put<S: Sink>(sink: &mut S, operand: &Operand, c: Array) -> Result<(), S::Error> {
    match operand.node {
        Some(_) => sink.deposit(operand, sum_to(c, &operand.shape)),
        None => Ok(()),
    }
}

/// `g` viewed as the `(rows, cols)` matrix of a `matmul` result (1-D operands were a row/column).
fn grad_matrix<'a>(g: &'a Array, a_vec: bool, b_vec: bool) -> ArrayView2<'a, f64> {
    let v = g.view();
    let v = if a_vec { v.insert_axis(Axis(0)) } else { v };
    let v = if b_vec { v.insert_axis(Axis(1)) } else { v };
    v.into_dimensionality::<Ix2>()
        .unwrap_or_else(|_| unreachable!("a matmul result has at most 2 axes"))
}

/// A matrix gradient of an operand back in the operand's shape (undoing `as_matrix`).
fn from_matrix(m: Array2<f64>, shape: &[usize], left: bool) -> Array {
    match (shape.len(), left) {
        (1, true) => m.index_axis_move(Axis(0), 0).into_dyn(),
        (1, false) => m.index_axis_move(Axis(1), 0).into_dyn(),
        _ => m.into_dyn(),
    }
}

/// Add `l · r` to the gradient of `operand` (the `left` or right argument of a `matmul`): a GEMM
/// with β = 1 straight into its buffer when it has a 2-D one, otherwise a new matrix reshaped
/// back to the operand's shape.
fn add_product<S: Sink>(
    sink: &mut S,
    operand: &Operand,
    l: ArrayView2<'_, f64>,
    r: ArrayView2<'_, f64>,
    left: bool,
) -> Result<(), S::Error> {
    if operand.node.is_none() {
        return Ok(());
    }
    match target(sink, operand).filter(|_| operand.shape.len() == 2) {
        Some(acc) => {
            let acc = acc
                .view_mut()
                .into_dimensionality::<Ix2>()
                .unwrap_or_else(|_| unreachable!("checked 2-D"));
            gemm(1.0, l, r, true, acc);
            Ok(())
        }
        None => put(
            sink,
            operand,
            from_matrix(product(l, r), &operand.shape, left),
        ),
    }
}

/// The backward pass of `k(x, y)` where one operand is a float and the other a C-contiguous
/// array of the output's shape (the common `v * 2.0`, `v - 1.0`, `np.maximum(v, 0.0)`): slice
/// loops with the float held constant instead of a strided walk over a broadcast. Gives `g`
/// back untouched (`Some`) when the operands are not of that form.
#[inline(always)]
fn scalar_operand_backward<S: Sink>(
    isa: Isa,
    partials: impl Fn(f64, f64, f64) -> (f64, f64) + Sync,
    g: Array,
    [x, y]: [&Operand; 2],
    [xv, yv]: [&Value; 2],
    z: &Value,
    sink: &mut S,
) -> Result<Option<Array>, S::Error> {
    let (array_first, arr, s) = match (xv, yv) {
        (Value::Array(a), Value::Scalar(s)) => (true, a, *s),
        (Value::Scalar(s), Value::Array(a)) => (false, a, *s),
        _ => return Ok(Some(g)),
    };
    let (Value::Array(zv), av) = (z, arr.data()) else {
        return Ok(Some(g));
    };
    let zv = zv.data();
    let (Some([a_s, z_s]), Some(g_s)) = (c_slices([&av, &zv]), g.as_slice()) else {
        return Ok(Some(g));
    };
    if av.shape() != g.shape() {
        return Ok(Some(g));
    }
    // (partial of the array operand, partial of the float) at element `e`
    let d_first = |e: f64, z: f64| partials(e, s, z);
    let d_second = |e: f64, z: f64| {
        let (ds, de) = partials(s, e, z);
        (de, ds)
    };
    let (array_op, float_op) = if array_first { (x, y) } else { (y, x) };
    if float_op.node.is_some() {
        let sum = |d: &dyn Fn(f64, f64) -> (f64, f64)| -> f64 {
            g_s.iter()
                .zip(a_s)
                .zip(z_s)
                .map(|((&g, &e), &z)| g * d(e, z).1)
                .sum()
        };
        let total = if array_first {
            sum(&d_first)
        } else {
            sum(&d_second)
        };
        sink.deposit(float_op, arr0(total).into_dyn())?;
    }
    if array_op.node.is_none() {
        return Ok(None);
    }
    if let Some(acc) = target(sink, array_op).and_then(|a| a.as_slice_mut()) {
        if array_first {
            isa.update(acc, [g_s, a_s, z_s], |_, acc, [g, e, z]| {
                *acc += g * d_first(e, z).0
            });
        } else {
            isa.update(acc, [g_s, a_s, z_s], |_, acc, [g, e, z]| {
                *acc += g * d_second(e, z).0
            });
        }
        return Ok(None);
    }
    let mut g = g;
    let gs = g
        .as_slice_mut()
        .unwrap_or_else(|| unreachable!("checked contiguous above"));
    if array_first {
        isa.update(gs, [a_s, z_s], |_, g, [e, z]| *g *= d_first(e, z).0);
    } else {
        isa.update(gs, [a_s, z_s], |_, g, [e, z]| *g *= d_second(e, z).0);
    }
    put(sink, array_op, g)?;
    Ok(None)
}

/// Whether the backward pass of a binary op can run as one loop for both operands: arrays of
/// the output's shape (no broadcast) on distinct taped nodes, with `g` C-contiguous.
fn both_full(g: &Array, [x, y]: [&Operand; 2]) -> bool {
    let full = |o: &Operand| o.node.is_some() && !o.scalar && *o.shape == *g.shape();
    full(x) && full(y) && x.node != y.node && g.is_standard_layout()
}

/// The backward pass of `x + y` (`x - y` when `negate`) for operands that are [`both_full`]:
/// one loop adds `g` into both existing gradients; an operand without one gets `g`'s own buffer
/// (so at most one new array, only when neither has one). Gives `g` back otherwise.
fn add_backward<S: Sink>(
    negate: bool,
    g: Array,
    ops: [&Operand; 2],
    sink: &mut S,
) -> Result<Option<Array>, S::Error> {
    if !both_full(&g, ops) {
        return Ok(Some(g));
    }
    let [x, y] = ops;
    let isa = Isa::best();
    let dy = move |g: f64| if negate { -g } else { g };
    let mut g = g;
    let gs = g
        .as_slice_mut()
        .unwrap_or_else(|| unreachable!("checked contiguous"));
    match targets(sink, ops) {
        [Some(ax), Some(ay)] => isa.update2(ax, ay, [gs], |_, a, b, [g]| {
            *a += g;
            *b += dy(g);
        }),
        [Some(ax), None] => {
            isa.update2(ax, gs, [], |_, a, g, []| {
                *a += *g;
                *g = dy(*g);
            });
            put(sink, y, g)?
        }
        [None, Some(ay)] => {
            isa.update(ay, [gs], |_, b, [g]| *b += dy(g));
            put(sink, x, g)?
        }
        [None, None] => {
            let c = from_vec(&y.shape, isa.map([gs], |_, [g]| dy(g)));
            put(sink, y, c)?;
            put(sink, x, g)?
        }
    }
    Ok(None)
}

/// The backward pass of `k(x, y)` (with `partials` its `(∂/∂x, ∂/∂y)`) as one loop that gives
/// both operands' gradients, when they are arrays of the output's shape on taped nodes and
/// everything is C-contiguous: added in place into existing gradients, otherwise written over
/// `g`'s own buffer and, only if both need one, a new array. For `x * x` (one node) the two
/// contributions are added in the loop, y's first, as two separate loops would add them.
/// Gives `g` back when the operands are not of that form.
#[inline(always)]
fn fused_backward<S: Sink>(
    isa: Isa,
    partials: impl Fn(f64, f64, f64) -> (f64, f64) + Sync,
    g: Array,
    [x, y]: [&Operand; 2],
    [xv, yv, z]: [&Value; 3],
    sink: &mut S,
) -> Result<Option<Array>, S::Error> {
    let (Value::Array(xa), Value::Array(ya), Value::Array(za)) = (xv, yv, z) else {
        return Ok(Some(g));
    };
    let (xd, yd, zd) = (xa.data(), ya.data(), za.data());
    let one_node = x.node.is_some() && x.node == y.node;
    let full = one_node || both_full(&g, [x, y]);
    if !full || xd.shape() != g.shape() || yd.shape() != g.shape() || !g.is_standard_layout() {
        return Ok(Some(g));
    }
    let Some(xyz) = c_slices([&xd, &yd, &zd]) else {
        return Ok(Some(g));
    };
    let [xs, ys, zs] = xyz;
    let mut g = g;
    if one_node {
        let sum = |g: f64, [x, y, z]: [f64; 3]| {
            let (dx, dy) = partials(x, y, z);
            (g * dy, g * dx)
        };
        let combines = sink.combines();
        match target(sink, x).and_then(|a| a.as_slice_mut()) {
            Some(acc) => {
                let gs = g.as_slice().unwrap_or_else(|| unreachable!("checked"));
                isa.update(acc, [gs, xs, ys, zs], |_, a, [g, x, y, z]| {
                    let (cy, cx) = sum(g, [x, y, z]);
                    *a = *a + cy + cx;
                })
            }
            // without one, only if the contributions may be deposited as their sum
            None if combines => {
                let gs = g.as_slice_mut().unwrap_or_else(|| unreachable!("checked"));
                isa.update(gs, [xs, ys, zs], |_, g, xyz| {
                    let (cy, cx) = sum(*g, xyz);
                    *g = cy + cx;
                });
                put(sink, x, g)?
            }
            None => return Ok(Some(g)),
        }
        return Ok(None);
    }
    let gs = g
        .as_slice_mut()
        .unwrap_or_else(|| unreachable!("checked contiguous"));
    match targets(sink, [x, y]) {
        [Some(ax), Some(ay)] => isa.update2(ax, ay, [gs, xs, ys, zs], |_, a, b, [g, x, y, z]| {
            let (dx, dy) = partials(x, y, z);
            *b += g * dy;
            *a += g * dx;
        }),
        [Some(ax), None] => {
            isa.update2(ax, gs, [xs, ys, zs], |_, a, g, [x, y, z]| {
                let (dx, dy) = partials(x, y, z);
                *a += *g * dx;
                *g *= dy;
            });
            put(sink, y, g)?
        }
        [None, Some(ay)] => {
            isa.update2(ay, gs, [xs, ys, zs], |_, b, g, [x, y, z]| {
                let (dx, dy) = partials(x, y, z);
                *b += *g * dy;
                *g *= dx;
            });
            put(sink, x, g)?
        }
        [None, None] => {
            let n = gs.len();
            let mut cy = Vec::with_capacity(n);
            isa.update2(
                gs,
                &mut cy.spare_capacity_mut()[..n],
                [xs, ys, zs],
                |_, g, c, [x, y, z]| {
                    let (dx, dy) = partials(x, y, z);
                    c.write(*g * dy);
                    *g *= dx;
                },
            );
            // SAFETY: the loop wrote each of the `n` elements.
            unsafe { cy.set_len(n) };
            put(sink, y, from_vec(g.shape(), cy))?;
            put(sink, x, g)?
        }
    }
    Ok(None)
}

impl ArrayOp {
    /// Deposit the arguments' gradients for the output gradient `g` (the gradient of a float
    /// output comes as a 0-d array).
    pub fn backward<S: Sink>(&self, g: Array, sink: &mut S) -> Result<(), S::Error> {
        match self {
            ArrayOp::Unary { kernel, x, xv, y } => specialize_unary!(*kernel, |k| {
                xv.with_view(|xv| {
                    y.with_view(|yv| {
                        let (isa, d) = (unary_isa(k), |x: f64, y: f64| k.derivative(x, y));
                        if let Some(acc) = target(sink, x) {
                            match (acc.as_slice_mut(), c_slices([&g.view(), &xv, &yv])) {
                                (Some(a), Some(xs)) => {
                                    isa.update(a, xs, |_, a, [g, x, y]| *a += g * d(x, y))
                                }
                                _ => Zip::from(acc)
                                    .and(&g)
                                    .and(&xv)
                                    .and(&yv)
                                    .for_each(|a, &g, &x, &y| *a += g * d(x, y)),
                            }
                            return Ok(());
                        }
                        let mut g = g;
                        match (g.as_slice_mut(), c_slices([&xv, &yv])) {
                            (Some(gs), Some(xs)) => {
                                isa.update(gs, xs, |_, g, [x, y]| *g *= d(x, y))
                            }
                            _ => Zip::from(&mut g)
                                .and(&xv)
                                .and(&yv)
                                .for_each(|g, &x, &y| *g *= d(x, y)),
                        }
                        put(sink, x, g)
                    })
                })
            }),
            ArrayOp::Binary {
                kernel: kernel @ (Binary::Add | Binary::Sub),
                x,
                y,
                ..
            } => {
                let negate = *kernel == Binary::Sub;
                let Some(g) = add_backward(negate, g, [x, y], sink)? else {
                    return Ok(());
                };
                let same = |o: &Operand| *o.shape == *g.shape();
                if y.node.is_some() {
                    match target(sink, y).filter(|_| same(y)) {
                        Some(acc) => add_signed(acc, &g, negate),
                        // `g` itself when x does not need it
                        None if x.node.is_none() => {
                            let mut c = sum_to(g, &y.shape);
                            if negate {
                                negate_in_place(&mut c);
                            }
                            return sink.deposit(y, c);
                        }
                        // reduced straight from `g` (no full-size copy for a broadcast operand)
                        None => {
                            let mut c = sum_view_to(g.view(), &y.shape);
                            if negate {
                                negate_in_place(&mut c);
                            }
                            sink.deposit(y, c)?
                        }
                    }
                }
                if x.node.is_some() {
                    match target(sink, x).filter(|_| same(x)) {
                        Some(acc) => add_assign(acc, &g),
                        None => put(sink, x, g)?,
                    }
                }
                Ok(())
            }
            ArrayOp::Binary {
                kernel,
                x,
                y,
                xv,
                yv,
                z,
            } => specialize_binary!(*kernel, |k| {
                // `v * 2.0`, `np.maximum(z, 0.0)`: slice loops with the float held constant
                // `k` is a const here; a closure made here keeps it one inside the dispatched loops
                let partials = |x: f64, y: f64, z: f64| k.derivatives(x, y, z);
                let g = match scalar_operand_backward(
                    binary_isa(k),
                    partials,
                    g,
                    [x, y],
                    [xv, yv],
                    z,
                    sink,
                )? {
                    None => return Ok(()),
                    Some(g) => g,
                };
                let Some(g) =
                    fused_backward(binary_isa(k), partials, g, [x, y], [xv, yv, z], sink)?
                else {
                    return Ok(());
                };
                let shape = g.shape().to_vec();
                xv.with_view(|xv| {
                    yv.with_view(|yv| {
                        z.with_view(|zv| {
                            let (xb, yb, zb) = (
                                broadcast(&xv, &shape),
                                broadcast(&yv, &shape),
                                broadcast(&zv, &shape),
                            );
                            // Without broadcasting the operands are usually all C-contiguous: then
                            // slice loops (`xyz`, `gxyz`), else ndarray's strided Zip.
                            let isa = binary_isa(k);
                            let xyz = c_slices([&xb, &yb, &zb]);
                            let gxyz = xyz.zip(g.as_slice()).map(|([x, y, z], g)| [g, x, y, z]);
                            // y first: x's contribution may then reuse g's buffer
                            if y.node.is_some() {
                                let dy =
                                    |g: f64, x: f64, y: f64, z: f64| g * k.derivatives(x, y, z).1;
                                match target(sink, y).filter(|_| *y.shape == *shape) {
                                    Some(acc) => match (acc.as_slice_mut(), gxyz) {
                                        (Some(a), Some(xs)) => {
                                            isa.update(a, xs, |_, a, [g, x, y, z]| {
                                                *a += dy(g, x, y, z)
                                            })
                                        }
                                        _ => Zip::from(acc)
                                            .and(&g)
                                            .and(&xb)
                                            .and(&yb)
                                            .and(&zb)
                                            .for_each(|a, &g, &x, &y, &z| *a += dy(g, x, y, z)),
                                    },
                                    None => {
                                        let c = match gxyz {
                                            Some(xs) => from_vec(
                                                &shape,
                                                isa.map(xs, |_, [g, x, y, z]| dy(g, x, y, z)),
                                            ),
                                            None => Zip::from(&g)
                                                .and(&xb)
                                                .and(&yb)
                                                .and(&zb)
                                                .map_collect(|&g, &x, &y, &z| dy(g, x, y, z)),
                                        };
                                        put(sink, y, c)?
                                    }
                                }
                            }
                            if x.node.is_some() {
                                let dx =
                                    |g: f64, x: f64, y: f64, z: f64| g * k.derivatives(x, y, z).0;
                                match target(sink, x).filter(|_| *x.shape == *shape) {
                                    Some(acc) => match (acc.as_slice_mut(), gxyz) {
                                        (Some(a), Some(xs)) => {
                                            isa.update(a, xs, |_, a, [g, x, y, z]| {
                                                *a += dx(g, x, y, z)
                                            })
                                        }
                                        _ => Zip::from(acc)
                                            .and(&g)
                                            .and(&xb)
                                            .and(&yb)
                                            .and(&zb)
                                            .for_each(|a, &g, &x, &y, &z| *a += dx(g, x, y, z)),
                                    },
                                    None => {
                                        let mut c = g;
                                        match (c.as_slice_mut(), xyz) {
                                            (Some(cs), Some(xs)) => {
                                                isa.update(cs, xs, |_, g, [x, y, z]| {
                                                    *g = dx(*g, x, y, z)
                                                })
                                            }
                                            _ => Zip::from(&mut c)
                                                .and(&xb)
                                                .and(&yb)
                                                .and(&zb)
                                                .for_each(|g, &x, &y, &z| *g = dx(*g, x, y, z)),
                                        }
                                        put(sink, x, c)?
                                    }
                                }
                            }
                            Ok(())
                        })
                    })
                })
            }),
            ArrayOp::MatMul { a, b, av, bv } => av.with_view(|av| {
                bv.with_view(|bv| {
                    let (a2, b2) = (as_matrix(&av, true), as_matrix(&bv, false));
                    let g2 = grad_matrix(&g, a.shape.len() == 1, b.shape.len() == 1);
                    // dA = G · Bᵀ, dB = Aᵀ · G
                    add_product(sink, a, g2, b2.t(), true)?;
                    add_product(sink, b, a2.t(), g2, false)
                })
            }),
            ArrayOp::Extremum { x, axis, xv, y } => {
                if x.node.is_none() {
                    return Ok(());
                }
                // each lane's gradient, shared evenly among the lane's picked elements
                let share_lane = |lane: ArrayViewD<'_, f64>,
                                  mut out: ndarray::ArrayViewMutD<'_, f64>,
                                  m: f64,
                                  g: f64| {
                    let hits = lane.iter().filter(|&&v| picked(v, m)).count() as f64;
                    Zip::from(&mut out).and(&lane).for_each(|o, &v| {
                        if picked(v, m) {
                            *o += g / hits;
                        }
                    });
                };
                xv.with_view(|xv| {
                    y.with_view(|yv| {
                        let mut c = Array::zeros(xv.raw_dim());
                        match axis {
                            None => share_lane(xv.view(), c.view_mut(), yv.sum(), g.sum()),
                            Some(a) => Zip::from(xv.lanes(Axis(*a)))
                                .and(c.lanes_mut(Axis(*a)))
                                .and(&yv)
                                .and(&g)
                                .for_each(|lane, out, &m, &g| {
                                    share_lane(lane.into_dyn(), out.into_dyn(), m, g)
                                }),
                        }
                        match target(sink, x) {
                            Some(acc) => {
                                add_assign(acc, &c);
                                Ok(())
                            }
                            None => put(sink, x, c),
                        }
                    })
                })
            }
            ArrayOp::Sum { x, axis, scale } => {
                let scale = *scale;
                match axis {
                    None => {
                        let v = g.sum() * scale;
                        let isa = Isa::best();
                        match target(sink, x) {
                            Some(acc) => match acc.as_slice_mut() {
                                Some(a) => isa.update(a, [], |_, a, []| *a += v),
                                None => acc.mapv_inplace(|a| a + v),
                            },
                            None => {
                                let n = x.shape.iter().product();
                                put(sink, x, from_vec(&x.shape, isa.fill(n, v)))?
                            }
                        }
                    }
                    Some(a) => {
                        let gb = g.view().insert_axis(Axis(*a));
                        let gb = broadcast(&gb, &x.shape);
                        match target(sink, x) {
                            Some(acc) => Zip::from(acc).and(&gb).for_each(|a, &g| *a += g * scale),
                            None => put(sink, x, gb.mapv(|g| g * scale))?,
                        }
                    }
                }
                Ok(())
            }
            ArrayOp::Reshape { x } => {
                let back = match g.to_shape(IxDyn(&x.shape)) {
                    Ok(v) => v.into_owned(),
                    Err(_) => unreachable!("a reshape's gradient has the reshaped size"),
                };
                put(sink, x, back)
            }
            ArrayOp::Transpose { x } => put(sink, x, g.reversed_axes()),
            ArrayOp::TakeRows { x, rows } => {
                if x.node.is_none() {
                    return Ok(());
                }
                let g = g.as_standard_layout();
                let gs = g
                    .as_slice()
                    .unwrap_or_else(|| unreachable!("a standard layout is C-contiguous"));
                let width: usize = x.shape[1..].iter().product();
                let scatter = |acc: &mut [f64]| {
                    if width == 1 {
                        rows.iter().zip(gs).for_each(|(&r, &g)| acc[r] += g);
                        return;
                    }
                    for (k, &r) in rows.iter().enumerate() {
                        let (dst, src) = (
                            &mut acc[r * width..(r + 1) * width],
                            &gs[k * width..(k + 1) * width],
                        );
                        dst.iter_mut().zip(src).for_each(|(a, &b)| *a += b);
                    }
                };
                // In place only without repeated rows: a repeated row's contributions are summed
                // first, then added, exactly as a separate gradient would be (same rounding).
                let n = x.shape.first().copied().unwrap_or(0);
                let mut seen = vec![false; n];
                let repeats = rows.iter().any(|&r| std::mem::replace(&mut seen[r], true));
                if !repeats {
                    if let Some(acc) = target(sink, x).and_then(|a| a.as_slice_mut()) {
                        scatter(acc);
                        return Ok(());
                    }
                }
                let mut whole = vec![0.0; x.shape.iter().product()];
                scatter(&mut whole);
                let whole = from_vec(&x.shape, whole);
                match target(sink, x) {
                    Some(acc) => {
                        add_assign(acc, &whole);
                        Ok(())
                    }
                    None => put(sink, x, whole),
                }
            }
            ArrayOp::Index { x, index } => {
                if x.node.is_none() {
                    return Ok(());
                }
                let info = slice_info(index);
                // The gradient lands in the indexed part only: added in place into the
                // argument's gradient when it has one (reading many slices of one array costs
                // each slice's size), otherwise into zeros of the argument's shape.
                match target(sink, x) {
                    Some(acc) => {
                        let mut part = acc.slice_mut(info.as_ref());
                        part += &g;
                        Ok(())
                    }
                    None => {
                        let mut whole = Array::zeros(IxDyn(&x.shape));
                        whole.slice_mut(info.as_ref()).assign(&g);
                        put(sink, x, whole)
                    }
                }
            }
            ArrayOp::SoftmaxCrossEntropy {
                logits,
                targets,
                log_probs,
                t,
            } => {
                let n = log_probs.nrows() as f64;
                let scale = g.sum() / n;
                t.with_view(|tv| {
                    let tr = rows(&tv);
                    if logits.node.is_some() {
                        // d/dz = (softmax(z) * sum(t) - t) / n per row
                        let mut gz = Array2::<f64>::zeros(log_probs.raw_dim());
                        for ((mut grow, lrow), trow) in gz
                            .outer_iter_mut()
                            .zip(log_probs.outer_iter())
                            .zip(tr.outer_iter())
                        {
                            let tsum = trow.sum();
                            Zip::from(&mut grow)
                                .and(&lrow)
                                .and(&trow)
                                .for_each(|gz, &l, &t| *gz = scale * (vmath::exp(l) * tsum - t));
                        }
                        put(sink, logits, from_matrix(gz, &logits.shape, true))?;
                    }
                    if targets.node.is_some() {
                        let gt = log_probs.mapv(|l| -scale * l);
                        put(sink, targets, from_matrix(gt, &targets.shape, true))?;
                    }
                    Ok(())
                })
            }
        }
    }
}

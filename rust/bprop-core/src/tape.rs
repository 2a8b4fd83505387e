//! The per-run Wengert tape and its reverse sweep.

use crate::array::{ArrayOp, Operand, Sink};
use crate::backprop::{Backprop, IntoArrayError, NativeGrad};
use crate::scalar::{Binary, Unary};
use crate::types::Array;
pub use crate::types::{Input, NodeId};

type Err<G> = <G as Backprop>::Error;

/// Pullback of a unary op: the output gradient to the argument's gradient
/// (`None` means "no contribution", i.e. a zero gradient without building one).
pub type Pullback1<G> = Box<dyn Fn(G) -> Result<Option<G>, Err<G>> + Send + Sync>;
/// Pullback of a binary op: one optional gradient per argument.
pub type Pullback2<G> = Box<dyn Fn(G) -> Result<[Option<G>; 2], Err<G>> + Send + Sync>;
/// Pullback of a ternary op.
pub type Pullback3<G> = Box<dyn Fn(G) -> Result<[Option<G>; 3], Err<G>> + Send + Sync>;
/// Pullback of an op of any arity; must return exactly one entry per argument.
pub type PullbackN<G> = Box<dyn Fn(G) -> Result<Vec<Option<G>>, Err<G>> + Send + Sync>;

/// A user-defined op recorded on the tape, in its typed arity variant. (Nullary ops have no
/// inputs, so they are always constant-folded and never recorded.)
pub enum CustomOp<G: Backprop> {
    Unary {
        x: NodeId,
        pullback: Pullback1<G>,
    },
    Binary {
        xs: [Input; 2],
        pullback: Pullback2<G>,
    },
    Ternary {
        xs: [Input; 3],
        pullback: Pullback3<G>,
    },
    Nary {
        xs: Box<[Input]>,
        pullback: PullbackN<G>,
    },
}

/// One tape entry. Built-in scalar ops are stored linearised (partials inline, 32 bytes per
/// node); custom ops are boxed so that they do not widen the common case.
pub enum Node<G: Backprop> {
    /// An input of the run: gradients stop here and are read back by the caller.
    Leaf,
    /// `y = f(x)` with `dy/dx` stored.
    Lin1 {
        x: NodeId,
        dx: f64,
    },
    /// `z = f(x, y)` with both partials stored.
    Lin2 {
        x: NodeId,
        y: NodeId,
        dx: f64,
        dy: f64,
    },
    Custom(Box<CustomOp<G>>),
    /// A native array op (boxed: it holds shapes and shared values).
    Array(Box<ArrayOp>),
}

/// A scalar value on (or off) a tape: `node == None` is a constant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scalar {
    pub value: f64,
    pub node: Input,
}

impl Scalar {
    pub fn constant(value: f64) -> Self {
        Scalar { value, node: None }
    }
}

/// The tape cannot address more than `u32::MAX` nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TapeFull;

impl std::fmt::Display for TapeFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the tape is full ({} nodes)", NodeId::MAX)
    }
}

impl std::error::Error for TapeFull {}

/// Why a reverse sweep failed.
#[derive(Debug)]
pub enum SweepError<E> {
    /// A custom pullback failed (its error is passed through unchanged).
    Pullback { node: NodeId, error: E },
    /// Accumulating two gradients failed.
    Accumulate { node: NodeId, error: E },
    /// A pullback returned the wrong number of gradients.
    Arity {
        node: NodeId,
        expected: usize,
        got: usize,
    },
    /// A native scalar node received a non-scalar gradient.
    NotScalar { node: NodeId },
    /// A native array node received (or produced) a gradient that is not a float or an array.
    NotArray { node: NodeId },
    /// A native array node (the result of `op`) received a gradient that stands for an array but
    /// could not be built as one (see `NativeGrad::into_array`).
    ArrayGradient {
        node: NodeId,
        op: &'static str,
        error: E,
    },
    /// The output node is not on this tape.
    UnknownNode { node: NodeId },
}

/// The result of a sweep: the gradients of the inputs (leaves) up to the output. `None` means
/// the gradient never reached that input (or the node is not an input).
pub struct Gradients<G> {
    slots: GradSlots<G>,
}

/// How a sweep kept its gradients: one slot of the gradient type per node, or (scalar-only
/// tapes) plain `f64` adjoints with a flag per node saying whether any gradient reached it.
enum GradSlots<G> {
    General(Vec<Option<G>>),
    Scalar {
        adjoint: Vec<f64>,
        reached: Vec<bool>,
    },
}

impl<G: NativeGrad> Gradients<G> {
    /// Whether a gradient reached the input `node` (always `false` for other nodes).
    pub fn reached(&self, node: NodeId) -> bool {
        let i = node as usize;
        match &self.slots {
            GradSlots::General(slots) => slots.get(i).is_some_and(Option::is_some),
            GradSlots::Scalar { reached, .. } => reached.get(i).copied().unwrap_or(false),
        }
    }

    pub fn take(&mut self, node: NodeId) -> Option<G> {
        let i = node as usize;
        match &mut self.slots {
            GradSlots::General(slots) => slots.get_mut(i).and_then(Option::take),
            GradSlots::Scalar { adjoint, reached } => {
                let hit = reached.get_mut(i)?;
                std::mem::replace(hit, false).then(|| G::from_f64(adjoint[i]))
            }
        }
    }
}

/// The recorded nodes, in chunks of [`CHUNK`] nodes (128 KiB) once past the first: recorded
/// nodes never move (a doubling `Vec` copies the whole tape at each growth, and may leave half of
/// its capacity unused), so a tape costs its nodes' size plus at most one chunk. The first chunk
/// grows from empty as a `Vec` does, so short runs stay small.
struct Nodes<G: Backprop> {
    chunks: Vec<Vec<Node<G>>>,
    len: usize,
}

const CHUNK_BITS: u32 = 12;
const CHUNK: usize = 1 << CHUNK_BITS;

impl<G: Backprop> Nodes<G> {
    fn new() -> Self {
        Nodes {
            chunks: Vec::new(),
            len: 0,
        }
    }

    #[inline]
    fn push(&mut self, node: Node<G>) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(node),
            _ => {
                let mut chunk = Vec::with_capacity(if self.chunks.is_empty() { 4 } else { CHUNK });
                chunk.push(node);
                self.chunks.push(chunk);
            }
        }
        self.len += 1;
    }

    #[inline]
    fn get(&self, i: usize) -> Option<&Node<G>> {
        (i < self.len).then(|| &self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)])
    }

    /// Nodes `0..=last` from the last to the first, with their indices.
    fn rev_through(&self, last: usize) -> impl Iterator<Item = (usize, &Node<G>)> {
        let count = last + 1;
        self.chunks
            .iter()
            .take(count.div_ceil(CHUNK))
            .enumerate()
            .rev()
            .flat_map(move |(c, chunk)| {
                let base = c << CHUNK_BITS;
                let end = chunk.len().min(count - base);
                chunk[..end]
                    .iter()
                    .enumerate()
                    .rev()
                    .map(move |(j, node)| (base + j, node))
            })
    }
}

/// An append-only tape of one run.
pub struct Tape<G: Backprop> {
    nodes: Nodes<G>,
    custom_nodes: usize,
    /// Array and custom nodes: while there are none, the sweep runs on plain `f64` adjoints.
    non_scalar_nodes: usize,
}

impl<G: Backprop> Default for Tape<G> {
    fn default() -> Self {
        Self::new()
    }
}

impl<G: Backprop> Tape<G> {
    pub fn new() -> Self {
        Tape {
            nodes: Nodes::new(),
            custom_nodes: 0,
            non_scalar_nodes: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.len == 0
    }

    pub fn node(&self, id: NodeId) -> Option<&Node<G>> {
        self.nodes.get(id as usize)
    }

    /// Bytes the recorded nodes take on the heap (their chunks' capacity; boxed array and custom
    /// ops not included).
    pub fn heap_bytes(&self) -> usize {
        let chunks: usize = self.nodes.chunks.iter().map(Vec::capacity).sum();
        chunks * std::mem::size_of::<Node<G>>()
            + self.nodes.chunks.capacity() * std::mem::size_of::<Vec<Node<G>>>()
    }

    /// Whether any node calls back into user code (the sweep may then need the interpreter).
    pub fn has_custom_nodes(&self) -> bool {
        self.custom_nodes > 0
    }

    #[inline]
    fn push(&mut self, node: Node<G>) -> Result<NodeId, TapeFull> {
        let id = NodeId::try_from(self.nodes.len).map_err(|_| TapeFull)?;
        if id == NodeId::MAX {
            return Err(TapeFull);
        }
        self.nodes.push(node);
        Ok(id)
    }

    /// A new input of the run.
    pub fn leaf(&mut self) -> Result<NodeId, TapeFull> {
        self.push(Node::Leaf)
    }

    /// Record a user-defined op. The caller constant-folds ops whose inputs are all constants.
    pub fn custom(&mut self, op: CustomOp<G>) -> Result<NodeId, TapeFull> {
        let id = self.push(Node::Custom(Box::new(op)))?;
        self.custom_nodes += 1;
        self.non_scalar_nodes += 1;
        Ok(id)
    }

    /// Record a native array op (built by the kernels of [`crate::array`]).
    pub fn array(&mut self, op: ArrayOp) -> Result<NodeId, TapeFull> {
        let id = self.push(Node::Array(Box::new(op)))?;
        self.non_scalar_nodes += 1;
        Ok(id)
    }

    /// Apply a native unary kernel; records a node only if `x` is on the tape.
    #[inline]
    pub fn apply_unary(&mut self, kernel: Unary, x: Scalar) -> Result<Scalar, TapeFull> {
        match x.node {
            None => Ok(Scalar::constant(kernel.eval(x.value))),
            Some(xi) => {
                let (value, dx) = kernel.eval_with_derivative(x.value);
                let node = self.push(Node::Lin1 { x: xi, dx })?;
                Ok(Scalar {
                    value,
                    node: Some(node),
                })
            }
        }
    }

    /// Apply a native binary kernel; constant arguments get no edge, and two constants give a
    /// constant (constant folding).
    #[inline]
    pub fn apply_binary(
        &mut self,
        kernel: Binary,
        x: Scalar,
        y: Scalar,
    ) -> Result<Scalar, TapeFull> {
        let node = match (x.node, y.node) {
            (None, None) => return Ok(Scalar::constant(kernel.eval(x.value, y.value))),
            (Some(xi), None) => {
                let (value, dx, _) = kernel.eval_with_derivatives(x.value, y.value);
                (value, Node::Lin1 { x: xi, dx })
            }
            (None, Some(yi)) => {
                let (value, _, dy) = kernel.eval_with_derivatives(x.value, y.value);
                (value, Node::Lin1 { x: yi, dx: dy })
            }
            (Some(xi), Some(yi)) => {
                let (value, dx, dy) = kernel.eval_with_derivatives(x.value, y.value);
                (
                    value,
                    Node::Lin2 {
                        x: xi,
                        y: yi,
                        dx,
                        dy,
                    },
                )
            }
        };
        let (value, n) = node;
        Ok(Scalar {
            value,
            node: Some(self.push(n)?),
        })
    }
}

/// Add `g` to `node`'s gradient slot.
fn accumulate<G: Backprop, F>(
    slots: &mut [Option<G>],
    add: &mut F,
    node: NodeId,
    g: G,
) -> Result<(), SweepError<Err<G>>>
where
    F: FnMut(NodeId, G, G) -> Result<G, Err<G>>,
{
    let slot = &mut slots[node as usize];
    *slot = Some(match slot.take() {
        None => g,
        Some(prev) => add(node, prev, g).map_err(|error| SweepError::Accumulate { node, error })?,
    });
    Ok(())
}

/// The gradient slots as an array node's [`Sink`]. In-place accumulation is only used with the
/// type's own `add` (a caller-chosen `add` sees every contribution).
struct Slots<'a, G, F> {
    slots: &'a mut [Option<G>],
    add: &'a mut F,
    in_place: bool,
    node: NodeId,
}

impl<G: NativeGrad, F> Sink for Slots<'_, G, F>
where
    F: FnMut(NodeId, G, G) -> Result<G, Err<G>>,
{
    type Error = SweepError<Err<G>>;

    fn existing(&mut self, node: NodeId, shape: &[usize]) -> Option<&mut Array> {
        if !self.in_place {
            return None;
        }
        self.slots[node as usize]
            .as_mut()?
            .array_mut()
            .filter(|a| a.shape() == shape)
    }

    fn existing_pair(
        &mut self,
        (a, sa): (NodeId, &[usize]),
        (b, sb): (NodeId, &[usize]),
    ) -> [Option<&mut Array>; 2] {
        if !self.in_place {
            return [None, None];
        }
        match self.slots.get_disjoint_mut([a as usize, b as usize]) {
            Ok([ga, gb]) => [(ga, sa), (gb, sb)]
                .map(|(g, shape)| g.as_mut()?.array_mut().filter(|arr| arr.shape() == shape)),
            // the same node twice (or one out of range): no pair to update at once
            Err(_) => [None, None],
        }
    }

    fn combines(&self) -> bool {
        self.in_place
    }

    fn deposit(&mut self, operand: &Operand, g: Array) -> Result<(), Self::Error> {
        let Some(target) = operand.node else {
            return Ok(());
        };
        let g = if operand.scalar {
            G::from_f64(g.sum())
        } else {
            G::from_array(g).ok_or(SweepError::NotArray { node: self.node })?
        };
        accumulate(self.slots, self.add, target, g)
    }
}

impl<G: NativeGrad> Tape<G> {
    /// Reverse sweep from `output`, seeded with `seed` on the output's own node, accumulating
    /// with [`Backprop::add`].
    pub fn backward(&self, output: NodeId, seed: G) -> Result<Gradients<G>, SweepError<Err<G>>> {
        match seed.as_f64() {
            Some(seed) if self.non_scalar_nodes == 0 => self.scalar_sweep(output, seed),
            _ => self.sweep(output, seed, |_, a, b| a.add(b), true),
        }
    }

    /// The sweep of a tape holding only scalar nodes: plain `f64` adjoints, no gradient objects.
    /// It gives what [`Self::sweep`] gives with `f64` addition, down to the sign of zero: a
    /// node's first contribution is stored, not added to 0.0, and nodes no gradient reached are
    /// skipped (so an infinite partial on a path not taken cannot make a NaN).
    fn scalar_sweep(&self, output: NodeId, seed: f64) -> Result<Gradients<G>, SweepError<Err<G>>> {
        let out = output as usize;
        if out >= self.nodes.len {
            return Err(SweepError::UnknownNode { node: output });
        }
        let mut adjoint = vec![0.0; out + 1];
        let mut reached = vec![false; out + 1];
        adjoint[out] = seed;
        reached[out] = true;
        #[inline(always)]
        fn add(adjoint: &mut [f64], reached: &mut [bool], x: NodeId, g: f64) {
            let x = x as usize;
            if reached[x] {
                adjoint[x] += g;
            } else {
                adjoint[x] = g;
                reached[x] = true;
            }
        }
        for (i, node) in self.nodes.rev_through(out) {
            if !reached[i] {
                continue;
            }
            let d = adjoint[i];
            match node {
                Node::Leaf => continue,
                Node::Lin1 { x, dx } => add(&mut adjoint, &mut reached, *x, dx * d),
                Node::Lin2 { x, y, dx, dy } => {
                    add(&mut adjoint, &mut reached, *x, dx * d);
                    add(&mut adjoint, &mut reached, *y, dy * d);
                }
                // `non_scalar_nodes == 0` rules these out.
                Node::Array(_) | Node::Custom(_) => {
                    return Err(SweepError::NotScalar { node: i as NodeId })
                }
            }
            // As in the general sweep, only the inputs keep their gradients.
            reached[i] = false;
        }
        Ok(Gradients {
            slots: GradSlots::Scalar { adjoint, reached },
        })
    }

    /// Reverse sweep with a caller-chosen accumulation (per node, for explicit `add` functions).
    ///
    /// Nodes after `output` are ignored; a node whose gradient slot is never filled is skipped
    /// (its pullback is not called); every node's pullback runs at most once, after all its
    /// uses have contributed.
    pub fn backward_with<F>(
        &self,
        output: NodeId,
        seed: G,
        add: F,
    ) -> Result<Gradients<G>, SweepError<Err<G>>>
    where
        F: FnMut(NodeId, G, G) -> Result<G, Err<G>>,
    {
        self.sweep(output, seed, add, false)
    }

    fn sweep<F>(
        &self,
        output: NodeId,
        seed: G,
        mut add: F,
        in_place: bool,
    ) -> Result<Gradients<G>, SweepError<Err<G>>>
    where
        F: FnMut(NodeId, G, G) -> Result<G, Err<G>>,
    {
        let out = output as usize;
        if out >= self.nodes.len {
            return Err(SweepError::UnknownNode { node: output });
        }
        let mut slots: Vec<Option<G>> = Vec::with_capacity(out + 1);
        slots.resize_with(out + 1, || None);
        slots[out] = Some(seed);

        for (i, node) in self.nodes.rev_through(out) {
            let Some(g) = slots[i].take() else { continue };
            let id = i as NodeId;
            match node {
                // An input: its gradient stays in its slot, for the caller to read.
                Node::Leaf => slots[i] = Some(g),
                Node::Lin1 { x, dx } => {
                    let d = g.as_f64().ok_or(SweepError::NotScalar { node: id })?;
                    accumulate(&mut slots, &mut add, *x, G::from_f64(dx * d))?;
                }
                Node::Lin2 { x, y, dx, dy } => {
                    let d = g.as_f64().ok_or(SweepError::NotScalar { node: id })?;
                    accumulate(&mut slots, &mut add, *x, G::from_f64(dx * d))?;
                    accumulate(&mut slots, &mut add, *y, G::from_f64(dy * d))?;
                }
                Node::Array(op) => {
                    let g = g.into_array().map_err(|e| match e {
                        IntoArrayError::NotArray => SweepError::NotArray { node: id },
                        IntoArrayError::Failed(error) => SweepError::ArrayGradient {
                            node: id,
                            op: op.name(),
                            error,
                        },
                    })?;
                    let mut sink = Slots {
                        slots: &mut slots,
                        add: &mut add,
                        in_place,
                        node: id,
                    };
                    op.backward(g, &mut sink)?;
                }
                Node::Custom(op) => {
                    let pb_err = |error| SweepError::Pullback { node: id, error };
                    match op.as_ref() {
                        CustomOp::Unary { x, pullback } => {
                            if let Some(gx) = pullback(g).map_err(pb_err)? {
                                accumulate(&mut slots, &mut add, *x, gx)?;
                            }
                        }
                        CustomOp::Binary { xs, pullback } => {
                            let gs = pullback(g).map_err(pb_err)?;
                            for (x, gx) in xs.iter().zip(gs) {
                                if let (Some(x), Some(gx)) = (x, gx) {
                                    accumulate(&mut slots, &mut add, *x, gx)?;
                                }
                            }
                        }
                        CustomOp::Ternary { xs, pullback } => {
                            let gs = pullback(g).map_err(pb_err)?;
                            for (x, gx) in xs.iter().zip(gs) {
                                if let (Some(x), Some(gx)) = (x, gx) {
                                    accumulate(&mut slots, &mut add, *x, gx)?;
                                }
                            }
                        }
                        CustomOp::Nary { xs, pullback } => {
                            let gs = pullback(g).map_err(pb_err)?;
                            if gs.len() != xs.len() {
                                return Err(SweepError::Arity {
                                    node: id,
                                    expected: xs.len(),
                                    got: gs.len(),
                                });
                            }
                            for (x, gx) in xs.iter().zip(gs) {
                                if let (Some(x), Some(gx)) = (x, gx) {
                                    accumulate(&mut slots, &mut add, *x, gx)?;
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(Gradients {
            slots: GradSlots::General(slots),
        })
    }
}

mod common;

use bprop_core::{Binary, CustomOp, Node, Scalar, SweepError, Tape, Unary};
use common::{domain_sample, Lcg};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn var(tape: &mut Tape<f64>, value: f64) -> Scalar {
    Scalar {
        value,
        node: Some(tape.leaf().unwrap()),
    }
}

fn grad(tape: &Tape<f64>, out: Scalar, inputs: &[Scalar]) -> Vec<f64> {
    let mut g = tape.backward(out.node.unwrap(), 1.0).unwrap();
    inputs
        .iter()
        .map(|x| g.take(x.node.unwrap()).unwrap_or(0.0))
        .collect()
}

/// Central finite difference of `f` at `x`.
fn fd(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

#[test]
fn unary_kernels_match_finite_differences() {
    let mut rng = Lcg(7);
    for k in Unary::ALL {
        for _ in 0..50 {
            let x0 = domain_sample(k, rng.next());
            let mut tape = Tape::<f64>::new();
            let x = var(&mut tape, x0);
            let y = tape.apply_unary(k, x).unwrap();
            assert_eq!(y.value.to_bits(), k.eval(x0).to_bits(), "{k:?} value");
            let g = grad(&tape, y, &[x])[0];
            let want = fd(|t| k.eval(t), x0);
            assert!(
                (g - want).abs() <= 1e-5 * (1.0 + want.abs()),
                "{k:?} at {x0}: {g} vs {want}"
            );
        }
    }
}

#[test]
fn binary_kernels_match_finite_differences() {
    let mut rng = Lcg(11);
    for k in Binary::ALL {
        for _ in 0..50 {
            let (x0, y0) = match k {
                Binary::Pow => (0.2 + 2.0 * rng.next(), -2.0 + 4.0 * rng.next()),
                Binary::LogBase => (1.5 + 3.0 * rng.next(), 0.1 + 5.0 * rng.next()),
                Binary::Div => (-2.0 + 4.0 * rng.next(), 0.3 + 2.0 * rng.next()),
                _ => (-2.0 + 4.0 * rng.next(), -2.0 + 4.0 * rng.next()),
            };
            let mut tape = Tape::<f64>::new();
            let x = var(&mut tape, x0);
            let y = var(&mut tape, y0);
            let z = tape.apply_binary(k, x, y).unwrap();
            let g = grad(&tape, z, &[x, y]);
            let wx = fd(|t| k.eval(t, y0), x0);
            let wy = fd(|t| k.eval(x0, t), y0);
            assert!(
                (g[0] - wx).abs() <= 1e-5 * (1.0 + wx.abs()),
                "{k:?} d/dx at ({x0},{y0}): {} vs {wx}",
                g[0]
            );
            assert!(
                (g[1] - wy).abs() <= 1e-5 * (1.0 + wy.abs()),
                "{k:?} d/dy at ({x0},{y0}): {} vs {wy}",
                g[1]
            );
        }
    }
}

#[test]
fn edge_conventions() {
    // d/dy x**y at x == 0 is 0, not NaN; abs and signum have derivative 0 at 0.
    let mut tape = Tape::<f64>::new();
    let x = var(&mut tape, 0.0);
    let y = var(&mut tape, 2.5);
    let z = tape.apply_binary(Binary::Pow, x, y).unwrap();
    assert_eq!(grad(&tape, z, &[x, y]), vec![0.0, 0.0]);
    for k in [Unary::Abs, Unary::Signum] {
        let mut tape = Tape::<f64>::new();
        let x = var(&mut tape, 0.0);
        let y = tape.apply_unary(k, x).unwrap();
        assert_eq!(grad(&tape, y, &[x]), vec![0.0]);
    }
    // x ** 0 has base partial 0 even at x == 0
    let mut tape = Tape::<f64>::new();
    let x = var(&mut tape, 0.0);
    let z = tape
        .apply_binary(Binary::Pow, x, Scalar::constant(0.0))
        .unwrap();
    assert_eq!(z.value, 1.0);
    assert_eq!(grad(&tape, z, &[x]), vec![0.0]);
}

#[test]
fn constants_are_folded_and_get_no_edges() {
    let mut tape = Tape::<f64>::new();
    let c = tape
        .apply_binary(Binary::Mul, Scalar::constant(2.0), Scalar::constant(3.0))
        .unwrap();
    assert_eq!(c, Scalar::constant(6.0));
    let s = tape.apply_unary(Unary::Sin, c).unwrap();
    assert_eq!(s.node, None);
    assert!(tape.is_empty());
    let x = var(&mut tape, 4.0);
    let y = tape.apply_binary(Binary::Sub, c, x).unwrap();
    assert!(matches!(
        tape.node(y.node.unwrap()),
        Some(Node::Lin1 { .. })
    ));
    assert_eq!(grad(&tape, y, &[x]), vec![-1.0]);
}

#[test]
fn fan_out_accumulates_and_seed_goes_to_output_node() {
    // f(x) = x*x + x, with an unrelated node recorded after the output.
    let mut tape = Tape::<f64>::new();
    let x = var(&mut tape, 3.0);
    let sq = tape.apply_binary(Binary::Mul, x, x).unwrap();
    let out = tape.apply_binary(Binary::Add, sq, x).unwrap();
    let _later = tape.apply_unary(Unary::Exp, x).unwrap();
    assert_eq!(grad(&tape, out, &[x]), vec![7.0]);
    // the output is an input: the seed lands on it directly
    assert_eq!(grad(&tape, x, &[x]), vec![1.0]);
    // an intermediate as output
    assert_eq!(grad(&tape, sq, &[x]), vec![6.0]);
}

#[test]
fn unreached_inputs_have_no_gradient() {
    let mut tape = Tape::<f64>::new();
    let x = var(&mut tape, 1.0);
    let y = var(&mut tape, 2.0);
    let z = tape.apply_unary(Unary::Exp, x).unwrap();
    let g = tape.backward(z.node.unwrap(), 1.0).unwrap();
    assert!(!g.reached(y.node.unwrap()));
    assert!(g.reached(x.node.unwrap()));
}

#[test]
fn unreached_custom_pullbacks_are_never_called_and_reached_ones_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut tape = Tape::<f64>::new();
    let x = var(&mut tape, 2.0);
    let c1 = calls.clone();
    // an unreached custom node
    tape.custom(CustomOp::Unary {
        x: x.node.unwrap(),
        pullback: Box::new(move |_| panic!("unreached pullback called")),
    })
    .unwrap();
    // a reached one used twice: its pullback must run once, with the summed gradient
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let sq = tape
        .custom(CustomOp::Unary {
            x: x.node.unwrap(),
            pullback: Box::new(move |d| {
                c1.fetch_add(1, Ordering::SeqCst);
                s2.lock().unwrap().push(d);
                Ok(Some(2.0 * 2.0 * d))
            }),
        })
        .unwrap();
    let sq = Scalar {
        value: 4.0,
        node: Some(sq),
    };
    let out = tape.apply_binary(Binary::Add, sq, sq).unwrap();
    assert_eq!(grad(&tape, out, &[x]), vec![8.0]);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(*seen.lock().unwrap(), vec![2.0]);
    assert!(tape.has_custom_nodes());
}

#[test]
fn typed_arity_variants_route_gradients() {
    let mut tape = Tape::<f64>::new();
    let a = var(&mut tape, 1.0);
    let b = var(&mut tape, 2.0);
    let c = var(&mut tape, 3.0);
    // binary with a constant second argument: its gradient is dropped
    let n2 = tape
        .custom(CustomOp::Binary {
            xs: [a.node, None],
            pullback: Box::new(|d| Ok([Some(d), Some(100.0)])),
        })
        .unwrap();
    let n3 = tape
        .custom(CustomOp::Ternary {
            xs: [Some(n2), b.node, c.node],
            pullback: Box::new(|d| Ok([Some(d), Some(2.0 * d), None])),
        })
        .unwrap();
    let nn = tape
        .custom(CustomOp::Nary {
            xs: vec![Some(n3), a.node].into(),
            pullback: Box::new(|d| Ok(vec![Some(d), Some(10.0 * d)])),
        })
        .unwrap();
    let mut g = tape.backward(nn, 1.0).unwrap();
    assert_eq!(g.take(a.node.unwrap()), Some(11.0));
    assert_eq!(g.take(b.node.unwrap()), Some(2.0));
    assert_eq!(g.take(c.node.unwrap()), None);
}

#[test]
fn nary_arity_mismatch_is_an_error_not_a_panic() {
    let mut tape = Tape::<f64>::new();
    let a = var(&mut tape, 1.0);
    let n = tape
        .custom(CustomOp::Nary {
            xs: vec![a.node].into(),
            pullback: Box::new(|d| Ok(vec![Some(d), Some(d)])),
        })
        .unwrap();
    match tape.backward(n, 1.0) {
        Err(SweepError::Arity {
            expected: 1,
            got: 2,
            ..
        }) => {}
        other => panic!("unexpected {:?}", other.err()),
    }
    assert!(matches!(
        tape.backward(99, 1.0),
        Err(SweepError::UnknownNode { node: 99 })
    ));
}

#[test]
fn sweep_is_repeatable() {
    // backprop_with's pullback may be called many times over one tape
    let count = Cell::new(0);
    let mut tape = Tape::<f64>::new();
    let x = var(&mut tape, 0.5);
    let y = tape.apply_unary(Unary::Sin, x).unwrap();
    for seed in [1.0, 2.0, -3.0] {
        count.set(count.get() + 1);
        let mut g = tape.backward(y.node.unwrap(), seed).unwrap();
        assert_eq!(g.take(x.node.unwrap()), Some(seed * 0.5f64.cos()));
    }
    assert_eq!(count.get(), 3);
}

#[test]
fn scalar_nodes_are_compact() {
    assert!(
        std::mem::size_of::<Node<f64>>() <= 32,
        "{}",
        std::mem::size_of::<Node<f64>>()
    );
}

#[test]
fn w1_chain_matches_hand_written_reverse_pass() {
    let (x0, a0, b0, n) = (0.3, 0.9, 0.2, 1000);
    let mut tape = Tape::<f64>::new();
    let (x, a, b) = (var(&mut tape, x0), var(&mut tape, a0), var(&mut tape, b0));
    let mut h = x;
    for _ in 0..n {
        let s = tape.apply_unary(Unary::Sin, h).unwrap();
        let sa = tape.apply_binary(Binary::Mul, s, a).unwrap();
        let hb = tape.apply_binary(Binary::Mul, h, b).unwrap();
        h = tape.apply_binary(Binary::Add, sa, hb).unwrap();
    }
    let g = grad(&tape, h, &[x, a, b]);
    // hand-written
    let mut hs = vec![x0];
    let mut hv = x0;
    for _ in 0..n {
        hv = hv.sin() * a0 + hv * b0;
        hs.push(hv);
    }
    let (mut dh, mut da, mut db) = (1.0, 0.0, 0.0);
    for k in (0..n).rev() {
        da += dh * hs[k].sin();
        db += dh * hs[k];
        dh *= hs[k].cos() * a0 + b0;
    }
    assert_eq!(h.value, hv);
    for (got, want) in g.iter().zip([dh, da, db]) {
        assert!(
            (got - want).abs() <= 1e-12 * (1.0 + want.abs()),
            "{got} vs {want}"
        );
    }
}

/// A gradient type with a value that stands for an array but cannot be built as one.
#[derive(Debug)]
enum Pieces {
    Array(bprop_core::Array),
    /// Stands for an array, but its pieces do not fit together.
    Broken,
    /// Not an array at all.
    Label,
}

impl bprop_core::Backprop for Pieces {
    type Error = &'static str;
    fn zero_like(&self) -> Result<Self, Self::Error> {
        Err("unused")
    }
    fn one_like(&self) -> Result<Self, Self::Error> {
        Err("unused")
    }
    fn add(self, _: Self) -> Result<Self, Self::Error> {
        Err("unused")
    }
}

impl bprop_core::NativeGrad for Pieces {
    fn from_f64(x: f64) -> Self {
        Pieces::Array(ndarray::arr0(x).into_dyn())
    }
    fn as_f64(&self) -> Option<f64> {
        None
    }
    fn from_array(a: bprop_core::Array) -> Option<Self> {
        Some(Pieces::Array(a))
    }
    fn into_array(self) -> Result<bprop_core::Array, bprop_core::IntoArrayError<&'static str>> {
        match self {
            Pieces::Array(a) => Ok(a),
            Pieces::Broken => Err(bprop_core::IntoArrayError::Failed("the pieces do not fit")),
            Pieces::Label => Err(bprop_core::IntoArrayError::NotArray),
        }
    }
}

#[test]
fn an_array_gradient_that_cannot_be_built_fails_the_sweep_naming_the_op() {
    use bprop_core::array::{self, Arg, Value};
    let mut tape = Tape::<Pieces>::new();
    let x = Arg {
        value: Value::Array(array::owned(ndarray::arr1(&[0.5, -1.0]).into_dyn())),
        node: Some(tape.leaf().unwrap()),
    };
    let (_, op) = array::unary(Unary::Tanh, &x, &array::owned);
    let y = tape.array(op.unwrap()).unwrap();
    match tape.backward(y, Pieces::Broken) {
        Err(SweepError::ArrayGradient { node, op, error }) => {
            assert_eq!((node, op, error), (y, "tanh", "the pieces do not fit"));
        }
        other => panic!("expected ArrayGradient, got {:?}", other.map(|_| ())),
    }
    match tape.backward(y, Pieces::Label) {
        Err(SweepError::NotArray { node }) => assert_eq!(node, y),
        other => panic!("expected NotArray, got {:?}", other.map(|_| ())),
    }
    // a well-formed gradient goes through: d tanh = 1 - tanh^2
    let mut g = tape
        .backward(y, Pieces::Array(ndarray::arr1(&[1.0, 1.0]).into_dyn()))
        .unwrap();
    let Some(Pieces::Array(gx)) = g.take(x.node.unwrap()) else {
        panic!("the input gets an array gradient")
    };
    for (got, v) in gx.iter().zip([0.5f64, -1.0]) {
        let want = 1.0 - v.tanh() * v.tanh();
        assert!((got - want).abs() <= 1e-15, "{got} vs {want}");
    }
}

/// A random scalar graph over `inputs` leaves: each new node reads one or two earlier nodes or
/// a constant, so nodes fan out, some end up unreached from the output, and zeros (with their
/// sign) and infinite partials occur.
fn random_graph(tape: &mut Tape<f64>, rng: &mut Lcg, inputs: usize, nodes: usize) -> Vec<Scalar> {
    let mut vals: Vec<Scalar> = (0..inputs)
        .map(|i| var(tape, [0.5, -0.0, 0.0, 2.0, -1.5][i % 5]))
        .collect();
    for _ in 0..nodes {
        let pick = |rng: &mut Lcg, vals: &[Scalar]| {
            let r = rng.next();
            if r < 0.15 {
                Scalar::constant(r * 4.0 - 0.3)
            } else {
                vals[((r * 1e6) as usize) % vals.len()]
            }
        };
        let a = pick(rng, &vals);
        let b = pick(rng, &vals);
        let r = rng.next();
        let next = if r < 0.3 {
            let k = [Unary::Sin, Unary::Neg, Unary::Sqrt, Unary::Abs][(r * 40.0) as usize % 4];
            tape.apply_unary(k, a).unwrap()
        } else {
            let k = [Binary::Add, Binary::Mul, Binary::Sub, Binary::Div][(r * 40.0) as usize % 4];
            tape.apply_binary(k, a, b).unwrap()
        };
        vals.push(next);
    }
    vals
}

#[test]
fn scalar_sweep_equals_the_general_sweep_bit_for_bit() {
    let mut rng = Lcg(11);
    for _ in 0..200 {
        let mut tape = Tape::<f64>::new();
        let vals = random_graph(&mut tape, &mut rng, 5, 40);
        let out = vals[vals.len() - 1 - (rng.next() * 5.0) as usize];
        let Some(node) = out.node else { continue };
        // `backward` takes the f64-adjoint sweep on a scalar-only tape; `backward_with` always
        // takes the general one.
        let mut fast = tape.backward(node, 1.0).unwrap();
        let mut general = tape.backward_with(node, 1.0, |_, a, b| Ok(a + b)).unwrap();
        for i in 0..=node {
            // (both keep only the inputs' gradients)
            assert_eq!(fast.reached(i), general.reached(i), "node {i}");
            // bit for bit, down to the sign of zero; NaNs carry no meaningful sign or payload
            let bits = |v: Option<f64>| v.map(|v| if v.is_nan() { u64::MAX } else { v.to_bits() });
            let (f, g) = (fast.take(i), general.take(i));
            assert_eq!(bits(f), bits(g), "node {i}: {f:?} {g:?}");
        }
    }
}

#[test]
fn a_tape_longer_than_a_chunk_keeps_every_node_and_gradient() {
    // x * c repeated over several storage chunks (4096 nodes each), against the closed form.
    let n = 200_003;
    let c = 1.000_001;
    let mut tape = Tape::<f64>::new();
    let x = var(&mut tape, 0.5);
    let mut h = x;
    for _ in 0..n {
        h = tape
            .apply_binary(Binary::Mul, h, Scalar::constant(c))
            .unwrap();
    }
    assert_eq!(tape.len(), n + 1);
    for id in [0, 4095, 4096, 4097, 65_536, 131_072, n as u32] {
        match tape.node(id) {
            Some(Node::Leaf) => assert_eq!(id, 0),
            Some(Node::Lin1 { x, dx }) => assert_eq!((*x, *dx), (id - 1, c)),
            _ => panic!("node {id}"),
        }
    }
    assert!(tape.node(n as u32 + 1).is_none());
    let g = grad(&tape, h, &[x])[0];
    assert!((g - c.powi(n as i32)).abs() < 1e-9 * g, "{g}");
    // an output in the middle of the tape: node k is x * c^k
    let mut mid = tape.backward(100_000, 1.0).unwrap();
    let gm = mid.take(0).unwrap();
    assert!((gm - c.powi(100_000)).abs() < 1e-9 * gm, "{gm}");
}

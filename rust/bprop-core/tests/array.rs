//! Integration tests of the native array kernels (`bprop_core::array`).
//!
//! Gradients are checked coordinate-wise against central finite differences of `<c, f(x)>` for a
//! random cotangent `c` (a cotangent of ones would hide transposed or mis-broadcast gradients).
//! Every check also runs the function twice on the same leaves and adds the results, so that the
//! second contribution to each gradient goes through the in-place accumulation path, and compares
//! the in-place sweep with `backward_with` (which never accumulates in place).

mod common;

use bprop_core::array::{self, owned, Arg, ArrayOp, Value};
use bprop_core::{Backprop, Binary, Grad, NodeId, ShapeError, Tape, Unary};
use common::{domain_sample, Lcg};
use ndarray::{arr0, ArrayD, IxDyn};

type A = ArrayD<f64>;

// ---- helpers ---------------------------------------------------------------------------------

fn arr(shape: &[usize], data: &[f64]) -> A {
    A::from_shape_vec(IxDyn(shape), data.to_vec()).unwrap()
}

fn av(a: A) -> Value {
    Value::Array(owned(a))
}

/// A value as an array (a float as a 0-d array).
fn as_array(v: &Value) -> A {
    match v {
        Value::Scalar(s) => arr0(*s).into_dyn(),
        Value::Array(a) => a.data().to_owned(),
    }
}

/// The element of a 0-d array.
fn s0(a: &A) -> f64 {
    assert_eq!(a.ndim(), 0);
    *a.first().unwrap()
}

fn grad_array(g: &Grad) -> A {
    match g {
        Grad::Scalar(s) => arr0(*s).into_dyn(),
        Grad::Array(a) => a.clone(),
    }
}

fn cst(v: &Value) -> Arg {
    Arg {
        value: v.clone(),
        node: None,
    }
}

fn is_float(v: &Value) -> bool {
    matches!(v, Value::Scalar(_))
}

/// Record a kernel's node (if it made one) and hand its result on as an argument.
fn rec(tape: &mut Tape<Grad>, (value, op): (Value, Option<ArrayOp>)) -> Arg {
    Arg {
        value,
        node: op.map(|op| tape.array(op).unwrap()),
    }
}

fn un(t: &mut Tape<Grad>, k: Unary, x: &Arg) -> Arg {
    rec(t, array::unary(k, x, &owned))
}

fn bin(t: &mut Tape<Grad>, k: Binary, x: &Arg, y: &Arg) -> Arg {
    rec(t, array::binary(k, x, y, &owned).unwrap())
}

fn mm(t: &mut Tape<Grad>, a: &Arg, b: &Arg) -> Arg {
    rec(t, array::matmul(a, b, &owned).unwrap())
}

fn sm(t: &mut Tape<Grad>, x: &Arg, axis: Option<isize>, mean: bool) -> Arg {
    rec(t, array::sum(x, axis, mean, &owned).unwrap())
}

fn rs(t: &mut Tape<Grad>, x: &Arg, shape: &[isize]) -> Arg {
    rec(t, array::reshape(x, shape, &owned).unwrap())
}

fn tr(t: &mut Tape<Grad>, x: &Arg) -> Arg {
    rec(t, array::transpose(x, &owned))
}

fn sce(t: &mut Tape<Grad>, z: &Arg, y: &Arg) -> Arg {
    rec(t, array::softmax_cross_entropy(z, y).unwrap())
}

/// Equal up to `tol` (relative to the magnitude, plus 1), NaN equal to NaN; `tol == 0` is exact.
fn close(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

fn assert_arrays_close(what: &str, got: &A, want: &A, tol: f64) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for ((i, g), w) in got.indexed_iter().zip(want.iter()) {
        assert!(close(*g, *w, tol), "{what}: at {i:?}: got {g}, want {w}");
    }
}

fn assert_grads_close(what: &str, got: &Grad, want: &Grad, tol: f64) {
    assert_eq!(
        matches!(got, Grad::Scalar(_)),
        matches!(want, Grad::Scalar(_)),
        "{what}: gradient kinds differ: {got:?} vs {want:?}"
    );
    assert_arrays_close(what, &grad_array(got), &grad_array(want), tol);
}

/// `f` on constant arguments; nothing may be recorded (constant folding).
fn eval<F: Fn(&mut Tape<Grad>, &[Arg]) -> Arg>(f: &F, inputs: &[Value]) -> Value {
    let mut tape = Tape::new();
    let args: Vec<Arg> = inputs.iter().map(cst).collect();
    let out = f(&mut tape, &args);
    assert!(
        out.node.is_none(),
        "constant arguments must give a constant"
    );
    assert!(tape.is_empty(), "constant arguments must record nothing");
    out.value
}

/// `f` recorded on a tape with one leaf per input.
struct Recorded {
    tape: Tape<Grad>,
    leaves: Vec<NodeId>,
    out: Arg,
}

fn record<F: Fn(&mut Tape<Grad>, &[Arg]) -> Arg>(f: &F, inputs: &[Value]) -> Recorded {
    let mut tape = Tape::new();
    let args: Vec<Arg> = inputs
        .iter()
        .map(|v| Arg {
            value: v.clone(),
            node: Some(tape.leaf().unwrap()),
        })
        .collect();
    let out = f(&mut tape, &args);
    let leaves = args.iter().map(|a| a.node.unwrap()).collect();
    Recorded { tape, leaves, out }
}

impl Recorded {
    /// The leaves' gradients for output cotangent `c`: with the in-place sweep, or with
    /// `backward_with` and the type's own `add` (no in-place accumulation).
    fn grads(&self, c: &Grad, in_place: bool) -> Vec<Option<Grad>> {
        let node = self.out.node.expect("the output is on the tape");
        let mut g = if in_place {
            self.tape.backward(node, c.clone())
        } else {
            self.tape.backward_with(node, c.clone(), |_, a, b| a.add(b))
        }
        .unwrap();
        self.leaves.iter().map(|&l| g.take(l)).collect()
    }
}

/// A random cotangent for an output value: a float for a float, an array of its shape otherwise.
fn cotangent(rng: &mut Lcg, v: &Value) -> Grad {
    match v {
        Value::Scalar(_) => Grad::Scalar(rng.uniform(-1.5, 1.5)),
        Value::Array(a) => Grad::Array(rng.array(a.data().shape(), -1.5, 1.5)),
    }
}

/// `<c, v>`.
fn inner(c: &Grad, v: &Value) -> f64 {
    let (c, v) = (grad_array(c), as_array(v));
    assert_eq!(c.shape(), v.shape(), "cotangent shape");
    c.iter().zip(v.iter()).map(|(a, b)| a * b).sum()
}

/// Check `f` at `inputs`: once as is, and once as `f(x) + f(x)` (fan-out through in-place
/// accumulation).
fn check<F: Fn(&mut Tape<Grad>, &[Arg]) -> Arg>(name: &str, f: F, inputs: &[Value], rng: &mut Lcg) {
    check_once(name, &f, inputs, rng);
    let twice = |t: &mut Tape<Grad>, xs: &[Arg]| {
        let a = f(t, xs);
        let b = f(t, xs);
        bin(t, Binary::Add, &a, &b)
    };
    check_once(&format!("{name} (used twice)"), &twice, inputs, rng);
}

fn check_once<F: Fn(&mut Tape<Grad>, &[Arg]) -> Arg>(
    name: &str,
    f: &F,
    inputs: &[Value],
    rng: &mut Lcg,
) {
    let r = record(f, inputs);
    let folded = eval(f, inputs);
    assert_eq!(
        is_float(&r.out.value),
        is_float(&folded),
        "{name}: recorded and folded value kinds"
    );
    assert_arrays_close(
        &format!("{name}: recorded vs folded value"),
        &as_array(&r.out.value),
        &as_array(&folded),
        0.0,
    );

    let c = cotangent(rng, &r.out.value);
    let g = r.grads(&c, true);
    let g_plain = r.grads(&c, false);
    for (i, x) in inputs.iter().enumerate() {
        let gi = g[i]
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: no gradient for argument {i}"));
        let gp = g_plain[i]
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: no gradient for argument {i} (backward_with)"));
        assert_grads_close(
            &format!("{name}: argument {i}, in place vs backward_with"),
            gi,
            gp,
            0.0,
        );
        match (x, gi) {
            (Value::Scalar(_), Grad::Scalar(_)) => {}
            (Value::Array(a), Grad::Array(ga)) => assert_eq!(
                ga.shape(),
                a.data().shape(),
                "{name}: argument {i} gradient shape"
            ),
            _ => panic!("{name}: argument {i} got a gradient of the wrong kind: {gi:?}"),
        }
        let xa = as_array(x);
        let base: Vec<f64> = xa.iter().copied().collect();
        let got: Vec<f64> = grad_array(gi).iter().copied().collect();
        for j in 0..base.len() {
            let at = |t: f64| {
                let mut xs = inputs.to_vec();
                xs[i] = match x {
                    Value::Scalar(_) => Value::Scalar(t),
                    Value::Array(_) => {
                        let mut v = base.clone();
                        v[j] = t;
                        av(arr(xa.shape(), &v))
                    }
                };
                inner(&c, &eval(f, &xs))
            };
            let h = 1e-6 * base[j].abs().max(1.0);
            let want = (at(base[j] + h) - at(base[j] - h)) / (2.0 * h);
            assert!(
                close(got[j], want, 1e-5),
                "{name}: d/d(arg {i})[{j}] at {:?}: got {}, finite difference {want}",
                base[j],
                got[j]
            );
        }
    }
}

/// Distance in units in the last place (0 for equal values, NaN and NaN included).
fn ulps(a: f64, b: f64) -> u64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0;
    }
    if a.is_nan() || b.is_nan() || a.signum() != b.signum() {
        return u64::MAX;
    }
    a.to_bits().abs_diff(b.to_bits())
}

/// The array kernel's values `y` at `x` against the scalar kernel: `exp` and `tanh` run on
/// vectorised approximations documented within 2 and 4 ulp of libm; the rest are exact.
fn assert_within_ulps(k: Unary, y: &A, x: &A) {
    let bound = match k {
        Unary::Exp => 2,
        Unary::Tanh => 4,
        _ => 0,
    };
    for (&got, &xv) in y.iter().zip(x.iter()) {
        let want = k.eval(xv);
        assert!(
            ulps(got, want) <= bound,
            "{}({xv}) = {got}, scalar kernel {want}",
            k.name()
        );
    }
}

/// A random operand of a binary kernel in its domain (`first`: the left operand), of `shape`
/// (`None`: a float).
fn binary_operand(k: Binary, first: bool, shape: Option<&[usize]>, rng: &mut Lcg) -> Value {
    let (lo, hi) = match (k, first) {
        (Binary::Pow, true) => (0.2, 2.2),
        (Binary::LogBase, true) => (1.5, 4.5),
        (Binary::LogBase, false) => (0.1, 5.1),
        (Binary::Div, false) => (0.3, 2.3),
        _ => (-2.0, 2.0),
    };
    match shape {
        None => Value::Scalar(rng.uniform(lo, hi)),
        Some(s) => av(rng.array(s, lo, hi)),
    }
}

fn expect_shape_error(what: &str, r: Result<(Value, Option<ArrayOp>), ShapeError>) -> ShapeError {
    match r {
        Err(e) => e,
        Ok((v, _)) => panic!(
            "{what}: expected a ShapeError, got a value of shape {:?}",
            v.shape()
        ),
    }
}

/// The error names `op` and mentions every fragment (shapes as `[3, 4]`).
fn assert_shape_error(e: &ShapeError, op: &str, fragments: &[&str]) {
    assert_eq!(e.op, op, "{e}");
    let shown = e.to_string();
    assert!(shown.starts_with(&format!("{op}: ")), "{shown}");
    for f in fragments {
        assert!(
            e.message.contains(f),
            "message {:?} should mention {f:?}",
            e.message
        );
    }
}

// ---- elementwise kernels ---------------------------------------------------------------------

#[test]
fn unary_kernels_on_arrays_match_finite_differences() {
    let mut rng = Lcg(1);
    for k in Unary::ALL {
        let x = A::from_shape_fn(IxDyn(&[3, 4]), |_| domain_sample(k, rng.next()));
        // the value is the scalar kernel elementwise (exactly, but for the vectorised exp and
        // tanh, which promise a few ulp)
        let (y, op) = array::unary(k, &cst(&av(x.clone())), &owned);
        assert!(op.is_none());
        assert_within_ulps(k, &as_array(&y), &x);
        check(k.name(), |t, a| un(t, k, &a[0]), &[av(x)], &mut rng);
        // 1-D and 0-d arrays, and a float (whose gradient must be a float)
        let v = A::from_shape_fn(IxDyn(&[5]), |_| domain_sample(k, rng.next()));
        check(
            &format!("{} 1-D", k.name()),
            |t, a| un(t, k, &a[0]),
            &[av(v)],
            &mut rng,
        );
        let z = arr0(domain_sample(k, rng.next())).into_dyn();
        check(
            &format!("{} 0-d", k.name()),
            |t, a| un(t, k, &a[0]),
            &[av(z)],
            &mut rng,
        );
        let s = domain_sample(k, rng.next());
        check(
            &format!("{} float", k.name()),
            |t, a| un(t, k, &a[0]),
            &[Value::Scalar(s)],
            &mut rng,
        );
    }
}

#[test]
fn exp_and_tanh_array_values_over_their_whole_range() {
    // the vectorised kernels against libm, out to overflow, underflow and non-finite inputs
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    let mut xs: Vec<f64> = (0..=4000)
        .map(|i| -760.0 + 1480.0 * i as f64 / 4000.0)
        .collect();
    xs.extend([
        nan, inf, -inf, 0.0, -0.0, 1e-300, -1e-300, 709.78, 709.79, -745.1, -745.2, 19.0, 20.0,
        40.0, -40.0,
    ]);
    xs.extend((0..2000).map(|i| -25.0 + 50.0 * i as f64 / 2000.0));
    let x = arr(&[xs.len()], &xs);
    for k in [Unary::Exp, Unary::Tanh] {
        let (y, _) = array::unary(k, &cst(&av(x.clone())), &owned);
        assert_within_ulps(k, &as_array(&y), &x);
    }
    // their gradients at the extremes: exp' = exp (inf at inf), tanh' = 1 - tanh^2 (0 far out)
    let x = arr(&[5], &[nan, inf, -inf, 800.0, -800.0]);
    let (v, g) = run_ones(|t, a| un(t, Unary::Exp, &a[0]), &[av(x.clone())]);
    assert_arrays_close("exp value", &v, &arr(&[5], &[nan, inf, 0.0, inf, 0.0]), 0.0);
    assert_arrays_close(
        "exp gradient",
        &g[0],
        &arr(&[5], &[nan, inf, 0.0, inf, 0.0]),
        0.0,
    );
    let (v, g) = run_ones(|t, a| un(t, Unary::Tanh, &a[0]), &[av(x)]);
    assert_arrays_close(
        "tanh value",
        &v,
        &arr(&[5], &[nan, 1.0, -1.0, 1.0, -1.0]),
        0.0,
    );
    assert_arrays_close(
        "tanh gradient",
        &g[0],
        &arr(&[5], &[nan, 0.0, 0.0, 0.0, 0.0]),
        0.0,
    );
}

/// The shapes of a binary kernel's two operands (`None`: a float operand).
type OperandShapes = (Option<Vec<usize>>, Option<Vec<usize>>);

#[test]
fn binary_kernels_broadcast_and_match_finite_differences() {
    let shapes: Vec<OperandShapes> = vec![
        (Some(vec![3, 4]), Some(vec![4])),
        (Some(vec![4]), Some(vec![3, 4])),
        (Some(vec![3, 1]), Some(vec![1, 4])),
        (Some(vec![2, 3]), Some(vec![])),
        (Some(vec![]), Some(vec![2, 3])),
        (Some(vec![2, 3]), None),
        (None, Some(vec![2, 3])),
        (Some(vec![2, 3]), Some(vec![2, 3])),
        (Some(vec![2, 1, 3]), Some(vec![4, 1])),
        (Some(vec![]), None),
        (None, None),
    ];
    let mut rng = Lcg(2);
    for k in Binary::ALL {
        for (sx, sy) in &shapes {
            let x = binary_operand(k, true, sx.as_deref(), &mut rng);
            let y = binary_operand(k, false, sy.as_deref(), &mut rng);
            let name = format!("{} {:?} & {:?}", k.name(), sx, sy);

            // value: numpy broadcasting of the scalar kernel; a float only for two floats
            let (z, op) = array::binary(k, &cst(&x), &cst(&y), &owned).unwrap();
            assert!(op.is_none());
            assert_eq!(
                is_float(&z),
                is_float(&x) && is_float(&y),
                "{name}: value kind"
            );
            let shape = array::broadcast_shapes(&x.shape(), &y.shape()).unwrap();
            let (xa, ya) = (as_array(&x), as_array(&y));
            let (xb, yb) = (
                xa.broadcast(IxDyn(&shape)).unwrap(),
                ya.broadcast(IxDyn(&shape)).unwrap(),
            );
            let want = ndarray::Zip::from(&xb)
                .and(&yb)
                .map_collect(|&u, &v| k.eval(u, v));
            assert_arrays_close(&format!("{name}: value"), &as_array(&z), &want, 0.0);

            check(
                &name,
                |t, a| bin(t, k, &a[0], &a[1]),
                &[x.clone(), y.clone()],
                &mut rng,
            );
            // with one side constant only the other gets (and needs) a gradient
            let yc = y.clone();
            check(
                &format!("{name} (constant right)"),
                move |t, a| bin(t, k, &a[0], &cst(&yc)),
                std::slice::from_ref(&x),
                &mut rng,
            );
            let xc = x.clone();
            check(
                &format!("{name} (constant left)"),
                move |t, a| bin(t, k, &cst(&xc), &a[0]),
                std::slice::from_ref(&y),
                &mut rng,
            );
        }
    }
}

#[test]
fn float_operand_of_an_array_op_gets_a_float_gradient() {
    // d/ds sum(c * (x * s)) = sum(c * x), as a float
    let mut rng = Lcg(3);
    let x = rng.array(&[3, 4], -1.0, 1.0);
    let c = rng.array(&[3, 4], -1.0, 1.0);
    let r = record(
        &|t: &mut Tape<Grad>, a: &[Arg]| bin(t, Binary::Mul, &a[0], &a[1]),
        &[av(x.clone()), Value::Scalar(1.7)],
    );
    let g = r.grads(&Grad::Array(c.clone()), true);
    let want: f64 = (&c * &x).sum();
    match &g[1] {
        Some(Grad::Scalar(s)) => assert!(close(*s, want, 1e-14), "{s} vs {want}"),
        other => panic!("expected a float gradient, got {other:?}"),
    }
    assert_grads_close(
        "array operand",
        g[0].as_ref().unwrap(),
        &Grad::Array(&c * 1.7),
        0.0,
    );
}

// ---- matmul ----------------------------------------------------------------------------------

/// numpy's matmul on 1-D/2-D operands by definition, as an array (0-d for vector · vector).
fn naive_matmul(a: &A, b: &A) -> A {
    let a2 = if a.ndim() == 1 {
        a.clone().insert_axis(ndarray::Axis(0))
    } else {
        a.clone()
    };
    let b2 = if b.ndim() == 1 {
        b.clone().insert_axis(ndarray::Axis(1))
    } else {
        b.clone()
    };
    let (m, k, n) = (a2.shape()[0], a2.shape()[1], b2.shape()[1]);
    let mut out = A::zeros(IxDyn(&[m, n]));
    for i in 0..m {
        for j in 0..n {
            out[[i, j]] = (0..k).map(|p| a2[[i, p]] * b2[[p, j]]).sum();
        }
    }
    if b.ndim() == 1 {
        out = out.index_axis_move(ndarray::Axis(1), 0);
    }
    if a.ndim() == 1 {
        out = out.index_axis_move(ndarray::Axis(0), 0);
    }
    out
}

#[test]
fn matmul_in_all_four_rank_combinations() {
    let mut rng = Lcg(4);
    // (shape of a, shape of b, shape of a @ b or None for a float)
    type Case<'a> = (&'a [usize], &'a [usize], Option<&'a [usize]>);
    let cases: [Case; 4] = [
        (&[3, 4], &[4, 2], Some(&[3, 2])),
        (&[4], &[4, 2], Some(&[2])),
        (&[3, 4], &[4], Some(&[3])),
        (&[4], &[4], None),
    ];
    for (sa, sb, out_shape) in cases {
        let a = rng.array(sa, -1.5, 1.5);
        let b = rng.array(sb, -1.5, 1.5);
        let name = format!("matmul {sa:?} @ {sb:?}");
        let (v, op) = array::matmul(&cst(&av(a.clone())), &cst(&av(b.clone())), &owned).unwrap();
        assert!(op.is_none());
        match out_shape {
            None => assert!(is_float(&v), "{name}: vector · vector is a float"),
            Some(s) => {
                assert!(!is_float(&v), "{name}: an array");
                assert_eq!(v.shape(), s, "{name}: shape");
            }
        }
        assert_arrays_close(&name, &as_array(&v), &naive_matmul(&a, &b), 1e-14);
        check(
            &name,
            |t, x| mm(t, &x[0], &x[1]),
            &[av(a.clone()), av(b.clone())],
            &mut rng,
        );
        let bc = av(b.clone());
        check(
            &format!("{name} (constant right)"),
            move |t, x| mm(t, &x[0], &cst(&bc)),
            &[av(a.clone())],
            &mut rng,
        );
        let ac = av(a.clone());
        check(
            &format!("{name} (constant left)"),
            move |t, x| mm(t, &cst(&ac), &x[0]),
            &[av(b.clone())],
            &mut rng,
        );
    }
}

#[test]
fn matmul_of_a_matrix_with_itself_and_its_transpose() {
    // the same leaf as both operands: the second contribution is accumulated in place
    let mut rng = Lcg(5);
    let x = rng.array(&[3, 3], -1.0, 1.0);
    check(
        "x @ x",
        |t, a| mm(t, &a[0], &a[0]),
        &[av(x.clone())],
        &mut rng,
    );
    let y = rng.array(&[3, 4], -1.0, 1.0);
    check(
        "x @ x.T",
        |t, a| {
            let xt = tr(t, &a[0]);
            mm(t, &a[0], &xt)
        },
        &[av(y.clone())],
        &mut rng,
    );
    let v = rng.array(&[4], -1.0, 1.0);
    check("v @ v", |t, a| mm(t, &a[0], &a[0]), &[av(v)], &mut rng);
}

// ---- reductions and shape ops ----------------------------------------------------------------

#[test]
fn sum_and_mean_over_every_axis() {
    let mut rng = Lcg(6);
    let cases: Vec<(Vec<usize>, Vec<Option<isize>>)> = vec![
        (vec![3, 4], vec![None, Some(0), Some(1), Some(-1), Some(-2)]),
        (
            vec![2, 3, 4],
            vec![None, Some(0), Some(1), Some(2), Some(-1)],
        ),
        (vec![5], vec![None, Some(0), Some(-1)]),
        (vec![], vec![None]),
    ];
    for (shape, axes) in cases {
        for axis in axes {
            for mean in [false, true] {
                let x = rng.array(&shape, -2.0, 2.0);
                let name = format!(
                    "{} {shape:?} axis {axis:?}",
                    if mean { "mean" } else { "sum" }
                );
                let (v, _) = array::sum(&cst(&av(x.clone())), axis, mean, &owned).unwrap();
                let want = match axis {
                    None => {
                        assert!(is_float(&v), "{name}: no axis gives a float");
                        let s = x.sum();
                        arr0(if mean { s / x.len() as f64 } else { s }).into_dyn()
                    }
                    Some(a) => {
                        let a = if a < 0 { a + shape.len() as isize } else { a } as usize;
                        let s = x.sum_axis(ndarray::Axis(a));
                        if mean {
                            s / shape[a] as f64
                        } else {
                            s
                        }
                    }
                };
                assert_arrays_close(&name, &as_array(&v), &want, 1e-14);
                check(
                    &name,
                    move |t, a| sm(t, &a[0], axis, mean),
                    &[av(x)],
                    &mut rng,
                );
            }
        }
    }
    // a float: sum and mean are the float itself
    check(
        "sum of a float",
        |t, a| sm(t, &a[0], None, false),
        &[Value::Scalar(2.5)],
        &mut rng,
    );
    check(
        "mean of a float",
        |t, a| sm(t, &a[0], None, true),
        &[Value::Scalar(2.5)],
        &mut rng,
    );
}

#[test]
fn mean_divides_by_the_count_including_zeros() {
    // hmatrix-backprop's mean divided by the number of non-zeros; ours must not
    let x = av(arr(&[2, 3], &[0.0, 0.0, 3.0, 0.0, 6.0, 0.0]));
    let mean = |axis| as_array(&array::sum(&cst(&x), axis, true, &owned).unwrap().0);
    assert_eq!(mean(None), arr0(1.5).into_dyn());
    assert_eq!(mean(Some(0)), arr(&[3], &[0.0, 3.0, 1.5]));
    assert_eq!(mean(Some(1)), arr(&[2], &[1.0, 2.0]));
    assert_eq!(mean(Some(-1)), arr(&[2], &[1.0, 2.0]));
    // and so does its gradient: every element gets c / count
    let r = record(
        &|t: &mut Tape<Grad>, a: &[Arg]| sm(t, &a[0], Some(0), true),
        std::slice::from_ref(&x),
    );
    let g = r.grads(&Grad::Array(arr(&[3], &[2.0, 4.0, 6.0])), true);
    assert_eq!(
        g[0],
        Some(Grad::Array(arr(&[2, 3], &[1.0, 2.0, 3.0, 1.0, 2.0, 3.0])))
    );
    let r = record(
        &|t: &mut Tape<Grad>, a: &[Arg]| sm(t, &a[0], None, true),
        &[x],
    );
    let g = r.grads(&Grad::Scalar(3.0), true);
    assert_eq!(g[0], Some(Grad::Array(A::from_elem(IxDyn(&[2, 3]), 0.5))));
}

#[test]
fn checked_size_refuses_shapes_ndarray_cannot_hold() {
    let m = usize::MAX;
    let big = isize::MAX as usize;
    assert_eq!(array::checked_size(&[]), Some(1));
    assert_eq!(array::checked_size(&[3, 4]), Some(12));
    assert_eq!(array::checked_size(&[big]), Some(big));
    assert_eq!(array::checked_size(&[big, 0]), Some(0));
    // wraps to 1 in 64-bit arithmetic; too big even with a zero dimension (ndarray's rule)
    assert_eq!(array::checked_size(&[big, big]), None);
    assert_eq!(array::checked_size(&[0, big, big]), None);
    assert_eq!(array::checked_size(&[big + 1]), None);
    assert_eq!(array::checked_size(&[m, 2]), None);
    // an empty array cannot be reshaped into such a shape either
    let empty = cst(&av(A::zeros(IxDyn(&[0]))));
    let e = expect_shape_error(
        "reshape to a huge empty shape",
        array::reshape(&empty, &[0, isize::MAX, isize::MAX], &owned),
    );
    assert_shape_error(&e, "reshape", &["[0]"]);
    let (v, _) = array::reshape(&empty, &[0, isize::MAX], &owned).unwrap();
    assert_eq!(v.shape(), vec![0, big]);
}

#[test]
fn reshape_keeps_c_order_and_infers_minus_one() {
    let mut rng = Lcg(7);
    let cases: Vec<(Vec<usize>, Vec<isize>, Vec<usize>)> = vec![
        (vec![3, 4], vec![2, 6], vec![2, 6]),
        (vec![3, 4], vec![-1], vec![12]),
        (vec![3, 4], vec![4, -1], vec![4, 3]),
        (vec![3, 4], vec![2, -1, 2], vec![2, 3, 2]),
        (vec![3, 4], vec![12, 1], vec![12, 1]),
        (vec![12], vec![3, 4], vec![3, 4]),
        (vec![2, 3, 4], vec![-1, 4], vec![6, 4]),
        (vec![], vec![1, 1], vec![1, 1]),
        (vec![1], vec![], vec![]),
    ];
    for (from, to, want_shape) in cases {
        let x = rng.array(&from, -2.0, 2.0);
        let name = format!("reshape {from:?} -> {to:?}");
        let (v, _) = array::reshape(&cst(&av(x.clone())), &to, &owned).unwrap();
        assert_eq!(v.shape(), want_shape, "{name}");
        let flat: Vec<f64> = as_array(&v).iter().copied().collect();
        assert_eq!(
            flat,
            x.iter().copied().collect::<Vec<_>>(),
            "{name}: C order"
        );
        let to2 = to.clone();
        check(&name, move |t, a| rs(t, &a[0], &to2), &[av(x)], &mut rng);
    }
    check(
        "reshape of a float",
        |t, a| rs(t, &a[0], &[1]),
        &[Value::Scalar(0.75)],
        &mut rng,
    );
}

#[test]
fn transpose_reverses_axes() {
    let mut rng = Lcg(8);
    let x = rng.array(&[3, 4], -2.0, 2.0);
    let v = as_array(&array::transpose(&cst(&av(x.clone())), &owned).0);
    assert_eq!(v.shape(), &[4, 3]);
    for ((i, j), e) in x
        .clone()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap()
        .indexed_iter()
    {
        assert_eq!(v[[j, i]], *e);
    }
    check("transpose 2-D", |t, a| tr(t, &a[0]), &[av(x)], &mut rng);

    let y = rng.array(&[2, 3, 4], -2.0, 2.0);
    let v = as_array(&array::transpose(&cst(&av(y.clone())), &owned).0);
    assert_eq!(v.shape(), &[4, 3, 2]);
    for (idx, e) in y.indexed_iter() {
        assert_eq!(v[[idx[2], idx[1], idx[0]]], *e);
    }
    check("transpose 3-D", |t, a| tr(t, &a[0]), &[av(y)], &mut rng);
    check(
        "transpose 1-D",
        |t, a| tr(t, &a[0]),
        &[av(rng.array(&[5], -1.0, 1.0))],
        &mut rng,
    );
}

#[test]
fn shape_ops_compose_with_non_contiguous_gradients() {
    // A transpose's gradient is a reversed-axes (Fortran-order) array; reshape and matmul
    // downstream must read it in logical order.
    let mut rng = Lcg(9);
    let x = rng.array(&[3, 4], -1.0, 1.0);
    let w = rng.array(&[6, 2], -1.0, 1.0);
    let f = |t: &mut Tape<Grad>, a: &[Arg]| {
        let xt = tr(t, &a[0]); // (4, 3)
        let r = rs(t, &xt, &[2, -1]); // (2, 6)
        let m = mm(t, &r, &a[1]); // (2, 2)
        let h = un(t, Unary::Tanh, &m);
        let ht = tr(t, &h);
        rs(t, &ht, &[-1])
    };
    // value against a hand computation
    let xt = x.t().to_owned();
    let r = xt.to_shape((2, 6)).unwrap().to_owned().into_dyn();
    let want = naive_matmul(&r, &w)
        .mapv(f64::tanh)
        .t()
        .iter()
        .copied()
        .collect::<Vec<_>>();
    let got = as_array(&eval(&f, &[av(x.clone()), av(w.clone())]));
    assert_arrays_close("composite value", &got, &arr(&[4], &want), 1e-14);
    check(
        "transpose/reshape/matmul chain",
        f,
        &[av(x), av(w)],
        &mut rng,
    );
}

// ---- softmax cross-entropy -------------------------------------------------------------------

/// The same loss from separate kernels: -sum(t * (z - log(sum(exp(z), -1)))) / rows.
fn unfused_sce(t: &mut Tape<Grad>, z: &Arg, y: &Arg) -> Arg {
    let shape = z.value.shape();
    let rows = if shape.len() == 2 { shape[0] } else { 1 };
    let e = un(t, Unary::Exp, z);
    let s = sm(t, &e, Some(-1), false);
    let lse = un(t, Unary::Log, &s);
    let lse = if shape.len() == 2 {
        rs(t, &lse, &[-1, 1])
    } else {
        lse
    };
    let logp = bin(t, Binary::Sub, z, &lse);
    let p = bin(t, Binary::Mul, y, &logp);
    let total = sm(t, &p, None, false);
    bin(
        t,
        Binary::Mul,
        &cst(&Value::Scalar(-1.0 / rows as f64)),
        &total,
    )
}

fn one_hot(rng: &mut Lcg, rows: Option<usize>, k: usize) -> A {
    let n = rows.unwrap_or(1);
    let mut t = A::zeros(IxDyn(&[n, k]));
    for i in 0..n {
        t[[i, (rng.next() * k as f64) as usize % k]] = 1.0;
    }
    match rows {
        Some(_) => t,
        None => t.index_axis_move(ndarray::Axis(0), 0),
    }
}

#[test]
fn softmax_cross_entropy_matches_finite_differences_and_the_unfused_form() {
    let mut rng = Lcg(10);
    for rows in [None, Some(3), Some(1)] {
        let shape: Vec<usize> = rows.into_iter().chain([5]).collect();
        let z = rng.array(&shape, -3.0, 3.0);
        let soft = rng.array(&shape, 0.05, 1.0); // not normalised: the gradient must use sum(t)
        let hot = one_hot(&mut rng, rows, 5);
        for (kind, y) in [("soft", soft), ("one-hot", hot)] {
            let name = format!("softmax_cross_entropy {shape:?} {kind}");
            let inputs = [av(z.clone()), av(y.clone())];
            check(&name, |t, a| sce(t, &a[0], &a[1]), &inputs, &mut rng);
            // value and both gradients against the unfused computation
            let fused = record(
                &|t: &mut Tape<Grad>, a: &[Arg]| sce(t, &a[0], &a[1]),
                &inputs,
            );
            let plain = record(
                &|t: &mut Tape<Grad>, a: &[Arg]| unfused_sce(t, &a[0], &a[1]),
                &inputs,
            );
            assert!(
                is_float(&fused.out.value) && is_float(&plain.out.value),
                "{name}: a float loss"
            );
            assert_arrays_close(
                &format!("{name}: value"),
                &as_array(&fused.out.value),
                &as_array(&plain.out.value),
                1e-13,
            );
            let c = Grad::Scalar(rng.uniform(0.5, 2.0));
            let (gf, gp) = (fused.grads(&c, true), plain.grads(&c, true));
            for i in 0..2 {
                assert_grads_close(
                    &format!("{name}: argument {i}"),
                    gf[i].as_ref().unwrap(),
                    gp[i].as_ref().unwrap(),
                    1e-12,
                );
            }
            // constant targets: only the logits get a gradient
            let yc = av(y.clone());
            check(
                &format!("{name} (constant targets)"),
                move |t, a| sce(t, &a[0], &cst(&yc)),
                &[av(z.clone())],
                &mut rng,
            );
        }
    }
}

#[test]
fn softmax_cross_entropy_is_stable_for_large_logits() {
    // the unfused form overflows here; the fused one shifts by the row maximum
    let z = arr(
        &[2, 3],
        &[1000.0, 1001.0, 1002.0, -1000.0, -1001.0, -1003.0],
    );
    let y = arr(&[2, 3], &[0.2, 0.3, 0.5, 1.0, 0.0, 0.0]);
    let (v, _) = array::softmax_cross_entropy(&cst(&av(z.clone())), &cst(&av(y.clone()))).unwrap();
    let mut want = 0.0;
    for i in 0..2 {
        let m = (0..3).map(|j| z[[i, j]]).fold(f64::NEG_INFINITY, f64::max);
        let lse = m + (0..3).map(|j| (z[[i, j]] - m).exp()).sum::<f64>().ln();
        want -= (0..3).map(|j| y[[i, j]] * (z[[i, j]] - lse)).sum::<f64>();
    }
    want /= 2.0;
    match v {
        Value::Scalar(l) => assert!(l.is_finite() && close(l, want, 1e-13), "{l} vs {want}"),
        Value::Array(_) => panic!("the loss is a float"),
    }
    let mut rng = Lcg(11);
    check(
        "softmax_cross_entropy large logits",
        |t, a| sce(t, &a[0], &a[1]),
        &[av(z), av(y)],
        &mut rng,
    );
}

// ---- fan-out, in-place accumulation and constant folding ------------------------------------

#[test]
fn fan_out_gradients_add_up() {
    // f(x) = x*x + (x+x): df = c * 2x + 2c
    let mut rng = Lcg(12);
    let x = rng.array(&[3, 4], -2.0, 2.0);
    let c = rng.array(&[3, 4], -1.0, 1.0);
    let f = |t: &mut Tape<Grad>, a: &[Arg]| {
        let sq = bin(t, Binary::Mul, &a[0], &a[0]);
        let dbl = bin(t, Binary::Add, &a[0], &a[0]);
        bin(t, Binary::Add, &sq, &dbl)
    };
    let r = record(&f, &[av(x.clone())]);
    let want = Grad::Array(&c * &x * 2.0 + &c * 2.0);
    let g = r.grads(&Grad::Array(c.clone()), true);
    assert_grads_close("in place", g[0].as_ref().unwrap(), &want, 1e-15);
    let g2 = r.grads(&Grad::Array(c.clone()), false);
    assert_grads_close("backward_with", g2[0].as_ref().unwrap(), &want, 1e-15);
    check("x*x + (x+x)", f, &[av(x.clone())], &mut rng);

    // an intermediate with fan-out, and uses at different shapes (broadcast against a matrix)
    let v = rng.array(&[4], -1.0, 1.0);
    let m = rng.array(&[3, 4], -1.0, 1.0);
    check(
        "exp(v) used thrice, broadcast",
        |t, a| {
            let e = un(t, Unary::Exp, &a[0]); // (4,)
            let p = bin(t, Binary::Mul, &e, &a[1]); // (3, 4)
            let q = bin(t, Binary::Sub, &p, &e); // (3, 4)
            let s = sm(t, &q, Some(0), true); // (4,)
            let ch = un(t, Unary::Cosh, &e);
            let u = bin(t, Binary::Div, &s, &ch); // (4,)
            bin(t, Binary::Add, &u, &e)
        },
        &[av(v), av(m)],
        &mut rng,
    );

    // every kind of node adding into one leaf that already has a gradient
    let w = rng.array(&[3, 3], -1.0, 1.0);
    check(
        "one leaf through every kernel",
        |t, a| {
            let x = &a[0];
            let parts = [
                un(t, Unary::Sin, x),
                bin(t, Binary::Mul, x, &cst(&Value::Scalar(0.5))),
                bin(t, Binary::Sub, &cst(&Value::Scalar(1.0)), x),
                mm(t, x, x),
                tr(t, x),
                {
                    let r = rs(t, x, &[-1]);
                    rs(t, &r, &[3, 3])
                },
                {
                    let s = sm(t, x, Some(1), true);
                    bin(t, Binary::Mul, x, &s)
                },
                {
                    let s = sm(t, x, None, false);
                    bin(t, Binary::Mul, x, &s)
                },
            ];
            let mut acc = parts[0].clone();
            for p in &parts[1..] {
                acc = bin(t, Binary::Add, &acc, p);
            }
            let ex = un(t, Unary::Exp, x);
            let l = sce(t, x, &ex);
            bin(t, Binary::Add, &acc, &l)
        },
        &[av(w)],
        &mut rng,
    );
}

#[test]
fn in_place_sweep_equals_backward_with_on_a_small_mlp() {
    // tanh(X @ W1 + b1) @ W2 + b2 -> softmax cross-entropy, with W1 also in an L2 penalty
    let mut rng = Lcg(13);
    let inputs = [
        av(rng.array(&[4, 3], -1.0, 1.0)), // X
        av(rng.array(&[3, 5], -1.0, 1.0)), // W1
        av(rng.array(&[5], -0.5, 0.5)),    // b1
        av(rng.array(&[5, 2], -1.0, 1.0)), // W2
        av(rng.array(&[2], -0.5, 0.5)),    // b2
        av(one_hot(&mut rng, Some(4), 2)), // targets
    ];
    let f = |t: &mut Tape<Grad>, a: &[Arg]| {
        let h = mm(t, &a[0], &a[1]);
        let h = bin(t, Binary::Add, &h, &a[2]);
        let h = un(t, Unary::Tanh, &h);
        let z = mm(t, &h, &a[3]);
        let z = bin(t, Binary::Add, &z, &a[4]);
        let loss = sce(t, &z, &a[5]);
        let sq = bin(t, Binary::Mul, &a[1], &a[1]);
        let pen = sm(t, &sq, None, true);
        let pen = bin(t, Binary::Mul, &pen, &cst(&Value::Scalar(0.01)));
        bin(t, Binary::Add, &loss, &pen)
    };
    let r = record(&f, &inputs);
    for seed in [1.0, -0.3] {
        let c = Grad::Scalar(seed);
        let (a, b) = (r.grads(&c, true), r.grads(&c, false));
        for (i, (ga, gb)) in a.iter().zip(&b).enumerate() {
            assert_grads_close(
                &format!("argument {i}"),
                ga.as_ref().unwrap(),
                gb.as_ref().unwrap(),
                0.0,
            );
        }
    }
    check("mlp", f, &inputs, &mut rng);
}

#[test]
fn all_constant_arguments_are_folded() {
    let m = av(arr(&[2, 2], &[1.0, 2.0, 3.0, 4.0]));
    let v = av(arr(&[2], &[0.5, -0.5]));
    let (c, s) = (cst(&m), cst(&v));
    let f = cst(&Value::Scalar(2.0));
    assert!(array::unary(Unary::Exp, &c, &owned).1.is_none());
    assert!(array::unary(Unary::Exp, &f, &owned).1.is_none());
    for k in Binary::ALL {
        assert!(
            array::binary(k, &c, &s, &owned).unwrap().1.is_none(),
            "{}",
            k.name()
        );
        assert!(
            array::binary(k, &f, &s, &owned).unwrap().1.is_none(),
            "{}",
            k.name()
        );
    }
    assert!(array::matmul(&c, &s, &owned).unwrap().1.is_none());
    assert!(array::sum(&c, Some(0), true, &owned).unwrap().1.is_none());
    assert!(array::sum(&c, None, false, &owned).unwrap().1.is_none());
    assert!(array::reshape(&c, &[-1], &owned).unwrap().1.is_none());
    assert!(array::transpose(&c, &owned).1.is_none());
    assert!(array::softmax_cross_entropy(&c, &c).unwrap().1.is_none());

    // one argument on a tape is enough for a node, and the constant gets no gradient slot
    let mut tape = Tape::<Grad>::new();
    let x = Arg {
        value: m.clone(),
        node: Some(tape.leaf().unwrap()),
    };
    let out = mm(&mut tape, &c, &x);
    assert!(out.node.is_some());
    assert_eq!(tape.len(), 2);
    let mut g = tape
        .backward(out.node.unwrap(), Grad::Array(A::ones(IxDyn(&[2, 2]))))
        .unwrap();
    // d/dB sum(A @ B) = A^T @ ones
    assert_eq!(
        g.take(x.node.unwrap()),
        Some(Grad::Array(arr(&[2, 2], &[4.0, 4.0, 6.0, 6.0])))
    );
}

#[test]
fn sweeps_are_repeatable() {
    // nodes share their values; a sweep must not consume or modify them
    let mut rng = Lcg(14);
    let x = rng.array(&[3, 4], -1.0, 1.0);
    let f = |t: &mut Tape<Grad>, a: &[Arg]| {
        let e = un(t, Unary::Exp, &a[0]);
        let p = bin(t, Binary::Mul, &e, &a[0]);
        sm(t, &p, Some(1), false)
    };
    let r = record(&f, &[av(x)]);
    let c = Grad::Array(rng.array(&[3], -1.0, 1.0));
    let first = r.grads(&c, true);
    for _ in 0..3 {
        assert_eq!(r.grads(&c, true), first);
        assert_eq!(r.grads(&c, false), first);
    }
}

// ---- shape errors ----------------------------------------------------------------------------

#[test]
fn shape_errors_name_the_op_and_both_shapes() {
    let mut tape = Tape::<Grad>::new();
    let leaf = |t: &mut Tape<Grad>, a: A| Arg {
        value: av(a),
        node: Some(t.leaf().unwrap()),
    };
    let z = |s: &[usize]| A::zeros(IxDyn(s));
    let a34 = leaf(&mut tape, z(&[3, 4]));
    let a5 = leaf(&mut tape, z(&[5]));
    let a23 = leaf(&mut tape, z(&[2, 3]));
    let a32 = leaf(&mut tape, z(&[3, 2]));
    let a52 = leaf(&mut tape, z(&[5, 2]));
    let a222 = leaf(&mut tape, z(&[2, 2, 2]));
    let a22 = leaf(&mut tape, z(&[2, 2]));
    let a35 = leaf(&mut tape, z(&[3, 5]));
    let a4 = leaf(&mut tape, z(&[4]));
    let flt = Arg {
        value: Value::Scalar(1.0),
        node: Some(tape.leaf().unwrap()),
    };
    let before = tape.len();

    for k in Binary::ALL {
        let e = expect_shape_error(k.name(), array::binary(k, &a34, &a5, &owned));
        assert_shape_error(&e, k.name(), &["[3, 4]", "[5]"]);
        let e = expect_shape_error(k.name(), array::binary(k, &a23, &a32, &owned));
        assert_shape_error(&e, k.name(), &["[2, 3]", "[3, 2]"]);
    }

    let e = expect_shape_error("matmul inner", array::matmul(&a34, &a52, &owned));
    assert_shape_error(&e, "matmul", &["[3, 4]", "[5, 2]"]);
    let e = expect_shape_error("matmul vector inner", array::matmul(&a5, &a34, &owned));
    assert_shape_error(&e, "matmul", &["[5]", "[3, 4]"]);
    let e = expect_shape_error("matmul 3-D", array::matmul(&a222, &a22, &owned));
    assert_shape_error(&e, "matmul", &["[2, 2, 2]", "[2, 2]"]);
    let e = expect_shape_error("matmul 3-D right", array::matmul(&a22, &a222, &owned));
    assert_shape_error(&e, "matmul", &["[2, 2]", "[2, 2, 2]"]);
    let e = expect_shape_error("matmul float", array::matmul(&flt, &a4, &owned));
    assert_shape_error(&e, "matmul", &["[]", "[4]"]);
    let e = expect_shape_error(
        "matmul 0-d",
        array::matmul(&a4, &leaf(&mut tape, arr0(1.0).into_dyn()), &owned),
    );
    assert_shape_error(&e, "matmul", &["[4]", "[]"]);
    let before = before + 1; // the 0-d leaf above

    for (axis, mean) in [(2, false), (-3, true), (7, true)] {
        let op = if mean { "mean" } else { "sum" };
        let e = expect_shape_error(op, array::sum(&a34, Some(axis), mean, &owned));
        assert_shape_error(&e, op, &[axis.to_string().as_str()]);
    }
    let e = expect_shape_error(
        "sum of a float over an axis",
        array::sum(&flt, Some(0), false, &owned),
    );
    assert_shape_error(&e, "sum", &["0"]);

    // the last two multiply out to 12 and to 1 in wrapping 64-bit arithmetic
    let m = isize::MAX;
    for bad in [
        &[5, 2][..],
        &[-1, 5],
        &[-1, -1],
        &[-2, 6],
        &[13],
        &[],
        &[m, m, 12],
        &[m, m, -1],
    ] {
        let e = expect_shape_error("reshape", array::reshape(&a34, bad, &owned));
        assert_shape_error(&e, "reshape", &["[3, 4]", format!("{bad:?}").as_str()]);
    }

    let e = expect_shape_error("sce mismatch", array::softmax_cross_entropy(&a34, &a35));
    assert_shape_error(&e, "softmax_cross_entropy", &["[3, 4]", "[3, 5]"]);
    let e = expect_shape_error("sce 1-D vs 2-D", array::softmax_cross_entropy(&a4, &a34));
    assert_shape_error(&e, "softmax_cross_entropy", &["[4]", "[3, 4]"]);
    let e = expect_shape_error("sce 3-D", array::softmax_cross_entropy(&a222, &a222));
    assert_shape_error(&e, "softmax_cross_entropy", &["[2, 2, 2]"]);
    let e = expect_shape_error("sce floats", array::softmax_cross_entropy(&flt, &flt));
    assert_shape_error(&e, "softmax_cross_entropy", &["[]"]);

    // errors record nothing (the caller only records on success)
    assert_eq!(tape.len(), before);
    // ShapeError is a std error
    let _: &dyn std::error::Error = &e;
}

// ---- non-finite values -----------------------------------------------------------------------

/// Record `f`, sweep with a cotangent of ones, return the output value and the gradients.
fn run_ones<F: Fn(&mut Tape<Grad>, &[Arg]) -> Arg>(f: F, inputs: &[Value]) -> (A, Vec<A>) {
    let r = record(&f, inputs);
    let c = match &r.out.value {
        Value::Scalar(_) => Grad::Scalar(1.0),
        Value::Array(a) => Grad::Array(A::ones(a.data().raw_dim())),
    };
    let g: Vec<Grad> = r
        .grads(&c, true)
        .into_iter()
        .map(|g| g.expect("a gradient"))
        .collect();
    for (a, b) in g.iter().zip(r.grads(&c, false)) {
        assert_grads_close("in place vs backward_with", a, &b.expect("a gradient"), 0.0);
    }
    (as_array(&r.out.value), g.iter().map(grad_array).collect())
}

#[test]
fn nan_and_inf_pass_through_without_panicking() {
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    let x = arr(&[5], &[-1.0, 0.0, 1.0, inf, nan]);

    let (v, g) = run_ones(|t, a| un(t, Unary::Log, &a[0]), &[av(x.clone())]);
    assert_arrays_close(
        "log value",
        &v,
        &arr(&[5], &[nan, -inf, 0.0, inf, nan]),
        0.0,
    );
    assert_arrays_close(
        "log gradient",
        &g[0],
        &arr(&[5], &[-1.0, inf, 1.0, 0.0, nan]),
        0.0,
    );

    let (v, g) = run_ones(|t, a| un(t, Unary::Sqrt, &a[0]), &[av(x.clone())]);
    assert_arrays_close(
        "sqrt value",
        &v,
        &arr(&[5], &[nan, 0.0, 1.0, inf, nan]),
        0.0,
    );
    assert!(g[0][1].is_infinite() && g[0][0].is_nan() && g[0][4].is_nan());

    let y = arr(&[5], &[0.0, 0.0, 0.0, 2.0, 1.0]);
    let (v, g) = run_ones(
        |t, a| bin(t, Binary::Div, &a[0], &a[1]),
        &[av(x.clone()), av(y)],
    );
    assert_arrays_close(
        "div value",
        &v,
        &arr(&[5], &[-inf, nan, inf, inf, nan]),
        0.0,
    );
    assert!(g[0][0].is_infinite() && g[1][4].is_nan());

    // broadcasting an infinite float
    let (v, g) = run_ones(
        |t, a| bin(t, Binary::Mul, &a[0], &a[1]),
        &[av(arr(&[2], &[1.0, 0.0])), Value::Scalar(inf)],
    );
    assert_arrays_close("mul value", &v, &arr(&[2], &[inf, nan]), 0.0);
    assert_eq!(s0(&g[1]), 1.0); // sum(g * x) = 1 * 1 + 1 * 0
    assert_eq!(g[0], arr(&[2], &[inf, inf]));

    let m = arr(&[2, 2], &[1.0, nan, 2.0, 3.0]);
    let (v, g) = run_ones(
        |t, a| mm(t, &a[0], &a[1]),
        &[av(m.clone()), av(arr(&[2], &[1.0, inf]))],
    );
    assert!(v[0].is_nan() && v[1].is_infinite(), "{v:?}");
    assert!(
        g[0].iter().any(|e| e.is_infinite()) && g[1].iter().any(|e| e.is_nan()),
        "{g:?}"
    );

    let (v, _) = run_ones(|t, a| sm(t, &a[0], None, true), &[av(x.clone())]);
    assert!(s0(&v).is_nan());
    let (v, g) = run_ones(
        |t, a| sm(t, &a[0], Some(0), false),
        &[av(arr(&[2, 2], &[inf, -inf, inf, 1.0]))],
    );
    assert_arrays_close("sum axis 0", &v, &arr(&[2], &[inf, -inf]), 0.0);
    assert_eq!(g[0], A::ones(IxDyn(&[2, 2])));

    let (v, _) = run_ones(|t, a| tr(t, &a[0]), &[av(m.clone())]);
    assert!(v[[1, 0]].is_nan());
    let (v, _) = run_ones(|t, a| rs(t, &a[0], &[-1]), &[av(m)]);
    assert!(v[1].is_nan());

    // softmax cross-entropy: an infinite logit, a NaN logit, a row of -inf
    for row in [
        [inf, 0.0, 1.0],
        [nan, 0.0, 1.0],
        [-inf, -inf, -inf],
        [-inf, 0.0, 1.0],
    ] {
        let z = arr(&[1, 3], &row);
        let t = arr(&[1, 3], &[0.0, 0.0, 1.0]);
        let (v, g) = run_ones(|tp, a| sce(tp, &a[0], &a[1]), &[av(z), av(t)]);
        assert_eq!(g[0].shape(), &[1, 3]);
        // NaN in every case, as numpy's -sum(t * log_softmax(z)) (even a -inf logit with a zero
        // target gives 0 * -inf); only the absence of a panic and the gradient shapes matter
        assert!(s0(&v).is_nan(), "{row:?}: {v:?}");
        if row == [-inf, 0.0, 1.0] {
            // the logits' gradient (softmax - t) stays finite there
            assert!(g[0].iter().all(|e| e.is_finite()), "{g:?}");
        }
    }
}

#[test]
fn degenerate_shapes_do_not_panic() {
    // empty arrays: zero-size matmul, sums, reshape, softmax rows with no classes
    let e = |s: &[usize]| av(A::zeros(IxDyn(s)));
    let (v, g) = run_ones(|t, a| mm(t, &a[0], &a[1]), &[e(&[2, 0]), e(&[0, 3])]);
    assert_eq!(v, A::zeros(IxDyn(&[2, 3])));
    assert_eq!(g[0].shape(), &[2, 0]);
    assert_eq!(g[1].shape(), &[0, 3]);
    let (v, g) = run_ones(|t, a| sm(t, &a[0], Some(0), false), &[e(&[0, 3])]);
    assert_eq!(v, A::zeros(IxDyn(&[3])));
    assert_eq!(g[0].shape(), &[0, 3]);
    let (v, _) = run_ones(|t, a| sm(t, &a[0], None, false), &[e(&[0])]);
    assert_eq!(s0(&v), 0.0);
    let (v, _) = run_ones(|t, a| rs(t, &a[0], &[-1, 3]), &[e(&[3, 0])]);
    assert_eq!(v.shape(), &[0, 3]);
    let (v, g) = run_ones(|t, a| sce(t, &a[0], &a[1]), &[e(&[2, 0]), e(&[2, 0])]);
    assert_eq!(s0(&v), 0.0);
    assert_eq!(g[0].shape(), &[2, 0]);
    let (_, g) = run_ones(
        |t, a| bin(t, Binary::Add, &a[0], &a[1]),
        &[e(&[0, 4]), e(&[4])],
    );
    assert_eq!(g[1], A::zeros(IxDyn(&[4])));
}

// ---- basic indexing and selection ------------------------------------------------------------

fn ix(t: &mut Tape<Grad>, x: &Arg, index: &[array::SliceInfoElem]) -> Arg {
    rec(t, array::index(x, index.to_vec(), &owned).unwrap())
}

#[test]
fn basic_indexing_matches_finite_differences_and_accumulates_in_place() {
    use array::SliceInfoElem::{Index, NewAxis, Slice};
    let mut rng = Lcg(11);
    let x = av(rng.array(&[3, 4, 5], -2.0, 2.0));
    let keys: Vec<Vec<array::SliceInfoElem>> = vec![
        vec![
            Index(1),
            Slice {
                start: 0,
                end: Some(4),
                step: 1,
            },
            Slice {
                start: 0,
                end: Some(5),
                step: 2,
            },
        ],
        vec![
            Slice {
                start: 0,
                end: Some(3),
                step: -1,
            },
            Index(3),
            Index(0),
        ],
        vec![
            NewAxis,
            Slice {
                start: 1,
                end: Some(3),
                step: 1,
            },
            NewAxis,
            Slice {
                start: 0,
                end: Some(4),
                step: 3,
            },
            Index(4),
        ],
        vec![Index(2), Index(1), Index(4)],
        vec![
            Slice {
                start: 0,
                end: Some(0),
                step: 1,
            },
            Slice {
                start: 0,
                end: Some(4),
                step: 1,
            },
            Index(0),
        ],
    ];
    for key in keys {
        let k = key.clone();
        check(
            &format!("index {key:?}"),
            move |t, a| ix(t, &a[0], &k),
            std::slice::from_ref(&x),
            &mut rng,
        );
    }
    // two overlapping slices of one input: both contributions meet in its gradient
    let (_, g) = run_ones(
        |t, a| {
            let l = ix(
                t,
                &a[0],
                &[Slice {
                    start: 0,
                    end: Some(3),
                    step: 1,
                }],
            );
            let r = ix(
                t,
                &a[0],
                &[Slice {
                    start: 1,
                    end: Some(4),
                    step: 1,
                }],
            );
            let s = bin(t, Binary::Add, &l, &r);
            sm(t, &s, None, false)
        },
        &[av(arr(&[4], &[1.0, 2.0, 3.0, 4.0]))],
    );
    assert_eq!(g[0], arr(&[4], &[1.0, 2.0, 2.0, 1.0]));
}

#[test]
fn an_index_that_does_not_fit_is_a_shape_error() {
    use array::SliceInfoElem::{Index, Slice};
    let x = cst(&av(A::zeros(IxDyn(&[2, 3]))));
    let e = expect_shape_error("too few axes", array::index(&x, vec![Index(0)], &owned));
    assert_shape_error(&e, "getitem", &["[2, 3]"]);
    let e = expect_shape_error(
        "out of range",
        array::index(&x, vec![Index(2), Index(0)], &owned),
    );
    assert_shape_error(&e, "getitem", &["out of range"]);
    let bad = Slice {
        start: 0,
        end: Some(4),
        step: 1,
    };
    expect_shape_error(
        "slice past the end",
        array::index(&x, vec![Index(0), bad], &owned),
    );
}

#[test]
fn maximum_and_minimum_split_ties_evenly() {
    let x = av(arr(&[3], &[1.0, 2.0, 3.0]));
    let y = av(arr(&[3], &[2.0, 2.0, 2.0]));
    let (v, g) = run_ones(
        |t, a| bin(t, Binary::Maximum, &a[0], &a[1]),
        &[x.clone(), y.clone()],
    );
    assert_eq!(v, arr(&[3], &[2.0, 2.0, 3.0]));
    assert_eq!(g[0], arr(&[3], &[0.0, 0.5, 1.0]));
    assert_eq!(g[1], arr(&[3], &[1.0, 0.5, 0.0]));
    let (v, g) = run_ones(|t, a| bin(t, Binary::Minimum, &a[0], &a[1]), &[x, y]);
    assert_eq!(v, arr(&[3], &[1.0, 2.0, 2.0]));
    assert_eq!(g[0], arr(&[3], &[1.0, 0.5, 0.0]));
    // NaN propagates like numpy's maximum
    assert!(
        Binary::Maximum.eval(f64::NAN, 1.0).is_nan()
            && Binary::Maximum.eval(1.0, f64::NAN).is_nan()
    );
}

fn ext(t: &mut Tape<Grad>, x: &Arg, axis: Option<isize>, max: bool) -> Arg {
    rec(t, array::extremum(x, axis, max, &owned).unwrap())
}

#[test]
fn max_and_min_reductions_match_finite_differences() {
    let mut rng = Lcg(5);
    let x = av(rng.array(&[3, 4, 2], -2.0, 2.0));
    for max in [true, false] {
        for axis in [None, Some(0), Some(1), Some(-1)] {
            check(
                &format!("extremum max={max} axis={axis:?}"),
                move |t, a| ext(t, &a[0], axis, max),
                std::slice::from_ref(&x),
                &mut rng,
            );
        }
    }
}

#[test]
fn max_splits_ties_and_follows_nan() {
    let x = av(arr(&[2, 3], &[1.0, 3.0, 3.0, f64::NAN, 0.0, f64::NAN]));
    let (v, g) = run_ones(
        |t, a| ext(t, &a[0], Some(1), true),
        std::slice::from_ref(&x),
    );
    assert_eq!(v[[0]], 3.0);
    assert!(v[[1]].is_nan());
    assert_eq!(g[0], arr(&[2, 3], &[0.0, 0.5, 0.5, 0.5, 0.0, 0.5]));
    let (v, g) = run_ones(
        |t, a| ext(t, &a[0], None, false),
        &[av(arr(&[3], &[2.0, 1.0, 1.0]))],
    );
    assert_eq!(s0(&v), 1.0);
    assert_eq!(g[0], arr(&[3], &[0.0, 0.5, 0.5]));
    let empty = cst(&av(A::zeros(IxDyn(&[2, 0]))));
    let e = expect_shape_error("empty", array::extremum(&empty, Some(1), true, &owned));
    assert_shape_error(&e, "max", &["[2, 0]"]);
    assert!(array::extremum(&empty, Some(0), true, &owned).is_ok());
}

#[test]
fn broadcast_blocks_give_numpy_values_in_either_order() {
    // a bias row, a keepdims column, a single element, and a middle-axis broadcast (strided walk)
    let mut rng = Lcg(21);
    let big = rng.array(&[4, 3, 5], -2.0, 2.0);
    for small_shape in [
        vec![5],
        vec![3, 5],
        vec![4, 1, 1],
        vec![4, 3, 1],
        vec![1, 1, 1],
        vec![1],
        vec![3, 1],
    ] {
        let small = rng.array(&small_shape, 0.5, 2.0);
        for k in [Binary::Sub, Binary::Div, Binary::Maximum] {
            let want = ndarray::Zip::from(&big)
                .and_broadcast(&small.broadcast(IxDyn(&[4, 3, 5])).unwrap())
                .map_collect(|&u, &v| k.eval(u, v));
            let (got, _) =
                array::binary(k, &cst(&av(big.clone())), &cst(&av(small.clone())), &owned).unwrap();
            assert_eq!(as_array(&got), want, "{k:?} {small_shape:?} second");
            let want = want.mapv(|_| 0.0)
                + &ndarray::Zip::from(&big)
                    .and_broadcast(&small.broadcast(IxDyn(&[4, 3, 5])).unwrap())
                    .map_collect(|&u, &v| k.eval(v, u));
            let (got, _) =
                array::binary(k, &cst(&av(small.clone())), &cst(&av(big.clone())), &owned).unwrap();
            assert_eq!(as_array(&got), want, "{k:?} {small_shape:?} first");
        }
    }
}

#[test]
fn take_rows_gathers_and_scatter_adds_repeats() {
    let mut rng = Lcg(17);
    let x = av(rng.array(&[4, 3], -2.0, 2.0));
    let rows = vec![3, 0, 3, 1, 3];
    let r = rows.clone();
    check(
        "take_rows",
        move |t, a| rec(t, array::take_rows(&a[0], r.clone(), &[5], &owned).unwrap()),
        std::slice::from_ref(&x),
        &mut rng,
    );
    let r = rows.clone();
    check(
        "take_rows 2-D index",
        move |t, a| {
            rec(
                t,
                array::take_rows(&a[0], r[..4].to_vec(), &[2, 2], &owned).unwrap(),
            )
        },
        std::slice::from_ref(&x),
        &mut rng,
    );
    let (v, g) = run_ones(
        |t, a| {
            rec(
                t,
                array::take_rows(&a[0], vec![2, 2, 0], &[3], &owned).unwrap(),
            )
        },
        &[av(arr(&[3], &[1.0, 2.0, 3.0]))],
    );
    assert_eq!(v, arr(&[3], &[3.0, 3.0, 1.0]));
    assert_eq!(g[0], arr(&[3], &[1.0, 0.0, 2.0]));
    let e = expect_shape_error(
        "out of range",
        array::take_rows(&cst(&x), vec![4], &[1], &owned),
    );
    assert_shape_error(&e, "getitem", &["row 4"]);
}

// ---- long arrays: loops split over every core ------------------------------------------------

/// Elements of the long-array tests: above the length from which elementwise loops are split
/// into pieces that every core shares (2^17), and not a multiple of the pieces' length.
const LONG: usize = 3 * (1 << 17) + 7;

/// The elements of a 1-D array (expected values are computed on plain vectors: indexing a
/// dynamic-dimension array per element is slow in the debug builds the tests run in).
fn elems(a: &A) -> Vec<f64> {
    a.iter().copied().collect()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn long_leaf(t: &mut Tape<Grad>, v: &[f64]) -> Arg {
    Arg {
        value: av(arr(&[LONG], v)),
        node: Some(t.leaf().unwrap()),
    }
}

/// The gradients of `leaves` for the output cotangent `g` (in-place sweep).
fn sweep(tape: &Tape<Grad>, out: &Arg, g: &[f64], leaves: &[&Arg]) -> Vec<Vec<f64>> {
    let seed = Grad::Array(arr(&[LONG], g));
    let mut grads = tape.backward(out.node.unwrap(), seed).unwrap();
    leaves
        .iter()
        .map(|l| elems(&grad_array(&grads.take(l.node.unwrap()).unwrap())))
        .collect()
}

/// `f(i)` for each element index.
fn elementwise(f: impl Fn(usize) -> f64) -> Vec<f64> {
    (0..LONG).map(f).collect()
}

/// The backward pass of binary kernels on long arrays gives, bit for bit, each operand's
/// `g * partial` in whichever way its gradient is built: both operands new, both added in place
/// into existing gradients, one of each, and `k(x, x)` (one node, both contributions). An
/// existing gradient comes from `x * c` recorded after the kernel (its backward runs first).
#[test]
fn long_binary_backward_gives_each_operands_partials_bit_for_bit() {
    let mut rng = Lcg(23);
    let mut draw = |lo, hi| elems(&rng.array(&[LONG], lo, hi));
    let (x, y, g, c) = (
        draw(0.5, 2.0),
        draw(0.5, 2.0),
        draw(-1.5, 1.5),
        draw(-1.5, 1.5),
    );
    let c_arg = cst(&av(arr(&[LONG], &c)));
    let g_c = elementwise(|i| g[i] * c[i]);
    // both backward paths (`fused_backward`, and `add_backward` with its sign), a partial that
    // reads the result (Div) and one that selects (Maximum)
    for k in [Binary::Mul, Binary::Div, Binary::Maximum, Binary::Sub] {
        let name = k.name();
        let partials = |i: usize, y: &[f64]| k.derivatives(x[i], y[i], k.eval(x[i], y[i]));
        let g_dx = elementwise(|i| g[i] * partials(i, &y).0);
        let g_dy = elementwise(|i| g[i] * partials(i, &y).1);
        // the gradient of the other use, `x * c` (or `y * c`), comes first
        let after_c = |d: &[f64]| elementwise(|i| g_c[i] + d[i]);

        for (case, x_used, y_used) in [
            ("both new", false, false),
            ("both in place", true, true),
            ("x in place", true, false),
            ("y in place", false, true),
        ] {
            let mut t = Tape::new();
            let (xl, yl) = (long_leaf(&mut t, &x), long_leaf(&mut t, &y));
            let mut out = bin(&mut t, k, &xl, &yl);
            let want_z = elementwise(|i| k.eval(x[i], y[i]));
            assert!(
                bits(&elems(&as_array(&out.value))) == bits(&want_z),
                "{name}"
            );
            for (leaf, used) in [(&xl, x_used), (&yl, y_used)] {
                if used {
                    let extra = bin(&mut t, Binary::Mul, leaf, &c_arg);
                    out = bin(&mut t, Binary::Add, &out, &extra);
                }
            }
            let grads = sweep(&t, &out, &g, &[&xl, &yl]);
            let want_x = if x_used { after_c(&g_dx) } else { g_dx.clone() };
            let want_y = if y_used { after_c(&g_dy) } else { g_dy.clone() };
            assert!(bits(&grads[0]) == bits(&want_x), "{name}, {case}: d/dx");
            assert!(bits(&grads[1]) == bits(&want_y), "{name}, {case}: d/dy");
        }

        // k(x, x): y's contribution, then x's, added in the loop (or into an existing one)
        for used in [false, true] {
            let mut t = Tape::new();
            let xl = long_leaf(&mut t, &x);
            let mut out = bin(&mut t, k, &xl, &xl);
            if used {
                let extra = bin(&mut t, Binary::Mul, &xl, &c_arg);
                out = bin(&mut t, Binary::Add, &out, &extra);
            }
            let grad = sweep(&t, &out, &g, &[&xl]).remove(0);
            let want = elementwise(|i| {
                let (dx, dy) = partials(i, &x);
                let first = if used { g_c[i] + g[i] * dy } else { g[i] * dy };
                first + g[i] * dx
            });
            assert!(
                bits(&grad) == bits(&want),
                "{name}(x, x), x used again: {used}"
            );
        }
    }
}

/// Unary kernels, the sum and the mean on long arrays: values and gradients as computed element
/// by element (the sum in its fixed order, to rounding of a plain sum), identical on a second run.
#[test]
fn long_unary_sum_and_mean_match_element_by_element_results() {
    let mut rng = Lcg(29);
    let x = elems(&rng.array(&[LONG], -3.0, 3.0));
    let g = elems(&rng.array(&[LONG], -1.5, 1.5));
    for k in [Unary::Tanh, Unary::Exp, Unary::Sin, Unary::Neg] {
        let run = || {
            let mut t = Tape::new();
            let xl = long_leaf(&mut t, &x);
            let yl = un(&mut t, k, &xl);
            let grad = sweep(&t, &yl, &g, &[&xl]).remove(0);
            (elems(&as_array(&yl.value)), grad)
        };
        let (y, grad) = run();
        // the vectorised exp and tanh differ from libm's by a few ulp
        for (i, &v) in y.iter().enumerate() {
            assert!(close(v, k.eval(x[i]), 1e-15), "{}: value at {i}", k.name());
        }
        let want = elementwise(|i| g[i] * k.derivative(x[i], y[i]));
        assert!(bits(&grad) == bits(&want), "{}: gradient", k.name());
        let (y2, grad2) = run();
        assert!(
            bits(&y) == bits(&y2) && bits(&grad) == bits(&grad2),
            "{}: repeat",
            k.name()
        );
    }
    for mean in [false, true] {
        let mut t = Tape::new();
        let xl = long_leaf(&mut t, &x);
        let s = sm(&mut t, &xl, None, mean);
        let scale = if mean { 1.0 / LONG as f64 } else { 1.0 };
        let plain: f64 = x.iter().sum::<f64>() * scale;
        let got = s0(&as_array(&s.value));
        assert!(
            close(got, plain, 1e-12),
            "sum (mean: {mean}): {got} vs {plain}"
        );
        let again = s0(&as_array(&sm(&mut t, &xl, None, mean).value));
        assert_eq!(got.to_bits(), again.to_bits(), "sum (mean: {mean}): repeat");
        let mut grads = t.backward(s.node.unwrap(), Grad::Scalar(0.75)).unwrap();
        let grad = grad_array(&grads.take(xl.node.unwrap()).unwrap());
        assert!(
            grad.iter().all(|&v| v == 0.75 * scale),
            "sum (mean: {mean}): gradient"
        );
    }
}

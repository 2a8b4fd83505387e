//! The one matrix product of the core: every `matmul`, forward and backward, goes through
//! [`gemm`], so the library behind it (faer, single-threaded; docs/matmul.md says why) is named
//! in this file only.
//!
//! faer reads ndarray's memory in place through the views' pointers and element strides, so a
//! transposed operand (`a.t()`) costs no copy. Only positive strides are handed to it: a view
//! with a negative or zero stride on an axis longer than 1 (a reversed or broadcast numpy view)
//! is copied into standard layout first. Such views are rare, and this keeps the argument for
//! soundness short instead of resting on how faer's kernels treat such strides.

use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, CowArray, Ix2};

/// `out = alpha · a · b`, or `out += alpha · a · b` with `accumulate`.
///
/// Without `accumulate` the previous contents of `out` are never read (NaNs there do not leak
/// into the result). Any of the three dimensions may be 0: an empty inner dimension gives
/// zeros (or leaves `out` as it was when accumulating).
///
/// # Panics
/// If the shapes do not chain (`a` is m×k, `b` k×n, `out` m×n): callers check operand shapes
/// before they get here, so this is a bug in the caller.
pub fn gemm(
    alpha: f64,
    a: ArrayView2<'_, f64>,
    b: ArrayView2<'_, f64>,
    accumulate: bool,
    mut out: ArrayViewMut2<'_, f64>,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    assert!(
        b.nrows() == k && out.dim() == (m, n),
        "gemm: shapes {:?} · {:?} -> {:?} do not chain",
        a.shape(),
        b.shape(),
        out.shape()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            out.fill(0.0);
        }
        return;
    }
    if positive_strides(out.shape(), out.strides()).is_none() {
        // A reversed output: compute into a standard-layout buffer, then add or copy it over.
        let mut c = Array2::zeros((m, n));
        gemm(alpha, a, b, false, c.view_mut());
        if accumulate {
            out += &c;
        } else {
            out.assign(&c);
        }
        return;
    }
    let (a, b) = (positive(a), positive(b));
    let (a_rs, a_cs) = strides_of(&a);
    let (b_rs, b_cs) = strides_of(&b);
    let [o_rs, o_cs] = positive_strides(out.shape(), out.strides())
        .unwrap_or_else(|| unreachable!("checked above"));
    // SAFETY: each pointer and its (row, column) element strides address exactly the elements of
    // a live ndarray view over one allocation, pointers aligned and non-null as ndarray's views
    // require (dimensions are non-zero here). A stride replaced by `positive_strides` belongs to
    // an axis of length 1, so it is never used to step. The `f64`s of `a` and `b` are
    // initialised; `out` is borrowed mutably, so nothing else reads or writes it meanwhile; it
    // does not alias itself, since its strides are positive and ndarray forbids a mutable view
    // whose elements overlap.
    let (lhs, rhs, dst) = unsafe {
        (
            MatRef::from_raw_parts(a.as_ptr(), m, k, a_rs, a_cs),
            MatRef::from_raw_parts(b.as_ptr(), k, n, b_rs, b_cs),
            MatMut::from_raw_parts_mut(out.as_mut_ptr(), m, n, o_rs, o_cs),
        )
    };
    let accum = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    faer::linalg::matmul::matmul(dst, accum, lhs, rhs, alpha, Par::Seq);
}

/// The view itself when all its strides are usable as they are, otherwise a standard-layout
/// copy (whose strides are positive).
fn positive(v: ArrayView2<'_, f64>) -> CowArray<'_, f64, Ix2> {
    if positive_strides(v.shape(), v.strides()).is_some() {
        CowArray::from(v)
    } else {
        CowArray::from(v.as_standard_layout().into_owned())
    }
}

fn strides_of(v: &CowArray<'_, f64, Ix2>) -> (isize, isize) {
    let [rs, cs] = positive_strides(v.shape(), v.strides())
        .unwrap_or_else(|| unreachable!("made positive by `positive`"));
    (rs, cs)
}

/// The strides of a 2-D view if every axis longer than 1 has a positive stride; an axis of
/// length 0 or 1 is never stepped along, so its stride (whatever ndarray put there) becomes 1.
fn positive_strides(shape: &[usize], strides: &[isize]) -> Option<[isize; 2]> {
    let mut out = [1; 2];
    for ((o, &len), &s) in out.iter_mut().zip(shape).zip(strides) {
        if len > 1 {
            if s <= 0 {
                return None;
            }
            *o = s;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array2, Axis};

    /// A small deterministic generator (xorshift64*), so a failure is reproducible.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn uniform(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        }
        fn matrix(&mut self, rows: usize, cols: usize) -> Array2<f64> {
            Array2::from_shape_simple_fn((rows, cols), || self.uniform())
        }
    }

    fn naive(alpha: f64, a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
        let (m, k) = a.dim();
        let n = b.ncols();
        let mut c = Array2::zeros((m, n));
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0;
                for p in 0..k {
                    s += a[[i, p]] * b[[p, j]];
                }
                c[[i, j]] = alpha * s;
            }
        }
        c
    }

    fn assert_close(got: &Array2<f64>, want: &Array2<f64>, what: &str) {
        assert_eq!(got.dim(), want.dim(), "{what}");
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
                "{what}: {g} against {w}\ngot\n{got}\nwant\n{want}"
            );
        }
    }

    /// The buffer behind a `rows`×`cols` operand in one of the layouts a view can have: 0
    /// row-major, 1 column-major (a transposed buffer), 2 every other row and column of a larger
    /// buffer, 3 both axes reversed (negative strides). [`view`] makes the operand of it.
    fn operand(rng: &mut Rng, rows: usize, cols: usize, layout: usize) -> Array2<f64> {
        match layout {
            0 => rng.matrix(rows, cols),
            1 => rng.matrix(cols, rows).reversed_axes(),
            2 => rng.matrix(2 * rows, 2 * cols),
            _ => {
                let mut a = rng.matrix(rows, cols);
                a.invert_axis(Axis(0));
                a.invert_axis(Axis(1));
                a
            }
        }
    }

    fn view(buffer: &Array2<f64>, layout: usize) -> ArrayView2<'_, f64> {
        match layout {
            2 => buffer.slice(s![..;2, ..;2]),
            _ => buffer.view(),
        }
    }

    #[test]
    fn matches_a_naive_triple_loop() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let dims = [0, 1, 2, 3, 7, 10, 17, 33, 64];
        for case in 0..400 {
            let (m, k, n) = (
                dims[rng.below(dims.len())],
                dims[rng.below(dims.len())],
                dims[rng.below(dims.len())],
            );
            let (la, lb) = (rng.below(4), rng.below(4));
            let (a, b) = (operand(&mut rng, m, k, la), operand(&mut rng, k, n, lb));
            let (a, b) = (view(&a, la), view(&b, lb));
            assert_eq!((a.dim(), b.dim()), ((m, k), (k, n)));
            let alpha = [1.0, -0.5, 2.0][case % 3];
            let want = naive(alpha, a, b);
            let what = format!("case {case}: {m}x{k} (layout {la}) · {k}x{n} (layout {lb})");

            // replace: stale contents (NaN) must not be read
            let mut out = Array2::from_elem((m, n), f64::NAN);
            gemm(alpha, a, b, false, out.view_mut());
            assert_close(&out, &want, &format!("{what}, replace"));

            // accumulate onto an existing matrix
            let start = rng.matrix(m, n);
            let mut out = start.clone();
            gemm(alpha, a, b, true, out.view_mut());
            assert_close(&out, &(&start + &want), &format!("{what}, accumulate"));
        }
    }

    #[test]
    fn strided_views_without_a_copy_first() {
        let mut rng = Rng(7);
        let big_a = rng.matrix(20, 30);
        let big_b = rng.matrix(30, 24);
        // every other row of one, a transposed window of the other, and a strided output
        let a = big_a.slice(s![..;2, 3..19]);
        let b = big_b.slice(s![..16;1, ..;3]);
        // the same elements as `b`, reached through a window of the transpose (column-major)
        let bt = big_b.t();
        let bt = bt.slice(s![..;3, ..16]);
        let want = naive(1.0, a, b);
        let mut big_out = Array2::from_elem((20, 16), f64::NAN);
        gemm(1.0, a, b, false, big_out.slice_mut(s![..;2, ..8]));
        assert_close(&big_out.slice(s![..;2, ..8]).to_owned(), &want, "strided");
        assert!(big_out.slice(s![1..;2, ..]).iter().all(|v| v.is_nan()));
        assert!(big_out.slice(s![.., 8..]).iter().all(|v| v.is_nan()));
        let want = naive(1.0, a, bt.t());
        let mut out = Array2::zeros((10, 8));
        gemm(1.0, a, bt.t(), false, out.view_mut());
        assert_close(&out, &want, "transposed window");
    }

    #[test]
    fn broadcast_and_reversed_operands_and_output() {
        let mut rng = Rng(11);
        let row = rng.matrix(1, 6);
        // a 5×6 operand whose rows are one row (stride 0 on the row axis)
        let a = row.broadcast((5, 6)).unwrap();
        let b = rng.matrix(6, 4);
        let want = naive(1.5, a, b.view());
        let mut out = Array2::zeros((5, 4));
        gemm(1.5, a, b.view(), false, out.view_mut());
        assert_close(&out, &want, "broadcast lhs");

        // reversed output, accumulating and replacing
        let start = rng.matrix(5, 4);
        let mut rev = start.clone();
        rev.invert_axis(Axis(1));
        let mut expect = start.clone();
        expect.invert_axis(Axis(1));
        gemm(1.5, a, b.view(), true, rev.view_mut());
        assert_close(
            &rev.to_owned(),
            &(&expect + &want),
            "reversed output, accumulate",
        );
        gemm(1.5, a, b.view(), false, rev.view_mut());
        assert_close(&rev.to_owned(), &want, "reversed output, replace");
    }

    #[test]
    #[should_panic(expected = "do not chain")]
    fn mismatched_shapes_panic() {
        let a = Array2::<f64>::zeros((2, 3));
        let b = Array2::<f64>::zeros((4, 2));
        let mut out = Array2::<f64>::zeros((2, 2));
        gemm(1.0, a.view(), b.view(), false, out.view_mut());
    }
}

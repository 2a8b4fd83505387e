//! Per-element cost of the native array kernels, forward and backward, on 4096 and 32768
//! elements (`cargo bench -p bprop-core --bench kernels`; criterion reports elements per second),
//! and the bandwidth of in-place gradient accumulation over 10^6 elements against a plain
//! `a += b` loop (group `accumulation/1000000`, in bytes per second, and a printed ratio).
//!
//! Backward passes run against a sink that owns one gradient slot per operand: "in place" adds
//! into the existing slot (what the sweep does with the gradient type's own `add`), "new" hands a
//! fresh array to the sink (what a caller-chosen `add` gets).
use bprop_core::array::{self, Arg, Array, Operand, Sink, Value};
use bprop_core::{Binary, NodeId, Unary};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The extension's allocator (bprop-py), so that a freed gradient is reused as the sweep reuses it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One gradient array per node; `existing` offers it for in-place accumulation when `in_place`,
/// deposits are dropped (only the kernel's own work is timed).
struct Slots {
    slots: Vec<Array>,
    in_place: bool,
}

impl Sink for Slots {
    type Error = ();
    fn existing(&mut self, node: NodeId, shape: &[usize]) -> Option<&mut Array> {
        let in_place = self.in_place;
        self.slots
            .get_mut(node as usize)
            .filter(|a| in_place && a.shape() == shape)
    }
    fn existing_pair(
        &mut self,
        (a, sa): (NodeId, &[usize]),
        (b, sb): (NodeId, &[usize]),
    ) -> [Option<&mut Array>; 2] {
        let in_place = self.in_place;
        match self.slots.get_disjoint_mut([a as usize, b as usize]) {
            Ok([x, y]) if in_place => {
                [(x, sa), (y, sb)].map(|(g, s)| Some(g).filter(|g| g.shape() == s))
            }
            _ => [None, None],
        }
    }
    fn combines(&self) -> bool {
        self.in_place
    }
    fn deposit(&mut self, _: &Operand, g: Array) -> Result<(), ()> {
        black_box(g);
        Ok(())
    }
}

/// `n` values in [-2, 2) as an `(n / 128, 128)` array, from a fixed linear congruential sequence.
fn data(n: usize, seed: u64) -> Array {
    let mut s = seed;
    Array::from_shape_fn(ndarray::IxDyn(&[n / 128, 128]), |_| {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (s >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
    })
}

fn arg(a: Array, node: Option<NodeId>) -> Arg {
    Arg {
        value: Value::Array(array::owned(a)),
        node,
    }
}

fn bench(c: &mut Criterion) {
    for n in [4096, 32768] {
        let mut group = c.benchmark_group(format!("kernels/{n}"));
        group.throughput(Throughput::Elements(n as u64));
        let (x, y) = (arg(data(n, 1), Some(0)), arg(data(n, 2), Some(1)));
        let two = Arg {
            value: Value::Scalar(2.0),
            node: None,
        };
        for (name, kernel) in [
            ("tanh", Unary::Tanh),
            ("exp", Unary::Exp),
            ("sin", Unary::Sin),
        ] {
            group.bench_function(BenchmarkId::new("forward", name), |b| {
                b.iter(|| black_box(array::unary(kernel, &x, &array::owned)))
            });
        }
        group.bench_function(BenchmarkId::new("forward", "mul"), |b| {
            b.iter(|| black_box(array::binary(Binary::Mul, &x, &y, &array::owned).unwrap()))
        });

        let op = |r: Option<array::ArrayOp>| r.expect("an op on a taped argument records a node");
        let mul = op(array::binary(Binary::Mul, &x, &y, &array::owned).unwrap().1);
        let scalar_mul = op(array::binary(Binary::Mul, &x, &two, &array::owned)
            .unwrap()
            .1);
        let tanh = op(array::unary(Unary::Tanh, &x, &array::owned).1);
        let g = data(n, 3);
        let mut sink = Slots {
            slots: vec![data(n, 4), data(n, 5)],
            in_place: true,
        };
        for (mode, in_place) in [("in place", true), ("new", false)] {
            sink.in_place = in_place;
            for (name, node) in [("mul", &mul), ("tanh", &tanh), ("mul by 2.0", &scalar_mul)] {
                group.bench_function(BenchmarkId::new(format!("backward {mode}"), name), |b| {
                    b.iter(|| node.backward(g.clone(), &mut sink).unwrap())
                });
            }
        }
        group.finish();
    }
}

/// Elements of the accumulation benchmarks (W3's vectors).
const WIDE: usize = 1_000_000;

/// `acc[i] += d[i]`: what the accumulation is measured against.
fn plain_add(acc: &mut [f64], d: &[f64]) {
    for (a, &b) in acc.iter_mut().zip(d) {
        *a += b;
    }
}

/// In-place accumulation as the sweep does it, over `WIDE` elements: `array::add_assign` (the
/// add of two array gradients, `g += d`), and the in-place backward passes of `x + c` (`g += d`)
/// and of `x * c` (`g += d * c`) into an existing gradient, against `plain_add` over the same
/// buffers. Each call gets a fresh copy of `d` made outside the timing (a backward pass consumes
/// its output gradient), as the sweep hands a node its gradient. Bytes per second count each
/// array read or written once (`g += d`: 3 arrays, `g += d * c`: 4). Long loops run on every
/// core (`BPROP_NUM_THREADS`), the plain loop on one.
fn accumulation(c: &mut Criterion) {
    let (d, cst) = (data(WIDE, 6), data(WIDE, 7));
    // `data` makes rows of 128: the element count actually used
    let n = d.len();
    let x = arg(data(WIDE, 8), Some(0));
    let c_arg = arg(cst, None);
    let op = |r: Option<array::ArrayOp>| r.expect("an op on a taped argument records a node");
    let add = op(array::binary(Binary::Add, &x, &c_arg, &array::owned)
        .unwrap()
        .1);
    let mul = op(array::binary(Binary::Mul, &x, &c_arg, &array::owned)
        .unwrap()
        .1);
    let mut sink = Slots {
        slots: vec![data(WIDE, 9)],
        in_place: true,
    };
    let mut plain = data(WIDE, 9).into_raw_vec_and_offset().0;
    let bytes = |arrays: u64| Throughput::Bytes(arrays * 8 * n as u64);

    // (name, arrays moved, the operation on a fresh copy of `d`)
    type Run<'a> = Box<dyn FnMut(Array) + 'a>;
    let sink = std::cell::RefCell::new(&mut sink);
    let mut runs: Vec<(&str, u64, Run)> = vec![
        (
            "plain a += b",
            3,
            Box::new(|g: Array| plain_add(&mut plain, g.as_slice().unwrap())),
        ),
        (
            "add_assign: g += d",
            3,
            Box::new(|g: Array| array::add_assign(&mut sink.borrow_mut().slots[0], &g)),
        ),
        (
            "backward of x + c in place: g += d",
            3,
            Box::new(|g: Array| add.backward(g, &mut **sink.borrow_mut()).unwrap()),
        ),
        (
            "backward of x * c in place: g += d * c",
            4,
            Box::new(|g: Array| mul.backward(g, &mut **sink.borrow_mut()).unwrap()),
        ),
    ];

    let mut group = c.benchmark_group(format!("accumulation/{WIDE}"));
    for (name, arrays, run) in runs.iter_mut() {
        group.throughput(bytes(*arrays));
        group.bench_function(*name, |b| {
            b.iter_batched(|| d.clone(), &mut *run, BatchSize::LargeInput)
        });
    }
    group.finish();

    // The ratios, from interleaved rounds (best of each).
    let mut best = vec![f64::INFINITY; runs.len()];
    for _ in 0..30 {
        for ((_, _, run), best) in runs.iter_mut().zip(&mut best) {
            let g = d.clone();
            let t = Instant::now();
            run(g);
            *best = best.min(t.elapsed().as_secs_f64());
        }
    }
    let gbs = |arrays: u64, secs: f64| (arrays * 8 * n as u64) as f64 / secs / 1e9;
    let base = gbs(runs[0].1, best[0]);
    println!("accumulation bandwidth over {n} float64, best of 30 interleaved rounds:");
    for ((name, arrays, _), &secs) in runs.iter().zip(&best) {
        let rate = gbs(*arrays, secs);
        println!(
            "  {name:<40} {rate:6.1} GB/s  {:.2}x the plain loop",
            rate / base
        );
    }
}

criterion_group! {
    name = benches;
    // short runs: the whole bench stays under about 90 s
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench, accumulation
}
criterion_main!(benches);

//! Per-element cost of the native array kernels, forward and backward, on 4096 and 32768
//! elements (`cargo bench -p bprop-core --bench kernels`; criterion reports elements per second).
//!
//! Backward passes run against a sink that owns one gradient slot per operand: "in place" adds
//! into the existing slot (what the sweep does with the gradient type's own `add`), "new" hands a
//! fresh array to the sink (what a caller-chosen `add` gets).
use bprop_core::array::{self, Arg, Array, Operand, Sink, Value};
use bprop_core::{Binary, NodeId, Unary};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

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

criterion_group!(benches, bench);
criterion_main!(benches);

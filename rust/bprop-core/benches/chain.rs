//! Record + reverse sweep of a 1 000 000-node scalar chain (target: <= 10 ns per node).
//!
//! Two chains: `recurrence_chain` is the recurrence `h <- sin(h) * a + h * b` at 1M nodes. Its
//! gradient with respect to x decays into subnormal floats over the chain, and subnormal
//! multiplies are ~100x slower on x86, so its figure mostly measures that (we do not flush
//! subnormals: that would change results). `mul_chain` (x * 0.999999 repeated) stays in the
//! normal range and measures the tape itself: recording, the sweep, and the page faults of a
//! fresh tape growing to 32 MB per run (a tape grows as the bindings' does, from empty).
use bprop_core::{Binary, Scalar, Tape, Unary};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const NODES: usize = 1_000_000;

fn recurrence_chain(steps: usize) -> f64 {
    let mut tape = Tape::<f64>::new();
    let x = Scalar {
        value: 0.3,
        node: Some(tape.leaf().unwrap()),
    };
    let a = Scalar {
        value: 0.9,
        node: Some(tape.leaf().unwrap()),
    };
    let b = Scalar {
        value: 0.2,
        node: Some(tape.leaf().unwrap()),
    };
    let mut h = x;
    for _ in 0..steps {
        let s = tape.apply_unary(Unary::Sin, h).unwrap();
        let sa = tape.apply_binary(Binary::Mul, s, a).unwrap();
        let hb = tape.apply_binary(Binary::Mul, h, b).unwrap();
        h = tape.apply_binary(Binary::Add, sa, hb).unwrap();
    }
    let mut g = tape.backward(h.node.unwrap(), 1.0).unwrap();
    g.take(x.node.unwrap()).unwrap()
}

fn linear_chain(nodes: usize) -> f64 {
    let mut tape = Tape::<f64>::new();
    let x = Scalar {
        value: 0.5,
        node: Some(tape.leaf().unwrap()),
    };
    let mut h = x;
    for _ in 0..nodes {
        h = tape
            .apply_binary(Binary::Mul, h, Scalar::constant(0.999_999))
            .unwrap();
    }
    let mut g = tape.backward(h.node.unwrap(), 1.0).unwrap();
    g.take(x.node.unwrap()).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("record+sweep");
    group.throughput(Throughput::Elements(NODES as u64));
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("recurrence_chain_nodes", NODES), |bch| {
        bch.iter(|| recurrence_chain(NODES / 4))
    });
    group.bench_function(BenchmarkId::new("mul_chain_nodes", NODES), |bch| {
        bch.iter(|| linear_chain(NODES))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

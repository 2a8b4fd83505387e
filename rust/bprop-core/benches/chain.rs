//! Record + reverse sweep of scalar chains (targets: <= 10 ns per node, <= 64 bytes per node,
//! time per node flat from 10^3 to 10^7 nodes).
//!
//! `mul_chain` (x * 0.999999 repeated) stays in the normal float range and measures the tape
//! itself: recording, the sweep, and the memory of a fresh tape growing from empty, as the
//! bindings' tapes do. It runs at 10^3 ... 10^7 nodes; criterion's per-size times divided by the
//! node count are the curve (also printed as one table at the end, with the bytes per node).
//!
//! `recurrence_chain` is W1's recurrence `h <- sin(h) * a + h * b` at 10^6 nodes. Its gradient
//! with respect to x decays into subnormal floats along the chain, and subnormal multiplies are
//! ~100x slower on x86, so its figure mostly measures that (subnormals are not flushed: that would
//! change results).
use bprop_core::{Binary, Scalar, Tape, Unary};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Instant;

// As in the Python extension (rust/bprop-py/src/lib.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIZES: [usize; 5] = [1_000, 10_000, 100_000, 1_000_000, 10_000_000];

fn recurrence_chain(steps: usize) -> f64 {
    let mut tape = Tape::<f64>::new();
    let mut leaf = |value| Scalar {
        value,
        node: Some(tape.leaf().unwrap()),
    };
    let (x, a, b) = (leaf(0.3), leaf(0.9), leaf(0.2));
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

/// Records `nodes` multiplications on a fresh tape; returns it with the first and last scalar.
fn record_mul_chain(nodes: usize) -> (Tape<f64>, Scalar, Scalar) {
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
    (tape, x, h)
}

fn mul_chain(nodes: usize) -> f64 {
    let (tape, x, h) = record_mul_chain(nodes);
    let mut g = tape.backward(h.node.unwrap(), 1.0).unwrap();
    g.take(x.node.unwrap()).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("record+sweep");
    group.sample_size(10);
    for n in SIZES {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::new("mul_chain_nodes", n), |bch| {
            bch.iter(|| mul_chain(n))
        });
    }
    let n = 1_000_000;
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::new("recurrence_chain_nodes", n), |bch| {
        bch.iter(|| recurrence_chain(n / 4))
    });
    group.finish();
    print_curve();
}

/// The curve as one table: best of a few runs per size (criterion's own figures are above), and
/// the tape's heap bytes per node.
fn print_curve() {
    println!("\nrecord + sweep of mul_chain, best of 5 runs per size:");
    println!(
        "{:>12} {:>10} {:>10} {:>12}",
        "nodes", "ns/node", "record", "bytes/node"
    );
    for n in SIZES {
        let (mut best, mut best_record) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..5 {
            let t0 = Instant::now();
            let (tape, x, h) = record_mul_chain(n);
            let recorded = t0.elapsed();
            let mut g = tape.backward(h.node.unwrap(), 1.0).unwrap();
            std::hint::black_box(g.take(x.node.unwrap()));
            best = best.min(t0.elapsed().as_secs_f64());
            best_record = best_record.min(recorded.as_secs_f64());
        }
        let bytes = record_mul_chain(n).0.heap_bytes() as f64 / (n + 1) as f64;
        println!(
            "{n:>12} {:>10.2} {:>10.2} {bytes:>12.1}",
            best * 1e9 / n as f64,
            best_record * 1e9 / n as f64
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

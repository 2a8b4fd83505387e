//! GFLOP/s of the core's matrix product (`bprop_core::gemm::gemm`) on the five products of a W2
//! step (the 64 → 128 → 10 MLP of benches/README.md) at batch 32 and 256, and on 512×512, against
//! the machine's double-precision FMA peak measured here first
//! (`cargo bench -p bprop-core --bench matmul`).
//!
//! Criterion's throughput is in elements per second where an element is one flop (`2·m·n·k` per
//! product). The table printed at the end gives each product's fastest sample and its fraction
//! of the peak. Transposed operands are views of the untransposed buffer, as in the backward pass.
use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use bprop_core::gemm::gemm;
use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode,
    Throughput,
};
use ndarray::Array2;

/// The peak: `ACC` independent FMA chains of the widest vectors the CPU has, so that neither the
/// FMA latency nor a single port limits the rate. Returns the sum so nothing is optimised away.
mod peak {
    #[cfg(target_arch = "x86_64")]
    use std::arch::x86_64::*;

    pub const ACC: usize = 16;

    /// 16 zmm chains × 8 lanes × 2 flops per round.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    #[inline(never)]
    pub fn avx512(rounds: u64, m: f64, a: f64) -> f64 {
        let (m, a) = (_mm512_set1_pd(m), _mm512_set1_pd(a));
        let mut acc = [_mm512_set1_pd(1.0); ACC];
        for _ in 0..rounds {
            for r in acc.iter_mut() {
                *r = _mm512_fmadd_pd(*r, m, a);
            }
        }
        let s = acc
            .iter()
            .fold(_mm512_setzero_pd(), |s, &r| _mm512_add_pd(s, r));
        _mm512_reduce_add_pd(s)
    }

    /// 12 ymm chains × 4 lanes × 2 flops per round (16 ymm registers: leave room for `m`, `a`).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    #[inline(never)]
    pub fn avx2(rounds: u64, m: f64, a: f64) -> f64 {
        let (m, a) = (_mm256_set1_pd(m), _mm256_set1_pd(a));
        let mut acc = [_mm256_set1_pd(1.0); 12];
        for _ in 0..rounds {
            for r in acc.iter_mut() {
                *r = _mm256_fmadd_pd(*r, m, a);
            }
        }
        let s = acc
            .iter()
            .fold(_mm256_setzero_pd(), |s, &r| _mm256_add_pd(s, r));
        let mut out = [0.0; 4];
        // SAFETY: `out` holds four f64s; the store is unaligned.
        unsafe { _mm256_storeu_pd(out.as_mut_ptr(), s) };
        out.iter().sum()
    }

    /// Scalar chains for a CPU with neither (its fused `mul_add` may be a library call: then
    /// this is no peak, and the printed label says so).
    #[inline(never)]
    pub fn scalar(rounds: u64, m: f64, a: f64) -> f64 {
        let mut acc = [1.0f64; ACC];
        for _ in 0..rounds {
            for r in acc.iter_mut() {
                *r = r.mul_add(m, a);
            }
        }
        acc.iter().sum()
    }

    /// `kernel(rounds, multiplier, addend)`: the sum of the chains after `rounds` rounds.
    pub type Kernel = fn(u64, f64, f64) -> f64;

    /// The kernel for this CPU: its name, flops per round, and the function.
    pub fn select() -> (&'static str, f64, Kernel) {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F, checked just above.
                return ("AVX-512 FMA", (ACC * 8 * 2) as f64, |r, m, a| unsafe {
                    avx512(r, m, a)
                });
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has AVX2 and FMA, checked just above.
                return ("AVX2 FMA", (12 * 4 * 2) as f64, |r, m, a| unsafe {
                    avx2(r, m, a)
                });
            }
        }
        (
            "scalar mul_add (no SIMD FMA found)",
            (ACC * 2) as f64,
            scalar,
        )
    }
}

/// Flops per second of the FMA kernel: the best of 300 runs of about 1 ms each. Short runs,
/// because on a shared machine a long one is almost never left alone for its whole length
/// (best of 7 runs of 0.1 s read 33 GFLOP/s under load where 1 ms runs read 59).
fn measure_peak() -> (&'static str, f64) {
    let (name, flops_per_round, kernel) = peak::select();
    let rounds = 200_000u64;
    let mut best = f64::INFINITY;
    for _ in 0..300 {
        let t = Instant::now();
        // a multiplier just below 1 keeps the chains finite and normal
        black_box(kernel(
            black_box(rounds),
            black_box(0.999_999_9),
            black_box(1e-9),
        ));
        best = best.min(t.elapsed().as_secs_f64());
    }
    (name, flops_per_round * rounds as f64 / best)
}

/// A `rows`×`cols` matrix of values in [-1, 1) from a fixed linear congruential sequence.
fn matrix(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut s = seed;
    Array2::from_shape_simple_fn((rows, cols), || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    })
}

/// One product to time: `(name, m, n, k, fastest seconds per product seen)`.
type Row = (String, usize, usize, usize, f64);

fn bench(c: &mut Criterion) {
    let (peak_name, peak) = measure_peak();
    println!(
        "peak: {:.1} GFLOP/s double precision ({peak_name}, one core)",
        peak / 1e9
    );
    let mut rows: Vec<Row> = Vec::new();
    let mut group = c.benchmark_group("matmul");
    group
        .sample_size(40)
        // equal samples of a few ms each: the fastest one is a run that was left alone, and
        // 512x512 fits in the same time as the small products (about 25 s in all)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500));

    let mut time = |group: &mut BenchmarkGroup<'_, WallTime>,
                    name: String,
                    a: ndarray::ArrayView2<'_, f64>,
                    b: ndarray::ArrayView2<'_, f64>| {
        let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
        let mut out = Array2::zeros((m, n));
        let best = Cell::new(f64::INFINITY);
        group.throughput(Throughput::Elements((2 * m * n * k) as u64));
        group.bench_function(BenchmarkId::from_parameter(&name), |bench| {
            bench.iter_custom(|iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    gemm(1.0, black_box(a), black_box(b), false, out.view_mut());
                }
                let e = t.elapsed();
                best.set(best.get().min(e.as_secs_f64() / iters as f64));
                black_box(&out);
                e
            })
        });
        rows.push((name, m, n, k, best.get()));
    };

    let (w1, w2) = (matrix(64, 128, 1), matrix(128, 10, 2));
    for batch in [32, 256] {
        let x = matrix(batch, 64, 3);
        let h = matrix(batch, 128, 4);
        let g = matrix(batch, 10, 5);
        let g1 = matrix(batch, 128, 6);
        let b = batch;
        time(
            &mut group,
            format!("b{b} x·W1 {b}x64·64x128"),
            x.view(),
            w1.view(),
        );
        time(
            &mut group,
            format!("b{b} h·W2 {b}x128·128x10"),
            h.view(),
            w2.view(),
        );
        time(
            &mut group,
            format!("b{b} hT·g 128x{b}·{b}x10"),
            h.t(),
            g.view(),
        );
        time(
            &mut group,
            format!("b{b} g·W2T {b}x10·10x128"),
            g.view(),
            w2.t(),
        );
        time(
            &mut group,
            format!("b{b} xT·g1 64x{b}·{b}x128"),
            x.t(),
            g1.view(),
        );
    }
    let (p, q) = (matrix(512, 512, 7), matrix(512, 512, 8));
    time(&mut group, "512x512·512x512".into(), p.view(), q.view());
    group.finish();

    println!(
        "\n{:<28} {:>10} {:>9} {:>8}",
        "product (fastest sample)", "µs", "GFLOP/s", "of peak"
    );
    for (name, m, n, k, secs) in &rows {
        let flops = (2 * m * n * k) as f64 / secs;
        println!(
            "{name:<28} {:>10.2} {:>9.1} {:>7.1}%",
            secs * 1e6,
            flops / 1e9,
            100.0 * flops / peak
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

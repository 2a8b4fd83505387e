//! Every core for long elementwise loops.
//!
//! A loop over at least [`MIN_ELEMENTS`] elements is split into pieces of at most [`LEAF`]
//! elements that the threads of a pool share (rayon's work stealing: a thread slowed by another
//! process on its core takes fewer pieces). Elementwise results do not depend on how a loop is
//! split, so they are the same bits on any number of threads.
//!
//! The pool is the process's own, not rayon's global one: a child made by `fork` (Python's
//! `multiprocessing` on Linux) inherits a pool whose threads do not exist in it, and work handed
//! to it would wait forever. The pool remembers the process id it was made in; a forked child
//! makes a new one on first use (the parent's is leaked: its state may be mid-operation).
//!
//! `BPROP_NUM_THREADS` (read once per process) sets the number of threads; 1 keeps every loop on
//! the calling thread. The default is the number of CPUs this process may run on.

use std::sync::atomic::{AtomicPtr, Ordering};

/// Loops shorter than this stay on the calling thread: handing pieces to the pool and waiting for
/// them costs about 5-20 µs, more than the second core saves on a short loop.
pub(crate) const MIN_ELEMENTS: usize = 1 << 17;

/// The most elements one piece of work holds (256 KiB per float64 operand: the operands of a
/// piece stay in the core's L2 cache).
const LEAF: usize = 1 << 15;

/// Mutable outputs of a loop, split at the same index: a slice, or a pair of slices of one length.
pub(crate) trait Outputs: Send + Sized {
    fn len(&self) -> usize;
    fn split_at(self, mid: usize) -> (Self, Self);
}

impl<T: Send> Outputs for &mut [T] {
    fn len(&self) -> usize {
        <[T]>::len(self)
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        self.split_at_mut(mid)
    }
}

impl<A: Outputs, B: Outputs> Outputs for (A, B) {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        let ((a0, a1), (b0, b1)) = (self.0.split_at(mid), self.1.split_at(mid));
        ((a0, b0), (a1, b1))
    }
}

/// Run `f(start, part)` over consecutive parts of `out` that together cover it once: one part on
/// the calling thread for a short loop, pieces run by the pool for a long one.
pub(crate) fn for_parts<O: Outputs>(out: O, f: impl Fn(usize, O) + Sync) {
    for_parts_weighted(out, 1, f)
}

/// [`for_parts`] where each output element stands for `weight` elements of work (a sum of a
/// block of that many elements).
pub(crate) fn for_parts_weighted<O: Outputs>(out: O, weight: usize, f: impl Fn(usize, O) + Sync) {
    let weight = weight.max(1);
    // the length first: short loops never look up the pool (it asks the OS for the process id)
    if out.len().saturating_mul(weight) < MIN_ELEMENTS {
        return f(0, out);
    }
    match pool() {
        Some(pool) => pool.install(|| split(out, 0, (LEAF / weight).max(1), &f)),
        None => f(0, out),
    }
}

fn split<O: Outputs>(out: O, start: usize, leaf: usize, f: &(impl Fn(usize, O) + Sync)) {
    let n = out.len();
    if n <= leaf {
        return f(start, out);
    }
    let mid = n / 2;
    let (a, b) = out.split_at(mid);
    rayon::join(
        || split(a, start, leaf, f),
        || split(b, start + mid, leaf, f),
    );
}

/// The pool of the current process (`None`: one thread).
struct Pool {
    pid: u32,
    threads: Option<rayon::ThreadPool>,
}

static POOL: AtomicPtr<Pool> = AtomicPtr::new(std::ptr::null_mut());

fn pool() -> Option<&'static rayon::ThreadPool> {
    let pid = std::process::id();
    let current = POOL.load(Ordering::Acquire);
    // SAFETY: a published `Pool` is never freed (see below), so the reference stays valid.
    if let Some(p) = unsafe { current.as_ref() } {
        if p.pid == pid {
            return p.threads.as_ref();
        }
    }
    let fresh = Box::into_raw(Box::new(Pool {
        pid,
        threads: build(),
    }));
    match POOL.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
        // The replaced pool (if any) belongs to the parent of a fork and is leaked: its threads
        // are gone and its locks may be held, so even dropping it could block.
        // SAFETY: `fresh` is now published and never freed.
        Ok(_) => unsafe { (*fresh).threads.as_ref() },
        Err(winner) => {
            // Another thread of this process published its pool first: use that one and drop
            // ours (its threads are live here, so dropping it just ends them).
            // SAFETY: `fresh` was never published; `winner` is published and never freed.
            unsafe {
                drop(Box::from_raw(fresh));
                (*winner).threads.as_ref()
            }
        }
    }
}

/// The number of threads for long loops: `BPROP_NUM_THREADS` if set to a positive integer,
/// otherwise the CPUs this process may run on.
fn thread_count() -> usize {
    std::env::var("BPROP_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn build() -> Option<rayon::ThreadPool> {
    let n = thread_count();
    if n < 2 {
        return None;
    }
    // A pool that cannot start its threads (resource limits) leaves the loops on one thread.
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("bprop-{i}"))
        .build()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every index of a long loop is visited once, with its own start offset.
    #[test]
    fn parts_cover_every_index_once() {
        for n in [
            0,
            1,
            LEAF - 1,
            MIN_ELEMENTS - 1,
            MIN_ELEMENTS,
            3 * MIN_ELEMENTS + 17,
        ] {
            let mut seen = vec![0u32; n];
            let mut index = vec![usize::MAX; n];
            for_parts((&mut seen[..], &mut index[..]), |start, (s, ix)| {
                for (i, (s, ix)) in s.iter_mut().zip(ix.iter_mut()).enumerate() {
                    *s += 1;
                    *ix = start + i;
                }
            });
            assert!(seen.iter().all(|&s| s == 1), "n = {n}");
            assert!(index.iter().enumerate().all(|(i, &ix)| i == ix), "n = {n}");
        }
    }

    /// A long loop runs in the pool, on more than one thread when the process may use several
    /// CPUs; a short one runs on the calling thread. Each piece waits (up to a few seconds) for a
    /// second thread to show up, so that a busy machine cannot make one thread take every piece.
    #[test]
    fn long_loops_use_the_pool() {
        use std::collections::HashSet;
        use std::sync::Mutex;
        use std::time::{Duration, Instant};

        let caller = std::thread::current().id();
        let mut short = vec![None; MIN_ELEMENTS - 1];
        for_parts(&mut short[..], |_, part| {
            part.fill(Some(std::thread::current().id()))
        });
        assert!(short.iter().all(|&t| t == Some(caller)));

        let seen = Mutex::new(HashSet::new());
        let wanted = thread_count().min(2);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut long = vec![0u8; 64 * LEAF];
        for_parts(&mut long[..], |_, _| {
            seen.lock().unwrap().insert(std::thread::current().id());
            while seen.lock().unwrap().len() < wanted && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        let seen = seen.into_inner().unwrap();
        assert_eq!(
            seen.contains(&caller),
            wanted == 1,
            "a pool runs long loops"
        );
        assert!(
            seen.len() >= wanted,
            "{} threads for {wanted} CPUs",
            seen.len()
        );
    }
}

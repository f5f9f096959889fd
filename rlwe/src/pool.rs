//! A small per-thread pool of coefficient buffers.
//!
//! Polynomials are hundreds of kilobytes; the system allocator serves such
//! blocks with fresh pages, and the page faults on first touch cost about a
//! third of a key switch. Like SEAL's memory pool, buffers released by
//! dropped polynomials and temporaries are kept (per thread, bounded) and
//! handed out again.

use std::cell::RefCell;

/// Buffers smaller than this are not pooled.
const MIN_WORDS: usize = 1 << 10;
/// Upper bound on the words kept per thread (64 MiB).
const MAX_POOLED_WORDS: usize = 8 << 20;

thread_local! {
    static POOL: RefCell<(Vec<Vec<u64>>, usize)> = const { RefCell::new((Vec::new(), 0)) };
}

/// A zeroed buffer of `len` words, reusing a pooled allocation if one fits.
pub(crate) fn take_zeroed(len: usize) -> Vec<u64> {
    let mut v = take(len);
    v.clear();
    v.resize(len, 0);
    v
}

/// A buffer with capacity for `len` words and unspecified length 0.
pub(crate) fn take(len: usize) -> Vec<u64> {
    if len >= MIN_WORDS {
        let found = POOL
            .try_with(|p| {
                let mut p = p.borrow_mut();
                let (bufs, words) = &mut *p;
                // best fit: the smallest buffer that is large enough
                let idx = bufs
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.capacity() >= len)
                    .min_by_key(|(_, b)| b.capacity())
                    .map(|(i, _)| i)?;
                let b = bufs.swap_remove(idx);
                *words -= b.capacity();
                Some(b)
            })
            .ok()
            .flatten();
        if let Some(mut b) = found {
            b.clear();
            return b;
        }
    }
    Vec::with_capacity(len)
}

/// Returns a buffer to the pool (dropped if the pool is full).
pub(crate) fn give(v: Vec<u64>) {
    let cap = v.capacity();
    if cap < MIN_WORDS {
        return;
    }
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        let (bufs, words) = &mut *p;
        if *words + cap <= MAX_POOLED_WORDS {
            *words += cap;
            bufs.push(v);
        }
    });
}

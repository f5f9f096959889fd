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

/// A pooled buffer with capacity for `len` words (length and contents as
/// left by its previous user), or `None`.
fn reuse(len: usize) -> Option<Vec<u64>> {
    if len < MIN_WORDS {
        return None;
    }
    POOL.try_with(|p| {
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
    .flatten()
}

/// A zeroed buffer of `len` words, reusing a pooled allocation if one fits.
pub(crate) fn take_zeroed(len: usize) -> Vec<u64> {
    let mut v = take(len);
    v.resize(len, 0);
    v
}

/// A buffer of exactly `len` words with unspecified contents (stale values
/// of an earlier use, or zeros), for outputs the caller overwrites
/// entirely: it skips the zero fill of [`take_zeroed`] when a pooled buffer
/// was at least that long.
pub(crate) fn take_overwrite(len: usize) -> Vec<u64> {
    match reuse(len) {
        Some(mut v) => {
            if v.len() >= len {
                v.truncate(len);
            } else {
                v.resize(len, 0);
            }
            v
        }
        None => vec![0; len],
    }
}

/// An empty buffer with capacity for `len` words.
pub(crate) fn take(len: usize) -> Vec<u64> {
    match reuse(len) {
        Some(mut v) => {
            v.clear();
            v
        }
        None => Vec::with_capacity(len),
    }
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

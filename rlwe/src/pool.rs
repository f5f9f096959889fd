//! A pool of coefficient buffers.
//!
//! Polynomials are hundreds of kilobytes; the system allocator serves such
//! blocks with fresh pages, and the page faults on first touch cost about a
//! third of a key switch. Like SEAL's memory pool, buffers released by
//! dropped polynomials and temporaries are kept (bounded) and handed out
//! again: per thread for ordinary sizes, and in one pool shared by the
//! threads for buffers of a megabyte or more (a buffer made on one thread
//! is often dropped on another — the two halves of a bootstrap's EvalMod,
//! rayon's workers — and a per-thread pool would keep it where it is not
//! needed while the other thread faults fresh pages in).

use std::cell::RefCell;
use std::sync::Mutex;

/// Buffers smaller than this are not pooled.
const MIN_WORDS: usize = 1 << 10;
/// Buffers of at least this many words (1 MiB) go to the shared pool.
const SHARED_WORDS: usize = 1 << 17;
/// A pool keeps at most the larger of this (64 MiB) and [`LARGEST_FACTOR`]
/// times the largest buffer it has been given.
const MIN_CAP_WORDS: usize = 8 << 20;
/// A key switch at N = 2^16 holds several polynomials of the extended
/// basis at once (17 MB each): a fixed 64 MiB sent most of them back to
/// the system, and the page faults of their next use were a tenth of a
/// bootstrap. The cap follows the working set instead.
const LARGEST_FACTOR: usize = 24;

struct Pool {
    bufs: Vec<Vec<u64>>,
    words: usize,
    largest: usize,
}

impl Pool {
    const fn new() -> Self {
        Pool {
            bufs: Vec::new(),
            words: 0,
            largest: 0,
        }
    }

    /// Best fit: the smallest buffer that is large enough.
    fn take(&mut self, len: usize) -> Option<Vec<u64>> {
        let idx = self
            .bufs
            .iter()
            .enumerate()
            .filter(|(_, b)| b.capacity() >= len)
            .min_by_key(|(_, b)| b.capacity())
            .map(|(i, _)| i)?;
        let b = self.bufs.swap_remove(idx);
        self.words -= b.capacity();
        Some(b)
    }

    fn put(&mut self, v: Vec<u64>) {
        let cap = v.capacity();
        self.largest = self.largest.max(cap);
        let limit = MIN_CAP_WORDS.max(LARGEST_FACTOR.saturating_mul(self.largest));
        if self.words + cap <= limit {
            self.words += cap;
            self.bufs.push(v);
        }
    }
}

thread_local! {
    static POOL: RefCell<Pool> = const { RefCell::new(Pool::new()) };
}

static SHARED: Mutex<Pool> = Mutex::new(Pool::new());

/// A pooled buffer with capacity for `len` words (length and contents as
/// left by its previous user), or `None`.
fn reuse(len: usize) -> Option<Vec<u64>> {
    if len < MIN_WORDS {
        return None;
    }
    if len >= SHARED_WORDS {
        return SHARED.lock().ok().and_then(|mut p| p.take(len));
    }
    POOL.try_with(|p| p.borrow_mut().take(len)).ok().flatten()
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
    if cap >= SHARED_WORDS {
        if let Ok(mut p) = SHARED.lock() {
            p.put(v);
        }
        return;
    }
    let _ = POOL.try_with(|p| p.borrow_mut().put(v));
}

//! Comparing and wiping bytes, and an allocator that reuses small blocks, for the npm module.
//!
//! In WebAssembly the standard library's `memcmp` (from `compiler_builtins`) compares one
//! byte at a time, and every search of a map by name goes through it: most of building a
//! set from a document. [`memcmp`] here replaces it in the npm module: a strong definition
//! overrides `compiler_builtins`' weak one at link time. The comparison itself is the safe
//! [`compare`], which native tests hold to the byte-wise definition.
//!
//! [`wipe`] overwrites a string's bytes, its spare capacity included, with one fill of
//! zeros that the compiler must keep, where `zeroize` stores one byte at a time.
//!
//! [`Reusing`] keeps freed small blocks for reuse in front of the npm module's allocator.

/// Compares two byte strings of equal length as C's `memcmp` does: the sign of the difference
/// of the first pair of bytes that differ (as unsigned bytes), or 0 when all are equal.
#[cfg_attr(not(all(target_arch = "wasm32", feature = "js")), allow(dead_code))]
pub fn compare(a: &[u8], b: &[u8]) -> i32 {
    let n = a.len().min(b.len());
    let mut i = 0;
    while let (Some(x), Some(y)) = (a.get(i..i + 8), b.get(i..i + 8)) {
        let x = u64::from_le_bytes(x.try_into().unwrap_or_default());
        let y = u64::from_le_bytes(y.try_into().unwrap_or_default());
        if x != y {
            // The first byte in memory is the lowest in a little-endian word.
            let shift = (x ^ y).trailing_zeros() / 8 * 8;
            return ((x >> shift) & 0xFF) as i32 - ((y >> shift) & 0xFF) as i32;
        }
        i += 8;
    }
    while i < n {
        if a[i] != b[i] {
            return i32::from(a[i]) - i32::from(b[i]);
        }
        i += 1;
    }
    0
}

/// C's `memcmp`, for the npm module (see the module).
///
/// # Safety
///
/// `a` and `b` must each point to `n` readable bytes, as for C's `memcmp`.
#[cfg(all(target_arch = "wasm32", feature = "js"))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the caller guarantees `n` readable bytes at each pointer (memcmp's contract),
    // and the bytes are only read while these slices live.
    let (a, b) = unsafe {
        (
            core::slice::from_raw_parts(a, n),
            core::slice::from_raw_parts(b, n),
        )
    };
    compare(a, b)
}

/// Overwrites every byte of `text`'s allocation with zeros, and empties it.
pub fn wipe(text: &mut String) {
    let mut bytes = std::mem::take(text).into_bytes();
    // The spare capacity may hold an earlier copy of the text: wipe it too.
    let capacity = bytes.capacity();
    let start = bytes.as_mut_ptr();
    // SAFETY: `start` points to the vector's own allocation of `capacity` bytes, which
    // nothing else refers to; zeros are valid bytes, initialised or not. One fill (in
    // WebAssembly one `memory.fill`) rather than a store per word.
    unsafe { core::ptr::write_bytes(start, 0, capacity) };
    // The allocation is freed right after: the compiler must assume the zeros are read, or
    // it may drop the fill as a store nobody sees.
    core::hint::black_box(start);
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
}

/// Blocks up to this many bytes are kept for reuse by [`Reusing`], in classes of
/// [`GRAIN`] bytes.
const REUSED_MAX: usize = 1024;
const GRAIN: usize = 16;
/// The most bytes [`Reusing`] keeps in freed blocks; blocks freed beyond it go back.
const KEPT_MAX: usize = 4 << 20;

/// An allocator that keeps freed blocks of up to [`REUSED_MAX`] bytes, one list per size
/// class, and hands them out again before asking `A`: reading a secret set allocates a block
/// per string, and in the npm module talc's search and bookkeeping for each took about a
/// sixth of validating a 1 MiB set. A block is zeroed when it is kept, so what it held (a
/// piece of a set's text, a buffer left behind by growing) does not wait in it for its next
/// owner; freed strings of secrets are wiped by their owners anyway (see [`wipe`]). At most
/// [`KEPT_MAX`] bytes are kept.
///
/// For a single thread only (the npm module's); its state is not synchronised.
#[cfg_attr(not(all(target_arch = "wasm32", feature = "js")), allow(dead_code))]
pub struct Reusing<A> {
    inner: A,
    state: core::cell::UnsafeCell<Kept>,
}

/// The freed blocks kept: the first of each class (the next one's address is written in
/// each block), and their bytes in all.
struct Kept {
    first: [*mut u8; REUSED_MAX / GRAIN + 1],
    bytes: usize,
}

// SAFETY: used only where there is one thread (WebAssembly without atomics, and tests that
// keep an allocator to one thread).
unsafe impl<A> Sync for Reusing<A> {}

#[cfg_attr(not(all(target_arch = "wasm32", feature = "js")), allow(dead_code))]
impl<A> Reusing<A> {
    pub const fn new(inner: A) -> Self {
        Reusing {
            inner,
            state: core::cell::UnsafeCell::new(Kept {
                first: [core::ptr::null_mut(); REUSED_MAX / GRAIN + 1],
                bytes: 0,
            }),
        }
    }
}

/// The size class of blocks of `layout`, if they are kept: their size in grains. Such
/// blocks are always allocated from the inner allocator with [`class_layout`].
fn class(layout: core::alloc::Layout) -> Option<usize> {
    (layout.align() <= GRAIN && layout.size() <= REUSED_MAX)
        .then(|| layout.size().max(1).div_ceil(GRAIN))
}

/// The layout of every block of class `class`.
fn class_layout(class: usize) -> core::alloc::Layout {
    // GRAIN is a power of two and the size at most REUSED_MAX.
    core::alloc::Layout::from_size_align(class * GRAIN, GRAIN)
        .unwrap_or(core::alloc::Layout::new::<u8>())
}

// SAFETY: every block handed out is either the inner allocator's own for the given layout,
// or one of a class's blocks (allocated from it with the class layout, which covers the
// size and alignment asked for), never handed out twice before it is freed again.
unsafe impl<A: core::alloc::GlobalAlloc> core::alloc::GlobalAlloc for Reusing<A> {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        let Some(class) = class(layout) else {
            // SAFETY: the caller's layout, as given.
            return unsafe { self.inner.alloc(layout) };
        };
        // SAFETY: one thread, and no other reference to the state lives across this call.
        let kept = unsafe { &mut *self.state.get() };
        let block = kept.first[class];
        if block.is_null() {
            // SAFETY: a layout of non-zero size.
            return unsafe { self.inner.alloc(class_layout(class)) };
        }
        // SAFETY: a kept block is at least a pointer in size and aligned for one (GRAIN),
        // and holds the next block's address.
        kept.first[class] = unsafe { block.cast::<*mut u8>().read() };
        kept.bytes -= class * GRAIN;
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: core::alloc::Layout) {
        let Some(class) = class(layout) else {
            // SAFETY: the caller's block and layout, as allocated.
            return unsafe { self.inner.dealloc(block, layout) };
        };
        // SAFETY: as in `alloc`.
        let kept = unsafe { &mut *self.state.get() };
        if kept.bytes + class * GRAIN > KEPT_MAX {
            // SAFETY: blocks of this class are allocated with the class layout.
            return unsafe { self.inner.dealloc(block, class_layout(class)) };
        }
        // SAFETY: the block is the caller's no more, `class * GRAIN` bytes long (allocated
        // with the class layout), and large and aligned enough for a pointer.
        unsafe {
            core::ptr::write_bytes(block, 0, class * GRAIN);
            block.cast::<*mut u8>().write(kept.first[class]);
        }
        kept.first[class] = block;
        kept.bytes += class * GRAIN;
    }

    unsafe fn realloc(
        &self,
        block: *mut u8,
        layout: core::alloc::Layout,
        new_size: usize,
    ) -> *mut u8 {
        // SAFETY: the caller guarantees a valid layout for `new_size` at this alignment.
        let new_layout =
            unsafe { core::alloc::Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class(layout), class(new_layout)) {
            // SAFETY: the inner allocator's block and layout.
            (None, None) => unsafe { self.inner.realloc(block, layout, new_size) },
            (Some(old), Some(new)) if old == new => block,
            _ => {
                // SAFETY: as `alloc` and `dealloc`, with the caller's block and layouts; the
                // two blocks are distinct, and both hold the bytes copied.
                unsafe {
                    let moved = self.alloc(new_layout);
                    if !moved.is_null() {
                        core::ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                        self.dealloc(block, layout);
                    }
                    moved
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-wise definition.
    fn bytewise(a: &[u8], b: &[u8]) -> i32 {
        a.iter()
            .zip(b)
            .find(|(x, y)| x != y)
            .map_or(0, |(&x, &y)| i32::from(x) - i32::from(y))
    }

    #[test]
    fn comparing_eight_bytes_at_a_time_is_comparing_bytes() {
        let mut state: u64 = 0x243F_6A88_85A3_08D3;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let n = (next() % 40) as usize;
            let a: Vec<u8> = (0..n)
                .map(|_| [0, 1, 0x7F, 0x80, 0xFF][(next() % 5) as usize])
                .collect();
            let mut b = a.clone();
            if n > 0 && next() % 4 != 0 {
                let at = (next() % n as u64) as usize;
                b[at] = next() as u8;
                if next() % 2 == 0 && at + 1 < n {
                    b[at + 1] = next() as u8;
                }
            }
            let (ours, theirs) = (compare(&a, &b), bytewise(&a, &b));
            assert_eq!(ours.signum(), theirs.signum(), "{a:?} {b:?}");
            assert_eq!(ours, theirs, "{a:?} {b:?}");
            assert_eq!(compare(&b, &a), -theirs);
        }
        assert_eq!(compare(b"secret_00001", b"secret_00002"), -1);
        assert_eq!(compare(b"\xFF", b"\x00"), 255);
        assert_eq!(compare(b"", b""), 0);
    }

    #[test]
    fn wiping_empties_the_string() {
        for text in [
            "",
            "a",
            "s3cret",
            &"p".repeat(200),
            "été 😀 and more than eight bytes",
        ] {
            let mut s = String::with_capacity(text.len() + 13);
            s.push_str(text);
            wipe(&mut s);
            assert!(s.is_empty());
        }
    }

    #[test]
    fn freed_small_blocks_are_reused_and_the_rest_go_back() {
        use std::alloc::{GlobalAlloc, Layout, System};
        let reusing = Reusing::new(System);
        let layout = |size| Layout::from_size_align(size, 8).unwrap();
        unsafe {
            let a = reusing.alloc(layout(40));
            a.write_bytes(7, 40);
            reusing.dealloc(a, layout(40));
            // Any size of the same class gets the block back, the most recently freed first.
            let b = reusing.alloc(layout(33));
            assert_eq!(a, b);
            // Kept, it was zeroed: only the list's link (past the pointer) was written since.
            let link = std::mem::size_of::<*mut u8>();
            assert!((link..40).all(|i| *b.add(i) == 0), "a kept block is zeroed");
            let c = reusing.alloc(layout(48));
            assert_ne!(c, b);
            // Growing within the class keeps the block; beyond it moves the bytes.
            assert_eq!(reusing.realloc(c, layout(48), 41), c);
            c.write_bytes(9, 41);
            let d = reusing.realloc(c, layout(41), 2000);
            assert!((0..41).all(|i| *d.add(i) == 9));
            let e = reusing.realloc(d, layout(2000), 3000);
            assert!((0..41).all(|i| *e.add(i) == 9));
            let f = reusing.realloc(e, layout(3000), 10);
            assert!((0..10).all(|i| *f.add(i) == 9));
            reusing.dealloc(f, layout(10));
            reusing.dealloc(b, layout(33));
            // Larger alignments are the inner allocator's.
            let wide = Layout::from_size_align(64, 64).unwrap();
            let g = reusing.alloc(wide);
            assert_eq!(g as usize % 64, 0);
            reusing.dealloc(g, wide);
            // Past the kept bytes, freed blocks go back instead.
            let many: Vec<*mut u8> = (0..(KEPT_MAX / 1024 + 10))
                .map(|_| reusing.alloc(layout(1024)))
                .collect();
            for &block in &many {
                reusing.dealloc(block, layout(1024));
            }
            assert!((*reusing.state.get()).bytes <= KEPT_MAX);
        }
    }
}

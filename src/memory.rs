//! Comparing and wiping bytes eight at a time, for the npm module.
//!
//! In WebAssembly the standard library's `memcmp` (from `compiler_builtins`) compares one
//! byte at a time, and every search of a map by name goes through it: most of building a
//! set from a document. [`memcmp`] here replaces it in the npm module: a strong definition
//! overrides `compiler_builtins`' weak one at link time. The comparison itself is the safe
//! [`compare`], which native tests hold to the byte-wise definition.
//!
//! [`wipe`] overwrites a string's bytes, its spare capacity included, with one fill of
//! zeros that the compiler must keep, where `zeroize` stores one byte at a time.

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
}

//! A secret value is overwritten before its memory is freed, whichever way it leaves a set:
//! the set dropped, a value replaced or removed, a set taken apart and dropped half way, a
//! copy dropped, a name written twice when a set is read.
//!
//! The test's allocator looks at every block freed while it watches and counts the blocks
//! that still hold the marker every value here contains. Native only: the npm module has an
//! allocator of its own.
#![cfg(not(target_arch = "wasm32"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use vdk_secrets::{SecretValue, Secrets};

const MARKER: &[u8] = b"marker-2c41f0e9b7";

struct Spy;

static WATCHING: AtomicBool = AtomicBool::new(false);
static LEAKED: AtomicUsize = AtomicUsize::new(0);
/// One test runs at a time, from its first line: the counts are global, and another test's
/// own strings (such as the text it reads a set from) must not be freed while one watches.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

// SAFETY: every call is passed on to the system allocator unchanged; `dealloc` only reads
// the block it is given, which is still allocated while it is read.
unsafe impl GlobalAlloc for Spy {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        if WATCHING.load(Ordering::SeqCst) {
            let bytes = unsafe { std::slice::from_raw_parts(block, layout.size()) };
            if bytes.windows(MARKER.len()).any(|w| w == MARKER) {
                LEAKED.fetch_add(1, Ordering::SeqCst);
            }
        }
        unsafe { System.dealloc(block, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Spy = Spy;

/// A string value holding the marker, made in one allocation of its exact size.
fn secret(n: u8) -> SecretValue {
    let mut text = String::with_capacity(MARKER.len() + 1);
    text.push_str(std::str::from_utf8(MARKER).unwrap());
    text.push(char::from(b'0' + n));
    SecretValue::string(text)
}

/// Runs `f` while freed blocks are watched; the number of them that held a value.
fn freed_unwiped(f: impl FnOnce()) -> usize {
    LEAKED.store(0, Ordering::SeqCst);
    WATCHING.store(true, Ordering::SeqCst);
    f();
    WATCHING.store(false, Ordering::SeqCst);
    LEAKED.load(Ordering::SeqCst)
}

fn set_of(count: u8) -> Secrets {
    (0..count).map(|n| (format!("s{n}"), secret(n))).collect()
}

#[test]
fn the_spy_sees_a_value_freed_without_wiping() {
    let _alone = alone();
    // The control: a plain string holding the marker is found when it is freed.
    let plain = String::from_utf8(MARKER.to_vec()).unwrap();
    assert_eq!(freed_unwiped(|| drop(plain)), 1);
}

#[test]
fn a_dropped_set_and_its_copies_leave_no_value_in_freed_memory() {
    let _alone = alone();
    let set = set_of(40);
    let copy = set.clone();
    assert_eq!(freed_unwiped(|| drop(copy)), 0);
    assert_eq!(freed_unwiped(|| drop(set)), 0);
}

#[test]
fn replaced_and_removed_values_leave_none_in_freed_memory() {
    let _alone = alone();
    let mut set = set_of(10);
    assert_eq!(
        freed_unwiped(|| {
            drop(set.insert("s1", secret(9)));
            drop(set.remove("s2"));
        }),
        0
    );
    assert_eq!(freed_unwiped(|| drop(set)), 0);
}

#[test]
fn a_set_taken_apart_and_dropped_half_way_leaves_no_value_in_freed_memory() {
    let _alone = alone();
    let set = set_of(30);
    assert_eq!(
        freed_unwiped(|| {
            let mut taken = set.into_iter();
            for _ in 0..10 {
                drop(taken.next());
            }
            drop(taken.next_back());
            drop(taken);
        }),
        0
    );
}

#[test]
fn a_name_read_twice_leaves_no_value_in_freed_memory() {
    let _alone = alone();
    let marker = std::str::from_utf8(MARKER).unwrap();
    let text = format!(r#"{{"a": "{marker}1", "a": "{marker}2", "b": ["{marker}3"]}}"#);
    let mut read = None;
    let mut document = None;
    let leaked = freed_unwiped(|| {
        read = Some(serde_json::from_str::<Secrets>(&text).unwrap());
        document = Some(Secrets::from_json_document(&text));
    });
    assert_eq!(leaked, 0);
    assert_eq!(read.as_ref().unwrap().len(), 2);
    // A document that writes a name twice is refused; nothing of it is left unwiped.
    assert!(document.unwrap().is_err());
    // The text itself is the caller's to wipe.
    let mut bytes = text.into_bytes();
    bytes.fill(0);
    assert_eq!(freed_unwiped(|| drop(read)), 0);
}

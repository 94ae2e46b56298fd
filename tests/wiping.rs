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

// SAFETY: every call is passed on to the system allocator. Blocks are handed out zeroed and
// zeroed again before they are freed, so that every byte `dealloc` reads has been written,
// and no block freed before a test watches can carry a marker into a later one. `dealloc`
// reads and writes only the block it is given, which is still allocated while it does.
unsafe impl GlobalAlloc for Spy {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        if WATCHING.load(Ordering::SeqCst) {
            let bytes = unsafe { std::slice::from_raw_parts(block, layout.size()) };
            if bytes.windows(MARKER.len()).any(|w| w == MARKER) {
                LEAKED.fetch_add(1, Ordering::SeqCst);
            }
        }
        unsafe {
            std::ptr::write_bytes(block, 0, layout.size());
            System.dealloc(block, layout)
        }
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
    /// Stops watching however `f` ends.
    struct Watch;
    impl Drop for Watch {
        fn drop(&mut self) {
            WATCHING.store(false, Ordering::SeqCst);
        }
    }
    LEAKED.store(0, Ordering::SeqCst);
    WATCHING.store(true, Ordering::SeqCst);
    let watch = Watch;
    f();
    drop(watch);
    LEAKED.load(Ordering::SeqCst)
}

/// `text` with the marker in place of each `#`.
fn with_marker(text: &str) -> String {
    text.replace('#', std::str::from_utf8(MARKER).unwrap())
}

/// Drops `text` after overwriting it: the text a value was read from is its caller's to wipe.
fn forget(text: String) {
    let mut bytes = text.into_bytes();
    bytes.fill(0);
    drop(std::hint::black_box(bytes));
}

fn set_of(count: u8) -> Secrets {
    (0..count).map(|n| (format!("s{n}"), secret(n))).collect()
}

#[test]
fn the_spy_sees_a_value_freed_without_wiping() {
    let _alone = alone();
    // The control: a plain string holding the marker is found when it is freed.
    let plain = String::from_utf8(MARKER.to_vec()).unwrap();
    assert_eq!(freed_unwiped(|| drop(std::hint::black_box(plain))), 1);
}

#[test]
fn a_dropped_set_and_its_copies_leave_no_value_in_freed_memory() {
    let _alone = alone();
    let set = set_of(40);
    let copy = std::hint::black_box(set.clone());
    assert_eq!(copy.len(), 40);
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
    let text = with_marker(r##"{"a": "#1", "a": "#2", "b": ["#3"]}"##);
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
    forget(text);
    assert_eq!(freed_unwiped(|| drop(read)), 0);
}

#[test]
fn a_read_that_fails_half_way_or_at_trailing_text_leaves_no_value_in_freed_memory() {
    use vdk_secrets::secrets::json::{self, own};
    let _alone = alone();
    for document in [
        r##"{"a": "#1", "b": ["#2", {"c": "#3"}]} trailing"##,
        r##"{"a": "#1", "b": "#2",}"##,
        r##"{"a": "#1", "b": "#2" "c": 1}"##,
        r##"{"a": "#1"}}"##,
    ] {
        let text = with_marker(document);
        let leaked = freed_unwiped(|| {
            assert!(Secrets::from_json_document(&text).is_err());
            assert!(serde_json::from_str::<Secrets>(&text).is_err());
            // Both readers: serde_json's, and the npm module's own (compiled here too).
            assert!(json::object_members(&text).is_err());
            assert!(own::object_members(&text).is_err());
            assert!(own::from_str(&text).is_err());
        });
        assert_eq!(leaked, 0, "{document}");
        forget(text);
    }
    // serde_json's reader of one whole value wipes it when text follows it; the parts of a
    // value it could not finish are serde_json's own (see `wipe`).
    let text = with_marker(r##"{"a": "#1", "b": ["#2", {"c": "#3"}]} trailing"##);
    assert_eq!(freed_unwiped(|| assert!(json::from_str(&text).is_err())), 0);
    forget(text);
    // A name written twice inside a value: the replaced value is wiped.
    let text = with_marker(r##"{"a": {"x": "#1", "x": "#2"}}"##);
    let mut read = None;
    assert_eq!(
        freed_unwiped(|| read = Some(own::from_str(&text).unwrap())),
        0
    );
    forget(text);
    assert_eq!(
        read.unwrap()["a"]["x"].as_str().map(str::len),
        Some(MARKER.len() + 1)
    );
    let text = with_marker(r##""#1" trailing"##);
    let leaked = freed_unwiped(|| {
        assert!(SecretValue::from_json("k", &text).is_err());
        assert!(own::from_str(&text).is_err());
    });
    assert_eq!(leaked, 0);
    forget(text);
}

//! The embedded store keeps parsed statements, weighing each as an upper estimate of the heap its
//! syntax tree holds: `STATEMENT_OVERHEAD` plus `STATEMENT_TREE_PER_BYTE` bytes per byte of its
//! text. This checks that
//! estimate against what the parser's trees hold, for the texts that make the most tree per
//! byte (short tokens that each become a node: list items, operators, properties, strings,
//! pattern steps; chained comparisons, whose inner operands the parser copies), at 2,000 bytes,
//! near the longest text the store keeps (2 KiB; the estimate grows with the text, so the bytes
//! per byte are what count).
//!
//! Its own test binary, with one test: the count is of the heap this thread holds, through a
//! global allocator that only this binary has.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use chatmesh_graph::internals::{STATEMENT_OVERHEAD, STATEMENT_TREE_PER_BYTE, parse};

struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // During thread teardown the slot may be gone; those bytes are not this test's.
    let _ = HELD.try_with(|held| held.set(held.get() + delta));
}

// SAFETY: every call is passed to the system allocator unchanged; only a counter is kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes of heap the statement parsed from `text` holds.
fn tree_bytes(text: &str) -> isize {
    let before = HELD.with(Cell::get);
    let statement = parse(text).unwrap_or_else(|e| panic!("{text:.60}…: {e}"));
    let held = HELD.with(Cell::get) - before;
    drop(statement);
    held
}

/// `head`, then `item` joined by `sep` as often as fits in 2,000 bytes (at most `most` times:
/// the parser limits how deep operators nest and how long a pattern is), then `tail`.
fn repeated(head: &str, item: &str, sep: &str, tail: &str, most: usize) -> String {
    let mut text = head.to_owned();
    let mut first = true;
    for _ in 0..most {
        if text.len() + sep.len() + item.len() + tail.len() > 2_000 {
            break;
        }
        if !first {
            text.push_str(sep);
        }
        text.push_str(item);
        first = false;
    }
    text + tail
}

#[test]
fn syntax_trees_stay_within_the_stores_estimate() {
    let any = usize::MAX;
    let texts = [
        repeated("RETURN [", "1", ",", "] AS x", any),
        repeated("RETURN ", "1", "+", " AS x", 99),
        repeated("RETURN [", "'a'", ",", "] AS x", any),
        repeated("RETURN {", "a:1", ",", "} AS x", any),
        repeated("WITH {} AS a RETURN [", "a.b", ",", "] AS x", any),
        repeated("RETURN [", "size(1)", ",", "] AS x", any),
        repeated("RETURN [", "$p", ",", "] AS x", any),
        repeated("MATCH ", "()", "--", " RETURN 1 AS x", 100),
        repeated("MATCH (a) WHERE ", "a:L", " OR ", " RETURN 1 AS x", 49),
        repeated("MATCH ", "()", ",", " RETURN 1 AS x", 100),
        // A chain of comparisons is read as `a < b AND b < c`: each inner operand twice.
        repeated("RETURN ", "1", "<", " AS x", 99),
        repeated("RETURN ", "1+1", "<", " AS x", 33),
        repeated(
            "RETURN ",
            "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]",
            "<",
            " AS x",
            99,
        ),
    ];
    for text in &texts {
        let held = tree_bytes(text);
        let estimate = STATEMENT_OVERHEAD + STATEMENT_TREE_PER_BYTE * text.len() as u64;
        println!(
            "{held:6} bytes of tree from {:4} bytes of text ({:4.1} per byte), estimate {estimate}: {:.40}…",
            text.len(),
            held as f64 / text.len() as f64,
            text
        );
        assert!(
            held as u64 <= estimate,
            "{held} bytes of tree, past the store's estimate of {estimate}: {text:.60}…"
        );
    }
}

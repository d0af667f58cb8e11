//! The module's heap allocator: power-of-two size classes with a free list each.
//!
//! This is the crate's one module with unsafe code (the workspace denies `unsafe_code` elsewhere):
//! an allocator hands out raw memory by nature.
//!
//! * A request of `(size, align)` gets a block of `2^k` bytes, the smallest power of two that is at
//!   least `size`, `align` and 8 (room for a free-list link). `k` is the request's class.
//! * Every block of class `k` starts at a multiple of `2^k`, so it is aligned for every request
//!   of its class (`align <= 2^k`).
//! * A freed block goes on the front of its class's free list; the link to the next free block
//!   is stored in the block's first word. Blocks are never split or merged, and a request is
//!   served from its class's list first.
//! * With the list empty, a new block is carved at the end of the heap: the end moves up to a
//!   multiple of the block's size, and the space skipped on the way is cut into naturally
//!   aligned smaller blocks that go on their own lists.
//! * When the end passes the memory's size, linear memory grows by the pages needed. The heap
//!   starts where the memory ended when it first grew, above the data and stack the linker
//!   placed. If memory cannot grow, the request gets a null pointer (Rust's out-of-memory path).
//! * `realloc` keeps the block when the new size is of the same class; otherwise it allocates,
//!   copies and frees. A shrink into a smaller class moves too, so a block of one class is never
//!   reused as a smaller one and the memory held for each class stays bounded by the most
//!   blocks of that class ever live at once.
//!
//! Requests and frees never search: a free-list pop or push, or a carve at the end. The cost is
//! memory: the rounding up to a power of two, and free blocks of one class that cannot serve
//! another.

#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;
use core::ptr;

/// The size of a wasm memory page.
const PAGE: usize = 1 << 16;

/// Where a [`Heap`] gets its memory from.
pub trait Grow {
    /// Adds `pages` pages to the end of the memory and returns the memory's previous size in
    /// pages (so the new pages start at that page number times 64 KiB), or `usize::MAX` when
    /// the memory cannot grow. Like `memory.grow`. The memory is never empty before the first
    /// call (a wasm module's memory holds its stack and data), so no block starts at address 0.
    fn grow(&self, pages: usize) -> usize;
}

/// The module's linear memory.
#[cfg(target_arch = "wasm32")]
#[derive(Debug)]
pub struct WasmMemory;

#[cfg(target_arch = "wasm32")]
impl Grow for WasmMemory {
    fn grow(&self, pages: usize) -> usize {
        core::arch::wasm32::memory_grow::<0>(pages)
    }
}

/// A heap: the free lists, the end of the carved part, and the end of the memory it owns.
#[derive(Debug)]
pub struct Heap<G> {
    /// The first free block of each class (its address, or 0 for none).
    free: [Cell<usize>; usize::BITS as usize],
    /// Where the next block is carved.
    bump: Cell<usize>,
    /// The end of the memory the heap owns (0 before its first growth).
    end: Cell<usize>,
    grow: G,
}

/// The global heap, on the module's linear memory.
#[cfg(target_arch = "wasm32")]
pub type WasmHeap = Heap<WasmMemory>;

// SAFETY: a `Heap`'s state lives in `Cell`s and is not safe to share between threads. The module
// is built without wasm threads or shared memory, so the browser runs it on one thread: the global
// heap is never used from two threads.
#[cfg(target_arch = "wasm32")]
unsafe impl Sync for WasmHeap {}

/// The class of a request: log2 of its block size.
fn class(layout: Layout) -> usize {
    let n = layout.size().max(layout.align()).max(8);
    // `n <= isize::MAX + 1` (a `Layout`'s limit), so the class is below `usize::BITS`.
    (usize::BITS - (n - 1).leading_zeros()) as usize
}

impl<G: Grow> Heap<G> {
    /// An empty heap, growing through `grow`.
    pub const fn new(grow: G) -> Self {
        Heap {
            free: [const { Cell::new(0) }; usize::BITS as usize],
            bump: Cell::new(0),
            end: Cell::new(0),
            grow,
        }
    }

    /// Puts the block at `addr` on the free list of `class`.
    ///
    /// # Safety
    /// `addr` is the start of an unused block of `2^class` bytes at a multiple of `2^class`, with
    /// `class >= 3`, owned by this heap.
    unsafe fn push(&self, class: usize, addr: usize) {
        let head = &self.free[class];
        // SAFETY: the block is unused, owned by the heap, at least 8 bytes and aligned to 8, so its
        // first word is the heap's to write.
        unsafe { ptr::write(addr as *mut usize, head.get()) };
        head.set(addr);
    }

    /// A new block of `size` bytes (a power of two) from the end of the heap, or null.
    fn carve(&self, size: usize) -> *mut u8 {
        loop {
            let bump = self.bump.get();
            let end = self.end.get();
            let Some(top) = bump
                .checked_add(size - 1)
                .and_then(|a| (a & !(size - 1)).checked_add(size))
            else {
                return ptr::null_mut();
            };
            let at = top - size;
            if top <= end {
                // The skipped space `[bump, at)`, cut into blocks by the lowest set bit of their
                // start: each is aligned to its size, and each ends at or before `at`, the next
                // multiple of `size` (the blocks double until they reach its alignment).
                let mut from = bump;
                while from < at {
                    let block = from & from.wrapping_neg();
                    // SAFETY: `[from, from + block)` lies in `[bump, at)`, which is owned by the
                    // heap (below `end`) and not yet handed out. `from` is a multiple of 8 (the heap
                    // starts at a page and carves blocks of 8 bytes or more), so `block >= 8`, and
                    // `from` is a multiple of `block`.
                    unsafe { self.push(block.trailing_zeros() as usize, from) };
                    from += block;
                }
                self.bump.set(top);
                return at as *mut u8;
            }
            let pages = (top - end).div_ceil(PAGE);
            let old = self.grow.grow(pages);
            if old == usize::MAX {
                return ptr::null_mut();
            }
            let start = old * PAGE;
            if start != end {
                // The first growth, or memory grown by someone else since: carving restarts at
                // the new pages (the rest of the old ones stays unused).
                self.bump.set(start);
            }
            // A memory of 4 GiB ends past `usize::MAX` on wasm32: the heap's end then stops one
            // byte short.
            self.end.set((old + pages).saturating_mul(PAGE));
        }
    }
}

// SAFETY: every block handed out is a part of the heap's memory that is not handed out or on a
// free list at the same time (blocks come from a free list, which they leave, or from beyond
// `bump`, which then moves past them), is at least `size` bytes and is aligned to `align` (see
// the module docs). A block goes back on a list only when freed, with the layout it was
// allocated with, so with its own class.
unsafe impl<G: Grow> GlobalAlloc for Heap<G> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let class = class(layout);
        let head = &self.free[class];
        let block = head.get();
        if block == 0 {
            return self.carve(1 << class);
        }
        // SAFETY: `block` is on the free list, so its first word holds the next free block.
        head.set(unsafe { ptr::read(block as *const usize) });
        block as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller gives back a block it got from this heap with `layout`, so the block
        // is of `layout`'s class, aligned to its size, and no longer used.
        unsafe { self.push(class(layout), ptr as usize) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size`, rounded up to `layout.align()`, does not
        // overflow `isize`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if class(new_layout) == class(layout) {
            return ptr;
        }
        // SAFETY: `new_layout` has a non-zero size (the caller's guarantee).
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: `ptr` holds `layout.size()` bytes; `new` is a different block of at least
            // `new_size` bytes, and the copy takes the smaller of the two sizes. `ptr` is then
            // freed with the layout it was allocated with.
            unsafe {
                ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    /// The module's memory, with a cap on the pages this heap may add, recording the spans it
    /// added.
    struct Limited {
        left: Cell<usize>,
        grown: std::cell::RefCell<Vec<(usize, usize)>>,
    }

    impl Grow for Limited {
        fn grow(&self, pages: usize) -> usize {
            if pages > self.left.get() {
                return usize::MAX;
            }
            let old = core::arch::wasm32::memory_grow::<0>(pages);
            if old != usize::MAX {
                self.left.set(self.left.get() - pages);
                let (start, end) = (old * PAGE, (old + pages) * PAGE);
                let mut grown = self.grown.borrow_mut();
                // Consecutive growths are one span: a block may lie across them.
                match grown.last_mut() {
                    Some(last) if last.1 == start => last.1 = end,
                    _ => grown.push((start, end)),
                }
            }
            old
        }
    }

    fn heap(pages: usize) -> Heap<Limited> {
        Heap::new(Limited {
            left: Cell::new(pages),
            grown: Default::default(),
        })
    }

    /// xorshift64*: a fixed sequence from a seed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// A live block in the test: where, its layout, and the byte it is filled with.
    struct Live {
        ptr: *mut u8,
        layout: Layout,
        fill: u8,
    }

    fn fill(live: &Live) {
        // SAFETY: the block holds `layout.size()` bytes and is owned by the test.
        unsafe { ptr::write_bytes(live.ptr, live.fill, live.layout.size()) }
    }

    fn check(live: &Live) {
        // SAFETY: as in `fill`; every byte was written.
        let bytes = unsafe { core::slice::from_raw_parts(live.ptr, live.layout.size()) };
        assert!(
            bytes.iter().all(|&b| b == live.fill),
            "block at {:?} ({:?}) lost its contents",
            live.ptr,
            live.layout
        );
    }

    /// Checks alignment, that the live blocks lie in memory the heap grew, and that no two of
    /// them overlap.
    fn check_layout(heap: &Heap<Limited>, live: &[Live]) {
        let grown = heap.grow.grown.borrow();
        let mut spans: Vec<(usize, usize)> = live
            .iter()
            .map(|l| {
                let start = l.ptr as usize;
                assert_eq!(start % l.layout.align(), 0, "misaligned {:?}", l.layout);
                let end = start + l.layout.size();
                assert!(
                    grown.iter().any(|&(a, b)| a <= start && end <= b),
                    "block {start:#x}..{end:#x} outside the heap's memory"
                );
                (start, end)
            })
            .collect();
        spans.sort_unstable();
        for pair in spans.windows(2) {
            assert!(pair[0].1 <= pair[1].0, "blocks overlap: {pair:?}");
        }
    }

    #[wasm_bindgen_test]
    fn random_allocs_frees_and_reallocs_keep_blocks_apart_aligned_and_intact() {
        let heap = heap(usize::MAX);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut live: Vec<Live> = Vec::new();
        let mut fills = 0u8;
        for step in 0..20000 {
            fills = fills.wrapping_add(1);
            match rng.below(10) {
                // Allocate (more often than free, so the heap fills up).
                0..=4 => {
                    // Mostly small sizes, one in four up to 100 000 bytes.
                    let max = if rng.below(4) == 0 { 100_000 } else { 300 };
                    let size = 1 + rng.below(max);
                    let align = 1 << rng.below(7);
                    let layout = Layout::from_size_align(size, align).unwrap();
                    // SAFETY: the size is not zero.
                    let ptr = unsafe { heap.alloc(layout) };
                    assert!(!ptr.is_null());
                    let l = Live {
                        ptr,
                        layout,
                        fill: fills,
                    };
                    fill(&l);
                    live.push(l);
                }
                // Free.
                5..=7 if !live.is_empty() => {
                    let l = live.swap_remove(rng.below(live.len()));
                    check(&l);
                    // SAFETY: allocated by `heap` with this layout, not freed before.
                    unsafe { heap.dealloc(l.ptr, l.layout) };
                }
                // Reallocate, to a size up to twice or down to a tenth.
                _ if !live.is_empty() => {
                    let i = rng.below(live.len());
                    check(&live[i]);
                    let old = live[i].layout;
                    let new_size = 1 + rng.below(old.size() * 2);
                    // SAFETY: allocated by `heap` with `old`; the new size is not zero.
                    let ptr = unsafe { heap.realloc(live[i].ptr, old, new_size) };
                    assert!(!ptr.is_null());
                    let kept = Live {
                        ptr,
                        layout: Layout::from_size_align(old.size().min(new_size), old.align())
                            .unwrap(),
                        fill: live[i].fill,
                    };
                    check(&kept);
                    live[i] = Live {
                        ptr,
                        layout: Layout::from_size_align(new_size, old.align()).unwrap(),
                        fill: fills,
                    };
                    fill(&live[i]);
                }
                _ => {}
            }
            if step % 100 == 0 {
                check_layout(&heap, &live);
            }
            if step % 1000 == 0 {
                live.iter().for_each(check);
            }
        }
        check_layout(&heap, &live);
        for l in live {
            check(&l);
            // SAFETY: allocated by `heap` with this layout, not freed before.
            unsafe { heap.dealloc(l.ptr, l.layout) };
        }
    }

    #[wasm_bindgen_test]
    fn freed_blocks_are_reused_by_their_class() {
        let heap = heap(usize::MAX);
        let small = Layout::from_size_align(24, 8).unwrap();
        // SAFETY: non-zero sizes; each block is freed once with its layout.
        unsafe {
            let a = heap.alloc(small);
            let b = heap.alloc(small);
            assert_eq!(
                b as usize - a as usize,
                32,
                "consecutive blocks of one class"
            );
            heap.dealloc(a, small);
            assert_eq!(heap.alloc(Layout::from_size_align(17, 1).unwrap()), a);
            let same = heap.realloc(b, small, 32);
            assert_eq!(same, b, "a size of the same class keeps the block");
            let moved = heap.realloc(b, Layout::from_size_align(32, 8).unwrap(), 33);
            assert_ne!(moved, b);
            assert_eq!(heap.alloc(small), b, "the old block was freed");
        }
    }

    #[wasm_bindgen_test]
    fn large_alignments_are_honoured() {
        let heap = heap(usize::MAX);
        // SAFETY: non-zero sizes.
        unsafe {
            let first = heap.alloc(Layout::from_size_align(8, 1).unwrap());
            for align in [64, 4096, 1 << 17] {
                let p = heap.alloc(Layout::from_size_align(8, align).unwrap());
                assert_eq!(p as usize % align, 0);
            }
            // The space skipped for the alignment serves small requests.
            assert_eq!(
                heap.alloc(Layout::from_size_align(8, 8).unwrap()),
                first.add(8)
            );
        }
    }

    #[wasm_bindgen_test]
    fn a_heap_that_cannot_grow_returns_null_and_keeps_working() {
        let heap = heap(2);
        let big = Layout::from_size_align(200_000, 1).unwrap();
        let small = Layout::from_size_align(100, 4).unwrap();
        // SAFETY: non-zero sizes; each block is freed once with its layout.
        unsafe {
            assert!(heap.alloc(big).is_null());
            let a = heap.alloc(small);
            assert!(!a.is_null());
            assert!(heap.realloc(a, small, 200_000).is_null());
            // A failed realloc leaves the block as it was, still owned by the caller.
            heap.dealloc(a, small);
            assert_eq!(heap.alloc(small), a);
        }
    }
}

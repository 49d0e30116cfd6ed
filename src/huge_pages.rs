//! The command line's global allocator: the system's, with every large block advised for
//! transparent huge pages before anything is written to it.
//!
//! The solvers allocate gigabytes of fresh arrays (the Laplacian, the multigrid levels, the
//! sparse products' rows), and each 4 KiB page of them faults on first touch; on a virtual
//! machine whose host hands memory back and forth, a fault costs several microseconds, and at
//! 256³ the faults of one resistance solve added seconds to it. Huge pages make them 512 times
//! fewer (and spare the TLB misses of the sweeps' scattered reads). Kernels that run THP in
//! `madvise` mode (the common default) grant them only to memory advised so; the advice changes
//! no contents and the kernel may ignore it, so nothing depends on it but speed.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks from this size on are advised (smaller ones would not fill a huge page).
const THRESHOLD: usize = 8 << 20;

/// The system allocator with large blocks advised for huge pages.
pub struct HugePages;

fn advise(ptr: *mut u8, bytes: usize) {
    if bytes >= THRESHOLD && !ptr.is_null() {
        tunnelgrid_cpu::arrays::advise_huge_pages(ptr as usize, bytes);
    }
}

// SAFETY: every call is passed to `System` unchanged; `advise` only gives the kernel advice
// about the returned block.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc(layout);
        advise(ptr, layout.size());
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc_zeroed(layout);
        advise(ptr, layout.size());
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = System.realloc(ptr, layout, new_size);
        advise(moved, new_size);
        moved
    }
}

//! Allocation of the per-site arrays.
//!
//! A fresh array is mapped lazily and every 4 KiB page faults on first touch; at 512³ that is
//! 131 072 faults per array, which cost as much as the labelling itself on a virtual machine.
//! Asking for transparent huge pages makes it 512 times fewer, and it spares the TLB misses of
//! random access (a Newman–Ziff sweep at L = 128 touches 16 MB at random). The kernel may ignore
//! the advice; nothing depends on it but speed.

/// A zeroed array of `len` u32, backed by huge pages where the kernel grants them.
pub fn site_array(len: usize) -> Vec<u32> {
    huge_page_vec(len, 0)
}

/// `len` copies of `value`, backed by huge pages where the kernel grants them: the advice is
/// given before the first write, so the pages are faulted in huge.
pub fn huge_page_vec<T: Clone>(len: usize, value: T) -> Vec<T> {
    let mut array = Vec::with_capacity(len);
    advise_huge_pages(array.as_ptr() as usize, len * std::mem::size_of::<T>());
    array.resize(len, value);
    array
}

/// An empty vector with room for `len` items, advised for huge pages before anything is written.
pub fn huge_page_capacity<T>(len: usize) -> Vec<T> {
    let array = Vec::with_capacity(len);
    advise_huge_pages(array.as_ptr() as usize, len * std::mem::size_of::<T>());
    array
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(start: usize, bytes: usize) {
    const HUGE: usize = 2 << 20;
    let end = start + bytes;
    let aligned = start.div_ceil(HUGE) * HUGE;
    if end > aligned + HUGE {
        // SAFETY: the range lies inside one allocation of ours; MADV_HUGEPAGE changes no contents.
        unsafe {
            libc::madvise(
                aligned as *mut libc::c_void,
                (end - aligned) / HUGE * HUGE,
                libc::MADV_HUGEPAGE,
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_start: usize, _bytes: usize) {}

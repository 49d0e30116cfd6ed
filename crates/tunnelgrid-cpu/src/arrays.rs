//! Allocation of the per-site arrays.
//!
//! A fresh array is mapped lazily and every 4 KiB page faults on first touch; at 512³ that is
//! 131 072 faults per array, which cost as much as the labelling itself on a virtual machine.
//! Asking for transparent huge pages makes it 512 times fewer. The kernel may ignore the advice;
//! nothing depends on it but speed.

/// A zeroed array of `len` u32, backed by huge pages where the kernel grants them.
pub fn site_array(len: usize) -> Vec<u32> {
    let array = vec![0u32; len];
    advise_huge_pages(&array);
    array
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(array: &[u32]) {
    const HUGE: usize = 2 << 20;
    let start = array.as_ptr() as usize;
    let end = start + std::mem::size_of_val(array);
    let aligned = start.div_ceil(HUGE) * HUGE;
    if end > aligned + HUGE {
        // SAFETY: the range lies inside `array`'s allocation; MADV_HUGEPAGE changes no contents.
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
fn advise_huge_pages(_array: &[u32]) {}

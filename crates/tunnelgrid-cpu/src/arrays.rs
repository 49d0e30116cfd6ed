//! Allocation of the per-site arrays.
//!
//! A fresh array is mapped lazily and every 4 KiB page faults on first touch; at 512³ that is
//! 131 072 faults per array, which cost as much as the labelling itself on a virtual machine.
//! Asking for transparent huge pages makes it 512 times fewer, and it spares the TLB misses of
//! random access (a Newman–Ziff sweep at L = 128 touches 16 MB at random). The kernel may ignore
//! the advice; nothing depends on it but speed.

/// A zeroed array of `len` u32, backed by huge pages where the kernel grants them.
///
/// Allocated zeroed (calloc): a large allocation is fresh mapped memory that the kernel zeroes
/// page by page on first touch, so nothing is written here, and the first touch happens in the
/// parallel pass that fills the array (each thread faults in its own part) instead of in one
/// thread's memset followed by the kernel zeroing the same pages again. The advice is given
/// before anything touches the array.
pub fn site_array(len: usize) -> Vec<u32> {
    let array = vec![0u32; len];
    advise_huge_pages(array.as_ptr() as usize, len * std::mem::size_of::<u32>());
    array
}

/// `len` copies of `value`, backed by huge pages where the kernel grants them: the advice is
/// given before the first write, so the pages are faulted in huge.
pub fn huge_page_vec<T: Clone>(len: usize, value: T) -> Vec<T> {
    let mut array = Vec::with_capacity(len);
    advise_huge_pages(array.as_ptr() as usize, len * std::mem::size_of::<T>());
    array.resize(len, value);
    array
}

/// `len` copies of `value`, written by every thread, each its own share.
///
/// For arrays that a serial pass then fills (or scatters into): the first touch of a fresh
/// page is the costly part of writing it (the kernel zeroes it, and on a virtual machine whose
/// host took the memory back, the host has to map it again first: about 2 s per GB of one
/// thread's time here), and a serial pass would take every fault on one thread. At 256³ on bond
/// percolation, the resistance solve's assembly spent 2.2 of its 2.6 s in such faults after the
/// machine had been idle a minute; `vec!` would have left them all to the serial pass.
pub fn parallel_vec<T: Clone + Send + Sync>(len: usize, value: T) -> Vec<T> {
    use rayon::prelude::*;
    let mut array = Vec::with_capacity(len);
    // An exact-length parallel iterator is written in place, each thread its own range.
    array.par_extend(rayon::iter::repeat_n(value, len));
    array
}

/// An empty vector with room for `len` items, advised for huge pages before anything is written.
pub fn huge_page_capacity<T>(len: usize) -> Vec<T> {
    let array = Vec::with_capacity(len);
    advise_huge_pages(array.as_ptr() as usize, len * std::mem::size_of::<T>());
    array
}

/// Advises the 2 MiB-aligned whole huge pages inside `bytes` bytes from `start` (one block of
/// the caller's) for transparent huge pages.
#[cfg(target_os = "linux")]
pub fn advise_huge_pages(start: usize, bytes: usize) {
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

/// Elsewhere the advice is not given.
#[cfg(not(target_os = "linux"))]
pub fn advise_huge_pages(_start: usize, _bytes: usize) {}

/// Per-site arrays an engine keeps between calls, so that repeated work on one shape (sweep
/// points, threshold samples, calls from a script) pays the page faults of first touch once,
/// not once per call. It holds at most two arrays (8 bytes per site) of the last shape used.
#[derive(Debug, Default)]
pub struct ArrayPool {
    free: std::sync::Mutex<Vec<Vec<u32>>>,
}

/// A clone starts empty: kept arrays are a cache, not state.
impl Clone for ArrayPool {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl ArrayPool {
    /// An array of `len` u32 with *arbitrary contents* (the caller overwrites every entry): a
    /// kept one of that length, or a fresh one.
    pub fn take(&self, len: usize) -> Vec<u32> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        match free.iter().position(|a| a.len() == len) {
            Some(i) => free.swap_remove(i),
            None => {
                drop(free);
                site_array(len)
            }
        }
    }

    /// Keeps `array` for a later `take`; arrays of another length (an old shape) are dropped.
    pub fn give(&self, array: Vec<u32>) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        free.retain(|a| a.len() == array.len());
        if free.len() < 2 {
            free.push(array);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parallel_vec_is_the_vec_of_its_value() {
        // Lengths below, at and across the share of one thread.
        for len in [0, 1, 7, 1000, 100_003] {
            assert_eq!(parallel_vec(len, 2.5f64), vec![2.5f64; len]);
            assert_eq!(parallel_vec(len, (3u32, -1i8)), vec![(3u32, -1i8); len]);
        }
    }
}

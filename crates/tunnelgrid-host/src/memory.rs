//! How much memory this process can still get, so that a run too large for it is refused with a
//! clear message instead of aborting on a failed allocation.

/// Bytes of memory this process can still get (None where nothing is known): the least of the
/// system's available memory (/proc/meminfo), the headroom under the address-space limit
/// (`ulimit -v`, RLIMIT_AS) and the headroom under the memory limit of the process's cgroup
/// (containers, `systemd-run -p MemoryMax=`). A run refused here gets a clear message; one
/// that passed MemAvailable alone could abort on a failed allocation under either limit.
pub fn available_memory() -> Option<u64> {
    [
        system_available(),
        address_space_headroom(),
        cgroup_headroom(),
    ]
    .into_iter()
    .flatten()
    .min()
}

/// `MemAvailable` of /proc/meminfo.
fn system_available() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    kib_field(&info, "MemAvailable:")
}

/// A `Name:   123 kB` line of a /proc file, in bytes.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// RLIMIT_AS less the address space already mapped (VmSize).
#[cfg(unix)]
fn address_space_headroom() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) } != 0
        || limit.rlim_cur == libc::RLIM_INFINITY
    {
        return None;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let mapped = kib_field(&status, "VmSize:").unwrap_or(0);
    Some(limit.rlim_cur.saturating_sub(mapped))
}

/// The cgroup's memory limit less its usage: cgroup v2 (`memory.max`, `memory.current`) or v1
/// (`memory.limit_in_bytes`, `memory.usage_in_bytes`).
fn cgroup_headroom() -> Option<u64> {
    let read_u64 =
        |path: &str| -> Option<u64> { std::fs::read_to_string(path).ok()?.trim().parse().ok() };
    let membership = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    for line in membership.lines() {
        // v2: "0::/path"; v1: "N:memory:/path" (or with other controllers joined by commas).
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let (limit, usage) = if controllers.is_empty() {
            let dir = format!("/sys/fs/cgroup{path}");
            (
                read_u64(&format!("{dir}/memory.max")),
                read_u64(&format!("{dir}/memory.current")),
            )
        } else if controllers.split(',').any(|c| c == "memory") {
            let dir = format!("/sys/fs/cgroup/memory{path}");
            (
                read_u64(&format!("{dir}/memory.limit_in_bytes")),
                read_u64(&format!("{dir}/memory.usage_in_bytes")),
            )
        } else {
            continue;
        };
        // "max" (no limit) does not parse; v1 writes a huge number for none.
        if let Some(limit) = limit.filter(|&l| l < 1 << 60) {
            return Some(limit.saturating_sub(usage.unwrap_or(0)));
        }
    }
    None
}

/// No address-space limit to read off a system without `getrlimit`.
#[cfg(not(unix))]
fn address_space_headroom() -> Option<u64> {
    None
}

/// Refuses a resistance solve that needs more than `limit` bytes, or, without a limit, more
/// than the memory this process can still get (no check where the system cannot tell).
pub fn check_solve_memory(
    needed_bytes: u64,
    limit: Option<u64>,
) -> Result<(), tunnelgrid_model::KirchhoffError> {
    match limit.or_else(available_memory) {
        Some(available_bytes) if needed_bytes > available_bytes => {
            Err(tunnelgrid_model::KirchhoffError::OutOfMemory {
                needed_bytes,
                available_bytes,
            })
        }
        _ => Ok(()),
    }
}

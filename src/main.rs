//! The `tunnelgrid` command line; all the work happens in the library crates.

mod cli;
#[cfg(target_os = "linux")]
mod huge_pages;

#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: huge_pages::HugePages = huge_pages::HugePages;

fn main() -> std::process::ExitCode {
    // Vulkan's window-system probe (libwayland, loaded by Mesa's drivers) prints an error when
    // XDG_RUNTIME_DIR is unset, as on servers and in CI. tunnelgrid opens no window; give the
    // probe a folder before any thread starts so the message does not look like ours.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    cli::main()
}

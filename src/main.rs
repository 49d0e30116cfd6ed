//! The `tunnelgrid` command line; all the work happens in the library crates.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}

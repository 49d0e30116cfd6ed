//! Pressure–temperature sweeps: every (P, T) point of a grid is analysed (optionally over several
//! seeds and with the resistivity per axis), and each finished point is appended to `sweep.csv`
//! at once, so a killed sweep loses nothing and `--resume` skips the points already there.
//!
//! # The file
//! `sweep.csv` starts with one `#` line that identifies the sweep (material fingerprint, lattice
//! size, grid, seeds, axes, resistance; a shard adds ` shard=I/N`), then the CSV header, then one
//! row per point. Every number is written with a fixed format (`{:.9e}` for observables, Rust's
//! shortest round-trip form for P and T), so the same sweep gives the same bytes. The last
//! column, `conventional_state`, is solid, liquid or gas by the material's `[phases]` lines
//! (empty without them); files of v1, which lack it, are refused with a message saying so.
//!
//! # Order
//! Points are evaluated one after another in grid order (`index = i_t·n_p + i_p`, pressure
//! fastest; a shard takes the indices `index mod N = I − 1`), each using every core through the
//! engine. The rows of a file are therefore always an increasing prefix of its points, and a
//! resumed sweep appends exactly the rows an uninterrupted one would have: the files are equal
//! byte for byte. `merge` sorts the shards' rows by index.
//!
//! # Appending safely
//! A row is formatted in memory, written with one `write_all` and then `fsync`ed. A kill can
//! at worst leave a torn last line (no trailing newline); `--resume` drops it (truncating the
//! file to the last newline) and evaluates that point again.
//!
//! # Several seeds
//! With `--seeds K` a point is analysed with seeds s, s+1, …, s+K−1 (s the material's or
//! `--seed`). Its state along each axis is the majority state (a tie goes to the less conducting
//! state), the observables are arithmetic means (the mean gap over the seeds that have normal
//! tunnels), and the resistivity is the lower median of the K values (∞ for insulating seeds,
//! 0 for superconducting ones), which agrees with the majority state when K is odd.

mod csv;
mod evaluate;
mod figures;
mod grid;
mod lock;
mod merge;
pub mod phase_lines;
mod plan;

pub use figures::{render_sweep, sweep_figures, SweepFigures};
pub use grid::SweepGrid;
pub use lock::WriterLock;

pub use csv::{grid_points, read_sweep, SweepFile, SweepRow, SweepWriter, HEADER};
pub use evaluate::{evaluate_point, run_sweep};
pub use merge::merge_shards;
pub use plan::{
    check_seed_run, csv_name, pressure_temperature_model, swept_axes, GridAxis, Shard, SweepPlan,
};

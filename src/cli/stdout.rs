//! Standard output that a closed pipe cannot break.
//!
//! `outln!` panics when stdout is a pipe whose reader has gone (`tunnelgrid info | head -1`),
//! which would kill the program before the files it still has to write are written. Every
//! summary line goes through [`print`] instead: the first failed write marks stdout as closed,
//! later lines are dropped, and the command carries on to the end, writing all its files and
//! exiting with its usual status. A reader that left early wanted no more text, so this is not
//! an error; any other failure (a full disk behind a redirection) is said once on stderr.

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout unless an earlier write found it closed.
pub fn print(text: std::fmt::Arguments<'_>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(text).and_then(|()| out.flush()) {
        CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != ErrorKind::BrokenPipe {
            eprintln!("warning: standard output failed ({e}); the summary is not printed further");
        }
    }
}

/// `print!` through [`print`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::stdout::print(format_args!($($arg)*)) };
}

/// `outln!` through [`print`].
macro_rules! outln {
    () => { $crate::cli::stdout::print(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::stdout::print(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {out, outln};

//! Standard output that a reader closing the pipe early does not crash.
//!
//! Rust ignores SIGPIPE, so when the reader of standard output has gone (`stagebench list |
//! head`) a write fails with `BrokenPipe`, and `println!` turns that into a panic. What
//! stagebench prints there is a view of what it has already written to disk, so a reader that
//! stops early loses nothing: the rest of the output is dropped and the command ends as it
//! would have, with its own exit code.

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a write error other than a closed pipe was already reported.
static REPORTED: AtomicBool = AtomicBool::new(false);

/// Writes `args` to standard output; a closed pipe drops it, any other error is said once.
pub fn write(args: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout.write_fmt(args).and_then(|()| stdout.flush())
        && error.kind() != ErrorKind::BrokenPipe
        && !REPORTED.swap(true, Ordering::Relaxed)
    {
        eprintln!("stagebench: cannot write to standard output: {error}");
    }
}

/// `print!` through [`write`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::stdout::write(format_args!($($arg)*)) };
}

/// `println!` through [`write`].
#[macro_export]
macro_rules! outln {
    () => { $crate::stdout::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::stdout::write(format_args!("{}\n", format_args!($($arg)*))) };
}

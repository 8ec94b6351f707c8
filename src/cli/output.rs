//! Printing the report: every line goes through [`line`], which writes to a
//! locked stdout and ends the program quietly (exit 0, as `cat` and `rg`
//! do) when the reader has gone (`parlab render … | head -1`), instead of
//! panicking as `println!` does. When an output file is `-` (stdout), the
//! report goes to stderr so the two do not mix.

use crate::engine::util::files::remove_temp_files_and_exit;
use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set when a file is written to stdout (`--out -`): the report goes to stderr.
static REPORT_TO_STDERR: AtomicBool = AtomicBool::new(false);

/// Sends the report to stderr from now on (stdout carries a file).
pub fn report_to_stderr() {
    REPORT_TO_STDERR.store(true, Ordering::Relaxed);
}

/// Prints formatted text (the [`out!`] and [`outln!`] macros call this).
pub fn print(args: fmt::Arguments<'_>) {
    let result = if REPORT_TO_STDERR.load(Ordering::Relaxed) {
        io::stderr().lock().write_fmt(args)
    } else {
        io::stdout().lock().write_fmt(args)
    };
    if let Err(e) = result {
        stdout_failed(&e);
    }
}

/// A failed write to stdout: a closed reader ends the program quietly
/// (temporary files removed); any other error ends it with exit code 1.
pub fn stdout_failed(e: &io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        remove_temp_files_and_exit(0)
    }
    let _ = writeln!(io::stderr(), "parlab: cannot write to stdout: {e}");
    remove_temp_files_and_exit(1)
}

/// `print!` that ends quietly on a closed stdout.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::print(format_args!($($arg)*)) };
}

/// `println!` that ends quietly on a closed stdout.
macro_rules! outln {
    () => { $crate::cli::output::print(format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::cli::output::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

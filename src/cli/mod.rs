//! The `parlab` command line. With no subcommand it opens the window; each
//! subcommand does the same work headless, for handouts, grading and CI.
//!
//! [`args`] parses and checks what was typed, [`window`] turns the window's
//! flags into the typed plan the gui receives, one file per subcommand does
//! its work, and [`main`] maps every error to its exit code in one place.

#[macro_use]
pub mod output;
mod args;
mod bench;
mod deadlock;
mod gridsearch;
mod lesson;
mod locks;
mod mpi_rank;
mod open;
pub mod outputs;
mod py;
mod race;
mod render;
mod window;
mod worker;
mod workload;
mod workspan;

pub use args::{
    Cli, Command, ViewArgs, WindowArgs, check_output, check_workers, parse_center, parse_kernel,
    parse_schedule, tiling_from, workers_arg,
};

use clap::Parser;
use std::path::Path;

use crate::engine::BadInput;
use crate::engine::util::files::remove_temp_files_and_exit;
use std::process::ExitCode;

/// An error from a subcommand: a message and the exit code it maps to.
#[derive(Debug)]
pub enum CliError {
    /// Bad input (exit code 2); nothing was written.
    Usage(String),
    /// The work itself failed (exit code 1).
    Failed(String),
}

/// The one place an engine error becomes an exit code: the error's type
/// says whether the input was at fault (exit code 2) or the work failed
/// (exit code 1), so a subcommand passes it on with `?`. A subcommand that
/// names the flag at fault adds it to the message itself.
impl<E: BadInput> From<E> for CliError {
    fn from(e: E) -> Self {
        if e.is_bad_input() {
            CliError::Usage(e.to_string())
        } else {
            CliError::Failed(e.to_string())
        }
    }
}

impl CliError {
    fn exit(&self) -> ExitCode {
        use std::io::Write as _;
        // A closed stderr must not turn a clear exit code into a panic.
        let mut err = std::io::stderr().lock();
        match self {
            CliError::Usage(m) => {
                let _ = writeln!(err, "parlab: error: {m}");
                ExitCode::from(2)
            }
            CliError::Failed(m) => {
                let _ = writeln!(err, "parlab: {m}");
                ExitCode::from(1)
            }
        }
    }
}

/// A clap value parser for a whole number that also takes a negative one
/// (with `allow_negative_numbers`): `--width -5` then reaches a message that
/// names the range (`must be 1..=16384, got -5`), not clap's "unexpected
/// argument". A value that fits the type goes on to the engine's own check.
pub fn whole<T>(
    lo: i128,
    hi: i128,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: TryFrom<i128> + Clone + Send + Sync + 'static,
{
    move |s: &str| {
        let v: i128 = s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a whole number"))?;
        T::try_from(v).map_err(|_| format!("must be {lo}..={hi}, got {v}"))
    }
}

/// Entry point for the binary.
pub fn main() -> ExitCode {
    // Ctrl-C or SIGTERM during a write removes the temporary file before the
    // process ends (exit code 130, as a shell reports an interrupt). The
    // `ctrlc` crate keeps the signal-handling `unsafe` out of this crate.
    let _ = ctrlc::set_handler(|| remove_temp_files_and_exit(130));
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Render(args)) => render::run(&args),
        Some(Command::Workspan(args)) => workspan::run(&args),
        Some(Command::Gridsearch(args)) => gridsearch::run(&args),
        Some(Command::Workload(cmd)) => workload::run(&cmd),
        Some(Command::Race(args)) => race::run(&args),
        Some(Command::Locks(args)) => locks::run(&args),
        Some(Command::Deadlock(args)) => deadlock::run(&args),
        Some(Command::Lesson(cmd)) => lesson::run(&cmd),
        Some(Command::Bench(args)) => bench::run(&args),
        Some(Command::Worker) => worker::run(),
        Some(Command::MpiRank(args)) => mpi_rank::run(&args),
        Some(Command::Py(args)) => py::run(&args),
        Some(Command::Open(args)) => open::run(&args),
        Some(Command::CheckPng { file }) => check_png(&file),
        None => window::open(&cli.window),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.exit(),
    }
}

/// Fails unless `file` is a PNG with at least 8 distinct colours (not blank).
fn check_png(file: &Path) -> Result<(), CliError> {
    let bytes = crate::engine::util::files::read_capped(file)
        .map_err(|e| CliError::Failed(format!("{}: {e}", file.display())))?;
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .map_err(|e| CliError::Failed(format!("{}: not a readable PNG: {e}", file.display())))?
        .to_rgba8();
    let colours = distinct_colours(&img, 8);
    if colours < 8 {
        return Err(CliError::Failed(format!(
            "{}: {}×{} but only {colours} distinct colour(s): looks blank",
            file.display(),
            img.width(),
            img.height()
        )));
    }
    outln!(
        "{}: {}×{}, not blank",
        file.display(),
        img.width(),
        img.height()
    );
    Ok(())
}

/// Distinct colours in `img`, counting up to `limit`.
pub fn distinct_colours(img: &image::RgbaImage, limit: usize) -> usize {
    let mut seen: Vec<[u8; 4]> = Vec::new();
    for p in img.pixels() {
        if !seen.contains(&p.0) {
            seen.push(p.0);
            if seen.len() >= limit {
                break;
            }
        }
    }
    seen.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_images_have_one_colour() {
        let blank = image::RgbaImage::from_pixel(8, 8, image::Rgba([9, 9, 9, 255]));
        assert_eq!(distinct_colours(&blank, 8), 1);
        let mut busy = blank.clone();
        for (i, p) in busy.pixels_mut().enumerate() {
            p.0[0] = i as u8;
        }
        assert_eq!(distinct_colours(&busy, 8), 8);
    }
}

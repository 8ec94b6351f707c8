//! The files a subcommand will write: checked together before any work
//! (each destination writable, no path given twice), and written together
//! after it, so that one failing write does not stop the others and the
//! error says which were written and which failed.

use super::CliError;
use super::output::report_to_stderr;
use crate::engine::util::files::{Destination, ExportError, check_writable, identity};
use std::path::{Path, PathBuf};

/// Checks every `(flag, path)` before any work: each path can be written
/// (see [`check_writable`]) and no two flags name the same file. A file
/// written to stdout (`-`) sends the report to stderr.
pub fn check_outputs(outputs: &[(&str, &Path)]) -> Result<(), CliError> {
    let mut seen: Vec<(&str, &Path, PathBuf)> = Vec::new();
    for &(flag, path) in outputs {
        let dest = check_writable(path)
            .map_err(|e| CliError::Usage(format!("{flag} {}: {}", path.display(), e.message)))?;
        if dest == Destination::Stdout {
            report_to_stderr();
        }
        if let Some(id) = identity(path) {
            if let Some((other, other_path, _)) = seen.iter().find(|(_, _, s)| *s == id) {
                return Err(CliError::Usage(format!(
                    "{other} {} and {flag} {} are the same file: give each output its own path",
                    other_path.display(),
                    path.display()
                )));
            }
            seen.push((flag, path, id));
        }
    }
    Ok(())
}

/// Outcomes of the writes after the work: every write is tried.
#[derive(Default)]
pub struct Written {
    wrote: Vec<PathBuf>,
    failed: Vec<ExportError>,
}

impl Written {
    /// Records one write's outcome.
    pub fn add(&mut self, path: &Path, result: Result<(), ExportError>) {
        match result {
            Ok(()) => self.wrote.push(path.to_path_buf()),
            Err(e) => self.failed.push(e),
        }
    }

    /// Ok when every write succeeded; else exit code 1 with a message
    /// naming what was written and what failed (and why). A write that
    /// failed because stdout's reader went away ends the program quietly.
    pub fn finish(self) -> Result<(), CliError> {
        if self.failed.is_empty() {
            return Ok(());
        }
        if self.failed.iter().any(|e| e.broken_pipe) {
            super::output::stdout_failed(&std::io::ErrorKind::BrokenPipe.into());
        }
        let failed: Vec<String> = self.failed.iter().map(ToString::to_string).collect();
        let wrote: Vec<String> = self.wrote.iter().map(|p| p.display().to_string()).collect();
        Err(CliError::Failed(format!(
            "{}; {}",
            failed.join("; "),
            if wrote.is_empty() {
                "nothing else was written".to_string()
            } else {
                format!("wrote {}", wrote.join(", "))
            }
        )))
    }
}

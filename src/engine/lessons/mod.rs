//! Lessons: a guided lab of predict, measure, explain. Each lesson is data
//! ([`lesson`]: one TOML file, shipped inside the binary or read from a
//! folder), its measurement is engine code shared by the window and
//! `parlab lesson run` ([`measure`]), the prediction meets the result in
//! [`compare`], a bar chart for figures without a chart of their own is in
//! [`plot`], and [`report`] writes the lab report (HTML and Markdown).

pub mod compare;
pub mod lesson;
pub mod measure;
pub mod plot;
pub mod report;

pub use compare::{Agreement, Verdict, judge};
pub use lesson::{Lesson, Loaded, PANELS, Prediction, load, load_dir, shipped};
pub use measure::{Figure, LessonResult, Measure, run};

use crate::engine::BadInput;
use std::path::PathBuf;

/// A lessons error: a lesson file that cannot be read or is wrong (its
/// name and line), or a measurement that failed.
#[derive(Debug, thiserror::Error)]
pub enum LessonError {
    /// TOML that does not parse, or a field of the wrong type.
    #[error("{file}:{}: {message}", line.map_or("?".to_string(), |l| l.to_string()))]
    Parse {
        file: String,
        line: Option<usize>,
        message: String,
    },
    /// Parsed, but a value is wrong (an unknown panel, a bad worker count…).
    #[error("{file}:{}: {message}", line.map_or("?".to_string(), |l| l.to_string()))]
    Invalid {
        file: String,
        line: Option<usize>,
        message: String,
    },
    #[error("{file}: lesson {number} again (already in {other})")]
    Duplicate {
        file: String,
        number: u32,
        other: String,
    },
    #[error("{file}: cannot read: {message}")]
    Read { file: String, message: String },
    #[error("{}: cannot read the lessons folder: {source}", dir.display())]
    Folder {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: no lesson files (*.toml) in this folder", dir.display())]
    EmptyFolder { dir: PathBuf },
    #[error("no lesson {number}: the lessons are {known}")]
    NoLesson { number: u32, known: String },
    /// A measurement refused before it started.
    #[error("lesson {lesson}: {message}")]
    Measure { lesson: u32, message: String },
    /// Python could not run (no interpreter, a failing script).
    #[error("lesson {lesson} needs Python: {message}")]
    Python { lesson: u32, message: String },
    /// The measurement started and failed.
    #[error("lesson {lesson}: the measurement failed: {message}")]
    Failed { lesson: u32, message: String },
    #[error("lesson {lesson}: stopped before the end")]
    Cancelled { lesson: u32 },
}

impl BadInput for LessonError {
    fn is_bad_input(&self) -> bool {
        match self {
            LessonError::Parse { .. }
            | LessonError::Invalid { .. }
            | LessonError::Duplicate { .. }
            | LessonError::Read { .. }
            | LessonError::Folder { .. }
            | LessonError::EmptyFolder { .. }
            | LessonError::NoLesson { .. }
            | LessonError::Measure { .. } => true,
            LessonError::Python { .. }
            | LessonError::Failed { .. }
            | LessonError::Cancelled { .. } => false,
        }
    }
}

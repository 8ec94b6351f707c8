//! A lesson as data: the text, the prediction the student makes, the panel it
//! sets up and the measurement it runs, read from one TOML file per lesson.
//! The shipped lessons are carried inside the binary; `--lessons DIR` reads
//! a folder instead, so an instructor can edit or add one without
//! rebuilding. A file with an error is reported with its name and line, and
//! the others still load.

use super::LessonError;
use super::measure::Measure;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The panels a lesson can set up (the window's `--panel` names).
pub const PANELS: [&str; 6] = ["explorer", "speedup", "race", "locks", "theory", "python"];

/// The lessons parlab ships: (file name, text), in course order.
pub const SHIPPED: [(&str, &str); 10] = [
    (
        "01-pool.toml",
        include_str!("../../../assets/lessons/01-pool.toml"),
    ),
    (
        "02-granularity.toml",
        include_str!("../../../assets/lessons/02-granularity.toml"),
    ),
    (
        "03-imbalance.toml",
        include_str!("../../../assets/lessons/03-imbalance.toml"),
    ),
    (
        "04-amdahl.toml",
        include_str!("../../../assets/lessons/04-amdahl.toml"),
    ),
    (
        "05-gil.toml",
        include_str!("../../../assets/lessons/05-gil.toml"),
    ),
    (
        "06-io-vs-cpu.toml",
        include_str!("../../../assets/lessons/06-io-vs-cpu.toml"),
    ),
    (
        "07-race.toml",
        include_str!("../../../assets/lessons/07-race.toml"),
    ),
    (
        "08-locks.toml",
        include_str!("../../../assets/lessons/08-locks.toml"),
    ),
    (
        "09-workspan.toml",
        include_str!("../../../assets/lessons/09-workspan.toml"),
    ),
    (
        "10-gridsearch.toml",
        include_str!("../../../assets/lessons/10-gridsearch.toml"),
    ),
];

/// One lesson.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// Its place in the lab (1, 2, …): `parlab lesson run N`, `--lesson N`.
    pub number: u32,
    pub title: String,
    /// Why it matters, two or three sentences, shown before the prediction.
    pub why: String,
    pub prediction: Prediction,
    /// The tab Run sets up (one of [`PANELS`]), from the measurement's settings.
    pub panel: String,
    pub measure: Measure,
    /// What happened and why, shown beside the result.
    pub explain: String,
    /// One question the student answers in words.
    pub question: String,
    /// The file it was read from (set on load).
    #[serde(skip_deserializing, default)]
    pub file: String,
}

/// What the student predicts before running, and how it meets the result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prediction {
    pub prompt: String,
    /// The measured figure compared with the prediction: a figure id the
    /// measurement produces, or `a/b`, the ratio of two.
    pub figure: String,
    /// Unit shown after a number ("×", "ms").
    #[serde(default)]
    pub unit: String,
    /// Choices to pick from; empty: the prediction is a number.
    #[serde(default)]
    pub choices: Vec<String>,
    /// For choices over a numeric figure: the boundaries between consecutive
    /// choices, ascending (one fewer than the choices). Without them, the
    /// figure must name a choice (e.g. the best granularity).
    #[serde(default)]
    pub bounds: Vec<f64>,
    /// A number within this many percent of the measured median counts as
    /// right (besides one inside the measured spread).
    #[serde(default = "default_tolerance_pct")]
    pub tolerance_pct: f64,
}

fn default_tolerance_pct() -> f64 {
    20.0
}

impl Prediction {
    /// Whether the student picks a choice (else types a number).
    pub fn is_choice(&self) -> bool {
        !self.choices.is_empty()
    }
}

impl Lesson {
    /// Reads one lesson from TOML text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Lesson, LessonError> {
        let mut lesson: Lesson = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| refine_line(text, s, e.message()));
            LessonError::Parse {
                file: file.to_string(),
                line,
                message: e.message().trim().to_string(),
            }
        })?;
        lesson.file = file.to_string();
        lesson.check().map_err(|message| LessonError::Invalid {
            file: file.to_string(),
            line: line_of_key(text, &message),
            message: message.text,
        })?;
        Ok(lesson)
    }

    /// Checks what TOML cannot: the panel name, the prediction's shape and
    /// the measurement's values (before anything is measured).
    fn check(&self) -> Result<(), Problem> {
        if self.number == 0 {
            return Err(Problem::at("number", "number must be 1 or more"));
        }
        if !PANELS.contains(&self.panel.as_str()) {
            return Err(Problem::at(
                "panel",
                format!(
                    "panel {:?}: expected one of {}",
                    self.panel,
                    PANELS.join(", ")
                ),
            ));
        }
        let p = &self.prediction;
        if p.figure.trim().is_empty() {
            return Err(Problem::at("figure", "prediction.figure is empty"));
        }
        if !p.bounds.is_empty() {
            if p.bounds.len() + 1 != p.choices.len() {
                return Err(Problem::at(
                    "bounds",
                    format!(
                        "prediction.bounds: {} bound(s) for {} choices (give one fewer than the choices)",
                        p.bounds.len(),
                        p.choices.len()
                    ),
                ));
            }
            if p.bounds.windows(2).any(|w| w[0] >= w[1]) || p.bounds.iter().any(|b| !b.is_finite())
            {
                return Err(Problem::at(
                    "bounds",
                    "prediction.bounds must be finite and ascending",
                ));
            }
        }
        if !(p.tolerance_pct.is_finite() && p.tolerance_pct >= 0.0) {
            return Err(Problem::at(
                "tolerance_pct",
                "prediction.tolerance_pct must be 0 or more",
            ));
        }
        self.measure.check().map_err(|e| Problem {
            key: e.key,
            text: format!("measure: {}", e.text),
        })
    }

    /// The figures the measurement produces, for checking the prediction's
    /// figure name without measuring (ids as [`super::measure::run`] makes them).
    pub fn figure_names(&self) -> Vec<String> {
        self.prediction
            .figure
            .split('/')
            .map(|s| s.trim().to_string())
            .collect()
    }
}

/// A problem with one key of a lesson file (to find its line).
#[derive(Debug)]
pub struct Problem {
    pub key: &'static str,
    pub text: String,
}

impl Problem {
    pub fn at(key: &'static str, text: impl Into<String>) -> Problem {
        Problem {
            key,
            text: text.into(),
        }
    }
}

/// The 1-based line of byte offset `at` in `text`.
pub fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The line of an error in `span`. A measurement's table is read as a
/// whole (its `kind` picks the fields), so its errors span the table: the
/// line is then found from the value or field the message names.
fn refine_line(text: &str, span: std::ops::Range<usize>, message: &str) -> usize {
    let start = line_of(text, span.start);
    let from = span.start.min(text.len());
    let mut to = span.end.min(text.len()).max(from);
    let on_header = text[..from]
        .rsplit('\n')
        .next()
        .is_some_and(|l| l.trim_start().starts_with('['))
        || text[from..].starts_with('[');
    if on_header {
        // The span is the table's name: look through the whole table.
        to = text[to..].find("\n[").map_or(text.len(), |i| to + i);
    }
    let inside = &text[from..to];
    if !inside.contains('\n') {
        return start;
    }
    // `invalid type: string "three"`, `unknown field `x``, `missing field `x``.
    let needle = if let Some(i) = message.find("string \"") {
        message[i + 7..]
            .split('"')
            .nth(1)
            .map(|v| format!("\"{v}\""))
    } else {
        message.split('`').nth(1).map(|f| f.to_string())
    };
    needle
        .and_then(|n| inside.find(&n))
        .map_or(start, |at| line_of(text, span.start + at))
}

/// The line where `key = …` first appears (for errors found after parsing).
fn line_of_key(text: &str, problem: &Problem) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(problem.key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

/// Lessons read, and the files that could not be.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Sorted by number.
    pub lessons: Vec<Lesson>,
    /// One per file with an error (its message names the file and line).
    pub problems: Vec<LessonError>,
}

impl Loaded {
    /// The lesson numbered `number`.
    pub fn find(&self, number: u32) -> Option<&Lesson> {
        self.lessons.iter().find(|l| l.number == number)
    }

    fn from_texts(texts: Vec<(String, Result<String, LessonError>)>) -> Loaded {
        let mut out = Loaded::default();
        for (file, text) in texts {
            match text.and_then(|t| Lesson::parse(&file, &t)) {
                Ok(l) => {
                    if let Some(other) = out.lessons.iter().find(|o| o.number == l.number) {
                        out.problems.push(LessonError::Duplicate {
                            file: file.clone(),
                            number: l.number,
                            other: other.file.clone(),
                        });
                    } else {
                        out.lessons.push(l);
                    }
                }
                Err(e) => out.problems.push(e),
            }
        }
        out.lessons.sort_by_key(|l| l.number);
        out
    }
}

/// The lessons carried inside the binary.
pub fn shipped() -> Loaded {
    Loaded::from_texts(
        SHIPPED
            .iter()
            .map(|(f, t)| (f.to_string(), Ok(t.to_string())))
            .collect(),
    )
}

/// Every `*.toml` in `dir`, in file-name order. A folder that cannot be
/// read is an error; a file that cannot be read or parsed is a problem
/// beside the lessons that loaded.
pub fn load_dir(dir: &Path) -> Result<Loaded, LessonError> {
    let entries = std::fs::read_dir(dir).map_err(|e| LessonError::Folder {
        dir: dir.to_path_buf(),
        source: e,
    })?;
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(LessonError::EmptyFolder {
            dir: dir.to_path_buf(),
        });
    }
    let texts = files
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into());
            let text = crate::engine::util::files::read_capped(&p)
                .map_err(|e| LessonError::Read {
                    file: name.clone(),
                    message: e.to_string(),
                })
                .and_then(|b| {
                    String::from_utf8(b).map_err(|_| LessonError::Read {
                        file: name.clone(),
                        message: "not UTF-8 text".into(),
                    })
                });
            (name, text)
        })
        .collect();
    Ok(Loaded::from_texts(texts))
}

/// The shipped lessons, or those in `dir` when given.
pub fn load(dir: Option<&Path>) -> Result<Loaded, LessonError> {
    match dir {
        Some(d) => load_dir(d),
        None => Ok(shipped()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_lesson_loads_in_order() {
        let loaded = shipped();
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        let numbers: Vec<u32> = loaded.lessons.iter().map(|l| l.number).collect();
        assert_eq!(numbers, (1..=10).collect::<Vec<_>>());
        for l in &loaded.lessons {
            assert!(!l.why.trim().is_empty() && !l.question.trim().is_empty());
        }
    }

    #[test]
    fn a_syntax_error_names_the_file_and_line() {
        let text = SHIPPED[0].1.replacen("title =", "title = = ", 1);
        let e = Lesson::parse("bad.toml", &text).expect_err("bad");
        let line = SHIPPED[0]
            .1
            .lines()
            .position(|l| l.starts_with("title"))
            .expect("title")
            + 1;
        let msg = e.to_string();
        assert!(msg.starts_with(&format!("bad.toml:{line}:")), "{msg}");
    }

    #[test]
    fn a_bad_panel_names_its_line() {
        let text = SHIPPED[0]
            .1
            .replacen("panel = \"explorer\"", "panel = \"kitchen\"", 1);
        let e = Lesson::parse("p.toml", &text).expect_err("bad panel");
        let line = text
            .lines()
            .position(|l| l.starts_with("panel"))
            .expect("panel")
            + 1;
        assert!(e.to_string().starts_with(&format!("p.toml:{line}:")), "{e}");
    }
}

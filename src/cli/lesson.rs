//! `parlab lesson`: the guided lab's lessons headless. `list` names them
//! (and any lesson file with an error, by name and line); `run N` runs a
//! lesson's measurement, the same engine code as the window's Run button,
//! and prints its figures with their spread and the busy-machine verdict
//! (`--json` for graders).

use super::CliError;
use crate::engine::lessons::{self, LessonError, Loaded};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

#[derive(Subcommand, Debug)]
pub enum LessonCommand {
    /// List the lessons (and any lesson file with an error).
    List(ListArgs),
    /// Run lesson N's measurement and print what it measured.
    Run(RunArgs),
    /// Run some lessons and write the lab report (HTML and Markdown with PNGs).
    Report(ReportArgs),
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Folder to write the report into (it must exist).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The student's name on the report.
    #[arg(long, default_value = "")]
    pub student: String,
    /// Lessons to run, comma-separated (the others are listed as not run).
    #[arg(long, value_name = "N,…", default_value = "7")]
    pub run: String,
    /// Read the lessons from this folder (*.toml) instead of the shipped ones.
    #[arg(long, value_name = "DIR")]
    pub lessons: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Read the lessons from this folder (*.toml) instead of the shipped ones.
    #[arg(long, value_name = "DIR")]
    pub lessons: Option<PathBuf>,
    /// Print the list as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The lesson's number (see `parlab lesson list`).
    pub number: u32,
    /// Read the lessons from this folder (*.toml) instead of the shipped ones.
    #[arg(long, value_name = "DIR")]
    pub lessons: Option<PathBuf>,
    /// A prediction to compare with the result (a number or one of the choices).
    #[arg(long, value_name = "VALUE")]
    pub predict: Option<String>,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: &LessonCommand) -> Result<(), CliError> {
    match cmd {
        LessonCommand::List(a) => list(a),
        LessonCommand::Run(a) => run_one(a),
        LessonCommand::Report(a) => report(a),
    }
}

fn report(args: &ReportArgs) -> Result<(), CliError> {
    use crate::engine::lessons::report::{LabReport, Machine, ReportEntry, now_utc, write_report};
    let loaded = lessons::load(args.lessons.as_deref())?;
    warn_problems(&loaded);
    if !args.out.is_dir() {
        return Err(CliError::Usage(format!(
            "--out {}: no such folder",
            args.out.display()
        )));
    }
    let mut numbers = Vec::new();
    for n in args.run.split(',') {
        let n: u32 = n.trim().parse().map_err(|_| {
            CliError::Usage(format!(
                "--run {:?}: {n:?} is not a lesson number",
                args.run
            ))
        })?;
        if loaded.find(n).is_none() {
            return Err(CliError::Usage(format!("--run: there is no lesson {n}")));
        }
        numbers.push(n);
    }
    let cancel = Arc::new(AtomicBool::new(false));
    let mut results = Vec::new();
    for n in numbers {
        if let Some(l) = loaded.find(n) {
            results.push(lessons::run(n, &l.measure, &cancel)?);
        }
    }
    let entries = loaded
        .lessons
        .iter()
        .map(|l| ReportEntry {
            lesson: l,
            prediction: "",
            answer: "",
            result: results.iter().find(|r| r.lesson == l.number),
        })
        .collect();
    let report = LabReport {
        student: &args.student,
        date: now_utc(),
        machine: Machine::current(),
        entries,
    };
    let files = write_report(&args.out, &report)?;
    outln!("wrote {}", files.html.display());
    outln!(
        "wrote {} and {} PNG(s)",
        files.markdown.display(),
        files.pngs.len()
    );
    Ok(())
}

fn warn_problems(loaded: &Loaded) {
    for p in &loaded.problems {
        eprintln!("parlab: warning: {p}");
    }
}

fn list(args: &ListArgs) -> Result<(), CliError> {
    let loaded = lessons::load(args.lessons.as_deref())?;
    if args.json {
        let items: Vec<_> = loaded
            .lessons
            .iter()
            .map(|l| {
                serde_json::json!({
                    "number": l.number, "title": l.title, "file": l.file,
                    "panel": l.panel, "measure": l.measure.kind(),
                    "prediction": l.prediction.prompt,
                })
            })
            .collect();
        let problems: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
        outln!(
            "{}",
            serde_json::json!({"lessons": items, "problems": problems})
        );
    } else {
        for l in &loaded.lessons {
            outln!(
                "{:>2}. {:<45} {:<9} {}",
                l.number,
                l.title,
                l.panel,
                l.measure.kind()
            );
        }
        warn_problems(&loaded);
    }
    Ok(())
}

fn run_one(args: &RunArgs) -> Result<(), CliError> {
    let loaded = lessons::load(args.lessons.as_deref())?;
    warn_problems(&loaded);
    let lesson = loaded.find(args.number).ok_or_else(|| {
        let known: Vec<String> = loaded
            .lessons
            .iter()
            .map(|l| l.number.to_string())
            .collect();
        LessonError::NoLesson {
            number: args.number,
            known: known.join(", "),
        }
    })?;
    let cancel = Arc::new(AtomicBool::new(false));
    let result = lessons::run(lesson.number, &lesson.measure, &cancel)?;
    let verdict = args
        .predict
        .as_deref()
        .map(|p| lessons::judge(&lesson.prediction, p, &result));
    let measured = lessons::compare::measured(&lesson.prediction, &result).map(|(m, _)| m);
    if args.json {
        let mut v = result.to_json();
        v["title"] = lesson.title.clone().into();
        v["prediction_figure"] = lesson.prediction.figure.clone().into();
        v["measured"] = measured.into();
        if let Some(verdict) = &verdict {
            v["verdict"] = serde_json::to_value(verdict).unwrap_or_default();
        }
        outln!("{v}");
        return Ok(());
    }
    outln!("lesson {}: {}", lesson.number, lesson.title);
    outln!("prediction asked: {}", lesson.prediction.prompt);
    if let Some(m) = measured {
        outln!("measured: {m}");
    }
    if let Some(v) = verdict {
        outln!("{}", v.words);
    }
    for f in &result.figures {
        outln!("  {:<70} {}", f.label, f.show());
    }
    for n in &result.notes {
        outln!("  {n}");
    }
    outln!("{}", result.busy_verdict());
    outln!("took {:.1} s", result.elapsed_s);
    Ok(())
}

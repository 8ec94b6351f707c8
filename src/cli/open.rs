//! `parlab open TRACE.json`: read a Chrome Trace Event file (parlab's own
//! exports, VizTracer's, py-spy's `--format chrometrace`) and open the window
//! on the Python tab with it; `--summary` (or `--json`) prints its lanes,
//! tasks, utilisation, imbalance and per-lane busy time instead, headless.
//! The file is read and checked before any window opens: a bad one is a
//! message (with its line and column) and exit code 2.

use super::CliError;
use crate::engine::python::chrome::import_file;
use clap::Args;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct OpenArgs {
    /// The trace (Chrome Trace Event JSON).
    #[arg(value_name = "TRACE.json")]
    pub trace: PathBuf,
    /// Print the summary as text instead of opening the window (headless).
    #[arg(long, visible_alias = "print")]
    pub summary: bool,
    /// Print the summary as one JSON object instead of opening the window.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &OpenArgs) -> Result<(), CliError> {
    let imported = import_file(&args.trace)?;
    let s = imported.trace.summary();
    if args.json {
        outln!(
            "{}",
            json!({
                "trace": args.trace.display().to_string(),
                "summary": s,
                "lanes": imported.trace.lanes,
                "tasks": imported.trace.tasks.len(),
                "startups": imported.trace.startups.len(),
                "skipped_events": imported.skipped_events,
                "nested_events": imported.nested_events,
                "unmatched_events": imported.unmatched_events,
            })
        );
        return Ok(());
    }
    #[cfg(feature = "gui")]
    if !args.summary {
        return super::window::open_trace(&args.trace, imported);
    }
    outln!(
        "{}: {} task(s) on {} lane(s) ({} with tasks, {} process(es)); wall {:.3} ms",
        args.trace.display(),
        s.tasks,
        imported.trace.lanes.len(),
        s.task_threads,
        s.task_processes,
        s.wall_nanos as f64 / 1e6
    );
    outln!(
        "utilisation {:.0}%, imbalance {:.2}",
        s.utilisation * 100.0,
        s.imbalance
    );
    outln!("{:<44} {:>6} {:>10}", "lane", "tasks", "busy ms");
    for l in &s.lanes {
        outln!(
            "{:<44} {:>6} {:>10.3}",
            l.label,
            l.tasks,
            l.busy_nanos as f64 / 1e6
        );
    }
    let note = imported.note();
    if !note.is_empty() {
        outln!("{note}");
    }
    if !args.summary && !super::window::HAS_WINDOW {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "parlab: this build has no window (built without the `gui` feature): printed the summary instead"
        );
    }
    Ok(())
}

//! The Lessons tab: first on a fresh start; each lesson's Run button sets
//! up its panel and produces a result; New student clears the student's
//! work and keeps the settings; the lab report is well-formed and complete.

use crate::common::{app_harness, step_until};
use egui_kittest::kittest::Queryable;
use parlab::engine::lessons::Measure;
use parlab::engine::lessons::report::tags_balance;
use parlab::gui::app::App;
use parlab::gui::panel::Tab;

/// The shipped lessons with their measurements made small (one or two
/// repetitions, small images): the same code, quicker.
fn quick_app() -> App {
    let mut app = App::new(None);
    for l in &mut app.lessons.lessons {
        match &mut l.measure {
            Measure::Render { size, reps, .. } => {
                *size = [96, 64];
                *reps = 2;
            }
            Measure::Sweep {
                reps, warmup, size, ..
            } => {
                *reps = 2;
                *warmup = 0;
                *size = [96, 64];
            }
            Measure::Python { items, reps, .. } => {
                *items = 4;
                *reps = 1;
            }
            Measure::Race { repeats, .. } => *repeats = 1,
            Measure::Locks { ops, repeats, .. } => {
                *ops = 20_000;
                *repeats = 2;
            }
            Measure::Workspan {
                n, cutoff, repeats, ..
            } => {
                *n = 64;
                *cutoff = 16;
                *repeats = 2;
            }
            Measure::Gridsearch { reps, .. } => *reps = 1,
        }
    }
    app
}

#[test]
fn lessons_is_the_first_tab_and_shown_on_a_fresh_start() {
    assert_eq!(Tab::ALL[0], Tab::Lessons);
    let app = App::new(None);
    assert_eq!(app.tab, Tab::Lessons);
    assert_eq!(app.lessons.lessons.len(), 10);
}

#[test]
fn each_lessons_run_button_sets_up_its_panel_and_produces_a_result() {
    let mut h = app_harness(quick_app());
    h.step();
    let numbers: Vec<u32> = h.state().lessons.lessons.iter().map(|l| l.number).collect();
    for n in numbers {
        h.state_mut().lessons.select(n);
        h.step();
        h.get_by_label(&format!("Run lesson {n}")).click();
        step_until(&mut h, |a: &App| {
            a.lessons.running().is_none()
                && (a.lessons.result(n).is_some() || a.lessons.run_error(n).is_some())
                && !a.measuring.is_busy()
        });
        let app = h.state();
        let lesson = app.lessons.lesson(n).expect("lesson").clone();
        match app.lessons.result(n) {
            Some(r) => {
                assert!(!r.figures.is_empty(), "lesson {n}");
                assert!(
                    parlab::engine::lessons::compare::measured(&lesson.prediction, r).is_some(),
                    "lesson {n} measures {}",
                    lesson.prediction.figure
                );
                assert!(!r.plots.is_empty(), "lesson {n} has a plot");
            }
            None => {
                let e = app.lessons.run_error(n).unwrap_or_default();
                assert!(n == 5 && e.contains("python3"), "lesson {n}: {e}");
            }
        }
        // The panel it is about is set up from the lesson's settings.
        match &lesson.measure {
            Measure::Render { variants, .. } => {
                let v = &variants[0];
                assert_eq!(
                    app.explorer.settings.schedule.to_string(),
                    v.schedule,
                    "lesson {n}"
                );
                assert!(app.explorer.settings.overlay);
            }
            Measure::Sweep {
                workload,
                granularities,
                ..
            } => {
                let name = workload.split(':').next().unwrap_or_default();
                assert_eq!(app.speedup.settings.workload, name, "lesson {n}");
                if let Some(g) = granularities {
                    assert_eq!(&app.speedup.settings.granularities, g);
                }
            }
            Measure::Python { program, .. } => {
                assert_eq!(
                    app.python.settings.source,
                    parlab::gui::python::Source::shipped(program)
                );
            }
            Measure::Race { presets, .. } => {
                assert_eq!(
                    app.race.preset,
                    parlab::engine::lessons::measure::race_preset(&presets[0])
                );
            }
            Measure::Locks { ops, .. } => assert_eq!(app.locks.throughput.ops, *ops),
            Measure::Workspan {
                n: size, cutoff, ..
            } => {
                assert_eq!(
                    (app.theory.matmul_n, app.theory.matmul_cutoff),
                    (*size, *cutoff)
                );
            }
            Measure::Gridsearch { tasks, .. } => assert_eq!(app.theory.grid_tasks, *tasks),
        }
        assert_eq!(h.state().tab, Tab::Lessons, "Run stays on the lesson");
    }

    // The lab report: HTML well-formed with every plot inside, Markdown
    // links to PNGs that exist; student text escaped.
    let dir = tempfile::tempdir().expect("tmp");
    {
        let lessons = &mut h.state_mut().lessons;
        lessons.settings.student = "Ada <script>".into();
        lessons.entry_mut(7).answer = "because </p><b>".into();
        lessons.settings.report_folder = dir.path().to_path_buf();
    }
    h.get_by_label("Write lab report").click();
    h.step();
    let stem = "lab-report-ada-script";
    let html = std::fs::read_to_string(dir.path().join(format!("{stem}.html"))).expect("html");
    tags_balance(&html).expect("balanced tags");
    assert!(html.contains("Ada &lt;script&gt;") && !html.contains("<script>"));
    assert!(html.contains("because &lt;/p&gt;&lt;b&gt;"));
    let plots: usize = h
        .state()
        .lessons
        .lessons
        .iter()
        .filter_map(|l| h.state().lessons.result(l.number))
        .map(|r| r.plots.len())
        .sum();
    assert!(plots >= 9);
    assert_eq!(html.matches("src=\"data:image/png;base64,").count(), plots);
    let md = std::fs::read_to_string(dir.path().join(format!("{stem}.md"))).expect("md");
    let links: Vec<&str> = md
        .split("](")
        .skip(1)
        .filter_map(|s| s.split(')').next())
        .collect();
    assert_eq!(links.len(), plots);
    for l in links {
        assert!(dir.path().join(l).is_file(), "{l} exists");
    }
    // An unwritable folder is a clear error, not a panic.
    h.state_mut().lessons.settings.report_folder = "/no/such/folder".into();
    let e = h.state_mut().lessons.write_report().expect_err("no folder");
    assert!(e.contains("/no/such/folder"), "{e}");
}

#[test]
fn new_student_clears_predictions_and_answers_after_a_confirmation() {
    let mut app = App::new(None);
    app.explorer.settings.num_workers = 3;
    app.lessons.entry_mut(1).prediction = "faster".into();
    app.lessons.entry_mut(2).answer = "an answer".into();
    app.lessons.settings.student = "Grace".into();
    let mut h = app_harness(app);
    h.step();
    h.get_by_label("New student").click();
    for _ in 0..50 {
        h.step();
        if h.query_by_label("Yes, clear").is_some() {
            break;
        }
    }
    assert_eq!(
        h.state().lessons.settings.entries.len(),
        2,
        "not before confirming"
    );
    h.get_by_label("Yes, clear").click();
    h.step();
    let app = h.state();
    assert!(
        app.lessons
            .settings
            .entries
            .values()
            .all(|e| e == &Default::default())
    );
    assert!(app.lessons.settings.student.is_empty());
    assert_eq!(app.explorer.settings.num_workers, 3, "settings kept");
}

#[test]
fn predictions_persist_with_the_settings_and_bad_ones_are_dropped() {
    let mut app = App::new(None);
    app.lessons.entry_mut(4).prediction = "1.8".into();
    app.lessons.settings.entries.insert(99, Default::default());
    let json = parlab::gui::settings::settings_json(&app.settings());
    let back = App::new(Some(&json));
    assert_eq!(back.lessons.settings.entries[&4].prediction, "1.8");
    assert!(!back.lessons.settings.entries.contains_key(&99));
}

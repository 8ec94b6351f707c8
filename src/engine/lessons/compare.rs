//! A prediction beside the result: what was measured, in the prediction's
//! own terms (a number or a choice), and whether they agree, honestly: a
//! result whose spread straddles a boundary between two choices is "too
//! close to call", and a busy machine is said, not hidden.

use super::lesson::Prediction;
use super::measure::{Figure, LessonResult, num};
use serde::{Deserialize, Serialize};

/// How a prediction met the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Agreement {
    /// Right: the choice measured, or a number inside the spread or tolerance.
    Right,
    /// Wrong.
    Wrong,
    /// The measured spread covers more than one choice: no call either way.
    TooClose,
    /// No prediction was entered (or it is not a number / not a choice).
    NoPrediction,
    /// The result lacks the figure the lesson compares (a lesson file error).
    NoFigure,
}

/// The comparison, in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub agreement: Agreement,
    /// What was measured, in the prediction's terms ("faster", "2.0 ×").
    pub measured: String,
    /// One sentence for the student.
    pub words: String,
}

/// The choice a numeric value falls in.
fn choice_of(p: &Prediction, v: f64) -> Option<&str> {
    let i = p.bounds.iter().take_while(|b| v >= **b).count();
    p.choices.get(i).map(String::as_str)
}

/// What was measured, in the prediction's terms, and the figure it rests on.
pub fn measured(p: &Prediction, result: &LessonResult) -> Option<(String, Figure)> {
    let f = result.figure(&p.figure)?;
    if !p.is_choice() {
        return Some((
            format!("{} {}", num(f.median), p.unit).trim().to_string(),
            f,
        ));
    }
    if let Some(t) = &f.text {
        // A named figure (the best granularity): its first word is the choice.
        let name = t.split_whitespace().next().unwrap_or_default().to_string();
        return Some((name, f));
    }
    let at = choice_of(p, f.median)?.to_string();
    Some((at, f))
}

/// Compares what the student entered with the result.
pub fn judge(p: &Prediction, entered: &str, result: &LessonResult) -> Verdict {
    let entered = entered.trim();
    let Some((what, f)) = measured(p, result) else {
        return Verdict {
            agreement: Agreement::NoFigure,
            measured: "-".into(),
            words: format!(
                "the measurement has no figure {:?} to compare with (check the lesson file)",
                p.figure
            ),
        };
    };
    let busy = if result.machine_busy() {
        " The machine was busy: take the figures with care."
    } else {
        ""
    };
    let (agreement, words) = if p.is_choice() {
        judge_choice(p, entered, &what, &f)
    } else {
        judge_number(p, entered, &f)
    };
    Verdict {
        agreement,
        measured: what,
        words: format!("{words}{busy}"),
    }
}

fn judge_choice(p: &Prediction, entered: &str, what: &str, f: &Figure) -> (Agreement, String) {
    if entered.is_empty() || !p.choices.iter().any(|c| c == entered) {
        return (
            Agreement::NoPrediction,
            format!("measured: {what}. No prediction was picked."),
        );
    }
    if f.text.is_some() {
        // A named figure: near ties are listed after the best one.
        let t = f.text.as_deref().unwrap_or_default();
        return if entered == what {
            (Agreement::Right, format!("Right: {t}."))
        } else if t.contains(entered) {
            (
                Agreement::TooClose,
                format!(
                    "Measured {t}: your {entered} is within the best one's spread, too close to call."
                ),
            )
        } else {
            (
                Agreement::Wrong,
                format!("Not this time: you predicted {entered}, the measurement says {t}."),
            )
        };
    }
    let (lo, hi) = (choice_of(p, f.low), choice_of(p, f.high));
    if lo != hi && f.n > 0 {
        let spans = format!(
            "the spread {}..{} covers {} and {}",
            num(f.low),
            num(f.high),
            lo.unwrap_or("-"),
            hi.unwrap_or("-")
        );
        return (
            Agreement::TooClose,
            format!(
                "Too close to call: the median says {what}, but {spans}. Run it again on a quiet machine."
            ),
        );
    }
    if entered == what {
        (Agreement::Right, format!("Right: {what} ({}).", f.show()))
    } else {
        (
            Agreement::Wrong,
            format!(
                "Not this time: you predicted {entered}, measured {what} ({}).",
                f.show()
            ),
        )
    }
}

fn judge_number(p: &Prediction, entered: &str, f: &Figure) -> (Agreement, String) {
    let Ok(v) = entered
        .trim_end_matches(p.unit.as_str())
        .trim()
        .parse::<f64>()
    else {
        return (
            Agreement::NoPrediction,
            format!("measured {}. No number was predicted.", f.show()),
        );
    };
    let inside = f.n > 0 && v >= f.low && v <= f.high;
    let off_pct = if f.median != 0.0 {
        100.0 * (v - f.median).abs() / f.median.abs()
    } else {
        f64::INFINITY
    };
    let close = off_pct <= p.tolerance_pct || v == f.median;
    if inside || close {
        let how = if inside {
            "inside the measured spread".to_string()
        } else {
            format!("within {} % of the median", num(p.tolerance_pct))
        };
        (
            Agreement::Right,
            format!(
                "Right: you predicted {} {}, {how} ({}).",
                num(v),
                p.unit,
                f.show()
            ),
        )
    } else {
        (
            Agreement::Wrong,
            format!(
                "Off by {} %: you predicted {} {}, measured {}.",
                num(off_pct),
                num(v),
                p.unit,
                f.show()
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(figures: Vec<Figure>) -> LessonResult {
        LessonResult {
            lesson: 1,
            kind: "render".into(),
            figures,
            other_cpu: None,
            notes: vec![],
            plots: vec![],
            elapsed_s: 0.0,
            aliases: vec![],
            logical_cores: 2,
        }
    }

    fn fig(id: &str, median: f64, low: f64, high: f64) -> Figure {
        Figure {
            id: id.into(),
            label: id.into(),
            unit: "".into(),
            median,
            low,
            high,
            n: 5,
            spread: "min..max".into(),
            text: None,
        }
    }

    fn choice() -> Prediction {
        Prediction {
            prompt: "?".into(),
            figure: "r".into(),
            unit: "".into(),
            choices: vec!["faster".into(), "same".into(), "slower".into()],
            bounds: vec![0.9, 1.1],
            tolerance_pct: 20.0,
        }
    }

    #[test]
    fn choices_by_bounds_and_a_straddling_spread_is_no_call() {
        let p = choice();
        let r = result(vec![fig("r", 0.5, 0.45, 0.6)]);
        assert_eq!(judge(&p, "faster", &r).agreement, Agreement::Right);
        assert_eq!(judge(&p, "slower", &r).agreement, Agreement::Wrong);
        assert_eq!(judge(&p, "", &r).agreement, Agreement::NoPrediction);
        let r = result(vec![fig("r", 1.0, 0.85, 1.05)]);
        let v = judge(&p, "same", &r);
        assert_eq!(
            (v.agreement, v.measured.as_str()),
            (Agreement::TooClose, "same")
        );
    }

    #[test]
    fn numbers_inside_the_spread_or_tolerance_are_right() {
        let p = Prediction {
            choices: vec![],
            bounds: vec![],
            unit: "×".into(),
            ..choice()
        };
        let r = result(vec![fig("r", 2.0, 1.8, 2.1)]);
        assert_eq!(judge(&p, "1.85", &r).agreement, Agreement::Right);
        assert_eq!(judge(&p, "2.35 ×", &r).agreement, Agreement::Right);
        assert_eq!(judge(&p, "4", &r).agreement, Agreement::Wrong);
        assert_eq!(judge(&p, "many", &r).agreement, Agreement::NoPrediction);
        let missing = Prediction {
            figure: "nope".into(),
            ..p
        };
        assert_eq!(judge(&missing, "2", &r).agreement, Agreement::NoFigure);
    }
}

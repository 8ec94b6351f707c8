//! The lab report: one export that writes a self-contained HTML file (plots
//! embedded as `data:` URIs, printable to PDF from any browser) and a
//! Markdown file with its PNGs beside it: the student's name, the date, the
//! machine, and per lesson the prediction, the measured figures with their
//! spread, the verdict, the busy-machine verdict, the answer and the plots.
//! Every file is written atomically; all student text is HTML-escaped.

use super::compare::{Agreement, judge};
use super::lesson::Lesson;
use super::measure::LessonResult;
use crate::engine::util::files::{ExportError, write_atomic};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The machine the lab ran on.
#[derive(Clone, Debug, PartialEq)]
pub struct Machine {
    pub cpu: String,
    pub logical_cores: usize,
    pub physical_cores: usize,
    /// The OS's 1-minute load average, where reported.
    pub load_average: Option<f64>,
}

impl Machine {
    /// This machine, now.
    pub fn current() -> Machine {
        Machine {
            cpu: crate::engine::speedup::report::cpu_brand(),
            logical_cores: crate::engine::exec::pool::logical_cores(),
            physical_cores: crate::engine::exec::pool::physical_cores(),
            load_average: crate::engine::speedup::results::load_average_1m(),
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "{}, {} logical / {} physical cores, load average {}",
            if self.cpu.is_empty() {
                "unknown CPU"
            } else {
                &self.cpu
            },
            self.logical_cores,
            self.physical_cores,
            self.load_average
                .map_or("n/a".into(), |l| format!("{l:.2}"))
        )
    }
}

/// One lesson in the report.
pub struct ReportEntry<'a> {
    pub lesson: &'a Lesson,
    pub prediction: &'a str,
    pub answer: &'a str,
    /// `None`: the lesson was not run.
    pub result: Option<&'a LessonResult>,
}

/// The whole report.
pub struct LabReport<'a> {
    pub student: &'a str,
    /// `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
    pub machine: Machine,
    pub entries: Vec<ReportEntry<'a>>,
}

/// The files one export wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportFiles {
    pub html: PathBuf,
    pub markdown: PathBuf,
    pub pngs: Vec<PathBuf>,
}

/// Now as `YYYY-MM-DD HH:MM UTC` (no time zone database needed).
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = crate::engine::util::dates::civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// `text` safe inside HTML text and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` safe inside Markdown: no HTML, no emphasis or link syntax, one paragraph per line.
fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_{}[]<>()#+-!|".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Standard base64 (RFC 4648) of `bytes`, for `data:` URIs.
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A file-name-safe form of the student's name (`lab-report-ada-lovelace`).
pub fn file_stem(student: &str) -> String {
    let slug: String = student
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug: Vec<&str> = slug.split('-').filter(|s| !s.is_empty()).collect();
    if slug.is_empty() {
        "lab-report".into()
    } else {
        format!(
            "lab-report-{}",
            slug.join("-").chars().take(40).collect::<String>()
        )
    }
}

fn agreement_words(a: Agreement) -> &'static str {
    match a {
        Agreement::Right => "prediction right",
        Agreement::Wrong => "prediction wrong",
        Agreement::TooClose => "too close to call",
        Agreement::NoPrediction => "no prediction",
        Agreement::NoFigure => "no figure to compare",
    }
}

const STYLE: &str = "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\
h1{margin-bottom:.2rem}section{border-top:1px solid #ccc;margin-top:1.5rem;page-break-inside:avoid}\
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}\
.busy{color:#b00;font-weight:bold}.quiet{color:#070}.right{color:#070}.wrong{color:#b00}.close{color:#a60}\
img{max-width:100%;border:1px solid #ddd}blockquote{background:#f6f6f6;margin:.5rem 0;padding:.5rem 1rem;white-space:pre-wrap}\
@media print{section{page-break-inside:avoid}}";

/// The report as HTML (every plot inline as a `data:` URI).
pub fn html(report: &LabReport) -> String {
    let e = html_escape;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Lab report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        e(report.student)
    );
    let _ = write!(
        h,
        "<h1>Parallel computing lab report</h1>\n<p><b>Student:</b> {}<br>\n<b>Date:</b> {}<br>\n<b>Machine:</b> {}</p>\n",
        e(report.student),
        e(&report.date),
        e(&report.machine.describe())
    );
    let _ = writeln!(
        h,
        "<p>Each lesson: the prediction made before running, the measured figures with their spread (min..max over the runs, or a 95% confidence interval for speedups), whether other processes disturbed the measurement, and the answer.</p>"
    );
    for entry in &report.entries {
        let l = entry.lesson;
        let _ = write!(
            h,
            "<section>\n<h2>{}. {}</h2>\n<p>{}</p>\n<p><b>Prediction</b> ({}): {}</p>\n",
            l.number,
            e(&l.title),
            e(&l.why),
            e(&l.prediction.prompt),
            if entry.prediction.trim().is_empty() {
                "<i>none</i>".to_string()
            } else {
                e(entry.prediction)
            }
        );
        match entry.result {
            None => h.push_str("<p><i>Not run.</i></p>\n"),
            Some(r) => {
                let v = judge(&l.prediction, entry.prediction, r);
                let class = match v.agreement {
                    Agreement::Right => "right",
                    Agreement::Wrong => "wrong",
                    _ => "close",
                };
                let _ = writeln!(
                    h,
                    "<p><b>Measured:</b> {} &mdash; <span class=\"{class}\">{}</span>: {}</p>",
                    e(&v.measured),
                    agreement_words(v.agreement),
                    e(&v.words)
                );
                let busy_class = if r.machine_busy() { "busy" } else { "quiet" };
                let _ = writeln!(h, "<p class=\"{busy_class}\">{}</p>", e(&r.busy_verdict()));
                h.push_str(
                    "<table>\n<tr><th>figure</th><th>median</th><th>spread</th><th>n</th></tr>\n",
                );
                for f in &r.figures {
                    let (median, spread) = match &f.text {
                        Some(t) => (t.clone(), f.spread.clone()),
                        None => (
                            format!("{} {}", super::measure::num(f.median), f.unit),
                            if f.n == 0 {
                                f.spread.clone()
                            } else {
                                format!(
                                    "{} {}..{}",
                                    f.spread,
                                    super::measure::num(f.low),
                                    super::measure::num(f.high)
                                )
                            },
                        ),
                    };
                    let _ = writeln!(
                        h,
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        e(&f.label),
                        e(&median),
                        e(&spread),
                        f.n
                    );
                }
                h.push_str("</table>\n");
                for n in &r.notes {
                    let _ = writeln!(h, "<p><small>{}</small></p>", e(n));
                }
                for p in &r.plots {
                    let _ = writeln!(
                        h,
                        "<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"><figcaption>{}</figcaption></figure>",
                        e(&p.title),
                        base64(&p.png),
                        e(&p.title)
                    );
                }
                let _ = writeln!(h, "<p><b>What happened:</b> {}</p>", e(&l.explain));
            }
        }
        let _ = write!(
            h,
            "<p><b>Question:</b> {}</p>\n<blockquote>{}</blockquote>\n</section>\n",
            e(&l.question),
            if entry.answer.trim().is_empty() {
                "<i>no answer</i>".to_string()
            } else {
                e(entry.answer)
            }
        );
    }
    h.push_str("</body>\n</html>\n");
    h
}

/// The report as Markdown, with the PNG file names each plot is written to.
pub fn markdown(report: &LabReport, stem: &str) -> (String, Vec<(String, Vec<u8>)>) {
    let m = md_escape;
    let mut s = String::new();
    let mut pngs = Vec::new();
    let _ = write!(
        s,
        "# Parallel computing lab report\n\n- **Student:** {}\n- **Date:** {}\n- **Machine:** {}\n\n",
        m(report.student),
        m(&report.date),
        m(&report.machine.describe())
    );
    for entry in &report.entries {
        let l = entry.lesson;
        let _ = write!(
            s,
            "## {}. {}\n\n{}\n\n**Prediction** ({}): {}\n\n",
            l.number,
            m(&l.title),
            m(&l.why),
            m(&l.prediction.prompt),
            if entry.prediction.trim().is_empty() {
                "*none*".to_string()
            } else {
                m(entry.prediction)
            }
        );
        match entry.result {
            None => s.push_str("*Not run.*\n\n"),
            Some(r) => {
                let v = judge(&l.prediction, entry.prediction, r);
                let _ = write!(
                    s,
                    "**Measured:** {} ({}): {}\n\n{}\n\n| figure | median | spread | n |\n|---|---|---|---|\n",
                    m(&v.measured),
                    agreement_words(v.agreement),
                    m(&v.words),
                    m(&r.busy_verdict())
                );
                for f in &r.figures {
                    let median = f
                        .text
                        .clone()
                        .unwrap_or_else(|| format!("{} {}", super::measure::num(f.median), f.unit));
                    let spread = if f.n == 0 || f.text.is_some() {
                        f.spread.clone()
                    } else {
                        format!(
                            "{} {}..{}",
                            f.spread,
                            super::measure::num(f.low),
                            super::measure::num(f.high)
                        )
                    };
                    let _ = writeln!(
                        s,
                        "| {} | {} | {} | {} |",
                        m(&f.label),
                        m(&median),
                        m(&spread),
                        f.n
                    );
                }
                s.push('\n');
                for n in &r.notes {
                    let _ = writeln!(s, "- {}", m(n));
                }
                s.push('\n');
                for (k, p) in r.plots.iter().enumerate() {
                    let name = format!("{stem}-{:02}-{}.png", l.number, k + 1);
                    let _ = writeln!(s, "![{}]({name})\n", m(&p.title));
                    pngs.push((name, p.png.clone()));
                }
                let _ = write!(s, "**What happened:** {}\n\n", m(&l.explain));
            }
        }
        let _ = write!(
            s,
            "**Question:** {}\n\n> {}\n\n",
            m(&l.question),
            if entry.answer.trim().is_empty() {
                "*no answer*".to_string()
            } else {
                m(entry.answer).replace('\n', "\n> ")
            }
        );
    }
    (s, pngs)
}

/// Writes `STEM.html`, `STEM.md` and the Markdown's PNGs into `dir`
/// (each atomically). A folder that does not exist or a file that cannot
/// be written is an error naming the path.
pub fn write_report(dir: &Path, report: &LabReport) -> Result<ReportFiles, ExportError> {
    if !dir.is_dir() {
        return Err(ExportError::new(dir, "no such folder"));
    }
    let stem = file_stem(report.student);
    let html_path = dir.join(format!("{stem}.html"));
    let md_path = dir.join(format!("{stem}.md"));
    let (md, pngs) = markdown(report, &stem);
    let mut written = Vec::new();
    for (name, bytes) in &pngs {
        let p = dir.join(name);
        write_atomic(&p, bytes)?;
        written.push(p);
    }
    write_atomic(&md_path, md.as_bytes())?;
    write_atomic(&html_path, html(report).as_bytes())?;
    Ok(ReportFiles {
        html: html_path,
        markdown: md_path,
        pngs: written,
    })
}

/// Checks that every tag in `html` is closed in order (void elements such as
/// `<img>`, `<br>` and `<meta>` excepted): a small well-formedness check for
/// tests and for the export itself.
pub fn tags_balance(html: &str) -> Result<(), String> {
    const VOID: [&str; 6] = ["br", "img", "meta", "hr", "input", "link"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').ok_or("a '<' with no '>'")?;
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() {
            return Err(format!("a tag with no name: <{tag}>"));
        }
        if VOID.contains(&name.as_str()) {
            continue;
        }
        if closing {
            match stack.pop() {
                Some(open) if open == name => {}
                Some(open) => return Err(format!("</{name}> closes <{open}>")),
                None => return Err(format!("</{name}> with nothing open")),
            }
        } else {
            stack.push(name);
        }
    }
    match stack.pop() {
        None => Ok(()),
        Some(open) => Err(format!("<{open}> is never closed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn dates_and_names() {
        assert_eq!(crate::engine::util::dates::civil_from_days(0), (1970, 1, 1));
        assert_eq!(
            crate::engine::util::dates::civil_from_days(19_723),
            (2024, 1, 1)
        );
        assert_eq!(
            crate::engine::util::dates::civil_from_days(11_016),
            (2000, 2, 29)
        );
        assert_eq!(file_stem("  Ada  Lovelace! "), "lab-report-ada-lovelace");
        assert_eq!(file_stem("<>"), "lab-report");
    }

    #[test]
    fn escaping_and_the_tag_check() {
        assert_eq!(html_escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        assert!(tags_balance("<p>a<br><b>b</b></p>").is_ok());
        assert!(tags_balance("<p><b>a</p></b>").is_err());
        assert!(tags_balance("<p>").is_err());
    }
}

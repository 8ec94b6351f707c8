//! The tabs of the window: the [`Panel`] trait every tab implements, and
//! [`Tab`], which panels exist, in tab-bar order, with their labels and
//! `--panel` names.

use serde::{Deserialize, Serialize};

/// One tab of the window. [`App`](crate::gui::app::App) draws the shown
/// panel through this trait and keeps the hidden ones going, so that the
/// tab bar, `--screenshot --panel <name>` and the status bar treat every
/// tab alike. A panel that runs no background work implements only
/// [`Panel::ui`].
pub trait Panel {
    /// Draws the panel (called every frame while its tab is shown).
    fn ui(&mut self, ui: &mut egui::Ui);

    /// Nothing in flight: no render, sweep or run is going or waiting to
    /// start. `--screenshot` waits for this before it takes its picture.
    fn is_idle(&self) -> bool {
        true
    }

    /// Why the panel could not do its work, if it could not (a headless run
    /// then fails instead of saving an empty picture).
    fn error(&self) -> Option<String> {
        None
    }

    /// Starts the panel's real work as a student's first click would: a lab
    /// panel shows nothing until it has measured something (`--screenshot`).
    fn start_work(&mut self, _ctx: &egui::Context) {}

    /// Called every frame while another tab is shown, before that tab is
    /// drawn: background work goes on (a render, a sweep or a run is taken
    /// in and gives the one-measurement token back) without drawing.
    fn while_hidden(&mut self, _ctx: &egui::Context) {}

    /// Figures a headless screenshot prints after its "wrote" line, as the
    /// matching CLI command prints them (to compare the window with the CLI).
    fn screenshot_report(&self) -> Option<String> {
        None
    }
}

/// The panels, in tab-bar order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tab {
    #[default]
    Lessons,
    Explorer,
    Speedup,
    Race,
    Locks,
    Theory,
    Python,
    System,
}

impl Tab {
    pub const ALL: [Tab; 8] = [
        Tab::Lessons,
        Tab::Explorer,
        Tab::Speedup,
        Tab::Race,
        Tab::Locks,
        Tab::Theory,
        Tab::Python,
        Tab::System,
    ];

    /// Label in the tab bar and name on the command line (`--panel`).
    fn names(&self) -> (&'static str, &'static str) {
        match self {
            Tab::Lessons => ("Lessons", "lessons"),
            Tab::Explorer => ("Explorer", "explorer"),
            Tab::Speedup => ("Speedup lab", "speedup"),
            Tab::Race => ("Race conditions", "race"),
            Tab::Locks => ("Locks", "locks"),
            Tab::Theory => ("Theory", "theory"),
            Tab::Python => ("Python", "python"),
            Tab::System => ("System", "system"),
        }
    }

    pub fn label(&self) -> &'static str {
        self.names().0
    }

    /// Name on the command line (`--panel`).
    pub fn slug(&self) -> &'static str {
        self.names().1
    }

    pub fn from_slug(s: &str) -> Result<Tab, String> {
        Tab::ALL.into_iter().find(|t| t.slug() == s).ok_or_else(|| {
            let names: Vec<_> = Tab::ALL.iter().map(Tab::slug).collect();
            format!("unknown panel {s:?}: expected one of {}", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tab_has_its_own_label_and_name() {
        for (i, t) in Tab::ALL.iter().enumerate() {
            assert_eq!(Tab::from_slug(t.slug()), Ok(*t));
            for u in &Tab::ALL[i + 1..] {
                assert_ne!(t.label(), u.label());
                assert_ne!(t.slug(), u.slug());
            }
        }
        assert!(Tab::from_slug("nope").is_err());
    }
}

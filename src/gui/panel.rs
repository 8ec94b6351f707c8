//! The tabs of the window: which panels exist, in tab-bar order, with their
//! labels and `--panel` names.

use serde::{Deserialize, Serialize};

/// The panels, in tab-bar order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tab {
    #[default]
    Explorer,
    Speedup,
    Race,
    Locks,
    Theory,
    System,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::Explorer,
        Tab::Speedup,
        Tab::Race,
        Tab::Locks,
        Tab::Theory,
        Tab::System,
    ];

    pub fn label(&self) -> &'static str {
        match self {
            Tab::Explorer => "Explorer",
            Tab::Speedup => "Speedup lab",
            Tab::Race => "Race conditions",
            Tab::Locks => "Locks",
            Tab::Theory => "Theory",
            Tab::System => "System",
        }
    }

    /// Name on the command line (`--panel`).
    pub fn slug(&self) -> &'static str {
        match self {
            Tab::Explorer => "explorer",
            Tab::Speedup => "speedup",
            Tab::Race => "race",
            Tab::Locks => "locks",
            Tab::Theory => "theory",
            Tab::System => "system",
        }
    }

    pub fn from_slug(s: &str) -> Result<Tab, String> {
        Tab::ALL.into_iter().find(|t| t.slug() == s).ok_or_else(|| {
            let names: Vec<_> = Tab::ALL.iter().map(Tab::slug).collect();
            format!("unknown panel {s:?}: expected one of {}", names.join(", "))
        })
    }
}

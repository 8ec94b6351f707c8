//! Settings kept between runs (eframe storage). Everything here is plain
//! data with `#[serde(default)]`; runtime handles live in the panels, never here.

use crate::engine::exec::pool::logical_cores;
use crate::engine::exec::schedule::Schedule;
use crate::engine::mandelbrot::colour::Palette;
use crate::engine::mandelbrot::kernel::Kernel;
use crate::engine::mandelbrot::tiling::Tiling;
use crate::engine::mandelbrot::view::{View, ViewSpec};
use crate::gui::panel::Tab;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Storage key for [`AppSettings`] (JSON text).
pub const STORAGE_KEY: &str = "parlab-settings";
/// Bumped when a saved field changes meaning; newer saved versions are not trusted.
pub const SETTINGS_VERSION: u32 = 1;

/// Everything the window remembers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSettings {
    pub version: u32,
    pub tab: Tab,
    pub explorer: ExplorerSettings,
    pub speedup: crate::gui::speedup::SpeedupSettings,
    /// The lab panels persist their own `#[serde(default)]` choices; kept as
    /// JSON here so that one unreadable panel cannot spoil the rest.
    pub race: serde_json::Value,
    pub locks: serde_json::Value,
    pub theory: serde_json::Value,
}

/// Reads a panel's saved JSON; anything unreadable gives the panel's defaults.
pub fn panel_from_json<T: serde::de::DeserializeOwned + Default>(v: &serde_json::Value) -> T {
    if v.is_null() {
        return T::default();
    }
    serde_json::from_value(v.clone()).unwrap_or_default()
}

/// A panel's choices as JSON for [`AppSettings`].
pub fn panel_to_json<T: Serialize>(panel: &T) -> serde_json::Value {
    serde_json::to_value(panel).unwrap_or(serde_json::Value::Null)
}

impl Default for AppSettings {
    fn default() -> Self {
        AppSettings {
            version: SETTINGS_VERSION,
            tab: Tab::Explorer,
            explorer: ExplorerSettings::default(),
            speedup: Default::default(),
            race: panel_to_json(&crate::gui::race::RacePanel::default()),
            locks: panel_to_json(&crate::gui::locks::LocksPanel::default()),
            theory: panel_to_json(&crate::gui::theory::TheoryPanel::default()),
        }
    }
}

/// The explorer's choices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExplorerSettings {
    /// Kept unvalidated so that a bad saved view can be refused with a notice.
    pub view: ViewSpec,
    pub tiling: Tiling,
    pub schedule: Schedule,
    pub num_workers: usize,
    pub kernel: Kernel,
    pub palette: Palette,
    pub overlay: bool,
    /// Where quick exports go.
    pub export_folder: PathBuf,
}

/// The default image size: big enough to see tiles, quick on a laptop.
pub const DEFAULT_SIZE_PX: (u32, u32) = (1024, 768);

impl Default for ExplorerSettings {
    fn default() -> Self {
        let view = View::default_for_size(DEFAULT_SIZE_PX.0, DEFAULT_SIZE_PX.1)
            .map(|v| v.spec())
            .unwrap_or(ViewSpec {
                center_x: -0.75,
                center_y: 0.0,
                view_width: 3.5,
                width_px: DEFAULT_SIZE_PX.0,
                height_px: DEFAULT_SIZE_PX.1,
                max_iter: 500,
            });
        ExplorerSettings {
            view,
            tiling: Tiling::Square { tile_px: 32 },
            schedule: Schedule::Dynamic { chunk: 1 },
            num_workers: logical_cores(),
            kernel: Kernel::Simd,
            palette: Palette::Classic,
            overlay: true,
            export_folder: default_export_folder(),
        }
    }
}

/// `~/parlab-exports`, or `./parlab-exports` when there is no home folder.
pub fn default_export_folder() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join("parlab-exports")
}

/// Reads saved settings: `(settings, notice)`; anything unreadable gives
/// defaults and a notice saying why.
pub fn parse_settings(saved: Option<&str>) -> (AppSettings, Option<String>) {
    let Some(text) = saved else {
        return (AppSettings::default(), None);
    };
    match serde_json::from_str::<AppSettings>(text) {
        Ok(s) if s.version > SETTINGS_VERSION => (
            AppSettings::default(),
            Some(format!(
                "Saved settings are from a newer parlab (version {}): using defaults.",
                s.version
            )),
        ),
        Ok(s) => match View::try_from(s.explorer.view) {
            Ok(_) => (s, None),
            Err(e) => (
                AppSettings::default(),
                Some(format!("Saved view was invalid ({e}): using defaults.")),
            ),
        },
        Err(e) => (
            AppSettings::default(),
            Some(format!(
                "Saved settings could not be read ({e}): using defaults."
            )),
        ),
    }
}

pub fn settings_json(s: &AppSettings) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut s = AppSettings {
            tab: Tab::System,
            ..AppSettings::default()
        };
        s.explorer.num_workers = 3;
        let (back, notice) = parse_settings(Some(&settings_json(&s)));
        assert_eq!(back, s);
        assert!(notice.is_none());
    }

    #[test]
    fn corrupt_or_invalid_settings_give_defaults_and_a_notice() {
        for bad in [
            "{not json",
            r#"{"version": 99}"#,
            r#"{"explorer": {"view": {"center_x":0,"center_y":0,"view_width":-1,"width_px":10,"height_px":10,"max_iter":10}}}"#,
        ] {
            let (s, notice) = parse_settings(Some(bad));
            assert_eq!(s, AppSettings::default(), "{bad}");
            assert!(notice.is_some(), "{bad}");
        }
    }

    #[test]
    fn missing_fields_take_defaults() {
        let (s, notice) = parse_settings(Some(r#"{"version": 1, "explorer": {"overlay": false}}"#));
        assert!(notice.is_none());
        assert!(!s.explorer.overlay);
        assert_eq!(s.explorer.tiling, ExplorerSettings::default().tiling);
    }
}

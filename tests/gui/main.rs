//! One test binary for the window's panels, driven through egui_kittest
//! (feature `gui`; each module is empty without it).

mod app;
mod explorer;
mod locks;
mod python;
mod race;
mod reliability;
mod speedup;

//! One test binary for the window's panels, driven through egui_kittest.
//! Feature `gui` only: without it this binary is empty (this covers
//! common.rs and any new file; the older files also say so themselves).
#![cfg(feature = "gui")]

mod app;
mod common;
mod explorer;
mod lessons;
mod locks;
mod plots;
mod python;
mod race;
mod reliability;
mod speedup;

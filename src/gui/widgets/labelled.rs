//! Small labelled widgets for the lab panels: every input carries its label as
//! its accessible name (screen readers, and egui_kittest's `get_by_label`).

use std::ops::RangeInclusive;

/// A label followed by a drag value tied to it.
pub fn drag<N: egui::emath::Numeric>(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut N,
    range: RangeInclusive<N>,
    suffix: &str,
) -> egui::Response {
    let l = ui.label(label);
    ui.add(
        egui::DragValue::new(value)
            .range(range)
            .suffix(suffix.to_string()),
    )
    .labelled_by(l.id)
}

/// A label followed by a combo box tied to it.
pub fn combo(
    ui: &mut egui::Ui,
    label: &str,
    id_salt: &str,
    selected: &str,
    add_contents: impl FnOnce(&mut egui::Ui),
) -> egui::Response {
    let l = ui.label(label);
    egui::ComboBox::from_id_salt(id_salt)
        .selected_text(selected.to_string())
        .show_ui(ui, add_contents)
        .response
        .labelled_by(l.id)
}

/// A still "measuring" mark, where a spinner would go. A spinner asks for a
/// redraw every frame, and every redraw takes CPU from what is being measured
/// (with software OpenGL ~0.1 core-seconds a frame): the panels redraw when
/// their work has news instead.
pub fn measuring_mark(ui: &mut egui::Ui) -> egui::Response {
    ui.label(egui::RichText::new("measuring").color(super::palette::WARN))
        .on_hover_text(
            "the window redraws only when there is progress to show, so that drawing \
             does not take CPU from the measurement",
        )
}

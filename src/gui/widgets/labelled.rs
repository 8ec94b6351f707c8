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

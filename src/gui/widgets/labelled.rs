//! Small labelled widgets for the lab panels: every input carries its label as
//! its accessible name (screen readers, and egui_kittest's `get_by_label`),
//! and a number field that cannot read what was typed says so beside it.

use std::ops::RangeInclusive;

/// A label followed by a drag value tied to it; typed text that is not a
/// number is reported beside it ([`checked_drag`]).
pub fn drag<N: egui::emath::Numeric>(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut N,
    range: RangeInclusive<N>,
    suffix: &str,
) -> egui::Response {
    let l = ui.label(label);
    let mut field = egui::DragValue::new(value)
        .range(range)
        .suffix(suffix.to_string());
    if N::INTEGRAL {
        // Whole counts read with thousands separators (1,000,000); typed
        // commas are ignored ([`parse_number`]).
        field =
            field.custom_formatter(|v, _| crate::engine::util::words::thousands_signed(v as i64));
    }
    checked_drag(ui, field).labelled_by(l.id)
}

/// Reads a typed number as egui does (spaces and thousands commas ignored,
/// the typographic minus accepted).
pub fn parse_number(text: &str) -> Option<f64> {
    let text: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ',' && *c != '_')
        .map(|c| if c == '−' { '-' } else { c })
        .collect();
    text.parse().ok()
}

/// What the last parse of a field's text found: `None` read fine.
type ParseOutcome = std::cell::RefCell<Option<Option<String>>>;

fn remember_outcome(ui: &egui::Ui, field: egui::Id, outcome: ParseOutcome) {
    let key = field.with("not-a-number");
    match outcome.into_inner() {
        Some(Some(text)) => {
            ui.data_mut(|d| d.insert_temp(key, text));
        }
        Some(None) => ui.data_mut(|d| d.remove::<String>(key)),
        None => {}
    }
}

/// The message beside a field whose last typed text was not a number (the
/// field keeps its last good value, and says so instead of reverting silently).
pub fn not_a_number_ui(ui: &mut egui::Ui, field: egui::Id) {
    if let Some(text) = ui.data(|d| d.get_temp::<String>(field.with("not-a-number"))) {
        ui.colored_label(
            crate::gui::widgets::palette::BAD,
            format!("{:?} is not a number: the last value is kept", text.trim()),
        );
    }
}

fn recording_parser<'p>(outcome: &'p ParseOutcome) -> impl 'p + Fn(&str) -> Option<f64> {
    move |text: &str| {
        let v = parse_number(text);
        *outcome.borrow_mut() = Some(v.is_none().then(|| text.to_string()));
        v
    }
}

/// Adds a drag value that says beside it when typed text is not a number.
pub fn checked_drag(ui: &mut egui::Ui, drag: egui::DragValue<'_>) -> egui::Response {
    let outcome = ParseOutcome::default();
    let response = ui.add(drag.custom_parser(recording_parser(&outcome)));
    remember_outcome(ui, response.id, outcome);
    not_a_number_ui(ui, response.id);
    response
}

/// Adds a slider whose value field says beside it when typed text is not a
/// number.
pub fn checked_slider(ui: &mut egui::Ui, slider: egui::Slider<'_>) -> egui::Response {
    let outcome = ParseOutcome::default();
    let response = ui.add(slider.custom_parser(recording_parser(&outcome)));
    remember_outcome(ui, response.id, outcome);
    not_a_number_ui(ui, response.id);
    response
}

/// A label followed by a combo box tied to it (two cells in a grid; wrap it
/// in `ui.horizontal` in a vertical layout).
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

/// A label followed by a slider tied to it (labels sit left of their
/// controls throughout the window), with [`checked_slider`]'s typed-text check.
pub fn slider(ui: &mut egui::Ui, label: &str, slider: egui::Slider<'_>) -> egui::Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        checked_slider(ui, slider).labelled_by(l.id)
    })
    .inner
}

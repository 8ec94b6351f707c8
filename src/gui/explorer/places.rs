//! Named places worth seeing, and the back/forward history of views.

use crate::engine::mandelbrot::view::{View, ViewSpec};

/// A named view: centre and width in the complex plane, and why it is worth a look.
#[derive(Clone, Copy, Debug)]
pub struct Place {
    pub name: &'static str,
    pub center: (f64, f64),
    pub view_width: f64,
    pub max_iter: u32,
    pub why: &'static str,
}

/// In menu order; the first is the default view.
pub const PLACES: [Place; 6] = [
    Place {
        name: "Whole set",
        center: (-0.75, 0.0),
        view_width: 3.5,
        max_iter: 500,
        why: "the classic view: work is spread unevenly, most of it along the boundary",
    },
    Place {
        name: "Lopsided",
        center: (-0.3, -0.7),
        view_width: 1.6,
        max_iter: 1000,
        why: "the top half holds over 90 % of the work (the set's inside runs every pixel \
              to max iterations), the bottom half escapes at once: under static-block the \
              workers given the bottom rows finish early and idle",
    },
    Place {
        name: "Seahorse valley",
        center: (-0.7453, 0.1127),
        view_width: 0.012,
        max_iter: 1500,
        why: "spirals between the main cardioid and the period-2 bulb",
    },
    Place {
        name: "Elephant valley",
        center: (0.2850, 0.0110),
        view_width: 0.03,
        max_iter: 1500,
        why: "a trunk-like spiral on the right of the cardioid",
    },
    Place {
        name: "Mini Mandelbrot",
        center: (-1.7549, 0.0),
        view_width: 0.05,
        max_iter: 2000,
        why: "a small copy of the whole set on the real axis",
    },
    Place {
        name: "Deep spiral",
        center: (-0.761_574, -0.084_759_6),
        view_width: 0.000_4,
        max_iter: 4000,
        why: "deep zoom: many iterations per pixel, so tiles take long",
    },
];

impl Place {
    /// This place at the given image size.
    pub fn view(&self, width_px: u32, height_px: u32) -> Option<View> {
        View::new(
            self.center,
            self.view_width,
            width_px,
            height_px,
            self.max_iter,
        )
        .ok()
    }

    pub fn by_name(name: &str) -> Option<&'static Place> {
        PLACES
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name) || slug(p.name) == name)
    }
}

/// "Seahorse valley" → "seahorse-valley", for the command line.
pub fn slug(name: &str) -> String {
    name.to_ascii_lowercase().replace(' ', "-")
}

/// Views visited, with a cursor for back and forward.
#[derive(Clone, Debug, Default)]
pub struct History {
    views: Vec<ViewSpec>,
    pos: usize,
}

/// Oldest entries are forgotten beyond this.
const MAX_HISTORY: usize = 200;

impl History {
    /// Records a new current view, dropping anything forward of the cursor.
    pub fn push(&mut self, view: &View) {
        let spec = view.spec();
        if self.views.get(self.pos) == Some(&spec) {
            return;
        }
        if !self.views.is_empty() {
            self.views.truncate(self.pos + 1);
        }
        self.views.push(spec);
        if self.views.len() > MAX_HISTORY {
            self.views.remove(0);
        }
        self.pos = self.views.len() - 1;
    }
    /// Replaces the current entry (e.g. while a wheel zoom continues).
    pub fn replace_current(&mut self, view: &View) {
        match self.views.get_mut(self.pos) {
            Some(v) => *v = view.spec(),
            None => self.push(view),
        }
    }
    pub fn can_go_back(&self) -> bool {
        self.pos > 0
    }
    pub fn can_go_forward(&self) -> bool {
        self.pos + 1 < self.views.len()
    }
    pub fn back(&mut self) -> Option<ViewSpec> {
        self.can_go_back().then(|| {
            self.pos -= 1;
            self.views[self.pos]
        })
    }
    pub fn forward(&mut self) -> Option<ViewSpec> {
        self.can_go_forward().then(|| {
            self.pos += 1;
            self.views[self.pos]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_place_is_a_valid_view() {
        for p in &PLACES {
            assert!(p.view(640, 480).is_some(), "{}", p.name);
            assert_eq!(Place::by_name(&slug(p.name)).map(|q| q.name), Some(p.name));
        }
    }

    #[test]
    fn history_goes_back_and_forward_and_forgets_forward_on_push() {
        let v = |x: f64| View::new((x, 0.0), 1.0, 10, 10, 10).expect("view");
        let mut h = History::default();
        h.push(&v(0.0));
        h.push(&v(1.0));
        h.push(&v(2.0));
        assert_eq!(h.back().map(|s| s.center_x), Some(1.0));
        assert_eq!(h.back().map(|s| s.center_x), Some(0.0));
        assert!(h.back().is_none());
        assert_eq!(h.forward().map(|s| s.center_x), Some(1.0));
        h.push(&v(5.0));
        assert!(!h.can_go_forward());
        assert_eq!(h.back().map(|s| s.center_x), Some(1.0));
    }
}

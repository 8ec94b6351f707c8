//! One measurement at a time: a window-wide token that a sweep, an explorer
//! render, a baseline or a lab measurement holds while it is timed. Whoever
//! wants to time something while another holds it waits (or is refused) with
//! a message naming the holder, so that two measurements never spoil each
//! other on the same cores.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The token, shared by every panel (cheap to clone).
#[derive(Clone, Default)]
pub struct Measuring {
    holder: Arc<Mutex<Option<(u64, String)>>>,
    next_id: Arc<AtomicU64>,
}

/// Held while a measurement runs; dropping it frees the token.
pub struct MeasureGuard {
    token: Measuring,
    id: u64,
}

impl std::fmt::Debug for MeasureGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MeasureGuard({})", self.id)
    }
}

impl Measuring {
    /// Takes the token for `what` ("the speedup lab's sweep"); `Err` names
    /// the current holder.
    pub fn try_begin(&self, what: &str) -> Result<MeasureGuard, String> {
        let mut h = self.holder.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, who)) = &*h {
            return Err(who.clone());
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        *h = Some((id, what.to_string()));
        Ok(MeasureGuard {
            token: self.clone(),
            id,
        })
    }

    /// Who holds the token, if anyone.
    pub fn holder(&self) -> Option<String> {
        self.holder
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(_, w)| w.clone())
    }

    pub fn is_busy(&self) -> bool {
        self.holder().is_some()
    }

    /// The message shown to whoever has to wait.
    pub fn wait_message(holder: &str, what: &str) -> String {
        format!("{what} waits: {holder} is measuring (one measurement at a time)")
    }
}

impl Drop for MeasureGuard {
    fn drop(&mut self) {
        let mut h = self.token.holder.lock().unwrap_or_else(|p| p.into_inner());
        if h.as_ref().is_some_and(|(id, _)| *id == self.id) {
            *h = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_dropping_frees_it() {
        let m = Measuring::default();
        let g = m.try_begin("a sweep").expect("free");
        assert_eq!(m.holder().as_deref(), Some("a sweep"));
        assert_eq!(
            m.clone().try_begin("a render").err().as_deref(),
            Some("a sweep")
        );
        drop(g);
        assert!(!m.is_busy());
        let _g = m.try_begin("a render").expect("free again");
        assert!(m.is_busy());
    }
}

//! Reading background work from the UI thread without stalling a frame: a
//! repaint notifier the work calls after each message, and a budgeted drain
//! that takes what is waiting and asks for another frame if anything is left.

use crate::engine::exec::task::{BackgroundTask, Notify};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest a frame spends taking messages from background work.
pub const DRAIN_BUDGET: Duration = Duration::from_millis(4);

/// How soon to look again while a task is still running.
const POLL_AGAIN: Duration = Duration::from_millis(50);

/// The wake-up background work calls after each message: a repaint request.
pub fn repaint_notifier(ctx: &egui::Context) -> Notify {
    let ctx = ctx.clone();
    Arc::new(move || ctx.request_repaint())
}

/// Moves the messages waiting in each task of `slots` into `out`, for at most
/// [`DRAIN_BUDGET`] in all. A task that has ended with nothing left to read is
/// cleared from its slot; otherwise another frame is requested.
pub fn drain_tasks<M: Send + 'static>(
    ctx: &egui::Context,
    slots: &mut [&mut Option<BackgroundTask<M>>],
    out: &mut Vec<M>,
) {
    let start = Instant::now();
    for slot in slots.iter_mut() {
        let Some(task) = slot.as_ref() else { continue };
        // Read "finished" first: everything it sent is then already queued.
        let finished = task.is_finished();
        let mut emptied = true;
        while let Some(m) = task.try_next() {
            out.push(m);
            if start.elapsed() > DRAIN_BUDGET {
                emptied = false;
                break;
            }
        }
        if finished && emptied {
            **slot = None;
        } else {
            ctx.request_repaint_after(POLL_AGAIN);
        }
    }
}

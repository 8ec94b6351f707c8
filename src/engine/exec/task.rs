//! A small background task for the labs: a named thread, a bounded channel of
//! messages back to the caller, a `notify` callback after each message (the
//! window's repaint request) and a cancel flag that dropping the task sets.
//!
//! Same pattern as [`crate::engine::mandelbrot::job::RenderJob`], for work that is not a
//! tiled render (race runs, lock benchmarks, the deadlock demo).

use crate::engine::mandelbrot::job::Notify;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

/// Capacity of the message channel: lab tasks send few, large messages.
const CHANNEL_CAPACITY: usize = 256;

/// The sending side, handed to the task's body.
pub struct Emitter<M> {
    tx: SyncSender<M>,
    notify: Option<Notify>,
    cancel: Arc<AtomicBool>,
}

impl<M> Emitter<M> {
    /// Sends a message and wakes the receiver. Returns false (and cancels the
    /// task) when nobody is listening any more.
    pub fn send(&self, message: M) -> bool {
        let mut message = message;
        loop {
            match self.tx.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Full(m)) => {
                    if self.is_cancelled() {
                        return false;
                    }
                    message = m;
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.cancel.store(true, Ordering::Relaxed);
                    return false;
                }
            }
        }
        if let Some(n) = &self.notify {
            n();
        }
        true
    }

    /// The task's cancel flag: long loops poll it.
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.cancel
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// A task running on its own thread. Drop it to cancel.
pub struct BackgroundTask<M> {
    rx: Receiver<M>,
    cancel: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl<M: Send + 'static> BackgroundTask<M> {
    /// Starts `body` on a thread called `name`.
    pub fn spawn(
        name: &str,
        notify: Option<Notify>,
        body: impl FnOnce(&Emitter<M>) + Send + 'static,
    ) -> std::io::Result<Self> {
        let (tx, rx) = sync_channel(CHANNEL_CAPACITY);
        let cancel = Arc::new(AtomicBool::new(false));
        let emitter = Emitter {
            tx,
            notify,
            cancel: cancel.clone(),
        };
        let handle = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || body(&emitter))?;
        Ok(BackgroundTask {
            rx,
            cancel,
            handle: Some(handle),
        })
    }

    /// The next message, if one is waiting.
    pub fn try_next(&self) -> Option<M> {
        self.rx.try_recv().ok()
    }

    /// Blocks for the next message; `None` once the task has ended and all was read.
    pub fn next_blocking(&self) -> Option<M> {
        self.rx.recv().ok()
    }

    /// True once the task's thread has exited (messages may still be waiting).
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(|h| h.is_finished())
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl<M> Drop for BackgroundTask<M> {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_arrive_in_order_and_the_task_ends() {
        let task = BackgroundTask::spawn("parlab-test-task", None, |e: &Emitter<u32>| {
            for i in 0..1000 {
                assert!(e.send(i));
            }
        })
        .expect("spawn");
        let got: Vec<u32> = std::iter::from_fn(|| task.next_blocking()).collect();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
        assert!(task.is_finished() || task.next_blocking().is_none());
    }

    #[test]
    fn dropping_the_task_cancels_it() {
        let (seen_tx, seen_rx) = std::sync::mpsc::channel();
        let task = BackgroundTask::spawn("parlab-test-task", None, move |e: &Emitter<()>| {
            while !e.is_cancelled() {
                std::thread::yield_now();
            }
            let _ = seen_tx.send(true);
        })
        .expect("spawn");
        drop(task);
        assert_eq!(seen_rx.recv(), Ok(true));
    }
}

//! The one background-task type: a named thread, a bounded channel of
//! messages back to the caller, a `notify` callback after each message (the
//! window's repaint request) and a cancel flag that dropping the task sets.
//!
//! Every piece of background work is one: the explorer's render
//! ([`crate::engine::mandelbrot::job::RenderJob`]), the speedup sweep
//! ([`crate::engine::speedup::sweep::SweepJob`]) and the labs' runs (race
//! runs, lock benchmarks, the deadlock demo).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

/// Called from the task's threads after each message is sent.
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// Capacity of the message channel unless told otherwise: lab tasks send
/// few, large messages.
const DEFAULT_CAPACITY: usize = 256;

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

    /// Sends the task's last message, waiting for room if the channel is
    /// full even when cancelled (the reader drains or drops the task), and
    /// wakes the receiver. False when nobody is listening any more.
    pub fn finish(&self, message: M) -> bool {
        let sent = self.tx.send(message).is_ok();
        if let Some(n) = &self.notify {
            n();
        }
        sent
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
        Self::spawn_with_capacity(name, DEFAULT_CAPACITY, notify, body)
    }

    /// Starts `body` on a thread called `name`, with room for `capacity`
    /// messages before a send has to wait.
    pub fn spawn_with_capacity(
        name: &str,
        capacity: usize,
        notify: Option<Notify>,
        body: impl FnOnce(&Emitter<M>) + Send + 'static,
    ) -> std::io::Result<Self> {
        let (tx, rx) = sync_channel(capacity);
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

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// The flag the task's body polls.
    pub fn cancel_flag(&self) -> &Arc<AtomicBool> {
        &self.cancel
    }

    /// Cancels and waits for the task's thread to exit, draining messages so
    /// that no sender is left waiting on a full channel.
    pub fn cancel_and_join(mut self) {
        self.cancel();
        while self.rx.try_recv().is_ok() {}
        if let Some(h) = self.handle.take() {
            while !h.is_finished() {
                while self.rx.try_recv().is_ok() {}
                std::thread::yield_now();
            }
            let _ = h.join();
        }
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

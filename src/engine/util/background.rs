//! Handing a large value back to the system off the current thread.

use std::thread::JoinHandle;

/// Drops `value` on a thread of its own and returns at once, so that
/// unmapping a large buffer (milliseconds for the tens of MB of a 4K
/// image's counts) overlaps with what this thread does next, a file's
/// sync for one. The drop is done by the time the returned handle is
/// dropped. If no thread can be started, `value` is dropped here.
pub fn drop_in_background<T: Send + 'static>(value: T) -> Dropping {
    // A thread that cannot start drops its closure, and `value` with it, here.
    let spawned = std::thread::Builder::new()
        .name("parlab-drop".into())
        .spawn(move || drop(value));
    Dropping(spawned.ok())
}

/// A drop under way on another thread; waits for it when dropped.
#[must_use = "dropping the handle waits for the drop"]
pub struct Dropping(Option<JoinHandle<()>>);

impl Drop for Dropping {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            // A panic in a drop has already been reported on its thread.
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::thread::ThreadId;

    /// Records the thread that drops it, a little after the drop began.
    struct Flag(Arc<Mutex<Option<ThreadId>>>);

    impl Drop for Flag {
        fn drop(&mut self) {
            std::thread::sleep(std::time::Duration::from_millis(20));
            if let Ok(mut by) = self.0.lock() {
                *by = Some(std::thread::current().id());
            }
        }
    }

    #[test]
    fn the_value_is_dropped_on_another_thread_by_the_time_the_handle_is() {
        let by = Arc::new(Mutex::new(None));
        let handle = drop_in_background(Flag(Arc::clone(&by)));
        drop(handle);
        let by = *by.lock().expect("lock");
        assert!(by.is_some(), "dropped");
        assert_ne!(by, Some(std::thread::current().id()), "on another thread");
    }
}

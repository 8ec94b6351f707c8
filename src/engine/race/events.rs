//! The event log shared by recorded runs and the be-the-scheduler stepper:
//! every read and write of the shared counter, in one global order.

use serde::{Deserialize, Serialize};

/// What a thread did to the shared counter (or to its local copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// Copied the shared counter into its local copy.
    Read,
    /// Changed its local copy (only the stepper records this step; it touches no shared memory).
    Add,
    /// Stored its local copy into the shared counter.
    Write,
}

/// One step, stamped with its place in the global order.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Global order: unique, increasing in the order the accesses took effect.
    pub ticket: u64,
    /// 0-based thread index (shown as T1, T2, …).
    pub thread: usize,
    pub kind: EventKind,
    /// Read: the value seen. Add: the local copy after adding. Write: the value stored.
    pub value: i64,
    /// Nanoseconds since the run started (0 in the stepper, which has no clock).
    pub time_nanos: u64,
    /// Which of the thread's increments this step belongs to (0-based).
    pub increment: u32,
    /// For Add and Write: the ticket of the Read this step came from.
    pub read_ticket: Option<u64>,
}

/// A thread's name as shown to people: T1, T2, …
pub fn thread_name(thread: usize) -> String {
    format!("T{}", thread + 1)
}

/// A complete log: the events plus what the counter started at.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventLog {
    pub num_threads: usize,
    pub initial: i64,
    /// Sorted by ticket.
    pub events: Vec<Event>,
}

impl EventLog {
    /// The counter's value after the last write (or the initial value).
    pub fn final_value(&self) -> i64 {
        self.events
            .iter()
            .rev()
            .find(|e| e.kind == EventKind::Write)
            .map_or(self.initial, |e| e.value)
    }

    /// Events of one thread, in order.
    pub fn lane(&self, thread: usize) -> impl Iterator<Item = &Event> {
        self.events.iter().filter(move |e| e.thread == thread)
    }

    pub fn by_ticket(&self, ticket: u64) -> Option<&Event> {
        self.events
            .binary_search_by_key(&ticket, |e| e.ticket)
            .ok()
            .map(|i| &self.events[i])
    }

    /// Sum of the changes of all completed increments (writes): the value a
    /// correct program would show now.
    pub fn expected_now(&self) -> i64 {
        self.initial
            + self
                .events
                .iter()
                .filter(|e| e.kind == EventKind::Write)
                .filter_map(|w| {
                    let r = self.by_ticket(w.read_ticket?)?;
                    Some(w.value - r.value)
                })
                .sum::<i64>()
    }
}

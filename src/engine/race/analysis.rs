//! Finds exactly the lost updates in an event log and says why each was lost.
//!
//! Replay the log: every read sees the last write before it (or the initial
//! value). The final value descends from the last write through a chain of
//! "this write's read saw that write" links. A write on that chain survives;
//! every other write's increment is lost — whoever overwrote it had read the
//! counter before it was written.

use super::RaceError;
use super::events::{Event, EventKind, EventLog, thread_name};
use serde::{Deserialize, Serialize};

/// One lost update.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LostUpdate {
    /// The write whose increment vanished.
    pub write_ticket: u64,
    pub thread: usize,
    /// The write that replaced its value in memory (None if it was the last write; cannot happen for a lost one).
    pub overwritten_by: Option<u64>,
    /// For people: "T2 wrote 5 over T1's 5: T1's increment is lost".
    pub explanation: String,
}

/// Where one read got its value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReadSource {
    pub read_ticket: u64,
    /// The write it saw, or None for the initial value.
    pub write_ticket: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub final_value: i64,
    /// What the counter would hold had nothing been lost (completed increments only).
    pub expected: i64,
    pub completed_increments: usize,
    /// Sorted by write ticket.
    pub lost: Vec<LostUpdate>,
    pub read_sources: Vec<ReadSource>,
}

impl Analysis {
    pub fn is_lost(&self, write_ticket: u64) -> bool {
        self.lost
            .binary_search_by_key(&write_ticket, |l| l.write_ticket)
            .is_ok()
    }

    pub fn lost_of(&self, write_ticket: u64) -> Option<&LostUpdate> {
        self.lost
            .binary_search_by_key(&write_ticket, |l| l.write_ticket)
            .ok()
            .map(|i| &self.lost[i])
    }
}

/// Analyses a log. Errors name the first inconsistent event (a write whose
/// read is missing, a read that saw a value memory did not hold, tickets out of order).
pub fn analyse(log: &EventLog) -> Result<Analysis, RaceError> {
    let events = &log.events;
    if events.windows(2).any(|w| w[0].ticket >= w[1].ticket) {
        return Err(RaceError::OutOfOrder);
    }
    // Replay.
    let mut memory = log.initial;
    let mut last_write: Option<usize> = None;
    // For each event index: for reads, the index of the write it saw.
    let mut saw: Vec<Option<usize>> = vec![None; events.len()];
    let mut source_of_write: Vec<Option<usize>> = vec![None; events.len()];
    let mut read_sources = Vec::new();
    let index_of = |ticket: u64| events.binary_search_by_key(&ticket, |e| e.ticket).ok();
    for (i, e) in events.iter().enumerate() {
        match e.kind {
            EventKind::Read => {
                if e.value != memory {
                    return Err(RaceError::ReadMismatch {
                        ticket: e.ticket,
                        thread: thread_name(e.thread),
                        value: e.value,
                        held: memory,
                    });
                }
                saw[i] = last_write;
                read_sources.push(ReadSource {
                    read_ticket: e.ticket,
                    write_ticket: last_write.map(|w| events[w].ticket),
                });
            }
            EventKind::Add => {}
            EventKind::Write => {
                let r = e
                    .read_ticket
                    .and_then(index_of)
                    .filter(|&r| events[r].kind == EventKind::Read && r < i)
                    .ok_or(RaceError::WriteWithoutRead { ticket: e.ticket })?;
                if events[r].thread != e.thread {
                    return Err(RaceError::WriteOtherThread { ticket: e.ticket });
                }
                source_of_write[i] = Some(r);
                memory = e.value;
                last_write = Some(i);
            }
        }
    }
    // Walk the surviving chain back from the last write.
    let mut survives = vec![false; events.len()];
    let mut cur = last_write;
    while let Some(w) = cur {
        survives[w] = true;
        cur = source_of_write[w].and_then(|r| saw[r]);
    }
    let writes: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].kind == EventKind::Write)
        .collect();
    let mut lost = Vec::new();
    for (k, &w) in writes.iter().enumerate() {
        if survives[w] {
            continue;
        }
        let next = writes.get(k + 1).copied();
        lost.push(LostUpdate {
            write_ticket: events[w].ticket,
            thread: events[w].thread,
            overwritten_by: next.map(|n| events[n].ticket),
            explanation: explain(events, w, next, &source_of_write, &saw),
        });
    }
    let expected = log.expected_now();
    Ok(Analysis {
        final_value: memory,
        expected,
        completed_increments: writes.len(),
        lost,
        read_sources,
    })
}

fn explain(
    events: &[Event],
    w: usize,
    next: Option<usize>,
    source_of_write: &[Option<usize>],
    saw: &[Option<usize>],
) -> String {
    let lost = &events[w];
    let me = thread_name(lost.thread);
    let Some(n) = next else {
        return format!("{me}'s write of {} was lost", lost.value);
    };
    let over = &events[n];
    let other = thread_name(over.thread);
    let carried = source_of_write[n].and_then(|r| saw[r]) == Some(w);
    if carried {
        format!(
            "{other} read {me}'s {} and built on it, but {other}'s own write was lost later: {me}'s increment is lost with it",
            lost.value
        )
    } else {
        let read = source_of_write[n].map(|r| events[r].value);
        let because = read.map_or(String::new(), |v| {
            format!(" ({other} had read {v} before {me} wrote)")
        });
        format!(
            "{other} wrote {} over {me}'s {}{because}: {me}'s increment is lost",
            over.value, lost.value
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a log from (thread, kind, value) in global order; writes link to
    /// the same thread's latest read.
    fn log(initial: i64, steps: &[(usize, char, i64)]) -> EventLog {
        let mut last_read = [None; 8];
        let events = steps
            .iter()
            .enumerate()
            .map(|(i, &(t, k, v))| {
                let kind = match k {
                    'r' => EventKind::Read,
                    'a' => EventKind::Add,
                    _ => EventKind::Write,
                };
                if kind == EventKind::Read {
                    last_read[t] = Some(i as u64);
                }
                Event {
                    ticket: i as u64,
                    thread: t,
                    kind,
                    value: v,
                    time_nanos: 0,
                    increment: 0,
                    read_ticket: if kind == EventKind::Read {
                        None
                    } else {
                        last_read[t]
                    },
                }
            })
            .collect();
        EventLog {
            num_threads: 4,
            initial,
            events,
        }
    }

    fn lost_tickets(a: &Analysis) -> Vec<u64> {
        a.lost.iter().map(|l| l.write_ticket).collect()
    }

    #[test]
    fn no_interleaving_loses_nothing() {
        let l = log(0, &[(0, 'r', 0), (0, 'w', 1), (1, 'r', 1), (1, 'w', 2)]);
        let a = analyse(&l).expect("valid");
        assert!(a.lost.is_empty());
        assert_eq!((a.final_value, a.expected), (2, 2));
        assert_eq!(a.read_sources[1].write_ticket, Some(1));
    }

    #[test]
    fn thread2_interleaving_loses_exactly_the_first_write() {
        // T1 reads 4, T2 reads 4, T1 writes 5, T2 writes 5.
        let l = log(4, &[(0, 'r', 4), (1, 'r', 4), (0, 'w', 5), (1, 'w', 5)]);
        let a = analyse(&l).expect("valid");
        assert_eq!(lost_tickets(&a), vec![2]);
        assert_eq!(a.lost[0].thread, 0);
        assert_eq!(a.lost[0].overwritten_by, Some(3));
        assert!(
            a.lost[0]
                .explanation
                .starts_with("T2 wrote 5 over T1's 5: ")
                || a.lost[0]
                    .explanation
                    .starts_with("T2 wrote 5 over T1's 5 ("),
            "{}",
            a.lost[0].explanation
        );
        assert!(a.lost[0].explanation.ends_with("T1's increment is lost"));
        assert_eq!((a.final_value, a.expected), (5, 6));
    }

    #[test]
    fn a_write_built_on_survives_even_inside_another_window() {
        // T1 reads 0; T2 r0 w1; T3 reads 1; T1 writes 1 (lost); T3 writes 2.
        // T2's write lies inside T1's read–write window but T3 built on it: only T1 is lost.
        let l = log(
            0,
            &[
                (0, 'r', 0),
                (1, 'r', 0),
                (1, 'w', 1),
                (2, 'r', 1),
                (0, 'w', 1),
                (2, 'w', 2),
            ],
        );
        let a = analyse(&l).expect("valid");
        assert_eq!(lost_tickets(&a), vec![4]);
        assert_eq!(a.expected - a.final_value, 1);
    }

    #[test]
    fn three_readers_of_the_same_value_lose_two() {
        let l = log(
            0,
            &[
                (0, 'r', 0),
                (1, 'r', 0),
                (2, 'r', 0),
                (0, 'a', 1),
                (0, 'w', 1),
                (1, 'w', 1),
                (2, 'w', 1),
            ],
        );
        let a = analyse(&l).expect("valid");
        assert_eq!(lost_tickets(&a), vec![4, 5]);
        assert_eq!((a.final_value, a.expected), (1, 3));
    }

    #[test]
    fn add_and_subtract_losses_are_found_even_when_they_cancel() {
        // T1 +1 and T2 −1 both read 0; T1 writes 1, T2 writes −1: the +1 is lost.
        let l = log(0, &[(0, 'r', 0), (1, 'r', 0), (0, 'w', 1), (1, 'w', -1)]);
        let a = analyse(&l).expect("valid");
        assert_eq!(lost_tickets(&a), vec![2]);
        assert_eq!((a.final_value, a.expected), (-1, 0));
    }

    #[test]
    fn inconsistent_logs_are_refused() {
        assert!(analyse(&log(0, &[(0, 'r', 3)])).is_err());
        assert!(analyse(&log(0, &[(0, 'w', 1)])).is_err());
        let mut l = log(0, &[(0, 'r', 0), (0, 'w', 1)]);
        l.events.swap(0, 1);
        assert!(analyse(&l).is_err());
    }
}

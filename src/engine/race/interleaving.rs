//! Small recorded races: real threads, every read and write stamped with a
//! global ticket and a time, so the interleaving can be drawn and analysed.
//!
//! The counter and the ticket live in one `AtomicU64` (ticket in the high 32
//! bits, value in the low 32): a read is `fetch_add(1 << 32)`, which returns
//! the value and takes a ticket in one atomic step; a write replaces the value
//! and takes the next ticket in one compare-exchange, ignoring the value that
//! was there — a blind store, exactly like the unsynchronised `value = local_copy`.
//! So the ticket order *is* the order in which the accesses hit memory, and the
//! analyser's replay agrees with what the threads saw.

use super::RaceError;
use super::counter::{Direction, Gap};
use super::events::{Event, EventKind, EventLog};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

pub const MAX_RECORD_THREADS: usize = 4;
pub const MAX_RECORD_INCREMENTS: u32 = 20;

/// Parameters of a recorded run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecordConfig {
    pub num_threads: usize,
    pub increments: u32,
    /// Hold a lock around each read-modify-write.
    pub locked: bool,
    pub gap: Gap,
    pub direction: Direction,
}

impl Default for RecordConfig {
    fn default() -> Self {
        RecordConfig {
            num_threads: 2,
            increments: 10,
            locked: false,
            gap: Gap::Yield,
            direction: Direction::AllAdd,
        }
    }
}

impl RecordConfig {
    pub fn validate(&self) -> Result<(), RaceError> {
        if !(1..=MAX_RECORD_THREADS).contains(&self.num_threads) {
            return Err(RaceError::RecordThreads {
                got: self.num_threads,
                max: MAX_RECORD_THREADS,
            });
        }
        if !(1..=MAX_RECORD_INCREMENTS).contains(&self.increments) {
            return Err(RaceError::RecordIncrements {
                got: self.increments,
                max: MAX_RECORD_INCREMENTS,
            });
        }
        if let Gap::SleepMicros(d) = self.gap
            && d > 200_000
        {
            return Err(RaceError::RecordDelay {
                got: d,
                max: 200_000,
            });
        }
        Ok(())
    }

    fn delta(&self, t: usize) -> i64 {
        match self.direction {
            Direction::AddSubtract if t % 2 == 1 => -1,
            _ => 1,
        }
    }
}

const VALUE_MASK: u64 = 0xffff_ffff;
const TICKET_ONE: u64 = 1 << 32;

fn unpack(word: u64) -> (u64, i64) {
    (word >> 32, i64::from(word as u32 as i32))
}

/// Runs the threads and returns every access in ticket order.
pub fn record_run(config: &RecordConfig) -> Result<EventLog, RaceError> {
    config.validate()?;
    let word = AtomicU64::new(0);
    let lock = Mutex::new(());
    let start = Barrier::new(config.num_threads);
    let lockstep = Barrier::new(config.num_threads);
    let origin = Instant::now();
    let lanes: Vec<Vec<Event>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..config.num_threads)
            .map(|t| {
                let (word, lock, start, lockstep) = (&word, &lock, &start, &lockstep);
                std::thread::Builder::new()
                    .name(format!("parlab-record-{t}"))
                    .spawn_scoped(s, move || {
                        start.wait();
                        record_thread(config, t, word, lock, lockstep, origin)
                    })
                    .map_err(|e| RaceError::Spawn {
                        thread: t,
                        source: e,
                    })
            })
            .collect();
        let mut lanes = Vec::new();
        for h in handles {
            lanes.push(h?.join().map_err(|_| RaceError::RecorderPanicked)?);
        }
        Ok::<_, RaceError>(lanes)
    })?;
    let mut events: Vec<Event> = lanes.into_iter().flatten().collect();
    events.sort_by_key(|e| e.ticket);
    Ok(EventLog {
        num_threads: config.num_threads,
        initial: 0,
        events,
    })
}

fn record_thread(
    config: &RecordConfig,
    t: usize,
    word: &AtomicU64,
    lock: &Mutex<()>,
    lockstep: &Barrier,
    origin: Instant,
) -> Vec<Event> {
    let delta = config.delta(t);
    let now = || origin.elapsed().as_nanos() as u64;
    let mut out = Vec::with_capacity(2 * config.increments as usize);
    for i in 0..config.increments {
        let guard = config
            .locked
            .then(|| lock.lock().unwrap_or_else(|p| p.into_inner()));
        let (ticket, value) = unpack(word.fetch_add(TICKET_ONE, Ordering::SeqCst));
        out.push(Event {
            ticket,
            thread: t,
            kind: EventKind::Read,
            value,
            time_nanos: now(),
            increment: i,
            read_ticket: None,
        });
        let local_copy = value + delta;
        match config.gap {
            Gap::None => {}
            Gap::Yield => std::thread::yield_now(),
            Gap::SleepMicros(us) => std::thread::sleep(Duration::from_micros(us)),
            // A barrier inside the lock would never open.
            Gap::Lockstep if guard.is_none() => {
                lockstep.wait();
            }
            Gap::Lockstep => {}
        }
        let stored = local_copy as i32 as u32 as u64;
        let old = word
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |w| {
                Some(((w >> 32) + 1) << 32 | (stored & VALUE_MASK))
            })
            .unwrap_or_else(|w| w);
        out.push(Event {
            ticket: old >> 32,
            thread: t,
            kind: EventKind::Write,
            value: local_copy,
            time_nanos: now(),
            increment: i,
            read_ticket: Some(ticket),
        });
        drop(guard);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::race::analysis::analyse;

    #[test]
    fn recorded_logs_are_consistent_and_losses_match_the_counter() {
        for gap in [Gap::None, Gap::Yield, Gap::Lockstep] {
            let c = RecordConfig {
                num_threads: 3,
                increments: 20,
                gap,
                ..RecordConfig::default()
            };
            let log = record_run(&c).expect("record");
            assert_eq!(log.events.len(), 3 * 20 * 2);
            let tickets: Vec<u64> = log.events.iter().map(|e| e.ticket).collect();
            assert_eq!(tickets, (0..120).collect::<Vec<_>>());
            let a = analyse(&log).expect("a real run replays exactly");
            assert_eq!(a.expected, 60);
            assert_eq!(a.lost.len() as i64, a.expected - a.final_value);
            if gap == Gap::Lockstep {
                assert_eq!(a.final_value, 20);
            }
        }
    }

    #[test]
    fn locked_recording_loses_nothing() {
        let c = RecordConfig {
            num_threads: 4,
            increments: 20,
            locked: true,
            gap: Gap::Yield,
            direction: Direction::AddSubtract,
        };
        let a = analyse(&record_run(&c).expect("record")).expect("analyse");
        assert!(a.lost.is_empty());
        assert_eq!((a.final_value, a.expected), (0, 0));
    }

    #[test]
    fn limits_are_enforced() {
        let mut c = RecordConfig {
            num_threads: 5,
            ..RecordConfig::default()
        };
        assert!(record_run(&c).is_err());
        c.num_threads = 2;
        c.increments = 21;
        assert!(c.validate().is_err());
    }
}

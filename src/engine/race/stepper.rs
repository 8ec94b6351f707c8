//! "Be the scheduler": a deterministic model of N threads each running
//! `local = shared; local += delta; shared = local` K times. No real threads:
//! the user (or a script) picks which thread takes its next step, and the same
//! event log as a recorded run fills in, so the same lanes and analysis apply.

use super::RaceError;
use super::analysis::{Analysis, analyse};
use super::events::{Event, EventKind, EventLog};
use serde::{Deserialize, Serialize};

pub const MAX_STEPPER_THREADS: usize = 4;
pub const MAX_STEPPER_INCREMENTS: u32 = 20;

/// What a thread does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NextStep {
    Read,
    Add,
    Write,
    Done,
}

impl NextStep {
    pub fn label(self) -> &'static str {
        match self {
            NextStep::Read => "read",
            NextStep::Add => "add",
            NextStep::Write => "write",
            NextStep::Done => "done",
        }
    }
}

/// One model thread.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreadState {
    pub next: NextStep,
    /// The thread's local copy (meaningful after its read).
    pub local: Option<i64>,
    pub delta: i64,
    /// Increments finished (written).
    pub finished: u32,
    read_ticket: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Snapshot {
    shared: i64,
    threads: Vec<ThreadState>,
    events: Vec<Event>,
}

/// The whole game.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stepper {
    pub increments: u32,
    pub initial: i64,
    shared: i64,
    threads: Vec<ThreadState>,
    events: Vec<Event>,
    history: Vec<Snapshot>,
}

impl Stepper {
    /// `deltas[t]` is what thread t adds each time (+1, or −1 for a subtracting thread).
    pub fn new(deltas: &[i64], increments: u32, initial: i64) -> Result<Self, RaceError> {
        if !(1..=MAX_STEPPER_THREADS).contains(&deltas.len()) {
            return Err(RaceError::StepperThreads {
                got: deltas.len(),
                max: MAX_STEPPER_THREADS,
            });
        }
        if !(1..=MAX_STEPPER_INCREMENTS).contains(&increments) {
            return Err(RaceError::StepperIncrements {
                got: increments,
                max: MAX_STEPPER_INCREMENTS,
            });
        }
        Ok(Stepper::build(deltas, increments, initial))
    }

    /// Builds without checking the limits (callers have checked them).
    fn build(deltas: &[i64], increments: u32, initial: i64) -> Self {
        Stepper {
            increments,
            initial,
            shared: initial,
            threads: deltas
                .iter()
                .map(|&delta| ThreadState {
                    next: NextStep::Read,
                    local: None,
                    delta,
                    finished: 0,
                    read_ticket: None,
                })
                .collect(),
            events: Vec::new(),
            history: Vec::new(),
        }
    }

    /// Threads' deltas, in order.
    pub fn deltas(&self) -> Vec<i64> {
        self.threads.iter().map(|t| t.delta).collect()
    }

    pub fn threads(&self) -> &[ThreadState] {
        &self.threads
    }

    /// The shared counter now.
    pub fn shared(&self) -> i64 {
        self.shared
    }

    /// What the counter must end at when every thread has finished and nothing was lost.
    pub fn expected_final(&self) -> i64 {
        self.initial
            + self
                .threads
                .iter()
                .map(|t| t.delta * i64::from(self.increments))
                .sum::<i64>()
    }

    pub fn is_done(&self) -> bool {
        self.threads.iter().all(|t| t.next == NextStep::Done)
    }

    pub fn can_undo(&self) -> bool {
        !self.history.is_empty()
    }

    /// Performs `thread`'s next step; returns the event it recorded.
    pub fn step(&mut self, thread: usize) -> Result<Event, RaceError> {
        let increments = self.increments;
        let ticket = self.events.len() as u64;
        let shared = self.shared;
        let th = self
            .threads
            .get(thread)
            .copied()
            .ok_or(RaceError::NoThread { thread })?;
        let increment = th.finished;
        let (kind, value, new_state, new_shared) = match (th.next, th.local) {
            (NextStep::Read, _) => (
                EventKind::Read,
                shared,
                ThreadState {
                    next: NextStep::Add,
                    local: Some(shared),
                    read_ticket: Some(ticket),
                    ..th
                },
                shared,
            ),
            (NextStep::Add, Some(local)) => {
                let v = local + th.delta;
                (
                    EventKind::Add,
                    v,
                    ThreadState {
                        next: NextStep::Write,
                        local: Some(v),
                        ..th
                    },
                    shared,
                )
            }
            (NextStep::Write, Some(local)) => {
                let finished = th.finished + 1;
                (
                    EventKind::Write,
                    local,
                    ThreadState {
                        next: if finished == increments {
                            NextStep::Done
                        } else {
                            NextStep::Read
                        },
                        finished,
                        ..th
                    },
                    local,
                )
            }
            (NextStep::Done, _) => {
                return Err(RaceError::Finished { thread });
            }
            (_, None) => return Err(RaceError::NoLocalCopy { thread }),
        };
        self.history.push(Snapshot {
            shared: self.shared,
            threads: self.threads.clone(),
            events: self.events.clone(),
        });
        let event = Event {
            ticket,
            thread,
            kind,
            value,
            time_nanos: 0,
            increment,
            read_ticket: if kind == EventKind::Read {
                None
            } else {
                th.read_ticket
            },
        };
        self.threads[thread] = new_state;
        self.shared = new_shared;
        self.events.push(event);
        Ok(event)
    }

    /// Takes back the last step; false when there is nothing to undo.
    pub fn undo(&mut self) -> bool {
        match self.history.pop() {
            Some(s) => {
                self.shared = s.shared;
                self.threads = s.threads;
                self.events = s.events;
                true
            }
            None => false,
        }
    }

    /// Back to the start, keeping threads and increments.
    pub fn reset(&mut self) {
        while self.undo() {}
    }

    pub fn log(&self) -> EventLog {
        EventLog {
            num_threads: self.threads.len(),
            initial: self.initial,
            events: self.events.clone(),
        }
    }

    /// The lost updates so far (the stepper's own log is always consistent).
    pub fn analysis(&self) -> Analysis {
        analyse(&self.log()).unwrap_or_default()
    }

    /// Runs a script of thread indices; stops at the first impossible step.
    pub fn run_script(&mut self, script: &[usize]) -> Result<(), RaceError> {
        script.iter().try_for_each(|&t| self.step(t).map(|_| ()))
    }
}

impl Default for Stepper {
    /// thread2.py's shape: two threads adding 1, twice each, from 0.
    fn default() -> Self {
        Stepper::build(&[1, 1], 2, 0)
    }
}

/// Each thread runs its increments one after another: no interleaving.
pub fn serial_script(num_threads: usize, increments: u32) -> Vec<usize> {
    (0..num_threads)
        .flat_map(|t| std::iter::repeat_n(t, 3 * increments as usize))
        .collect()
}

/// The classic lost update: every thread reads and adds, then all write, round after round.
pub fn lost_update_script(num_threads: usize, increments: u32) -> Vec<usize> {
    (0..increments)
        .flat_map(|_| (0..num_threads).flat_map(|t| [t, t]).chain(0..num_threads))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread2_interleaving_ends_at_one() {
        // T1 read, T1 add, T2 read, T2 add, T1 write, T2 write: the seed's 0 → 1 instead of 2.
        let mut s = Stepper::new(&[1, 1], 1, 0).expect("stepper");
        s.run_script(&[0, 0, 1, 1, 0, 1]).expect("script");
        assert!(s.is_done());
        assert_eq!((s.shared(), s.expected_final()), (1, 2));
        let a = s.analysis();
        assert_eq!(a.lost.len(), 1);
        assert_eq!(a.lost[0].thread, 0);
        assert!(
            a.lost[0].explanation.contains("T2 wrote 1 over T1's 1"),
            "{}",
            a.lost[0].explanation
        );
    }

    #[test]
    fn scripted_sessions_reach_their_predicted_values() {
        let mut serial = Stepper::new(&[1, 1, 1], 5, 10).expect("stepper");
        serial.run_script(&serial_script(3, 5)).expect("script");
        assert_eq!(serial.shared(), 25);
        assert!(serial.analysis().lost.is_empty());

        // Each round of the lost-update script leaves +1 however many threads.
        let mut lossy = Stepper::new(&[1, 1, 1], 5, 10).expect("stepper");
        lossy.run_script(&lost_update_script(3, 5)).expect("script");
        assert!(lossy.is_done());
        assert_eq!(lossy.shared(), 15);
        assert_eq!(lossy.analysis().lost.len(), 10);

        // value2.py in miniature: +1 and −1 interleaved badly end at −3, not 0.
        let mut addsub = Stepper::new(&[1, -1], 3, 0).expect("stepper");
        addsub
            .run_script(&lost_update_script(2, 3))
            .expect("script");
        assert_eq!((addsub.shared(), addsub.expected_final()), (-3, 0));
    }

    #[test]
    fn undo_and_reset_restore_earlier_states() {
        let mut s = Stepper::new(&[1, 1], 2, 0).expect("stepper");
        s.run_script(&[0, 0, 1, 1, 0]).expect("script");
        assert_eq!(s.shared(), 1);
        let before = s.clone();
        s.step(1).expect("T2 writes");
        assert_eq!((s.shared(), s.analysis().lost.len()), (1, 1));
        assert!(s.undo());
        assert_eq!(s.shared(), before.shared());
        assert_eq!(s.log(), before.log());
        assert_eq!(s.threads(), before.threads());
        s.reset();
        assert!(s.log().events.is_empty());
        assert!(!s.can_undo());
        assert!(!s.undo());
        assert_eq!(s.threads()[0].next, NextStep::Read);
    }

    #[test]
    fn impossible_steps_are_refused_without_changing_anything() {
        let mut s = Stepper::new(&[1], 1, 0).expect("stepper");
        s.run_script(&[0, 0, 0]).expect("script");
        let before = s.clone();
        assert!(s.step(0).is_err());
        assert!(s.step(7).is_err());
        assert_eq!(s, before);
        assert!(Stepper::new(&[1; 5], 1, 0).is_err());
        assert!(Stepper::new(&[1], 21, 0).is_err());
    }

    use proptest::prelude::*;

    proptest! {
        /// Any schedule at all: the analyser's lost writes are exactly the increments
        /// missing from the final value, and the surviving writes carry the values
        /// initial+1 ..= final, one each (the chain the final value was built from).
        #[test]
        fn the_analyser_accounts_for_every_increment(
            threads in 1usize..=4,
            increments in 1u32..=5,
            choices in proptest::collection::vec(0usize..4, 0..80),
        ) {
            let mut s = Stepper::new(&vec![1; threads], increments, 7).expect("stepper");
            for c in choices {
                // Pick the c-th thread that can still move, if any.
                let movable: Vec<usize> = (0..threads)
                    .filter(|&t| s.threads()[t].next != NextStep::Done)
                    .collect();
                if movable.is_empty() {
                    break;
                }
                s.step(movable[c % movable.len()]).expect("legal step");
            }
            let log = s.log();
            let a = analyse(&log).expect("a stepper log is consistent");
            let writes: Vec<_> = log.events.iter().filter(|e| e.kind == EventKind::Write).collect();
            prop_assert_eq!(a.final_value, s.shared());
            prop_assert_eq!(a.expected, 7 + writes.len() as i64);
            prop_assert_eq!(a.lost.len() as i64, a.expected - a.final_value);
            let mut surviving: Vec<i64> = writes
                .iter()
                .filter(|w| !a.is_lost(w.ticket))
                .map(|w| w.value)
                .collect();
            surviving.sort_unstable();
            prop_assert_eq!(surviving, (8..=a.final_value).collect::<Vec<_>>());
        }
    }
}

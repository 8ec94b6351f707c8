//! Presets that mirror the course's Python programs.

use super::counter::{Direction, Gap, Launch, Mode, RaceConfig};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Preset {
    /// thread2.py: two threads, `local_copy = value; local_copy += 1; sleep(0.1); value = local_copy`.
    Thread2,
    /// thread2.py with `t2.start()` and `t1.join()` exchanged: serialised, nothing lost, no parallelism.
    Thread2Serialised,
    /// thread4.py: the same with `with lock:` around the read-modify-write (the sleep is inside the lock).
    Thread4,
    /// value2.py: one process adds 1, one subtracts 1, 100 times each, `sleep(0.01)` before each, no lock.
    Value2,
    /// value3.py: the same with a lock around each update.
    Value3,
}

impl Preset {
    pub const ALL: [Preset; 5] = [
        Preset::Thread2,
        Preset::Thread2Serialised,
        Preset::Thread4,
        Preset::Value2,
        Preset::Value3,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Thread2 => "thread2",
            Preset::Thread2Serialised => "thread2 (start/join exchanged)",
            Preset::Thread4 => "thread4",
            Preset::Value2 => "value2",
            Preset::Value3 => "value3",
        }
    }

    /// The first sentence of [`Self::description`]: what the program is.
    pub fn summary(self) -> &'static str {
        let d = self.description();
        d.find(". ").map_or(d, |end| &d[..=end])
    }

    /// What the seed program does and what to expect, for the panel.
    pub fn description(self) -> &'static str {
        match self {
            Preset::Thread2 => {
                "Two threads read the value, add 1, sleep 0.1 s, write. Both read 0 before either writes: the end value is 1, not 2."
            }
            Preset::Thread2Serialised => {
                "thread2 with t2.start() and t1.join() exchanged: the second thread starts after the first has finished. Nothing is lost, and the run takes twice as long."
            }
            Preset::Thread4 => {
                "thread2 with a lock held across read, sleep and write: the second thread waits, the end value is 2."
            }
            Preset::Value2 => {
                "One thread adds 1 and one subtracts 1, 100 times each, sleeping 10 ms before each update, with no lock: the end value should be 0 but wanders when updates collide."
            }
            Preset::Value3 => "value2 with a lock around each update: the end value is always 0.",
        }
    }

    pub fn config(self) -> RaceConfig {
        let thread2 = RaceConfig {
            num_threads: 2,
            increments: 1,
            mode: Mode::Unsync,
            gap: Gap::SleepMicros(100_000),
            pause_micros: 0,
            direction: Direction::AllAdd,
            launch: Launch::Overlapped,
        };
        // Python's `number.value += 1` on a multiprocessing Value is a separate get and set;
        // a yield between them stands in for the interpreter switching processes.
        let value2 = RaceConfig {
            num_threads: 2,
            increments: 100,
            mode: Mode::Unsync,
            gap: Gap::Yield,
            pause_micros: 10_000,
            direction: Direction::AddSubtract,
            launch: Launch::Overlapped,
        };
        match self {
            Preset::Thread2 => thread2,
            Preset::Thread2Serialised => RaceConfig {
                launch: Launch::Serialised,
                ..thread2
            },
            Preset::Thread4 => RaceConfig {
                mode: Mode::Mutex,
                ..thread2
            },
            Preset::Value2 => value2,
            Preset::Value3 => RaceConfig {
                mode: Mode::Mutex,
                ..value2
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::race::counter::run_race;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn presets_are_valid_and_the_seed_outcomes_hold() {
        for p in Preset::ALL {
            p.config().validate().expect("valid preset");
        }
        let no = AtomicBool::new(false);
        let t2 = run_race(&Preset::Thread2.config(), &no).expect("thread2");
        assert_eq!((t2.expected, t2.actual, t2.lost), (2, 1, 1));
        let t4 = run_race(&Preset::Thread4.config(), &no).expect("thread4");
        assert_eq!((t4.actual, t4.lost), (2, 0));
        let ser = run_race(&Preset::Thread2Serialised.config(), &no).expect("serialised");
        assert_eq!((ser.actual, ser.lost), (2, 0));
    }
}

/// thread2.py run both ways: started together (lost updates, parallel) and
/// with start/join exchanged (nothing lost, one thread at a time).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartJoinComparison {
    pub overlapped: super::counter::RaceResult,
    pub serialised: super::counter::RaceResult,
}

/// Measures the seed's "exchange start and join" fix with `delay_micros` between read and write.
pub fn compare_start_join(
    delay_micros: u64,
    increments: u64,
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<StartJoinComparison, super::RaceError> {
    let base = RaceConfig {
        gap: Gap::SleepMicros(delay_micros),
        increments,
        ..Preset::Thread2.config()
    };
    let overlapped = super::counter::run_race(&base, cancel)?;
    let serialised = super::counter::run_race(
        &RaceConfig {
            launch: Launch::Serialised,
            ..base
        },
        cancel,
    )?;
    Ok(StartJoinComparison {
        overlapped,
        serialised,
    })
}

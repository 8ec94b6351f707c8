//! Primes (the course's assignment): test a range of 8-digit numbers by trial
//! division, as the course's naive function does. Tasks are chunks of
//! consecutive numbers; a prime costs a division by every candidate, a
//! composite stops at its smallest factor, so chunk costs are very uneven and
//! the timeline shows it.
//!
//! The seed names "a naive function for checking primes" without printing it;
//! the course notebook's function is the classic
//! `for i in range(2, num): if num % i == 0: break / else: prime`, which we
//! mirror exactly ([`Trial::Naive`]): divisors 2..n−1, stopping at the first
//! that divides. [`Trial::Sqrt`] (divisors up to ⌊√n⌋) is offered for
//! comparison; both give the same answers.

use super::{Mismatch, TaskWorkload, WorkloadError};
use crate::engine::exec::gil::TaskEnv;
use serde::{Deserialize, Serialize};

/// Which divisors the trial division tries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trial {
    /// `for i in range(2, n)`: the course's naive function.
    #[default]
    Naive,
    /// `for i in range(2, isqrt(n) + 1)`.
    Sqrt,
}

impl std::str::FromStr for Trial {
    type Err = WorkloadError;
    fn from_str(s: &str) -> Result<Self, WorkloadError> {
        match s {
            "naive" => Ok(Trial::Naive),
            "sqrt" => Ok(Trial::Sqrt),
            _ => Err(WorkloadError::Trial {
                input: s.to_string(),
            }),
        }
    }
}

impl std::fmt::Display for Trial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Trial::Naive => "naive",
            Trial::Sqrt => "sqrt",
        })
    }
}

/// Tests `n` by trial division; returns (is prime, divisions done).
/// Numbers below 2 are not prime and cost nothing, as in the course's code.
pub fn is_prime(n: u64, trial: Trial) -> (bool, u64) {
    if n < 2 {
        return (false, 0);
    }
    let last = match trial {
        Trial::Naive => n - 1,
        Trial::Sqrt => n.isqrt(),
    };
    let mut divisions = 0;
    for i in 2..=last {
        divisions += 1;
        if n.is_multiple_of(i) {
            return (false, divisions);
        }
    }
    (true, divisions)
}

/// `count` numbers from `start`, in chunks of `chunk`.
#[derive(Clone, Debug, PartialEq)]
pub struct Primes {
    pub start: u64,
    pub count: u64,
    pub chunk: u64,
    pub trial: Trial,
}

/// Largest number the workload accepts: 12 digits (the naive test of one
/// such prime already takes minutes).
pub const MAX_NUMBER: u64 = 999_999_999_999;

impl Primes {
    pub fn new(start: u64, count: u64, chunk: u64, trial: Trial) -> Result<Self, WorkloadError> {
        if count == 0 {
            return Err(WorkloadError::PrimesCount);
        }
        if chunk == 0 {
            return Err(WorkloadError::PrimesChunk);
        }
        match start.checked_add(count - 1) {
            Some(last) if last <= MAX_NUMBER => {}
            _ => return Err(WorkloadError::PrimesRange { max: MAX_NUMBER }),
        }
        Ok(Primes {
            start,
            count,
            chunk,
            trial,
        })
    }

    fn chunk_range(&self, i: usize) -> std::ops::Range<u64> {
        let lo = self.start + i as u64 * self.chunk;
        lo..(lo + self.chunk).min(self.start + self.count)
    }
}

impl TaskWorkload for Primes {
    /// The primes found in the chunk.
    type Output = Vec<u64>;
    /// Every prime in the range, ascending.
    type Result = Vec<u64>;

    fn name(&self) -> &'static str {
        "primes"
    }
    fn task_label(&self) -> &'static str {
        "chunk"
    }
    fn work_unit(&self) -> &'static str {
        "divisions"
    }
    fn num_tasks(&self) -> usize {
        self.count.div_ceil(self.chunk) as usize
    }
    fn run_task(&self, i: usize, env: &TaskEnv) -> (Vec<u64>, u64) {
        env.compute(i, || {
            let mut divisions = 0;
            let mut found = Vec::new();
            for n in self.chunk_range(i) {
                let (prime, d) = is_prime(n, self.trial);
                divisions += d;
                if prime {
                    found.push(n);
                }
            }
            (found, divisions)
        })
    }
    fn combine(&self, outputs: Vec<Vec<u64>>) -> Vec<u64> {
        outputs.concat()
    }
    fn serial(&self) -> Vec<u64> {
        (self.start..self.start + self.count)
            .filter(|&n| is_prime(n, self.trial).0)
            .collect()
    }
    fn results_agree(&self, parallel: &Vec<u64>, serial: &Vec<u64>) -> Result<(), Mismatch> {
        if parallel == serial {
            Ok(())
        } else {
            Err(Mismatch::Primes {
                parallel: parallel.len(),
                serial: serial.len(),
                first: parallel
                    .iter()
                    .zip(serial)
                    .find(|(a, b)| a != b)
                    .map(|(&a, &b)| (a, b)),
            })
        }
    }
    fn summarise(&self, result: &Vec<u64>) -> String {
        format!(
            "{} primes in [{}, {}] ({} trial division)",
            result.len(),
            self.start,
            self.start + self.count - 1,
            self.trial
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::workloads::test_util::check_all_schedules;

    #[test]
    fn naive_matches_known_answers() {
        // 10000019 is the first prime after 10^7.
        for (n, prime) in [
            (0, false),
            (1, false),
            (2, true),
            (3, true),
            (4, false),
            (97, true),
            (10_000_019, true),
            (10_000_021, false),
        ] {
            assert_eq!(is_prime(n, Trial::Naive).0, prime, "{n}");
            assert_eq!(is_prime(n, Trial::Sqrt).0, prime, "{n}");
        }
        // A prime costs n − 2 divisions under the naive rule; an even number 1.
        assert_eq!(is_prime(97, Trial::Naive).1, 95);
        assert_eq!(is_prime(10_000_000, Trial::Naive).1, 1);
    }

    #[test]
    fn primes_below_100() {
        let w = Primes::new(0, 100, 7, Trial::Naive).expect("valid");
        assert_eq!(w.serial().len(), 25);
    }

    #[test]
    fn parallel_equals_serial_for_every_schedule() {
        // Sqrt keeps the test quick with 8-digit numbers; naive on a small range.
        check_all_schedules(&Primes::new(10_000_000, 300, 7, Trial::Sqrt).expect("valid"));
        check_all_schedules(&Primes::new(10_000, 60, 6, Trial::Naive).expect("valid"));
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(Primes::new(1, 0, 1, Trial::Naive).is_err());
        assert!(Primes::new(1, 10, 0, Trial::Naive).is_err());
        assert!(Primes::new(u64::MAX - 1, 10, 1, Trial::Naive).is_err());
    }

    #[test]
    fn last_chunk_may_be_short() {
        let w = Primes::new(100, 10, 4, Trial::Naive).expect("valid");
        assert_eq!(w.num_tasks(), 3);
        assert_eq!(w.chunk_range(2), 108..110);
    }
}

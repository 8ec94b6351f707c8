//! The machine-wide monotonic clock that the master and every worker process
//! read, so their timestamps share one time axis.
//!
//! `CLOCK_MONOTONIC` counts from an unspecified point (boot, on Linux) and is
//! the same for every process on the machine; `std::time::Instant` reads the
//! same clock on Linux but does not expose the raw value, which a worker must
//! send to its master.

/// Nanoseconds on `CLOCK_MONOTONIC`.
pub fn mono_nanos() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    (t.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_std_instant() {
        // Both read CLOCK_MONOTONIC: an interval measured by one contains the
        // same interval measured by the other.
        let a = mono_nanos();
        let i = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let inner = i.elapsed().as_nanos() as u64;
        let b = mono_nanos();
        assert!(b - a >= inner);
    }
}

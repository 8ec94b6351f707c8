//! UI frame timing: time the UI thread spends in each update (wall clock: on a
//! busy machine it includes time the thread waits for a core) and the interval between frames,
//! with percentiles for the status readout and for `--frame-stats N`.

use std::collections::VecDeque;
use std::time::Instant;

/// Frames kept for the live readout.
const WINDOW: usize = 240;

/// Frame times in nanoseconds.
#[derive(Default)]
pub struct FrameStats {
    last_start: Option<Instant>,
    /// Recent (update CPU time, frame-to-frame interval).
    recent: VecDeque<(u64, u64)>,
    /// Every frame since recording began (for `--frame-stats`).
    pub all_update_nanos: Vec<u64>,
    pub all_interval_nanos: Vec<u64>,
}

/// p50, p90, p99 and max of a sample, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
}

/// Nearest-rank percentiles.
pub fn percentiles(values: &[u64]) -> Percentiles {
    if values.is_empty() {
        return Percentiles::default();
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    Percentiles {
        p50: rank(0.50),
        p90: rank(0.90),
        p99: rank(0.99),
        max: v[v.len() - 1],
    }
}

impl FrameStats {
    /// Call at the start of an update; returns the start time for [`Self::end_frame`].
    pub fn begin_frame(&mut self) -> Instant {
        Instant::now()
    }

    /// Records one frame that started at `start`.
    pub fn end_frame(&mut self, start: Instant) {
        let update = start.elapsed().as_nanos() as u64;
        let interval = self
            .last_start
            .map_or(0, |t| start.duration_since(t).as_nanos() as u64);
        self.last_start = Some(start);
        if self.recent.len() == WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back((update, interval));
        self.all_update_nanos.push(update);
        if interval > 0 {
            self.all_interval_nanos.push(interval);
        }
    }

    pub fn num_frames(&self) -> usize {
        self.all_update_nanos.len()
    }

    /// (update, interval) percentiles over the recent frames.
    pub fn recent(&self) -> (Percentiles, Percentiles) {
        let u: Vec<u64> = self.recent.iter().map(|f| f.0).collect();
        let i: Vec<u64> = self.recent.iter().map(|f| f.1).filter(|&x| x > 0).collect();
        (percentiles(&u), percentiles(&i))
    }
}

pub fn ms(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        let p = percentiles(&v);
        assert_eq!((p.p50, p.p90, p.p99, p.max), (50, 90, 99, 100));
        assert_eq!(percentiles(&[7]).p99, 7);
        assert_eq!(percentiles(&[]), Percentiles::default());
    }
}

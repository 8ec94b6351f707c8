//! `parlab race`: N threads add to one counter; prints expected, actual, lost and wall time.

use super::{CliError, whole};
use crate::engine::race::counter::{
    Gap, Launch, MAX_DELAY_MICROS, MAX_INCREMENTS, MAX_THREADS, Mode, RaceConfig, RaceResult,
    lost_histogram, run_repeated, summarise,
};
use clap::Args;
use serde_json::{Value, json};
use std::sync::atomic::AtomicBool;

/// Longest run the CLI accepts, from the delays alone (a prediction: real runs take longer).
const MAX_PREDICTED_SECS: f64 = 600.0;

#[derive(Args, Debug, Clone)]
pub struct RaceArgs {
    /// Threads that add to the counter (1..=64).
    #[arg(long, default_value_t = 4, allow_negative_numbers = true,
          value_parser = whole::<usize>(1, MAX_THREADS as i128))]
    pub threads: usize,
    /// Increments per thread (1..=10000000).
    #[arg(long, default_value_t = 1_000_000, allow_negative_numbers = true,
          value_parser = whole::<u64>(1, MAX_INCREMENTS.into()))]
    pub increments: u64,
    /// unsync, mutex, atomic, sharded or rwlock.
    #[arg(long, default_value = "unsync")]
    pub mode: String,
    /// Sleep this many µs between read and write (as thread2.py's time.sleep); inside the lock for mutex/rwlock.
    #[arg(long, value_name = "D", allow_negative_numbers = true,
          value_parser = whole::<u64>(0, MAX_DELAY_MICROS.into()))]
    pub delay_us: Option<u64>,
    /// Yield the core between read and write instead of sleeping.
    #[arg(long, conflicts_with = "delay_us")]
    pub yield_between: bool,
    /// Start each thread only after the previous one has finished (thread2.py with start and join exchanged).
    #[arg(long)]
    pub serialised: bool,
    /// Run this many times (1..=1000) and summarise the lost counts.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = whole::<usize>(1, 1000))]
    pub repeat: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

impl RaceArgs {
    pub fn to_config(&self) -> Result<RaceConfig, CliError> {
        let mode: Mode = self.mode.parse()?;
        let gap = match (self.delay_us, self.yield_between) {
            (Some(0), _) | (None, false) => Gap::None,
            (Some(d), _) => Gap::SleepMicros(d),
            (None, true) => Gap::Yield,
        };
        if gap != Gap::None && !mode.has_gap() {
            return Err(CliError::Usage(format!(
                "--mode {} has no gap between read and write: drop --delay-us / --yield-between",
                mode.name()
            )));
        }
        let config = RaceConfig {
            num_threads: self.threads,
            increments: self.increments,
            mode,
            gap,
            launch: if self.serialised {
                Launch::Serialised
            } else {
                Launch::Overlapped
            },
            ..RaceConfig::default()
        };
        config.validate()?;
        if !(1..=1000).contains(&self.repeat) {
            return Err(CliError::Usage(format!(
                "--repeat must be 1..=1000, got {}",
                self.repeat
            )));
        }
        if let Gap::SleepMicros(d) = gap {
            let per_run = config.increments as f64 * d as f64 * 1e-6;
            let predicted = per_run
                * self.repeat as f64
                * if self.serialised {
                    config.num_threads as f64
                } else {
                    1.0
                };
            if predicted > MAX_PREDICTED_SECS {
                return Err(CliError::Usage(format!(
                    "the delays alone would take at least {predicted:.0} s (predicted); lower --increments, --delay-us or --repeat"
                )));
            }
        }
        Ok(config)
    }
}

fn gap_words(g: Gap) -> String {
    match g {
        Gap::None => "no gap".into(),
        Gap::Yield => "yield between read and write".into(),
        Gap::SleepMicros(d) => format!("sleep {d} µs between read and write"),
        Gap::Lockstep => "lockstep".into(),
    }
}

pub fn result_json(r: &RaceResult) -> Value {
    json!({
        "threads": r.config.num_threads,
        "increments": r.config.increments,
        "mode": r.config.mode.name(),
        "serialised": r.config.launch == Launch::Serialised,
        "expected": r.expected,
        "actual": r.actual,
        "lost": r.lost,
        "lost_pct": r.lost_pct,
        "wall_ms": r.wall_nanos as f64 * 1e-6,
        "increments_per_sec": r.increments_per_sec,
    })
}

pub fn run(args: &RaceArgs) -> Result<(), CliError> {
    let config = args.to_config()?;
    let cancel = AtomicBool::new(false);
    if !args.json {
        outln!(
            "race: {} threads × {} increments, {} ({}){}",
            config.num_threads,
            config.increments,
            config.mode.name(),
            gap_words(config.gap),
            if args.serialised {
                ", serialised (start/join exchanged)"
            } else {
                ""
            }
        );
    }
    let json = args.json;
    let runs = run_repeated(&config, args.repeat, &cancel, |i, r| {
        if !json {
            let run = if args.repeat > 1 {
                format!("run {:>3}: ", i + 1)
            } else {
                String::new()
            };
            outln!(
                "{run}expected {}, actual {}, lost {} ({:.3} %), wall {:.3} ms, {:.3e} increments/s",
                r.expected,
                r.actual,
                r.lost,
                r.lost_pct,
                r.wall_nanos as f64 * 1e-6,
                r.increments_per_sec
            );
        }
    })?;
    let summary = summarise(&runs);
    if json {
        let value = if args.repeat == 1 {
            runs.first().map(result_json).unwrap_or(Value::Null)
        } else {
            json!({
                "runs": runs.iter().map(result_json).collect::<Vec<_>>(),
                "summary": summary,
                "histogram": lost_histogram(&runs, 20),
            })
        };
        outln!("{value}");
    } else if let (Some(s), true) = (summary, args.repeat > 1) {
        outln!(
            "summary over {} runs: lost min {}, median {}, mean {:.1}, max {}; {} of {} runs lost updates; median wall {:.3} ms",
            s.runs,
            s.min,
            s.median,
            s.mean,
            s.max,
            s.runs_with_loss,
            s.runs,
            s.median_wall_nanos * 1e-6
        );
    }
    Ok(())
}

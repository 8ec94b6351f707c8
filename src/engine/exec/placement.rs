//! Which core runs a worker: the CPU a task started on, and pinning worker
//! `w` to one core (physical cores first) so that it never migrates.
//!
//! Linux only does both (through `rustix`, no `unsafe` of ours); elsewhere the
//! CPU is unknown and pinning is refused with a message.

use crate::engine::exec::ExecError;
use serde::{Deserialize, Serialize};

/// What pinning changes, for help texts and exports' meta.
pub const PINNING_HELP: &str = "pinned: worker w runs only on core w mod cores (one hardware thread \
     of each physical core first, then their siblings), so it never migrates and keeps its caches; \
     free: the OS moves workers between cores as it likes. Pinning steadies run-to-run times on a \
     quiet machine, but a pinned worker cannot move away from a core another process is using, so \
     on a busy machine it can make a run slower";

/// Where the pool's workers may run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// The OS places and moves the workers.
    #[default]
    Free,
    /// Worker `w` stays on `cpu_order()[w % len]`.
    Pinned,
}

impl Placement {
    pub fn from_pin(pin: bool) -> Self {
        if pin {
            Placement::Pinned
        } else {
            Placement::Free
        }
    }

    pub fn is_pinned(self) -> bool {
        self == Placement::Pinned
    }

    pub fn name(self) -> &'static str {
        match self {
            Placement::Free => "free",
            Placement::Pinned => "pinned",
        }
    }
}

impl std::fmt::Display for Placement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The CPU the calling thread runs on now (`None` where the OS does not say).
#[cfg(target_os = "linux")]
pub fn current_cpu() -> Option<u32> {
    u32::try_from(rustix::thread::sched_getcpu()).ok()
}

/// The CPU the calling thread runs on now (`None` where the OS does not say).
#[cfg(not(target_os = "linux"))]
pub fn current_cpu() -> Option<u32> {
    None
}

/// The CPUs this process may use, in pinning order: the first hardware
/// thread of every physical core, then the second of each, and so on (so two
/// workers never share a core while a core is free). Falls back to the
/// allowed CPUs in number order when the topology is unreadable.
pub fn cpu_order() -> Vec<usize> {
    let allowed = allowed_cpus();
    let topology: Vec<(usize, Option<(u64, u64)>)> =
        allowed.iter().map(|&cpu| (cpu, core_of(cpu))).collect();
    order_by_core(&topology)
}

/// Orders `(cpu, Some((package, core)))` pairs: the k-th hardware thread of
/// every core before any (k+1)-th. CPUs of unknown core count as cores of their own.
fn order_by_core(cpus: &[(usize, Option<(u64, u64)>)]) -> Vec<usize> {
    let mut seen: Vec<((u64, u64), usize)> = Vec::new();
    let mut ranked: Vec<(usize, usize)> = cpus
        .iter()
        .map(|&(cpu, core)| {
            let rank = match core {
                Some(c) => {
                    let slot = seen.iter_mut().find(|(k, _)| *k == c);
                    match slot {
                        Some((_, n)) => {
                            *n += 1;
                            *n - 1
                        }
                        None => {
                            seen.push((c, 1));
                            0
                        }
                    }
                }
                None => 0,
            };
            (rank, cpu)
        })
        .collect();
    ranked.sort();
    ranked.into_iter().map(|(_, cpu)| cpu).collect()
}

#[cfg(target_os = "linux")]
fn allowed_cpus() -> Vec<usize> {
    match rustix::thread::sched_getaffinity(None) {
        Ok(set) => (0..rustix::thread::CpuSet::MAX_CPU)
            .filter(|&c| set.is_set(c))
            .collect(),
        Err(_) => (0..super::pool::logical_cores()).collect(),
    }
}

#[cfg(not(target_os = "linux"))]
fn allowed_cpus() -> Vec<usize> {
    (0..super::pool::logical_cores()).collect()
}

/// (package, core) of a CPU from sysfs.
fn core_of(cpu: usize) -> Option<(u64, u64)> {
    let read = |name: &str| -> Option<u64> {
        std::fs::read_to_string(format!("/sys/devices/system/cpu/cpu{cpu}/topology/{name}"))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    Some((read("physical_package_id")?, read("core_id")?))
}

/// Pins the calling thread to `cpu`.
#[cfg(target_os = "linux")]
pub fn pin_current_thread(cpu: usize) -> Result<(), ExecError> {
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    rustix::thread::sched_setaffinity(None, &set).map_err(|e| ExecError::Pin {
        cpu,
        source: e.into(),
    })
}

/// Pins the calling thread to `cpu`.
#[cfg(not(target_os = "linux"))]
pub fn pin_current_thread(cpu: usize) -> Result<(), ExecError> {
    Err(ExecError::PinUnsupported { cpu })
}

/// How the tasks of one worker moved between CPUs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerCpus {
    /// Distinct CPUs its tasks started on, ascending.
    pub cpus: Vec<u32>,
    /// Times a task started on another CPU than the worker's previous task.
    pub migrations: usize,
}

impl WorkerCpus {
    /// "cpu 1" or "cpus 0,1 (3 migrations)"; "cpu unknown" when not recorded.
    pub fn describe(&self) -> String {
        let list = self
            .cpus
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        match self.cpus.len() {
            0 => "cpu unknown".into(),
            1 => format!("cpu {list}"),
            _ => format!(
                "cpus {list} ({} migration{})",
                self.migrations,
                if self.migrations == 1 { "" } else { "s" }
            ),
        }
    }
}

/// Per worker (index = worker), the CPUs its tasks started on and the
/// migrations between consecutive tasks (in start order).
pub fn worker_cpus(records: &[super::trace::TaskRecord], num_workers: u32) -> Vec<WorkerCpus> {
    let mut per: Vec<Vec<(u64, u32)>> = vec![Vec::new(); num_workers as usize];
    for r in records {
        if let (Some(cpu), Some(v)) = (r.cpu, per.get_mut(r.worker as usize)) {
            v.push((r.start_nanos, cpu));
        }
    }
    per.into_iter()
        .map(|mut v| {
            v.sort_unstable();
            let migrations = v.windows(2).filter(|w| w[0].1 != w[1].1).count();
            let mut cpus: Vec<u32> = v.iter().map(|&(_, c)| c).collect();
            cpus.sort_unstable();
            cpus.dedup();
            WorkerCpus { cpus, migrations }
        })
        .collect()
}

/// The CPU the task before `r` on the same worker started on, when it
/// differs from `r`'s (a migration between the two), for tile details.
pub fn migrated_from(
    records: &[super::trace::TaskRecord],
    r: &super::trace::TaskRecord,
) -> Option<u32> {
    let cpu = r.cpu?;
    let before = records
        .iter()
        .filter(|o| o.worker == r.worker && o.start_nanos < r.start_nanos)
        .max_by_key(|o| o.start_nanos)?;
    before.cpu.filter(|&c| c != cpu)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::exec::trace::TaskRecord;

    #[test]
    fn physical_cores_come_before_their_siblings() {
        // cpu 0,1 on core 0; cpu 2,3 on core 1 (Linux numbers siblings apart
        // on many machines: 0/2 and 1/3; both layouts occur).
        let a = [
            (0, Some((0, 0))),
            (1, Some((0, 0))),
            (2, Some((0, 1))),
            (3, Some((0, 1))),
        ];
        assert_eq!(order_by_core(&a), vec![0, 2, 1, 3]);
        let b = [
            (0, Some((0, 0))),
            (1, Some((0, 1))),
            (2, Some((0, 0))),
            (3, Some((0, 1))),
        ];
        assert_eq!(order_by_core(&b), vec![0, 1, 2, 3]);
        // Two packages with the same core ids are different cores.
        let c = [(0, Some((0, 0))), (1, Some((1, 0))), (2, Some((0, 0)))];
        assert_eq!(order_by_core(&c), vec![0, 1, 2]);
        assert_eq!(order_by_core(&[(5, None), (4, None)]), vec![4, 5]);
    }

    #[test]
    fn the_order_holds_every_allowed_cpu_once() {
        let mut order = cpu_order();
        assert!(!order.is_empty());
        order.sort_unstable();
        let mut allowed = allowed_cpus();
        allowed.sort_unstable();
        assert_eq!(order, allowed);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_pinned_thread_runs_on_its_cpu() {
        let cpu = *cpu_order().last().expect("a cpu");
        let ran_on = std::thread::spawn(move || {
            pin_current_thread(cpu).expect("pin");
            // Every later check happens on the pinned CPU.
            (0..50)
                .map(|_| {
                    std::thread::yield_now();
                    current_cpu()
                })
                .collect::<Vec<_>>()
        })
        .join()
        .expect("thread");
        assert!(ran_on.iter().all(|&c| c == Some(cpu as u32)), "{ran_on:?}");
    }

    fn rec(task: u32, worker: u32, start: u64, cpu: Option<u32>) -> TaskRecord {
        TaskRecord {
            task,
            worker,
            start_nanos: start,
            end_nanos: start + 1,
            work: 1,
            cpu,
        }
    }

    #[test]
    fn migrations_count_changes_between_consecutive_tasks() {
        let records = [
            rec(0, 0, 30, Some(1)),
            rec(1, 0, 10, Some(0)),
            rec(2, 0, 20, Some(0)),
            rec(3, 0, 40, Some(0)),
            rec(4, 1, 5, Some(1)),
            rec(5, 2, 5, None),
        ];
        let w = worker_cpus(&records, 3);
        // Worker 0 in start order: 0, 0, 1, 0 -> two migrations.
        assert_eq!(w[0].cpus, vec![0, 1]);
        assert_eq!(w[0].migrations, 2);
        assert_eq!(w[0].describe(), "cpus 0,1 (2 migrations)");
        assert_eq!(w[1].describe(), "cpu 1");
        assert_eq!(w[2].describe(), "cpu unknown");
        // Task 0 (start 30, cpu 1) follows task 2 (start 20, cpu 0).
        assert_eq!(migrated_from(&records, &records[0]), Some(0));
        assert_eq!(migrated_from(&records, &records[2]), None);
        assert_eq!(migrated_from(&records, &records[1]), None);
    }
}

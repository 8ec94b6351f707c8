//! Building the worker pool and reading the machine's core counts.

use crate::engine::exec::ExecError;
use crate::engine::exec::placement::{Placement, cpu_order, pin_current_thread};
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Largest pool parlab builds.
pub const MAX_WORKERS: usize = 256;

/// Checks a worker count against the pool's limits: the one rule for the
/// CLI, the window and saved settings.
pub fn check_workers(num_workers: usize) -> Result<usize, ExecError> {
    if (1..=MAX_WORKERS).contains(&num_workers) {
        Ok(num_workers)
    } else {
        Err(ExecError::Workers {
            got: num_workers,
            max: MAX_WORKERS,
        })
    }
}

/// Builds a pool of exactly `num_workers` named threads (`parlab-worker-N`)
/// that the OS places freely.
pub fn build_pool(num_workers: usize) -> Result<ThreadPool, ExecError> {
    build_pool_placed(num_workers, Placement::Free)
}

/// Builds a pool of exactly `num_workers` named threads; pinned, worker `w`
/// runs only on [`cpu_order`]`()[w % len]` (physical cores first).
pub fn build_pool_placed(
    num_workers: usize,
    placement: Placement,
) -> Result<ThreadPool, ExecError> {
    check_workers(num_workers)?;
    let builder = ThreadPoolBuilder::new()
        .num_threads(num_workers)
        .thread_name(|i| format!("parlab-worker-{i}"));
    let pool = match placement {
        Placement::Free => builder.build(),
        Placement::Pinned => {
            let order = cpu_order();
            // Pin once here first: a refusal is reported, not left to a worker.
            if let Some(&cpu) = order.first() {
                let me = std::thread::spawn(move || pin_current_thread(cpu));
                me.join().map_err(|_| ExecError::PinProbePanicked)??;
            }
            let failed = Arc::new(AtomicUsize::new(0));
            let pool = builder
                .start_handler({
                    let failed = failed.clone();
                    move |w| {
                        let cpu = order.get(w % order.len().max(1)).copied().unwrap_or(0);
                        if pin_current_thread(cpu).is_err() {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
                .build();
            if let Ok(p) = &pool {
                // Every start handler has run once each worker answers.
                p.broadcast(|_| ());
                let n = failed.load(Ordering::Relaxed);
                if n > 0 {
                    return Err(ExecError::PinWorkers {
                        failed: n,
                        workers: num_workers,
                    });
                }
            }
            pool
        }
    };
    let pool = pool.map_err(|source| ExecError::Spawn {
        workers: num_workers,
        source,
    })?;
    // Every worker thread is running before the pool is handed out: a
    // thread's start is not timed as idle time of the first run (seen: the
    // second worker of a fresh pool started its first tile 3 ms into a 10-ms
    // render).
    pool.broadcast(|_| ());
    Ok(pool)
}

/// Logical cores (hardware threads) the OS lets this process use.
pub fn logical_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Physical cores, or the logical count when the OS does not say.
pub fn physical_cores() -> usize {
    sysinfo::System::physical_core_count()
        .ok()
        .filter(|&n| n > 0)
        .unwrap_or_else(logical_cores)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_has_requested_size_and_names() {
        let pool = build_pool(3).expect("pool");
        assert_eq!(pool.current_num_threads(), 3);
        let name = pool.install(|| std::thread::current().name().map(str::to_owned));
        assert!(name.expect("named").starts_with("parlab-worker-"));
        assert!(build_pool(0).is_err());
        assert!(build_pool(257).is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn pinned_workers_run_on_the_cores_in_order() {
        use crate::engine::exec::placement::current_cpu;
        let order = cpu_order();
        let n = order.len() + 1; // one more than the CPUs: the last wraps round
        let pool = build_pool_placed(n, Placement::Pinned).expect("pinned pool");
        let seen = pool.broadcast(|ctx| {
            (0..20)
                .map(|_| {
                    std::thread::yield_now();
                    current_cpu()
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|c| (ctx.index(), c))
                .collect::<Vec<_>>()
        });
        for (w, cpus) in seen.iter().enumerate() {
            let want = order[w % order.len()] as u32;
            assert!(
                cpus.iter().all(|&(_, c)| c == Some(want)),
                "worker {w} left CPU {want}: {cpus:?}"
            );
        }
    }
}

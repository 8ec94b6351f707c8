//! Building the worker pool and reading the machine's core counts.

use rayon::{ThreadPool, ThreadPoolBuilder};

/// Largest pool parlab builds.
pub const MAX_WORKERS: usize = 256;

/// Checks a worker count against the pool's limits: the one rule for the
/// CLI, the window and saved settings.
pub fn check_workers(num_workers: usize) -> Result<usize, String> {
    if (1..=MAX_WORKERS).contains(&num_workers) {
        Ok(num_workers)
    } else {
        Err(format!(
            "workers must be 1..={MAX_WORKERS}, got {num_workers}"
        ))
    }
}

/// Builds a pool of exactly `num_workers` named threads (`parlab-worker-N`).
pub fn build_pool(num_workers: usize) -> Result<ThreadPool, String> {
    check_workers(num_workers)?;
    ThreadPoolBuilder::new()
        .num_threads(num_workers)
        .thread_name(|i| format!("parlab-worker-{i}"))
        .build()
        .map_err(|e| format!("could not start {num_workers} worker threads: {e}"))
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
}

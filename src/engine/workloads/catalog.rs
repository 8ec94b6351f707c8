//! The list of workloads a sweep can measure, by name: Mandelbrot and the
//! course's workloads. Adding a workload: implement [`super::Workload`] and
//! name it here.

use super::WorkloadError;
use super::course::CourseWorkload;
use super::mandelbrot::Mandelbrot;
use super::spec::WorkloadSpec;
use super::workload::Workload;
use crate::engine::mandelbrot::kernel::Kernel;
use crate::engine::mandelbrot::view::View;

/// Names accepted by `--workload`.
pub const WORKLOAD_NAMES: [&str; 5] = ["mandelbrot", "primes", "dot", "matmul", "io"];

/// The workload called `name` with its default parameters, over `view` with
/// `kernel` where that applies.
pub fn by_name(
    name: &str,
    view: View,
    kernel: Kernel,
) -> Result<std::sync::Arc<dyn Workload>, WorkloadError> {
    by_spec(name, view, kernel, false)
}

/// The workload `spec` names: `mandelbrot` (over `view` with `kernel`), or a
/// course workload in [`crate::engine::workloads::WorkloadSpec`] syntax
/// (`primes`, `primes:count=640`, `io:tasks=32,wait-ms=5`, …). `gil` runs a
/// course workload's tasks under one global lock; Mandelbrot has no GIL mode.
pub fn by_spec(
    spec: &str,
    view: View,
    kernel: Kernel,
    gil: bool,
) -> Result<std::sync::Arc<dyn Workload>, WorkloadError> {
    let spec = spec.trim();
    if spec == "mandelbrot" {
        if gil {
            return Err(WorkloadError::GilMandelbrot);
        }
        return Ok(std::sync::Arc::new(Mandelbrot::new(view, kernel)));
    }
    let name = spec.split(':').next().unwrap_or_default().trim();
    if !WORKLOAD_NAMES.contains(&name) {
        return Err(WorkloadError::UnknownWorkload {
            name: name.to_string(),
            known: WORKLOAD_NAMES.join(", "),
        });
    }
    let parsed: WorkloadSpec = spec.parse()?;
    Ok(std::sync::Arc::new(CourseWorkload::new(parsed, gil)?))
}

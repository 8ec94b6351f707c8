//! The threads backend of the farm: today's executor, unchanged. Threads
//! share the image, so a tile needs no transfer and a worker no start-up
//! message; the rayon pool is built before timing starts.

use crate::engine::mandelbrot::RenderError;
use crate::engine::mandelbrot::render::{RenderSettings, Rendered, render};
use rayon::ThreadPool;

/// Renders on a thread pool (built here if `None`) through
/// [`crate::engine::exec::schedule::execute`].
pub fn render_threads(
    settings: &RenderSettings,
    pool: Option<&ThreadPool>,
) -> Result<Rendered, RenderError> {
    render(settings, pool)
}

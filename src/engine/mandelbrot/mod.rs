//! The Mandelbrot set: the view on the plane, its tiling into tasks, the
//! escape-time kernels, colouring, rendering (whole or streamed as a
//! background job) and the Benchmarks Game variant.

pub mod bench_game;
pub mod colour;
pub mod job;
pub mod kernel;
pub mod kernel_throughput;
pub mod render;
pub mod tiling;
pub mod view;

pub use colour::PaletteError;
pub use kernel::KernelError;
pub use render::RenderError;
pub use tiling::TilingError;
pub use view::ViewError;

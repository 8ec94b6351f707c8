//! One test binary for the library alone: architecture rules read from
//! `src/`, and every fast path against its serial reference.

mod architecture;
mod schedulers_agree;
mod simd_kernel;

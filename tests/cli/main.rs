//! One test binary for everything that runs the `parlab` binary as a process
//! (subcommands, the process farm's workers, hostile input).

mod bench;
mod bench_sweep;
mod common;
mod farm;
mod lessons;
mod mpi;
mod python;
mod race;
mod reliability;
mod render;
mod workloads;

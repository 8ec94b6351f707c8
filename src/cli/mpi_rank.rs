//! `parlab mpi-rank JOB` (hidden): one rank of an MPI render that parlab
//! itself launched through mpirun (the sweep, the window, `render --backend
//! mpi` typed without mpirun). Rank 0 reports on stdout in lines the
//! launcher reads; it is not for people.

use crate::cli::CliError;
use crate::engine::farm::launched_rank;
use crate::engine::farm::mpirun::{MpiJob, inside_mpirun};
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct MpiRankArgs {
    /// The render, encoded by the launcher.
    pub job: String,
}

pub fn run(args: &MpiRankArgs) -> Result<(), CliError> {
    if !inside_mpirun() {
        return Err(CliError::Usage(
            "`parlab mpi-rank` is one rank of a job that parlab starts through mpirun; run `parlab render --backend mpi` instead".into(),
        ));
    }
    let job = MpiJob::decode(&args.job)?;
    let mut out = std::io::stdout().lock();
    Ok(launched_rank(&job, &mut out)?)
}

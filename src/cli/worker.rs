//! `parlab worker` (hidden): one worker process of the process farm. The
//! master (`parlab render --backend processes`, the explorer, the speedup
//! lab) starts it with pipes on stdin and stdout; it is not for people.

use crate::cli::CliError;
use crate::engine::farm::worker::{die_with_parent, serve};
use std::io::IsTerminal;

pub fn run() -> Result<(), CliError> {
    if std::io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "`parlab worker` is started by parlab itself (render --backend processes) and speaks a binary protocol on stdin/stdout; it is not run by hand".into(),
        ));
    }
    die_with_parent();
    let mut input = std::io::stdin().lock();
    let mut output = std::io::BufWriter::new(std::io::stdout().lock());
    serve(&mut input, &mut output)
        .map_err(|e| CliError::Failed(format!("worker (pid {}): {e}", std::process::id())))
}

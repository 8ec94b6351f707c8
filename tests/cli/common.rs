//! What the process tests share: the binary under test, running it, and
//! reading what it printed or whether a process it left is still running.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The binary under test; `PARLAB_BIN` points these tests at another build
/// (used to check that a test fails on the build before its fix).
pub fn exe() -> PathBuf {
    std::env::var_os("PARLAB_BIN")
        .map_or_else(|| env!("CARGO_BIN_EXE_parlab").into(), PathBuf::from)
}

/// A command that runs the binary under test.
pub fn parlab() -> Command {
    Command::new(exe())
}

/// Runs `parlab ARGS` to its end: exit status, stdout and stderr.
pub fn run(args: &[&str]) -> Output {
    parlab().args(args).output().expect("runs")
}

/// The one JSON object a successful run printed (stderr in the panic if the
/// run failed).
pub fn json_of(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// What a process printed, as text (invalid UTF-8 replaced).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether `pid` is running, by its /proc state: a process that is gone, or
/// a zombie (state Z) waiting for a reaper, is not.
pub fn is_running(pid: u64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // Fields after the command name (which may hold spaces): state, ppid, ...
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .unwrap_or("?");
            state != "Z" && state != "X"
        }
        Err(_) => false,
    }
}

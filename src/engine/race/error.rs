//! What can go wrong in the race lab: a setting out of range, a step the
//! model cannot take, a thread that would not start, a log that does not add up.

/// A race-lab error. Settings and steps are the person's input; threads
/// that fail and inconsistent logs are failures.
#[derive(Debug, thiserror::Error)]
pub enum RaceError {
    #[error("unknown mode {input:?}: expected unsync, mutex, atomic, sharded or rwlock")]
    UnknownMode { input: String },
    #[error("threads must be 1..={max}, got {got}")]
    Threads { got: usize, max: usize },
    #[error("increments must be 1..={max}, got {got}")]
    Increments { got: u64, max: u64 },
    #[error("delay must be 0..={max} µs, got {got}")]
    Delay { got: u64, max: u64 },
    #[error("pause must be 0..={max} µs, got {got}")]
    Pause { got: u64, max: u64 },
    #[error(
        "lockstep needs overlapped threads (a barrier with one thread at a time would never open)"
    )]
    LockstepSerialised,
    #[error("recorded runs take 1..={max} threads, got {got}")]
    RecordThreads { got: usize, max: usize },
    #[error("recorded runs take 1..={max} increments per thread, got {got}")]
    RecordIncrements { got: u32, max: u32 },
    #[error("recorded runs take a delay of at most {max} µs, got {got}")]
    RecordDelay { got: u64, max: u64 },
    #[error("the stepper takes 1..={max} threads, got {got}")]
    StepperThreads { got: usize, max: usize },
    #[error("the stepper takes 1..={max} increments per thread, got {got}")]
    StepperIncrements { got: u32, max: u32 },
    /// A step for a thread the model does not have (`thread` counts from 0).
    #[error("there is no thread {}", thread + 1)]
    NoThread { thread: usize },
    #[error("T{} has finished", thread + 1)]
    Finished { thread: usize },
    #[error("T{} has no local copy", thread + 1)]
    NoLocalCopy { thread: usize },
    /// The OS would not start thread `thread`.
    #[error("could not start thread {thread}: {source}")]
    Spawn {
        thread: usize,
        #[source]
        source: std::io::Error,
    },
    /// A worker panicked holding the shared counter.
    #[error("a worker panicked")]
    WorkerPanicked,
    #[error("a race worker panicked")]
    RaceWorkerPanicked,
    #[error("a recording thread panicked")]
    RecorderPanicked,
    #[error("events are not in increasing ticket order")]
    OutOfOrder,
    /// `thread` is the thread's name (`T1`).
    #[error("ticket {ticket}: {thread} read {value} but the counter held {held}")]
    ReadMismatch {
        ticket: u64,
        thread: String,
        value: i64,
        held: i64,
    },
    #[error("ticket {ticket}: a write without an earlier read")]
    WriteWithoutRead { ticket: u64 },
    #[error("ticket {ticket}: write and its read are on different threads")]
    WriteOtherThread { ticket: u64 },
}

impl crate::engine::BadInput for RaceError {
    fn is_bad_input(&self) -> bool {
        use RaceError::*;
        matches!(
            self,
            UnknownMode { .. }
                | Threads { .. }
                | Increments { .. }
                | Delay { .. }
                | Pause { .. }
                | LockstepSerialised
                | RecordThreads { .. }
                | RecordIncrements { .. }
                | RecordDelay { .. }
                | StepperThreads { .. }
                | StepperIncrements { .. }
                | NoThread { .. }
                | Finished { .. }
                | NoLocalCopy { .. }
        )
    }
}

//! The worker side of the process farm: the loop that `parlab worker` runs.
//!
//! It says hello, then reads frames from stdin (setup, assignments, quit),
//! computes each assigned tile with the same kernel as the threads backend
//! and writes every tile back on stdout as soon as it is done. It dies with
//! its master: the kernel kills it when the master does (parent-death
//! signal), and it exits when stdin closes.
//!
//! Fault hook for tests and demonstrations: `PARLAB_WORKER_FAULT=KIND:W:N`
//! makes worker W misbehave after sending N tiles, where KIND is `abort`
//! (the process aborts), `hang` (sleeps forever) or `garbage` (writes bytes
//! that are not a frame). Anything else in the variable is ignored.

use super::clock::mono_nanos;
use super::protocol::{
    FrameError, FromWorker, TileList, TileResult, ToWorker, encode_pixels, read_frame, write_frame,
};
use crate::engine::mandelbrot::render::compute_tile;
use crate::engine::mandelbrot::tiling::Tile;
use std::io::{Read, Write};

/// Environment variable naming a fault to inject (see the module docs).
pub const FAULT_ENV: &str = "PARLAB_WORKER_FAULT";
/// Environment variable with the master's pid, so a worker whose master has
/// already gone exits at once.
pub const PARENT_ENV: &str = "PARLAB_FARM_MASTER_PID";

/// An injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Abort,
    Hang,
    Garbage,
}

/// Parses `KIND:W:N` into (fault, worker, tiles before it strikes).
pub fn parse_fault(s: &str) -> Option<(Fault, u32, u32)> {
    let mut parts = s.split(':');
    let kind = match parts.next()? {
        "abort" => Fault::Abort,
        "hang" => Fault::Hang,
        "garbage" => Fault::Garbage,
        _ => return None,
    };
    let worker = parts.next()?.parse().ok()?;
    let after = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((kind, worker, after))
}

/// Why a worker stopped with an error (the caller prints it and exits non-zero).
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// A frame that could not be read or written.
    #[error("{0}")]
    Frame(#[from] FrameError),
    #[error("work arrived before setup")]
    NoSetup,
    #[error("asked for tile {index}, but the image has {tiles} tiles")]
    NoSuchTile { index: u32, tiles: usize },
}

/// Asks the kernel to kill this process when its parent dies, and exits at
/// once if the parent named in [`PARENT_ENV`] is already gone.
pub fn die_with_parent() {
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
    if let Ok(expected) = std::env::var(PARENT_ENV) {
        let parent = rustix::process::getppid().map(|p| p.as_raw_nonzero().get());
        if parent.map(|p| p.to_string()) != Some(expected) {
            std::process::exit(0);
        }
    }
}

/// Peak resident set size of this process (VmHWM in /proc/self/status), KiB.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs the worker loop on `input` and `output` until told to quit or the
/// input closes. Errors are protocol errors (wrong version, malformed frame,
/// a tile that does not exist) and broken pipes.
pub fn serve(input: &mut impl Read, output: &mut impl Write) -> Result<(), WorkerError> {
    let fault = std::env::var(FAULT_ENV).ok().and_then(|s| parse_fault(&s));
    write_frame(
        output,
        &FromWorker::Hello {
            pid: std::process::id(),
            ready_mono_ns: mono_nanos(),
        },
    )?;
    let mut setup = None;
    let mut sent: u32 = 0;
    loop {
        let msg = match read_frame::<ToWorker>(input) {
            Ok(m) => m,
            // The master closed our input: nothing more to do.
            Err(FrameError::Closed) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        match msg {
            ToWorker::Setup {
                worker,
                view,
                kernel,
                tiling,
            } => {
                let tiles = tiling.tiles(view.width_px(), view.height_px());
                setup = Some((worker, view, kernel, tiles));
            }
            ToWorker::Work(list) => {
                let Some((worker, view, kernel, tiles)) = &setup else {
                    return Err(WorkerError::NoSetup);
                };
                for index in list_indices(&list, tiles)? {
                    if let Some((kind, w, after)) = fault
                        && w == *worker
                        && sent >= after
                    {
                        strike(kind, output);
                    }
                    let tile = &tiles[index as usize];
                    let result = compute_one(*kernel, view, tile)?;
                    write_frame(output, &FromWorker::Tile(result))?;
                    sent += 1;
                }
                write_frame(output, &FromWorker::Idle)?;
            }
            ToWorker::Quit => {
                write_frame(
                    output,
                    &FromWorker::Bye {
                        peak_rss_kib: peak_rss_kib(),
                    },
                )?;
                return Ok(());
            }
        }
    }
}

fn list_indices(list: &TileList, tiles: &[Tile]) -> Result<Vec<u32>, WorkerError> {
    let indices = list.indices();
    match indices.iter().find(|&&i| i as usize >= tiles.len()) {
        Some(&bad) => Err(WorkerError::NoSuchTile {
            index: bad,
            tiles: tiles.len(),
        }),
        None => Ok(indices),
    }
}

fn compute_one(
    kernel: crate::engine::mandelbrot::kernel::Kernel,
    view: &crate::engine::mandelbrot::view::View,
    tile: &Tile,
) -> Result<TileResult, WorkerError> {
    let compute_start_mono_ns = mono_nanos();
    let (pixels, work) = compute_tile(kernel, view, tile);
    let compute_end_mono_ns = mono_nanos();
    let encoded = encode_pixels(&pixels)?;
    Ok(TileResult {
        index: tile.index,
        compute_start_mono_ns,
        compute_end_mono_ns,
        work,
        serialise_nanos: mono_nanos().saturating_sub(compute_end_mono_ns),
        pixels: encoded,
    })
}

fn strike(kind: Fault, output: &mut impl Write) {
    match kind {
        Fault::Abort => std::process::abort(),
        Fault::Hang => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        Fault::Garbage => {
            let _ = output.write_all(b"this is not a frame at all");
            let _ = output.flush();
            // Wait for the master to notice and kill us.
            loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::protocol::{PROTOCOL_VERSION, decode_pixels, encode_frame};
    use super::*;
    use crate::engine::mandelbrot::kernel::Kernel;
    use crate::engine::mandelbrot::tiling::Tiling;
    use crate::engine::mandelbrot::view::View;

    fn frames(msgs: &[ToWorker]) -> Vec<u8> {
        msgs.iter()
            .flat_map(|m| encode_frame(m).expect("encode"))
            .collect()
    }

    fn replies(mut out: &[u8]) -> Vec<FromWorker> {
        let mut v = Vec::new();
        while let Ok(m) = read_frame::<FromWorker>(&mut out) {
            v.push(m);
        }
        v
    }

    #[test]
    fn serves_tiles_that_equal_the_local_kernel() {
        let view = View::new((-0.75, 0.0), 3.0, 20, 10, 60).expect("view");
        let tiling = Tiling::Square { tile_px: 8 };
        let input = frames(&[
            ToWorker::Setup {
                worker: 0,
                view,
                kernel: Kernel::Reference,
                tiling,
            },
            ToWorker::Work(TileList::List(vec![4, 0])),
            ToWorker::Quit,
        ]);
        let mut out = Vec::new();
        serve(&mut input.as_slice(), &mut out).expect("serve");
        let got = replies(&out);
        assert!(matches!(got[0], FromWorker::Hello { .. }));
        let tiles = tiling.tiles(20, 10);
        for (msg, index) in got[1..3].iter().zip([4u32, 0]) {
            let FromWorker::Tile(r) = msg else {
                panic!("expected a tile, got {msg:?}")
            };
            assert_eq!(r.index, index);
            let (want, work) = compute_tile(Kernel::Reference, &view, &tiles[index as usize]);
            assert_eq!(decode_pixels(&r.pixels).expect("pixels"), want);
            assert_eq!(r.work, work);
            assert!(r.compute_start_mono_ns <= r.compute_end_mono_ns);
        }
        assert_eq!(got[3], FromWorker::Idle);
        assert!(matches!(got[4], FromWorker::Bye { .. }));
    }

    #[test]
    fn refuses_bad_input() {
        let mut out = Vec::new();
        let mut wrong = encode_frame(&ToWorker::Quit).expect("encode");
        wrong[3] = PROTOCOL_VERSION.wrapping_add(1);
        let e = serve(&mut wrong.as_slice(), &mut out).expect_err("wrong version");
        assert!(e.to_string().contains("protocol version"), "{e}");
        let e = serve(&mut &b"GET / HTTP/1.1\r\n"[..], &mut out).expect_err("garbage");
        assert!(e.to_string().contains("malformed"), "{e}");
        let early = frames(&[ToWorker::Work(TileList::Range { lo: 0, hi: 1 })]);
        assert!(serve(&mut early.as_slice(), &mut out).is_err());
        let view = View::new((0.0, 0.0), 1.0, 4, 4, 10).expect("view");
        let beyond = frames(&[
            ToWorker::Setup {
                worker: 0,
                view,
                kernel: Kernel::Reference,
                tiling: Tiling::Square { tile_px: 4 },
            },
            ToWorker::Work(TileList::Range { lo: 0, hi: 2 }),
        ]);
        let e = serve(&mut beyond.as_slice(), &mut out).expect_err("no tile 1");
        assert!(e.to_string().contains("tile 1"), "{e}");
        // A closed input is a clean end.
        assert!(serve(&mut &b""[..], &mut out).is_ok());
    }

    #[test]
    fn fault_specs_parse() {
        assert_eq!(parse_fault("abort:1:2"), Some((Fault::Abort, 1, 2)));
        assert_eq!(parse_fault("hang:0:0"), Some((Fault::Hang, 0, 0)));
        assert_eq!(parse_fault("garbage:3:1"), Some((Fault::Garbage, 3, 1)));
        assert_eq!(parse_fault("abort:1"), None);
        assert_eq!(parse_fault("explode:1:1"), None);
        assert_eq!(parse_fault("abort:1:1:1"), None);
    }
}

//! The wire format between the farm's master and a worker process: versioned,
//! length-prefixed frames whose bodies are `postcard`-encoded messages.
//!
//! A frame is an 8-byte header, then the body:
//!
//! ```text
//! b"PLF"  version: u8  body_len: u32 (little endian)  body: postcard(message)
//! ```
//!
//! Every frame carries the version, so a worker built from other sources
//! stops at its first frame instead of misreading the rest. A frame that
//! does not start with the magic, is longer than [`MAX_FRAME_BYTES`], or
//! whose body does not decode is malformed: the reader reports it and the
//! worker exits with a message on stderr.
//!
//! Tile pixels travel as a separately encoded byte string inside
//! [`TileResult`], so that the worker can time their serialisation (the bulk
//! of a frame) and send that time in the same frame.

use crate::engine::mandelbrot::kernel::{Kernel, TilePixels};
use crate::engine::mandelbrot::tiling::Tiling;
use crate::engine::mandelbrot::view::View;
use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};

/// Bumped whenever a message changes shape.
pub const PROTOCOL_VERSION: u8 = 1;
/// First three bytes of every frame.
pub const MAGIC: [u8; 3] = *b"PLF";
/// Header bytes before each body.
pub const HEADER_BYTES: usize = 8;
/// Largest body accepted: a 64 Mpx band at 9 bytes a pixel fits.
pub const MAX_FRAME_BYTES: u32 = 1 << 30;

/// The tasks of one assignment, by tile index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TileList {
    /// Tiles `lo..hi` (a static block).
    Range { lo: u32, hi: u32 },
    /// Tiles `first, first + step, …` below `end` (static cyclic).
    Strided { first: u32, step: u32, end: u32 },
    /// These tiles, in this order (a dynamic chunk, a stolen share, a redo).
    List(Vec<u32>),
}

impl TileList {
    /// The indices, in the order the worker runs them.
    pub fn indices(&self) -> Vec<u32> {
        match self {
            TileList::Range { lo, hi } => (*lo..*hi).collect(),
            TileList::Strided { first, step, end } => {
                (*first..*end).step_by((*step).max(1) as usize).collect()
            }
            TileList::List(v) => v.clone(),
        }
    }
}

/// Master to worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// What to render and how the image is cut; sent once, first.
    Setup {
        worker: u32,
        view: View,
        kernel: Kernel,
        tiling: Tiling,
    },
    /// Compute these tiles, send each back, then say [`FromWorker::Idle`].
    Work(TileList),
    /// Say [`FromWorker::Bye`] and exit.
    Quit,
}

/// Worker to master. Times are CLOCK_MONOTONIC nanoseconds, the machine's
/// one clock, so the master can place them on its own time axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker is running (its first message: start-up ends here).
    Hello {
        pid: u32,
        ready_mono_ns: u64,
    },
    Tile(TileResult),
    /// The last assignment is done; ready for more.
    Idle,
    /// Leaving after [`ToWorker::Quit`]; peak resident memory (VmHWM) if known.
    Bye {
        peak_rss_kib: Option<u64>,
    },
}

/// One computed tile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TileResult {
    pub index: u32,
    pub compute_start_mono_ns: u64,
    pub compute_end_mono_ns: u64,
    /// Iterations executed.
    pub work: u64,
    /// Time the worker took to encode `pixels`.
    pub serialise_nanos: u64,
    /// `postcard` encoding of [`WirePixels`].
    pub pixels: Vec<u8>,
}

/// A tile's pixels on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WirePixels {
    pub counts: Vec<u32>,
    pub smooth: Vec<f32>,
}

/// Encodes a tile's pixels for [`TileResult::pixels`].
pub fn encode_pixels(pixels: &TilePixels) -> Result<Vec<u8>, FrameError> {
    #[derive(Serialize)]
    struct Borrowed<'a> {
        counts: &'a [u32],
        smooth: &'a [f32],
    }
    postcard::to_stdvec(&Borrowed {
        counts: &pixels.counts,
        smooth: &pixels.smooth,
    })
    .map_err(|e| FrameError::Malformed(format!("cannot encode pixels: {e}")))
}

/// Decodes [`TileResult::pixels`].
pub fn decode_pixels(bytes: &[u8]) -> Result<TilePixels, FrameError> {
    let w: WirePixels = postcard::from_bytes(bytes)
        .map_err(|e| FrameError::Malformed(format!("tile pixels do not decode: {e}")))?;
    Ok(TilePixels {
        counts: w.counts,
        smooth: w.smooth,
    })
}

/// Why a frame could not be read.
#[derive(Debug)]
pub enum FrameError {
    /// The stream ended cleanly before a header.
    Closed,
    /// The peer speaks another protocol version.
    Version {
        got: u8,
    },
    /// Not a frame of this protocol, or a body that does not decode.
    Malformed(String),
    Io(io::Error),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Closed => f.write_str("the stream closed"),
            FrameError::Version { got } => write!(
                f,
                "protocol version {got}, expected {PROTOCOL_VERSION} (master and worker are different builds)"
            ),
            FrameError::Malformed(m) => write!(f, "malformed frame: {m}"),
            FrameError::Io(e) => write!(f, "pipe error: {e}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Encodes `msg` as one frame (header and body).
pub fn encode_frame<T: Serialize>(msg: &T) -> Result<Vec<u8>, FrameError> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&MAGIC);
    out.push(PROTOCOL_VERSION);
    out.extend_from_slice(&[0; 4]);
    let mut out = postcard::to_extend(msg, out)
        .map_err(|e| FrameError::Malformed(format!("cannot encode: {e}")))?;
    let body_len = u32::try_from(out.len() - HEADER_BYTES)
        .ok()
        .filter(|&n| n <= MAX_FRAME_BYTES)
        .ok_or_else(|| FrameError::Malformed("message too large for one frame".into()))?;
    out[4..8].copy_from_slice(&body_len.to_le_bytes());
    Ok(out)
}

/// Writes one frame and flushes; returns the bytes written.
pub fn write_frame<T: Serialize>(w: &mut impl Write, msg: &T) -> Result<usize, FrameError> {
    let frame = encode_frame(msg)?;
    w.write_all(&frame).map_err(FrameError::Io)?;
    w.flush().map_err(FrameError::Io)?;
    Ok(frame.len())
}

/// Reads one frame's body (checking magic, version and length); returns the
/// body. [`FrameError::Closed`] when the stream ends before a header.
pub fn read_body(r: &mut impl Read) -> Result<Vec<u8>, FrameError> {
    let mut header = [0u8; HEADER_BYTES];
    let mut got = 0;
    while got < HEADER_BYTES {
        match r.read(&mut header[got..]) {
            Ok(0) if got == 0 => return Err(FrameError::Closed),
            Ok(0) => {
                return Err(FrameError::Malformed(format!(
                    "stream ended inside a header ({got} of {HEADER_BYTES} bytes)"
                )));
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    if header[..3] != MAGIC {
        return Err(FrameError::Malformed(format!(
            "bad magic {:02x?} (expected \"PLF\")",
            &header[..3]
        )));
    }
    if header[3] != PROTOCOL_VERSION {
        return Err(FrameError::Version { got: header[3] });
    }
    let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if len > MAX_FRAME_BYTES {
        return Err(FrameError::Malformed(format!(
            "body of {len} bytes is over the {MAX_FRAME_BYTES}-byte limit"
        )));
    }
    let mut body = vec![0u8; len as usize];
    r.read_exact(&mut body).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            FrameError::Malformed(format!("stream ended inside a {len}-byte body"))
        } else {
            FrameError::Io(e)
        }
    })?;
    Ok(body)
}

/// Decodes a body read by [`read_body`].
pub fn decode_body<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, FrameError> {
    postcard::from_bytes(body).map_err(|e| FrameError::Malformed(format!("body: {e}")))
}

/// Reads and decodes one frame.
pub fn read_frame<T: for<'de> Deserialize<'de>>(r: &mut impl Read) -> Result<T, FrameError> {
    decode_body(&read_body(r)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> ToWorker {
        ToWorker::Setup {
            worker: 3,
            view: View::new((-0.5, 0.25), 2.0, 40, 30, 77).expect("view"),
            kernel: Kernel::Simd,
            tiling: Tiling::Bands { band_rows: 2 },
        }
    }

    #[test]
    fn messages_round_trip_through_frames() {
        let msgs = vec![
            setup(),
            ToWorker::Work(TileList::Strided {
                first: 1,
                step: 3,
                end: 10,
            }),
            ToWorker::Work(TileList::List(vec![4, 2, 9])),
            ToWorker::Quit,
        ];
        let mut pipe = Vec::new();
        for m in &msgs {
            write_frame(&mut pipe, m).expect("write");
        }
        let mut r = pipe.as_slice();
        for m in &msgs {
            assert_eq!(&read_frame::<ToWorker>(&mut r).expect("read"), m);
        }
        assert!(matches!(
            read_frame::<ToWorker>(&mut r),
            Err(FrameError::Closed)
        ));
    }

    #[test]
    fn pixels_round_trip_bit_for_bit() {
        let p = TilePixels {
            counts: vec![0, 1, 500, u32::MAX],
            smooth: vec![0.0, 1.5, f32::MIN_POSITIVE, 499.99],
        };
        let back = decode_pixels(&encode_pixels(&p).expect("encode")).expect("decode");
        assert_eq!(back, p);
    }

    #[test]
    fn wrong_version_and_malformed_frames_are_refused() {
        let mut frame = encode_frame(&ToWorker::Quit).expect("encode");
        frame[3] = PROTOCOL_VERSION + 1;
        assert!(matches!(
            read_frame::<ToWorker>(&mut frame.as_slice()),
            Err(FrameError::Version { got }) if got == PROTOCOL_VERSION + 1
        ));
        let garbage = b"hello world, not a frame".to_vec();
        assert!(matches!(
            read_frame::<ToWorker>(&mut garbage.as_slice()),
            Err(FrameError::Malformed(_))
        ));
        // A header that promises more body than arrives.
        let mut short = encode_frame(&setup()).expect("encode");
        short.truncate(short.len() - 2);
        assert!(matches!(
            read_frame::<ToWorker>(&mut short.as_slice()),
            Err(FrameError::Malformed(_))
        ));
        // A body that is not a message.
        let mut bad = encode_frame(&ToWorker::Quit).expect("encode");
        bad[HEADER_BYTES] = 200;
        assert!(matches!(
            read_frame::<ToWorker>(&mut bad.as_slice()),
            Err(FrameError::Malformed(_))
        ));
        // A length over the limit is refused before allocating.
        let mut huge = encode_frame(&ToWorker::Quit).expect("encode");
        huge[4..8].copy_from_slice(&(MAX_FRAME_BYTES + 1).to_le_bytes());
        assert!(matches!(
            read_frame::<ToWorker>(&mut huge.as_slice()),
            Err(FrameError::Malformed(_))
        ));
    }

    #[test]
    fn tile_lists_expand_in_order() {
        assert_eq!(TileList::Range { lo: 2, hi: 5 }.indices(), vec![2, 3, 4]);
        assert_eq!(
            TileList::Strided {
                first: 1,
                step: 3,
                end: 11
            }
            .indices(),
            vec![1, 4, 7, 10]
        );
        assert_eq!(TileList::List(vec![9, 1]).indices(), vec![9, 1]);
    }
}

//! PNG encoding of large RGBA images in parallel bands of rows.
//!
//! A PNG's pixels are one zlib stream split over any number of IDAT chunks.
//! Here the image is cut into bands of about [`BAND_BYTES`] of raw rows;
//! each band is filtered (PNG filter 1, *Sub*: each byte minus the byte of
//! the pixel to its left) and deflated on its own at zlib level 1 (the
//! fastest level that still finds repeats), ending with a *sync flush*
//! (an empty stored block, so the next band's deflate blocks start on a
//! byte boundary) instead of a final block; the last band ends the stream.
//! Each band becomes its own IDAT chunk with its own CRC; the zlib header
//! leads the first, and the Adler-32 of all the filtered bytes (combined
//! from each band's) follows in a last 4-byte IDAT chunk. This is how pigz
//! compresses in parallel; the file decodes with any PNG reader.
//!
//! The bands are the same whatever the pool, so the bytes are too: a band
//! only depends on its rows. Restarting the compressor per band loses
//! matches across a band edge only (well under 1 % of the size here).

use flate2::{Compress, Compression, FlushCompress, Status};
use image::RgbaImage;
use rayon::ThreadPool;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

/// Raw bytes per band (rows are never split): ~1 MiB, 30+ bands at 4K.
pub const BAND_BYTES: usize = 1 << 20;

/// The zlib header for deflate with a 32 KiB window, "fastest" level hint.
const ZLIB_HEADER: [u8; 2] = [0x78, 0x01];
const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Rows per band for an image `width_px` wide (at least one).
pub fn band_rows(width_px: u32) -> u32 {
    let row_bytes = 1 + 4 * width_px as usize;
    (BAND_BYTES / row_bytes).clamp(1, u32::MAX as usize) as u32
}

/// The PNG file of `img`: bands of [`band_rows`] rows, encoded on `pool`
/// (on this thread if `None`). The same bytes either way.
pub fn png_bytes_banded(
    img: &RgbaImage,
    pool: Option<&ThreadPool>,
) -> Result<Vec<u8>, image::ImageError> {
    png_bytes_in_bands(img, band_rows(img.width()), pool)
}

/// [`png_bytes_banded`] with `rows_per_band` rows per band (tests use small bands).
pub fn png_bytes_in_bands(
    img: &RgbaImage,
    rows_per_band: u32,
    pool: Option<&ThreadPool>,
) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    write_image_in_bands(&mut out, img, rows_per_band, pool)?;
    Ok(out)
}

/// Writes `img` to `out` as a PNG in bands of `rows_per_band` rows, as
/// [`write_rows_with`] does, each band deflated straight from the image.
pub fn write_image_in_bands(
    out: &mut dyn Write,
    img: &RgbaImage,
    rows_per_band: u32,
    pool: Option<&ThreadPool>,
) -> io::Result<()> {
    let (width, height) = img.dimensions();
    let row_bytes = 4 * width as usize;
    let rows_per_band = rows_per_band.max(1);
    let band_bytes = row_bytes * rows_per_band as usize;
    let raw = img.as_raw();
    let num_bands = height.div_ceil(rows_per_band);
    write_bands(out, width, height, num_bands, pool, |i| {
        let start = i as usize * band_bytes;
        let band = &raw[start..(start + band_bytes).min(raw.len())];
        encode_band(band, row_bytes, i == 0, i + 1 == num_bands)
    })
}

/// Writes to `out` the PNG of a `width_px` × `height_px` image whose RGBA
/// rows `fill(y, rows)` writes band by band (`rows` holds whole rows from
/// row `y` on), each band filled and deflated by one task on `pool` (on
/// this thread if `None`): the whole image never exists in memory, and no
/// pass waits for another. Called from outside `pool`, this thread writes
/// each band as soon as it and the bands before it are done, so the file
/// is written while the pool still encodes (the workers never wait for
/// the writer). The same bytes as [`write_image_in_bands`] of the filled image.
/// On an error the bands before it are already written: `write_with`
/// removes a file's temporary copy, but a stream (stdout, a device) keeps
/// them.
pub fn write_rows_with(
    out: &mut dyn Write,
    width_px: u32,
    height_px: u32,
    rows_per_band: u32,
    pool: Option<&ThreadPool>,
    fill: impl Fn(u32, &mut [u8]) + Sync,
) -> io::Result<()> {
    let row_bytes = 4 * width_px as usize;
    let rows_per_band = rows_per_band.max(1);
    let num_bands = height_px.div_ceil(rows_per_band);
    write_bands(out, width_px, height_px, num_bands, pool, |i| {
        let y = i * rows_per_band;
        let rows = rows_per_band.min(height_px - y) as usize;
        let mut rgba = vec![0u8; rows * row_bytes];
        fill(y, &mut rgba);
        encode_band(&rgba, row_bytes, i == 0, i + 1 == num_bands)
    })
}

/// Writes the PNG whose band `i` of `num_bands` is `encode(i)`: the bands
/// encoded on `pool` (on this thread if `None`) and written in order, each
/// as soon as it and those before it are done when called from outside
/// `pool` (see [`write_rows_with`]).
fn write_bands(
    out: &mut dyn Write,
    width_px: u32,
    height_px: u32,
    num_bands: u32,
    pool: Option<&ThreadPool>,
    encode: impl Fn(u32) -> Result<Band, image::ImageError> + Sync,
) -> io::Result<()> {
    if width_px == 0 || height_px == 0 {
        return Err(io::Error::other(encoding_error(
            "an image with no pixels has no PNG",
        )));
    }
    let mut png = PngStream::start(out, width_px, height_px)?;
    match pool {
        Some(pool) if pool.current_thread_index().is_none() => {
            let stop = AtomicBool::new(false);
            pool.in_place_scope_fifo(|scope| {
                let (done, finished) = mpsc::channel();
                for i in 0..num_bands {
                    let (done, encode, stop) = (done.clone(), &encode, &stop);
                    scope.spawn_fifo(move |_| {
                        if !stop.load(Ordering::Relaxed) {
                            // The receiver is gone only after a failed write.
                            let _ = done.send((i, encode(i)));
                        }
                    });
                }
                drop(done);
                let written = png.bands_in_order(finished, num_bands);
                if written.is_err() {
                    stop.store(true, Ordering::Relaxed);
                }
                written
            })?;
        }
        // On one of the pool's own threads, waiting here for bands could
        // hold up the one thread that would encode them: encode, then write.
        Some(pool) => {
            let bands: Vec<_> =
                pool.install(|| (0..num_bands).into_par_iter().map(&encode).collect());
            for band in bands {
                png.band(band)?;
            }
        }
        None => {
            for i in 0..num_bands {
                png.band(encode(i))?;
            }
        }
    }
    png.finish()
}

/// A PNG written band by band: the head first, then each band's IDAT chunk
/// in order (its Adler-32 folded into the stream's), then the tail.
struct PngStream<'w> {
    out: &'w mut dyn Write,
    adler: u32,
}

impl<'w> PngStream<'w> {
    fn start(out: &'w mut dyn Write, width_px: u32, height_px: u32) -> io::Result<Self> {
        out.write_all(&head(width_px, height_px))?;
        Ok(PngStream { out, adler: 1 })
    }

    fn band(&mut self, band: Result<Band, image::ImageError>) -> io::Result<()> {
        let band = band.map_err(io::Error::other)?;
        self.out.write_all(&band.chunk)?;
        self.adler = adler32_combine(self.adler, band.adler, band.filtered_len);
        Ok(())
    }

    /// Takes bands `(index, band)` as they finish, in any order, and writes
    /// each once all before it are written.
    fn bands_in_order(
        &mut self,
        finished: mpsc::Receiver<(u32, Result<Band, image::ImageError>)>,
        num_bands: u32,
    ) -> io::Result<()> {
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        for (i, band) in finished {
            waiting.insert(i, band);
            while let Some(band) = waiting.remove(&next) {
                self.band(band)?;
                next += 1;
            }
        }
        if next == num_bands {
            Ok(())
        } else {
            Err(io::Error::other(encoding_error(format!(
                "band {next} of {num_bands} was never encoded"
            ))))
        }
    }

    fn finish(self) -> io::Result<()> {
        self.out.write_all(&tail(self.adler))
    }
}

/// Signature and IHDR.
fn head(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // 8 bits per channel, colour type 6 (RGBA), deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut head = Vec::with_capacity(SIGNATURE.len() + 25);
    head.extend_from_slice(&SIGNATURE);
    push_chunk(&mut head, b"IHDR", &ihdr);
    head
}

/// The IDAT chunk with the stream's Adler-32 (`adler`), and IEND.
fn tail(adler: u32) -> Vec<u8> {
    let mut tail = Vec::with_capacity(28);
    push_chunk(&mut tail, b"IDAT", &adler.to_be_bytes());
    push_chunk(&mut tail, b"IEND", &[]);
    tail
}

/// One band, encoded: a whole IDAT chunk, and the Adler-32 and length of
/// the filtered bytes it compresses.
struct Band {
    chunk: Vec<u8>,
    adler: u32,
    filtered_len: u64,
}

fn encode_band(
    raw: &[u8],
    row_bytes: usize,
    first: bool,
    last: bool,
) -> Result<Band, image::ImageError> {
    let mut filtered = Vec::with_capacity(raw.len() + raw.len() / row_bytes);
    for row in raw.chunks_exact(row_bytes) {
        filtered.push(1); // filter type Sub
        filtered.extend_from_slice(&row[..4]);
        filtered.extend(
            row[4..]
                .iter()
                .zip(row)
                .map(|(&byte, &left)| byte.wrapping_sub(left)),
        );
    }
    let mut hasher = simd_adler32::Adler32::new();
    hasher.write(&filtered);
    // Chunk: length (filled in below), type, data, CRC.
    let mut chunk = Vec::with_capacity(12 + filtered.len() / 3 + 1024);
    chunk.extend_from_slice(&[0; 4]);
    chunk.extend_from_slice(b"IDAT");
    if first {
        chunk.extend_from_slice(&ZLIB_HEADER);
    }
    deflate_into(&filtered, last, &mut chunk)?;
    let data_len = u32::try_from(chunk.len() - 8)
        .map_err(|_| encoding_error("a band compressed to more than 4 GiB"))?;
    chunk[..4].copy_from_slice(&data_len.to_be_bytes());
    let crc = crc32fast::hash(&chunk[4..]);
    chunk.extend_from_slice(&crc.to_be_bytes());
    Ok(Band {
        chunk,
        adler: hasher.finish(),
        filtered_len: filtered.len() as u64,
    })
}

/// Raw deflate of `input` appended to `out`: ends with a final block if
/// `last`, else with a sync flush (byte-aligned, stream left open).
fn deflate_into(input: &[u8], last: bool, out: &mut Vec<u8>) -> Result<(), image::ImageError> {
    let mut compress = Compress::new(Compression::new(1), false);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    loop {
        let consumed = compress.total_in() as usize;
        if out.capacity() - out.len() < 1024 {
            out.reserve(input.len() / 4 + 4096);
        }
        let status = compress
            .compress_vec(&input[consumed.min(input.len())..], out, flush)
            .map_err(|e| encoding_error(e.to_string()))?;
        let done_in = compress.total_in() as usize >= input.len();
        match status {
            Status::StreamEnd => return Ok(()),
            // A flush is complete once all input is in and it left output room spare.
            Status::Ok | Status::BufError if !last && done_in && out.len() < out.capacity() => {
                return Ok(());
            }
            Status::Ok | Status::BufError => {}
        }
    }
}

fn push_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn encoding_error(message: impl Into<String>) -> image::ImageError {
    image::ImageError::Encoding(image::error::EncodingError::new(
        image::ImageFormat::Png.into(),
        message.into(),
    ))
}

/// The Adler-32 of `a ++ b` from `adler(a)`, `adler(b)` and `b.len()`
/// (zlib's `adler32_combine`).
pub fn adler32_combine(adler_a: u32, adler_b: u32, len_b: u64) -> u32 {
    const BASE: u64 = 65_521;
    let rem = len_b % BASE;
    let mut sum1 = u64::from(adler_a & 0xffff);
    let mut sum2 = (rem * sum1) % BASE;
    sum1 += u64::from(adler_b & 0xffff) + BASE - 1;
    sum2 += u64::from(adler_a >> 16) + u64::from(adler_b >> 16) + BASE - rem;
    if sum1 >= BASE {
        sum1 -= BASE;
    }
    if sum1 >= BASE {
        sum1 -= BASE;
    }
    if sum2 >= BASE << 1 {
        sum2 -= BASE << 1;
    }
    if sum2 >= BASE {
        sum2 -= BASE;
    }
    (sum1 | (sum2 << 16)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adler(data: &[u8]) -> u32 {
        let mut h = simd_adler32::Adler32::new();
        h.write(data);
        h.finish()
    }

    fn picture(w: u32, h: u32) -> RgbaImage {
        RgbaImage::from_fn(w, h, |x, y| {
            let v = (x * 7 + y * 13) % 256;
            image::Rgba([
                v as u8,
                (x % 251) as u8,
                ((x ^ y) % 256) as u8,
                255 - (y % 3) as u8,
            ])
        })
    }

    fn decode(bytes: &[u8]) -> RgbaImage {
        image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
            .expect("decodes")
            .to_rgba8()
    }

    #[test]
    fn adler_combine_equals_adler_of_the_whole() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 253) as u8).collect();
        for cut in [0, 1, 5551, 65_520, 65_521, 65_522, 100_000, 200_000] {
            let (a, b) = data.split_at(cut);
            assert_eq!(
                adler32_combine(adler(a), adler(b), b.len() as u64),
                adler(&data),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn bands_decode_to_the_image_and_the_pool_changes_no_byte() {
        let pool = crate::engine::exec::pool::build_pool(3).expect("pool");
        for (w, h, rows) in [
            (1, 1, 1),
            (5, 3, 1),
            (37, 21, 4),
            (64, 64, 64),
            (300, 97, 10),
        ] {
            let img = picture(w, h);
            let serial = png_bytes_in_bands(&img, rows, None).expect("png");
            assert_eq!(decode(&serial), img, "{w}x{h} by {rows}");
            let parallel = png_bytes_in_bands(&img, rows, Some(&pool)).expect("png");
            assert_eq!(parallel, serial, "{w}x{h} by {rows}");
        }
    }

    #[test]
    fn a_large_image_decodes_and_is_not_stored_raw() {
        let img = picture(1500, 800);
        let bytes = png_bytes_banded(&img, None).expect("png");
        let mut written = Vec::new();
        write_image_in_bands(&mut written, &img, band_rows(img.width()), None).expect("write");
        assert_eq!(written, bytes);
        assert!(img.height() > band_rows(img.width()), "several bands");
        assert_eq!(decode(&bytes), img);
        assert!(
            bytes.len() < img.as_raw().len() / 2,
            "{} bytes",
            bytes.len()
        );
    }

    /// `write_rows_with` of `img` (copied in band by band) on `pool`.
    fn written_rows(img: &RgbaImage, rows: u32, pool: Option<&ThreadPool>) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        write_rows_with(
            &mut out,
            img.width(),
            img.height(),
            rows,
            pool,
            |y, rgba| {
                let start = y as usize * 4 * img.width() as usize;
                rgba.copy_from_slice(&img.as_raw()[start..start + rgba.len()]);
            },
        )?;
        Ok(out)
    }

    #[test]
    fn bands_filled_by_a_function_equal_bands_of_the_image() {
        let pool = crate::engine::exec::pool::build_pool(2).expect("pool");
        let one = crate::engine::exec::pool::build_pool(1).expect("pool");
        for (w, h, rows) in [(57, 45, 8), (1, 1, 1), (300, 97, 3)] {
            let img = picture(w, h);
            let expected = png_bytes_in_bands(&img, rows, None).expect("png");
            for pool in [None, Some(&pool), Some(&one)] {
                let written = written_rows(&img, rows, pool).expect("png");
                assert_eq!(written, expected, "{w}x{h} by {rows}");
            }
            // From one of the pool's own threads (the one, for `one`): no
            // wait for bands that only this thread could encode.
            for pool in [&pool, &one] {
                let written = pool.install(|| written_rows(&img, rows, Some(pool)));
                assert_eq!(written.expect("png"), expected, "{w}x{h} by {rows}");
            }
        }
    }

    /// Takes `room` bytes, then fails every write.
    struct FullDisk {
        room: usize,
        taken: Vec<u8>,
    }

    impl Write for FullDisk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.taken.len() + buf.len() > self.room {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
            }
            self.taken.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_stops_the_stream_with_its_error() {
        let two = crate::engine::exec::pool::build_pool(2).expect("pool");
        let one = crate::engine::exec::pool::build_pool(1).expect("pool");
        let img = picture(300, 97);
        let expected = png_bytes_in_bands(&img, 3, None).expect("png");
        let whole = expected.len();
        for room in [0, 100, whole / 2, whole - 1] {
            for pool in [None, Some(&two), Some(&one)] {
                let mut out = FullDisk {
                    room,
                    taken: Vec::new(),
                };
                let err = write_rows_with(&mut out, 300, 97, 3, pool, |y, rgba| {
                    let start = y as usize * 4 * 300;
                    rgba.copy_from_slice(&img.as_raw()[start..start + rgba.len()]);
                })
                .expect_err("the disk is full");
                assert_eq!(err.kind(), io::ErrorKind::StorageFull, "room {room}");
                // What was taken is the file's start, in order.
                assert!(expected.starts_with(&out.taken), "room {room}");
            }
        }
    }

    /// The image crate's decoder skips the zlib Adler-32; `flate2` checks
    /// it: the IDAT payloads joined are one valid zlib stream of the
    /// filtered rows, and a wrong checksum is caught.
    #[test]
    fn the_idat_chunks_are_one_zlib_stream_with_its_checksum() {
        use std::io::Read;
        let pool = crate::engine::exec::pool::build_pool(2).expect("pool");
        let img = picture(300, 97);
        let png = written_rows(&img, 7, Some(&pool)).expect("png");
        let mut stream = Vec::new();
        let mut at = SIGNATURE.len();
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes")) as usize;
            if &png[at + 4..at + 8] == b"IDAT" {
                stream.extend_from_slice(&png[at + 8..at + 8 + len]);
            }
            at += 12 + len;
        }
        let inflate = |zlib: &[u8]| {
            let mut raw = Vec::new();
            flate2::read::ZlibDecoder::new(zlib)
                .read_to_end(&mut raw)
                .map(|_| raw)
        };
        let raw = inflate(&stream).expect("a valid zlib stream");
        assert_eq!(raw.len(), 97 * (1 + 4 * 300));
        let last = stream.len() - 1;
        stream[last] ^= 1;
        assert!(inflate(&stream).is_err(), "a wrong Adler-32 is caught");
    }

    #[test]
    fn an_empty_image_is_an_error() {
        assert!(png_bytes_banded(&RgbaImage::new(0, 4), None).is_err());
        assert!(write_rows_with(&mut Vec::new(), 3, 0, 1, None, |_, _| {}).is_err());
    }
}

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
    Ok(encode_in_bands(img, band_rows(img.width()), pool)?.into_bytes())
}

/// [`png_bytes_banded`] with `rows_per_band` rows per band (tests use small bands).
pub fn png_bytes_in_bands(
    img: &RgbaImage,
    rows_per_band: u32,
    pool: Option<&ThreadPool>,
) -> Result<Vec<u8>, image::ImageError> {
    Ok(encode_in_bands(img, rows_per_band, pool)?.into_bytes())
}

/// An encoded PNG as its pieces, so that a writer can take them one after
/// the other without a copy into one buffer.
pub struct BandedPng {
    /// Signature and IHDR.
    head: Vec<u8>,
    /// One IDAT chunk per band.
    bands: Vec<Vec<u8>>,
    /// The IDAT chunk with the Adler-32, and IEND.
    tail: Vec<u8>,
}

impl BandedPng {
    /// Writes the file's bytes to `w`.
    pub fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        w.write_all(&self.head)?;
        for band in &self.bands {
            w.write_all(band)?;
        }
        w.write_all(&self.tail)
    }

    /// The file's bytes in one buffer.
    pub fn into_bytes(self) -> Vec<u8> {
        let total =
            self.head.len() + self.bands.iter().map(Vec::len).sum::<usize>() + self.tail.len();
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&self.head);
        for band in &self.bands {
            out.extend_from_slice(band);
        }
        out.extend_from_slice(&self.tail);
        out
    }
}

/// Encodes `img` in bands of `rows_per_band` rows (see the module's doc) on
/// `pool`, or on this thread if `None`.
pub fn encode_in_bands(
    img: &RgbaImage,
    rows_per_band: u32,
    pool: Option<&ThreadPool>,
) -> Result<BandedPng, image::ImageError> {
    let (width, height) = img.dimensions();
    if width == 0 || height == 0 {
        return Err(encoding_error("an image with no pixels has no PNG"));
    }
    let row_bytes = 4 * width as usize;
    let band_bytes = row_bytes * rows_per_band.max(1) as usize;
    let raw = img.as_raw();
    let num_bands = raw.len().div_ceil(band_bytes);
    let encode =
        |(i, band): (usize, &[u8])| encode_band(band, row_bytes, i == 0, i + 1 == num_bands);
    let bands: Vec<Result<Band, image::ImageError>> = match pool {
        Some(pool) => pool.install(|| raw.par_chunks(band_bytes).enumerate().map(encode).collect()),
        None => raw.chunks(band_bytes).enumerate().map(encode).collect(),
    };
    assemble(width, height, bands)
}

/// Encodes a `width_px` × `height_px` image whose RGBA rows `fill(y, rows)`
/// writes band by band (`rows` holds whole rows from row `y` on), each band
/// filled and deflated by the same task on `pool` (on this thread if `None`):
/// the whole image never exists in memory, and no pass waits for another.
/// The same bytes as [`encode_in_bands`] of the filled image.
pub fn encode_rows_with(
    width_px: u32,
    height_px: u32,
    rows_per_band: u32,
    pool: Option<&ThreadPool>,
    fill: impl Fn(u32, &mut [u8]) + Sync,
) -> Result<BandedPng, image::ImageError> {
    if width_px == 0 || height_px == 0 {
        return Err(encoding_error("an image with no pixels has no PNG"));
    }
    let row_bytes = 4 * width_px as usize;
    let rows_per_band = rows_per_band.max(1);
    let num_bands = height_px.div_ceil(rows_per_band);
    let encode = |i: u32| {
        let y = i * rows_per_band;
        let rows = rows_per_band.min(height_px - y) as usize;
        let mut rgba = vec![0u8; rows * row_bytes];
        fill(y, &mut rgba);
        encode_band(&rgba, row_bytes, i == 0, i + 1 == num_bands)
    };
    let bands: Vec<Result<Band, image::ImageError>> = match pool {
        Some(pool) => pool.install(|| (0..num_bands).into_par_iter().map(encode).collect()),
        None => (0..num_bands).map(encode).collect(),
    };
    assemble(width_px, height_px, bands)
}

/// The file around encoded bands: signature, IHDR, the bands, the Adler-32, IEND.
fn assemble(
    width: u32,
    height: u32,
    bands: Vec<Result<Band, image::ImageError>>,
) -> Result<BandedPng, image::ImageError> {
    let bands = bands.into_iter().collect::<Result<Vec<_>, _>>()?;
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // 8 bits per channel, colour type 6 (RGBA), deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut head = Vec::with_capacity(SIGNATURE.len() + 25);
    head.extend_from_slice(&SIGNATURE);
    push_chunk(&mut head, b"IHDR", &ihdr);
    let mut adler = 1u32;
    for band in &bands {
        adler = adler32_combine(adler, band.adler, band.filtered_len);
    }
    let mut tail = Vec::with_capacity(28);
    push_chunk(&mut tail, b"IDAT", &adler.to_be_bytes());
    push_chunk(&mut tail, b"IEND", &[]);
    Ok(BandedPng {
        head,
        bands: bands.into_iter().map(|b| b.chunk).collect(),
        tail,
    })
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
        encode_in_bands(&img, band_rows(img.width()), None)
            .expect("png")
            .write_to(&mut written)
            .expect("write");
        assert_eq!(written, bytes);
        assert!(img.height() > band_rows(img.width()), "several bands");
        assert_eq!(decode(&bytes), img);
        assert!(
            bytes.len() < img.as_raw().len() / 2,
            "{} bytes",
            bytes.len()
        );
    }

    #[test]
    fn bands_filled_by_a_function_equal_bands_of_the_image() {
        let pool = crate::engine::exec::pool::build_pool(2).expect("pool");
        let img = picture(57, 45);
        let row_bytes = 4 * 57;
        for pool in [None, Some(&pool)] {
            let filled = encode_rows_with(57, 45, 8, pool, |y, rgba| {
                let start = y as usize * row_bytes;
                rgba.copy_from_slice(&img.as_raw()[start..start + rgba.len()]);
            })
            .expect("png")
            .into_bytes();
            assert_eq!(filled, png_bytes_in_bands(&img, 8, None).expect("png"));
        }
    }

    #[test]
    fn an_empty_image_is_an_error() {
        assert!(png_bytes_banded(&RgbaImage::new(0, 4), None).is_err());
        assert!(encode_rows_with(3, 0, 1, None, |_, _| {}).is_err());
    }
}

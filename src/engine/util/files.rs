//! Writing files safely. A regular file (or a new path) is written to a
//! fresh temporary file in the same folder (random name, created with
//! `O_EXCL`, so a planted symlink cannot redirect it), synced, and renamed
//! into place, so a failed write never harms a file that was already there.
//! A character device or FIFO (`/dev/null`, a terminal, a pipe) and `-`
//! (stdout) are written straight through: renaming over them would replace
//! the device. Anything else (a folder, a socket, a block device) is refused.
//!
//! Temporary files still open are listed, so that an interrupt handler can
//! remove them ([`remove_temp_files_and_exit`]) before the process ends.

use crate::engine::exec::trace::Trace;
use crate::engine::mandelbrot::render::IterImage;
use image::RgbaImage;
use std::fs;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// A failed export: which path, and why, in words for a person.
#[derive(Debug, thiserror::Error)]
#[error("could not write {}: {message}", path.display())]
pub struct ExportError {
    pub path: PathBuf,
    pub message: String,
    /// The write failed because the reader of a pipe (or stdout) went away.
    pub broken_pipe: bool,
}

impl crate::engine::BadInput for ExportError {
    /// A write that fails is failed work: the path itself was checked
    /// before any work began.
    fn is_bad_input(&self) -> bool {
        false
    }
}

impl ExportError {
    /// A failure to write `path`, for the reason given.
    pub fn new(path: &Path, message: impl std::fmt::Display) -> Self {
        ExportError {
            path: path.to_path_buf(),
            message: message.to_string(),
            broken_pipe: false,
        }
    }
}

fn fail(path: &Path, message: impl std::fmt::Display) -> ExportError {
    ExportError::new(path, message)
}

fn fail_io(path: &Path, context: &str, e: &io::Error) -> ExportError {
    ExportError {
        path: path.to_path_buf(),
        message: if context.is_empty() {
            e.to_string()
        } else {
            format!("{context}: {e}")
        },
        broken_pipe: e.kind() == io::ErrorKind::BrokenPipe,
    }
}

/// Longest file name most file systems accept, in bytes.
pub const MAX_NAME_BYTES: usize = 255;

/// How a destination is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// `-`: standard output, written straight through.
    Stdout,
    /// A character device or a FIFO, written straight through (never replaced).
    Stream,
    /// A regular file or a new path: written atomically.
    File,
}

/// The folder a path's file lives in (`.` for a bare name).
pub fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(unix)]
fn is_stream(m: &fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    t.is_char_device() || t.is_fifo()
}

#[cfg(not(unix))]
fn is_stream(_m: &fs::Metadata) -> bool {
    false
}

/// How `path` would be written, or why it cannot be (without writing anything).
pub fn destination(path: &Path) -> Result<Destination, ExportError> {
    if path.as_os_str() == "-" {
        return Ok(Destination::Stdout);
    }
    let Some(name) = path.file_name() else {
        return Err(fail(path, "the path names no file"));
    };
    if name.len() > MAX_NAME_BYTES {
        return Err(fail(
            path,
            format!(
                "the file name is {} bytes long; at most {MAX_NAME_BYTES} are allowed",
                name.len()
            ),
        ));
    }
    match fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(Destination::File),
        Ok(m) if is_stream(&m) => Ok(Destination::Stream),
        Ok(m) if m.is_dir() => Err(fail(path, "is a folder")),
        Ok(_) => Err(fail(
            path,
            "is not a regular file, a character device or a FIFO: refusing to replace it",
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let dir = folder_of(path);
            if !dir.is_dir() {
                return Err(fail(
                    path,
                    format!("folder {} does not exist", dir.display()),
                ));
            }
            Ok(Destination::File)
        }
        Err(e) => Err(fail_io(path, "", &e)),
    }
}

/// Checks, before any work, that `path` can be written: its kind is
/// accepted and, for a file, a temporary file can be created in its folder.
pub fn check_writable(path: &Path) -> Result<Destination, ExportError> {
    let dest = destination(path)?;
    if dest == Destination::File {
        let target = resolved(path);
        let dir = folder_of(&target);
        temp_builder().tempfile_in(&dir).map_err(|e| {
            fail_io(
                path,
                &format!("cannot create a file in folder {}", dir.display()),
                &e,
            )
        })?;
    }
    Ok(dest)
}

/// What two destinations would both write, if they are the same thing: a
/// path for files (folders resolved), `-` for stdout; `None` for devices
/// and FIFOs, which can take several writes.
pub fn identity(path: &Path) -> Option<PathBuf> {
    match destination(path) {
        Ok(Destination::Stdout) => Some(PathBuf::from("-")),
        Ok(Destination::Stream) => None,
        Ok(Destination::File) | Err(_) => {
            let target = resolved(path);
            let dir = fs::canonicalize(folder_of(&target)).unwrap_or_else(|_| folder_of(&target));
            Some(match target.file_name() {
                Some(n) => dir.join(n),
                None => target,
            })
        }
    }
}

/// An existing symlink is followed, so that the link stays and its target is replaced.
fn resolved(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

fn temp_builder() -> tempfile::Builder<'static, 'static> {
    let mut b = tempfile::Builder::new();
    // Short and independent of the target's name, so that a name near the
    // length limit does not fail after the work is done.
    b.prefix(".parlab-").suffix(".tmp");
    // The finished file gets the permissions any new file would (0666 less
    // the umask), not the temporary file's private 0600: an export is meant
    // to be shared (a lab folder, a web page, a grader).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b
}

/// Temporary files being written now (removed by an interrupt handler).
static TEMP_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn temp_files() -> MutexGuard<'static, Vec<PathBuf>> {
    TEMP_FILES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// For an interrupt handler: removes every temporary file being written
/// and ends the process with `code`. Holding the list while exiting stops
/// any other thread from starting or finishing a write meanwhile.
pub fn remove_temp_files_and_exit(code: i32) -> ! {
    let mut list = temp_files();
    for p in list.drain(..) {
        let _ = fs::remove_file(p);
    }
    std::process::exit(code)
}

/// Testing hook: `PARLAB_TEST_PAUSE_IN_WRITE_MS` makes a file write pause
/// after its temporary file exists, so that a test can interrupt it there.
fn test_pause() {
    if let Some(ms) = std::env::var("PARLAB_TEST_PAUSE_IN_WRITE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms.min(60_000)));
    }
}

/// Writes what `write` produces to `path`: atomically for a file, straight
/// through for `-`, a character device or a FIFO.
pub fn write_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), ExportError> {
    match destination(path)? {
        Destination::Stdout => {
            let mut out = io::stdout().lock();
            write(&mut out)
                .and_then(|()| out.flush())
                .map_err(|e| fail_io(path, "", &e))
        }
        Destination::Stream => {
            let f = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| fail_io(path, "", &e))?;
            let mut w = BufWriter::new(f);
            write(&mut w)
                .and_then(|()| w.flush())
                .map_err(|e| fail_io(path, "", &e))
        }
        Destination::File => write_file(path, write),
    }
}

fn write_file(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), ExportError> {
    let target = resolved(path);
    let dir = folder_of(&target);
    let mut tmp = {
        let mut list = temp_files();
        let tmp = temp_builder().tempfile_in(&dir).map_err(|e| {
            fail_io(
                path,
                &format!("cannot create a file in folder {}", dir.display()),
                &e,
            )
        })?;
        list.push(tmp.path().to_path_buf());
        tmp
    };
    let tmp_path = tmp.path().to_path_buf();
    let forget = |list: &mut Vec<PathBuf>| list.retain(|p| p != &tmp_path);
    let written = (|| -> io::Result<()> {
        let mut w = BufWriter::new(tmp.as_file_mut());
        write(&mut w)?;
        w.flush()?;
        drop(w);
        tmp.as_file().sync_all()
    })();
    test_pause();
    let mut list = temp_files();
    if let Err(e) = written {
        forget(&mut list);
        drop(list);
        return Err(fail_io(path, "", &e)); // `tmp` is dropped: removed
    }
    let persisted = tmp.persist(&target);
    forget(&mut list);
    drop(list);
    persisted.map_err(|e| fail_io(path, "", &e.error))?;
    sync_folder(&dir);
    Ok(())
}

/// Makes the rename durable (best effort: not every system can sync a folder).
fn sync_folder(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `bytes` to `path` (see [`write_with`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    write_with(path, |w| w.write_all(bytes))
}

/// Largest input file read whole (a report given to `--compare`, a PNG to check).
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// Why an input file could not be read whole. The messages follow the
/// path, which the caller names: `report.json: is a folder`.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Opening or reading failed (no such file, no permission, …).
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("is a folder")]
    Folder,
    #[error("is longer than the {max_mib} MiB parlab reads from an input file")]
    TooLong { max_mib: u64 },
}

/// Reads at most [`MAX_INPUT_BYTES`] of `path`; a longer input (or an endless
/// one such as `/dev/zero`) is refused with a message saying so.
pub fn read_capped(path: &Path) -> Result<Vec<u8>, ReadError> {
    let f = fs::File::open(path)?;
    if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(ReadError::Folder);
    }
    let mut bytes = Vec::new();
    f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(ReadError::TooLong {
            max_mib: MAX_INPUT_BYTES / (1024 * 1024),
        });
    }
    Ok(bytes)
}

/// From this many pixels on, PNGs are encoded for speed (see [`png_bytes`]).
pub const FAST_PNG_MIN_PX: u64 = 1 << 20;

/// PNG bytes of an RGBA image. Images of [`FAST_PNG_MIN_PX`] pixels or more
/// are encoded for speed in bands of rows (see [`super::png`]): zlib level 1
/// with the Sub filter, which at 3840×2160 took 220 ms on one core instead
/// of 829 ms for the default (fdeflate "fast" with the adaptive filter), for
/// a file ~15 % larger. Smaller images keep the default, the smallest files.
pub fn png_bytes(img: &RgbaImage) -> Result<Vec<u8>, image::ImageError> {
    png_bytes_on(img, None)
}

/// [`png_bytes`] with a large image's bands encoded in parallel on `pool`
/// (the same bytes as on one thread).
pub fn png_bytes_on(
    img: &RgbaImage,
    pool: Option<&rayon::ThreadPool>,
) -> Result<Vec<u8>, image::ImageError> {
    use image::ImageEncoder;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    if u64::from(img.width()) * u64::from(img.height()) >= FAST_PNG_MIN_PX {
        return super::png::png_bytes_banded(img, pool);
    }
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgba8,
        )?;
    Ok(out)
}

/// Writes an RGBA image as PNG.
pub fn write_png(path: &Path, img: &RgbaImage) -> Result<(), ExportError> {
    write_png_on(path, img, None)
}

/// Writes an RGBA image as PNG, a large one encoded in parallel on `pool`.
pub fn write_png_on(
    path: &Path,
    img: &RgbaImage,
    pool: Option<&rayon::ThreadPool>,
) -> Result<(), ExportError> {
    if u64::from(img.width()) * u64::from(img.height()) >= FAST_PNG_MIN_PX {
        // Band by band into the file: no copy of the whole PNG in memory.
        let rows = super::png::band_rows(img.width());
        return write_with(path, |w| {
            super::png::write_image_in_bands(w, img, rows, pool)
        });
    }
    let bytes = png_bytes_on(img, pool).map_err(|e| fail(path, e))?;
    write_atomic(path, &bytes)
}

/// Writes pretty JSON.
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), ExportError> {
    write_with(path, |w| {
        serde_json::to_writer_pretty(&mut *w, value).map_err(io::Error::other)?;
        w.write_all(b"\n")
    })
}

/// Writes a run's trace as Chrome Trace Event JSON, streamed event by event.
pub fn write_trace(path: &Path, trace: &Trace, task_label: &str) -> Result<(), ExportError> {
    write_with(path, |w| trace.write_chrome_json(w, task_label))
}

/// NumPy `.npy` (format 1.0) bytes for a little-endian uint32 array of
/// shape (height, width), loadable with `numpy.load`.
pub fn npy_u32_bytes(height: usize, width: usize, data: &[u32]) -> Vec<u8> {
    let mut header =
        format!("{{'descr': '<u4', 'fortran_order': False, 'shape': ({height}, {width}), }}");
    // Magic (6) + version (2) + header length (2) + header + '\n' is a multiple of 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Writes an image's escape counts as `.npy`.
pub fn write_counts_npy(path: &Path, img: &IterImage) -> Result<(), ExportError> {
    let bytes = npy_u32_bytes(img.height_px as usize, img.width_px as usize, &img.counts);
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn written_files_get_the_permissions_of_a_new_file_not_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("shared.txt");
        write_atomic(&path, b"x").expect("written");
        let made = dir.path().join("plain.txt");
        std::fs::write(&made, b"x").expect("plain write");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        // Whatever the umask, the same as a file created the ordinary way.
        assert_eq!(mode(&path), mode(&made));
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"one").expect("write");
        write_atomic(&p, b"two").expect("write");
        assert_eq!(fs::read(&p).expect("read"), b"two");
        assert_eq!(names_in(dir.path()), vec!["a.txt"]);
        assert!(temp_files().is_empty());
    }

    #[test]
    fn unwritable_path_is_reported_and_existing_file_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("no-such-folder").join("x.png");
        let e = write_atomic(&missing, b"x").expect_err("must fail");
        assert!(e.to_string().contains("does not exist"), "{e}");
        // A folder in place of the file is refused; the folder survives.
        let blocker = dir.path().join("taken");
        fs::create_dir(&blocker).expect("mkdir");
        fs::write(blocker.join("keep"), b"k").expect("write");
        let e = write_atomic(&blocker, b"x").expect_err("a folder");
        assert!(e.to_string().contains("is a folder"), "{e}");
        assert_eq!(fs::read(blocker.join("keep")).expect("kept"), b"k");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_followed_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("real.txt");
        fs::write(&real, b"old").expect("write");
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        write_atomic(&link, b"new").expect("write");
        assert!(
            fs::symlink_metadata(&link)
                .expect("link")
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).expect("read"), b"new");
        assert_eq!(identity(&link), identity(&real));
    }

    #[test]
    fn long_names_and_identities() {
        let dir = tempfile::tempdir().expect("tempdir");
        let long = dir.path().join(format!("{}.txt", "n".repeat(251)));
        write_atomic(&long, b"x").expect("a 255-byte name is fine");
        let too_long = dir.path().join(format!("{}.txt", "n".repeat(252)));
        assert!(destination(&too_long).is_err());
        let a = dir.path().join("a.json");
        let b = dir.path().join(".").join("a.json");
        assert_eq!(identity(&a), identity(&b));
        assert_eq!(identity(Path::new("-")), Some(PathBuf::from("-")));
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_streams_and_capped_reads_stop() {
        assert_eq!(
            destination(Path::new("/dev/null")).expect("dev null"),
            Destination::Stream
        );
        assert_eq!(identity(Path::new("/dev/null")), None);
        let e = read_capped(Path::new("/dev/zero"))
            .expect_err("endless")
            .to_string();
        assert!(e.contains("64 MiB"), "{e}");
    }

    #[test]
    fn png_round_trips_at_both_settings() {
        for (w, h) in [(37, 21), (1024, 1024)] {
            let img = RgbaImage::from_fn(w, h, |x, y| {
                image::Rgba([(x % 251) as u8, (y % 241) as u8, ((x ^ y) % 256) as u8, 255])
            });
            let bytes = png_bytes(&img).expect("png");
            let back = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
                .expect("decode")
                .to_rgba8();
            assert_eq!(back, img, "{w}x{h}");
        }
    }

    #[test]
    fn npy_header_is_aligned_and_data_follows() {
        let b = npy_u32_bytes(2, 3, &[1, 2, 3, 4, 5, 6]);
        assert_eq!(&b[..6], b"\x93NUMPY");
        let hlen = u16::from_le_bytes([b[8], b[9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0);
        let header = std::str::from_utf8(&b[10..10 + hlen]).expect("ascii");
        assert!(header.contains("'shape': (2, 3)") && header.ends_with('\n'));
        assert_eq!(b.len(), 10 + hlen + 24);
        assert_eq!(&b[10 + hlen..10 + hlen + 4], &1u32.to_le_bytes());
    }
}

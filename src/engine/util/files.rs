//! Writing files safely: everything goes to a temporary name in the target
//! folder and is renamed into place, so a failed write never harms a file
//! that was already there.

use crate::engine::mandelbrot::render::IterImage;
use image::RgbaImage;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A failed export: which path, and why, in words for a person.
#[derive(Debug)]
pub struct ExportError {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "could not write {}: {}",
            self.path.display(),
            self.message
        )
    }
}

impl std::error::Error for ExportError {}

fn fail(path: &Path, message: impl std::fmt::Display) -> ExportError {
    ExportError {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Writes `bytes` to `path` via a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let file_name = path
        .file_name()
        .ok_or_else(|| fail(path, "the path names no file"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(fail(
            path,
            format!("folder {} does not exist", dir.display()),
        ));
    }
    let tmp = dir.join(format!(
        ".{}.parlab-tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        fail(path, e)
    })
}

/// PNG bytes of an RGBA image.
pub fn png_bytes(img: &RgbaImage) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Writes an RGBA image as PNG, atomically.
pub fn write_png(path: &Path, img: &RgbaImage) -> Result<(), ExportError> {
    let bytes = png_bytes(img).map_err(|e| fail(path, e))?;
    write_atomic(path, &bytes)
}

/// Writes pretty JSON, atomically.
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), ExportError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| fail(path, e))?;
    write_atomic(path, text.as_bytes())
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

/// Writes an image's escape counts as `.npy`, atomically.
pub fn write_counts_npy(path: &Path, img: &IterImage) -> Result<(), ExportError> {
    let bytes = npy_u32_bytes(img.height_px as usize, img.width_px as usize, &img.counts);
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"one").expect("write");
        write_atomic(&p, b"two").expect("write");
        assert_eq!(fs::read(&p).expect("read"), b"two");
        let names: Vec<_> = fs::read_dir(dir.path()).expect("dir").collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn unwritable_path_is_reported_and_existing_file_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("no-such-folder").join("x.png");
        let e = write_atomic(&missing, b"x").expect_err("must fail");
        assert!(e.to_string().contains("does not exist"), "{e}");
        // A directory in place of the file: the rename fails, the directory survives.
        let blocker = dir.path().join("taken");
        fs::create_dir(&blocker).expect("mkdir");
        fs::write(blocker.join("keep"), b"k").expect("write");
        assert!(write_atomic(&blocker, b"x").is_err());
        assert_eq!(fs::read(blocker.join("keep")).expect("kept"), b"k");
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

//! Cutting an image into tasks: square tiles or full-width horizontal bands.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Largest square tile edge.
pub const MAX_TILE_PX: u32 = 1024;

/// Most tasks one image may be cut into, in the window and the CLI alike
/// (a 4K image in 1-px tiles would be 8 M tasks: hundreds of MB of trace
/// for nothing).
pub const MAX_TILES: usize = 1 << 20;

/// Why a tiling was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TilingError {
    #[error(
        "bad band height in {input:?}: expected e.g. bands(4) (bands 4 rows high) or bands (1 row)"
    )]
    BandSyntax { input: String },
    #[error("bad tile size {input:?}: expected a number of pixels or 'bands'")]
    TileSyntax { input: String },
    #[error("tile size must be 1..={max} px, got {got}")]
    TileSize { got: u32, max: u32 },
    #[error("band height must be 1..={max} rows, got {got}")]
    BandHeight { got: u32, max: u32 },
    /// More tasks than [`MAX_TILES`].
    #[error(
        "{tiling} at {width_px}×{height_px} makes {count} tiles; at most {max} are allowed: choose larger tiles"
    )]
    TooMany {
        tiling: Tiling,
        width_px: u32,
        height_px: u32,
        count: usize,
        max: usize,
    },
}

impl crate::engine::BadInput for TilingError {
    fn is_bad_input(&self) -> bool {
        true
    }
}

/// A rectangle of pixels; tiles are numbered in row-major order from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tile {
    pub index: u32,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Tile {
    pub fn num_pixels(&self) -> usize {
        self.width as usize * self.height as usize
    }
    pub fn contains(&self, x: u32, y: u32) -> bool {
        x >= self.x && x < self.x + self.width && y >= self.y && y < self.y + self.height
    }
}

/// How an image is cut into tasks (the granularity of the parallel work).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tiling {
    /// Square tiles of `tile_px` × `tile_px`; the right and bottom tiles may be smaller.
    Square { tile_px: u32 },
    /// Full-width horizontal bands `band_rows` rows high.
    Bands { band_rows: u32 },
}

impl Default for Tiling {
    fn default() -> Self {
        Tiling::Square { tile_px: 64 }
    }
}

impl fmt::Display for Tiling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tiling::Square { tile_px } => write!(f, "{tile_px}px"),
            Tiling::Bands { band_rows } => write!(f, "bands({band_rows})"),
        }
    }
}

impl std::str::FromStr for Tiling {
    type Err = TilingError;
    /// Parses `64`, `64px`, `bands(4)` or `bands4` (bands 4 rows high), or
    /// `bands` alone: `bands(1)`, one row per band. Displayed always as
    /// `bands(N)`, so that the row count is never implied.
    fn from_str(s: &str) -> Result<Self, TilingError> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("bands") {
            let rest = rest.trim();
            let rows = rest
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .unwrap_or(rest)
                .trim();
            let band_rows = if rest.is_empty() {
                1
            } else {
                rows.parse::<u32>().map_err(|_| TilingError::BandSyntax {
                    input: s.to_string(),
                })?
            };
            return Tiling::bands(band_rows);
        }
        let digits = s.strip_suffix("px").unwrap_or(s);
        let tile_px = digits.parse::<u32>().map_err(|_| TilingError::TileSyntax {
            input: s.to_string(),
        })?;
        Tiling::square(tile_px)
    }
}

impl Tiling {
    /// Square tiles; the edge must be 1..=1024 px.
    pub fn square(tile_px: u32) -> Result<Self, TilingError> {
        if (1..=MAX_TILE_PX).contains(&tile_px) {
            Ok(Tiling::Square { tile_px })
        } else {
            Err(TilingError::TileSize {
                got: tile_px,
                max: MAX_TILE_PX,
            })
        }
    }
    /// Bands; the height must be 1..=16384 rows.
    pub fn bands(band_rows: u32) -> Result<Self, TilingError> {
        let max = crate::engine::mandelbrot::view::MAX_EDGE_PX;
        if (1..=max).contains(&band_rows) {
            Ok(Tiling::Bands { band_rows })
        } else {
            Err(TilingError::BandHeight {
                got: band_rows,
                max,
            })
        }
    }

    /// Checks a tiling that came from elsewhere (a saved file) with the
    /// same rules as [`Tiling::square`] and [`Tiling::bands`].
    pub fn validate(&self) -> Result<Self, TilingError> {
        match *self {
            Tiling::Square { tile_px } => Tiling::square(tile_px),
            Tiling::Bands { band_rows } => Tiling::bands(band_rows),
        }
    }

    /// How many tiles a `width_px` × `height_px` image makes.
    pub fn count(&self, width_px: u32, height_px: u32) -> usize {
        match *self {
            Tiling::Square { tile_px } => {
                let t = tile_px.max(1);
                width_px.div_ceil(t) as usize * height_px.div_ceil(t) as usize
            }
            Tiling::Bands { band_rows } => height_px.div_ceil(band_rows.max(1)) as usize,
        }
    }

    /// The tile count, or a message when it is above [`MAX_TILES`].
    pub fn check_count(&self, width_px: u32, height_px: u32) -> Result<usize, TilingError> {
        let count = self.count(width_px, height_px);
        if count > MAX_TILES {
            return Err(TilingError::TooMany {
                tiling: *self,
                width_px,
                height_px,
                count,
                max: MAX_TILES,
            });
        }
        Ok(count)
    }

    /// Cuts a `width_px` × `height_px` image; every pixel lies in exactly one tile.
    pub fn tiles(&self, width_px: u32, height_px: u32) -> Vec<Tile> {
        let (tw, th) = match *self {
            Tiling::Square { tile_px } => (tile_px.max(1), tile_px.max(1)),
            Tiling::Bands { band_rows } => (width_px.max(1), band_rows.max(1)),
        };
        let cols = width_px.div_ceil(tw);
        let rows = height_px.div_ceil(th);
        let mut tiles = Vec::with_capacity(cols as usize * rows as usize);
        for r in 0..rows {
            for c in 0..cols {
                let x = c * tw;
                let y = r * th;
                tiles.push(Tile {
                    index: tiles.len() as u32,
                    x,
                    y,
                    width: tw.min(width_px - x),
                    height: th.min(height_px - y),
                });
            }
        }
        tiles
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_exact_cover(tiling: Tiling, w: u32, h: u32) {
        let mut seen = vec![0u8; (w * h) as usize];
        for (i, t) in tiling.tiles(w, h).iter().enumerate() {
            assert_eq!(t.index as usize, i);
            assert!(t.width > 0 && t.height > 0);
            for y in t.y..t.y + t.height {
                for x in t.x..t.x + t.width {
                    seen[(y * w + x) as usize] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&n| n == 1), "{tiling} on {w}x{h}");
    }

    #[test]
    fn tiles_cover_every_pixel_once() {
        for tiling in [
            Tiling::Square { tile_px: 1 },
            Tiling::Square { tile_px: 7 },
            Tiling::Square { tile_px: 64 },
            Tiling::Square { tile_px: 1024 },
            Tiling::Bands { band_rows: 1 },
            Tiling::Bands { band_rows: 5 },
        ] {
            for (w, h) in [(1, 1), (13, 9), (100, 37), (64, 64), (65, 3)] {
                assert_exact_cover(tiling, w, h);
            }
        }
    }

    #[test]
    fn edge_tiles_are_clipped() {
        let tiles = Tiling::Square { tile_px: 64 }.tiles(100, 70);
        assert_eq!(tiles.len(), 4);
        assert_eq!((tiles[3].width, tiles[3].height), (36, 6));
    }

    #[test]
    fn tile_counts_have_one_limit() {
        let t = Tiling::Square { tile_px: 1 };
        assert_eq!(t.check_count(1024, 1024), Ok(1 << 20));
        let e = t.check_count(1100, 1000).expect_err("too many").to_string();
        assert!(e.contains("1100000 tiles") && e.contains("1048576"), "{e}");
        assert!(Tiling::Square { tile_px: 0 }.validate().is_err());
        assert!(
            Tiling::Square {
                tile_px: 4_000_000_000
            }
            .validate()
            .is_err()
        );
        assert!(Tiling::Bands { band_rows: 0 }.validate().is_err());
        assert_eq!(Tiling::Bands { band_rows: 3 }.count(10, 10), 4);
    }

    #[test]
    fn bands_always_show_their_row_count_and_read_back() {
        for rows in [1, 2, 32] {
            let t = Tiling::Bands { band_rows: rows };
            assert_eq!(t.to_string(), format!("bands({rows})"));
            assert_eq!(t.to_string().parse::<Tiling>(), Ok(t));
        }
        assert_eq!(Tiling::Square { tile_px: 8 }.to_string(), "8px");
    }

    #[test]
    fn parse_and_validate() {
        assert_eq!("32".parse::<Tiling>(), Ok(Tiling::Square { tile_px: 32 }));
        assert_eq!(
            "bands".parse::<Tiling>(),
            Ok(Tiling::Bands { band_rows: 1 })
        );
        assert_eq!(
            "bands8".parse::<Tiling>(),
            Ok(Tiling::Bands { band_rows: 8 })
        );
        assert_eq!(
            " bands(32) ".parse::<Tiling>(),
            Ok(Tiling::Bands { band_rows: 32 })
        );
        assert!("bands()".parse::<Tiling>().is_err());
        assert!("bands(x)".parse::<Tiling>().is_err());
        assert!("bands(4".parse::<Tiling>().is_err());
        assert!("0".parse::<Tiling>().is_err());
        assert!("2048".parse::<Tiling>().is_err());
        assert!("abc".parse::<Tiling>().is_err());
    }
}

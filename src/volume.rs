//! Voxel volumes from files: the occupancy of an sc site lattice (`--volume`).
//!
//! Two formats, told apart by their first bytes (not the file name):
//! - NumPy `.npy`: a 3D bool or integer array shaped (nz, ny, nx) in C order. The file is
//!   memory-mapped and its data bytes are converted once, in parallel, straight into the one
//!   occupancy byte per site the engine needs: no second copy of the file is ever made.
//! - Multi-page TIFF stacks: every page is one z layer (page k is z = k) of 8/16/32-bit gray
//!   (unsigned or signed integer) or 1-bit bilevel pixels; pages are decoded one at a time into
//!   the occupancy, so only one page is ever held besides it.
//!
//! Either way the array's (z, y, x) order is already the lattice's site order
//! `(z*ny + y)*nx + x`, so no reindexing is needed.

use anyhow::{anyhow, bail, ensure, Context, Result};
use npyz::{DType, Endianness, NpyHeader, Order, TypeChar};
use rayon::prelude::*;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;
use tunnelgrid_cpu::occupancy::Presence;
use tunnelgrid_model::engine::MAX_SITES;
use tunnelgrid_model::{Boundary, Lattice};

/// The element types a volume may hold, as named in errors.
const SUPPORTED: &str = "bool, uint8, uint16, uint32, uint64, int8, int16, int32, int64";

/// A volume's shape and packed occupancy.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    /// Cells (voxels) along x, y, z.
    pub cells: [u32; 3],
    /// One byte per site in site-index order: 1 occupied, 0 empty.
    pub occupancy: Arc<[u8]>,
}

impl Volume {
    /// A volume of `cells` (x, y, z) from one occupancy byte per site in site order
    /// `(z*ny + y)*nx + x` (nonzero: occupied), for volumes already in memory (the Python
    /// module's arrays). The shape is checked as a file's would be.
    pub fn new(cells: [u32; 3], occupancy: Vec<u8>) -> Result<Self> {
        let [nx, ny, nz] = cells;
        let what = "volume";
        let sites = check_shape_named(what, "", &[u64::from(nz), u64::from(ny), u64::from(nx)])?;
        if occupancy.len() as u64 != sites {
            bail!(
                "{what}: {} occupancy bytes for {nx}×{ny}×{nz} = {sites} voxels",
                occupancy.len()
            );
        }
        Ok(Self {
            cells,
            occupancy: occupancy.into(),
        })
    }

    /// Fraction of occupied voxels (the porosity ε of the conducting phase).
    pub fn fraction(&self) -> f64 {
        let occupied = self.occupancy.iter().filter(|&&b| b != 0).count();
        occupied as f64 / self.occupancy.len().max(1) as f64
    }
}

/// A volume's shape and which voxels are occupied, one bit each: all that labelling needs
/// (the Python module's `label` and `spanning`), without the occupancy byte per voxel that a
/// model holds. Read straight from an array of any element type (`Presence::of_voxels`).
#[derive(Debug, Clone)]
pub struct VoxelPresence {
    /// Cells (voxels) along x, y, z.
    pub cells: [u32; 3],
    /// Which voxels are occupied, in site order `(z*ny + y)*nx + x`.
    pub presence: Presence,
}

impl VoxelPresence {
    /// The cells (x, y, z) of a volume shaped (nz, ny, nx), checked as a file's shape is: to
    /// refuse a volume before any voxel is read.
    pub fn cells_of(shape: [u64; 3]) -> Result<[u32; 3]> {
        check_shape_named("volume", "", &shape)?;
        let [nz, ny, nx] = shape.map(|n| n as u32); // each checked to fit
        Ok([nx, ny, nz])
    }

    /// A volume of `cells` (x, y, z, from `cells_of`) whose occupied voxels are the present
    /// sites of `presence`.
    pub fn new(cells: [u32; 3], presence: Presence) -> Result<Self> {
        let [nx, ny, nz] = cells;
        let sites = check_shape_named("volume", "", &[nz, ny, nx].map(u64::from))?;
        ensure!(
            presence.sites() == sites,
            "volume: the presence of {} voxels for {nx}×{ny}×{nz} = {sites} voxels",
            presence.sites()
        );
        Ok(Self { cells, presence })
    }

    /// The lattice `run --volume` labels this volume on (the model's): sc, one site per voxel,
    /// open faces, voxels joined through 6, 18 or 26 neighbours as `--connectivity` gives.
    pub fn lattice(&self, connectivity: u32) -> Lattice {
        Lattice::sc_with_connectivity(self.cells, [Boundary::Open; 3], connectivity)
    }

    /// The volume with one occupancy byte per voxel: what a model needs (its bond masks and
    /// Kirchhoff solve read bytes).
    pub fn volume(&self) -> Volume {
        Volume {
            cells: self.cells,
            occupancy: self.presence.occupancy_bytes().into(),
        }
    }
}

/// Which voxels are occupied: those equal to `--phase`, or (without it) every nonzero voxel.
#[derive(Debug, Clone, Copy)]
struct Phase(Option<i64>);

impl Phase {
    /// Whether a voxel of value `v` is occupied. i128 holds every u64 and i64 value exactly.
    #[inline(always)]
    fn occupied(self, v: i128) -> bool {
        match self.0 {
            Some(p) => v == i128::from(p),
            None => v != 0,
        }
    }

    /// Refuses a `--phase` that no voxel of an element type spanning [min, max] can equal.
    fn check(self, name: &str, dtype: &str, min: i128, max: i128) -> Result<()> {
        match self.0 {
            Some(p) if !(min..=max).contains(&i128::from(p)) => {
                bail!("--phase {p} is outside the range [{min}, {max}] of {name}'s dtype {dtype}")
            }
            _ => Ok(()),
        }
    }
}

/// Reads a volume from a `.npy` array or a multi-page TIFF stack. A voxel is occupied when it
/// equals `phase`, or when it is nonzero if `phase` is None.
pub fn read_volume(path: &Path, phase: Option<i64>) -> Result<Volume> {
    let name = path.display().to_string();
    if path.is_dir() {
        bail!("--volume: {name} is a folder; give one .npy file or one multi-page TIFF stack");
    }
    let file = File::open(path).with_context(|| format!("--volume: cannot open {name}"))?;
    let mut magic = [0u8; 6];
    let head = {
        use std::io::{Read, Seek};
        let mut f = &file;
        let mut n = 0;
        while n < magic.len() {
            match f.read(&mut magic[n..])? {
                0 => break,
                k => n += k,
            }
        }
        f.rewind()?;
        &magic[..n]
    };
    if head.starts_with(b"\x93NUMPY") {
        read_npy(&file, &name, Phase(phase))
    } else if head.starts_with(b"II*\0")
        || head.starts_with(b"MM\0*")
        || head.starts_with(b"II+\0")
        || head.starts_with(b"MM\0+")
    {
        read_tiff(file, &name, Phase(phase))
    } else {
        bail!(
            "--volume: {name} is neither a NumPy .npy file nor a TIFF stack (unknown first bytes)"
        )
    }
}

/// Checks a (nz, ny, nx) shape and returns its number of sites.
fn check_shape(name: &str, shape: &[u64]) -> Result<u64> {
    check_shape_named("--volume:", &format!(" {name}"), shape)
}

/// `check_shape` with the errors' prefix (`--volume:` for files, `volume` for arrays) and
/// the name of the file after it (empty for an array).
fn check_shape_named(what: &str, name: &str, shape: &[u64]) -> Result<u64> {
    if shape.len() != 3 {
        bail!(
            "{what}{name} is a {}D array of shape {shape:?}; a volume must be 3D, shaped (nz, ny, nx)",
            shape.len()
        );
    }
    if shape.contains(&0) {
        bail!("{what}{name} has an empty axis, shape {shape:?}");
    }
    match shape.iter().try_fold(1u64, |a, &n| a.checked_mul(n)) {
        Some(s) if s <= MAX_SITES && shape.iter().all(|&n| n <= u64::from(u32::MAX)) => Ok(s),
        _ => bail!(
            "{what}{name} of shape {shape:?} has more than the {MAX_SITES} sites a u32 site index addresses"
        ),
    }
}

/// The one occupancy array, refused with its size before anything is written when memory is short.
fn occupancy_array(name: &str, sites: u64) -> Result<Vec<u8>> {
    let mut occupancy: Vec<u8> = Vec::new();
    occupancy.try_reserve_exact(sites as usize).map_err(|_| {
        anyhow!(
            "--volume: {name}: not enough memory for the occupancy of {sites} voxels ({})",
            tunnelgrid_model::engine::human_bytes(sites)
        )
    })?;
    Ok(occupancy)
}

/// A `.npy` file, memory-mapped; its data bytes are decoded in place.
fn read_npy(file: &File, name: &str, phase: Phase) -> Result<Volume> {
    // SAFETY: the map is only read, and only while this function runs. Another process truncating
    // the file meanwhile would fault (SIGBUS); that is the documented price of not copying a
    // multi-gigabyte file, and the same as every mmap-based reader (numpy's mmap_mode included).
    let map = unsafe { memmap2::Mmap::map(file) }
        .with_context(|| format!("--volume: cannot map {name}"))?;
    let mut rest: &[u8] = &map;
    let npy = NpyHeader::from_reader(&mut rest)
        .with_context(|| format!("--volume: {name} is not a valid .npy file (bad header)"))?;
    let data: &[u8] = rest;
    let shape = npy.shape().to_vec();
    let sites = check_shape(name, &shape)?;
    if npy.order() == Order::Fortran {
        bail!("--volume: {name} is in Fortran order; save it in C order (numpy.ascontiguousarray)");
    }
    let dtype = npy.dtype();
    let DType::Plain(ts) = &dtype else {
        bail!("--volume: {name} has a structured dtype; a volume needs one of {SUPPORTED}");
    };
    let (kind, size) = (ts.type_char(), ts.size_field() as usize);
    let supported = matches!(
        (kind, size),
        (TypeChar::Bool, 1) | (TypeChar::Uint | TypeChar::Int, 1 | 2 | 4 | 8)
    );
    if !supported {
        bail!("--volume: {name} has dtype {ts}, which is not supported; a volume needs one of {SUPPORTED}");
    }
    let needed = sites * size as u64;
    if (data.len() as u64) < needed {
        bail!(
            "--volume: {name} is truncated: shape {shape:?} of {ts} needs {needed} data bytes, the file holds {}",
            data.len()
        );
    }
    let data = &data[..needed as usize];
    let big = ts.endianness() == Endianness::Big;
    let mut occupancy = occupancy_array(name, sites)?;
    occupancy.resize(sites as usize, 0);
    // Each arm checks --phase against the element type's range, then decodes every element once.
    macro_rules! pack {
        ($t:ty, $n:literal) => {{
            phase.check(name, &ts.to_string(), <$t>::MIN as i128, <$t>::MAX as i128)?;
            let decode = |b: &[u8]| -> i128 {
                let bytes: [u8; $n] = b.try_into().expect("chunks of the element size");
                i128::from(if big {
                    <$t>::from_be_bytes(bytes)
                } else {
                    <$t>::from_le_bytes(bytes)
                })
            };
            convert(data, $n, &mut occupancy, |b| phase.occupied(decode(b)));
        }};
    }
    match (kind, size) {
        (TypeChar::Bool, 1) => {
            if let Some(v) = phase.0.filter(|v| !(0..=1).contains(v)) {
                bail!("--phase {v}: {name} holds booleans; use 0 or 1");
            }
            convert(data, 1, &mut occupancy, |b| {
                phase.occupied(i128::from(b[0]))
            });
        }
        (TypeChar::Uint, 1) => pack!(u8, 1),
        (TypeChar::Uint, 2) => pack!(u16, 2),
        (TypeChar::Uint, 4) => pack!(u32, 4),
        (TypeChar::Uint, 8) => pack!(u64, 8),
        (TypeChar::Int, 1) => pack!(i8, 1),
        (TypeChar::Int, 2) => pack!(i16, 2),
        (TypeChar::Int, 4) => pack!(i32, 4),
        _ => pack!(i64, 8),
    }
    Ok(Volume {
        cells: [shape[2] as u32, shape[1] as u32, shape[0] as u32],
        occupancy: occupancy.into(),
    })
}

/// Decodes `data` (elements of `size` bytes) into one occupancy byte each, in parallel.
fn convert(data: &[u8], size: usize, out: &mut [u8], occupied: impl Fn(&[u8]) -> bool + Sync) {
    const CHUNK: usize = 1 << 16;
    out.par_chunks_mut(CHUNK)
        .zip(data.par_chunks(CHUNK * size))
        .for_each(|(out, data)| {
            for (o, element) in out.iter_mut().zip(data.chunks_exact(size)) {
                *o = u8::from(occupied(element));
            }
        });
}

/// A multi-page TIFF stack: page k is the layer z = k.
fn read_tiff(file: File, name: &str, phase: Phase) -> Result<Volume> {
    use tiff::decoder::{Decoder, DecodingResult, Limits};
    use tiff::ColorType;
    let tiff_error = |e: tiff::TiffError| {
        anyhow!("--volume: {name} is not a readable TIFF stack ({e}); a volume is a multi-page gray TIFF or a .npy array")
    };
    let mut decoder = Decoder::new(BufReader::new(file))
        .map_err(tiff_error)?
        .with_limits(Limits::unlimited());
    // Count the pages first (cheap: directories only), so the shape is known before allocation.
    let (nx, ny) = decoder.dimensions().map_err(tiff_error)?;
    let mut pages = 1u64;
    while decoder.more_images() {
        decoder.next_image().map_err(tiff_error)?;
        pages += 1;
    }
    let shape = [pages, u64::from(ny), u64::from(nx)];
    let sites = check_shape(name, &shape)?;
    let mut occupancy = occupancy_array(name, sites)?;
    decoder.seek_to_image(0).map_err(tiff_error)?;
    for page in 0..pages {
        if page > 0 {
            decoder.next_image().map_err(tiff_error)?;
        }
        let dims = decoder.dimensions().map_err(tiff_error)?;
        if dims != (nx, ny) {
            bail!(
                "--volume: {name}: page {page} is {}×{} pixels, page 0 is {nx}×{ny}; a stack's pages must all have one size",
                dims.0,
                dims.1
            );
        }
        let color = decoder.colortype().map_err(tiff_error)?;
        let bits = match color {
            ColorType::Gray(b @ (1 | 8 | 16 | 32)) => b,
            other => bail!(
                "--volume: {name}: page {page} is {other:?}; a TIFF volume needs single-channel gray pages of 1 (bilevel), 8, 16 or 32 bits"
            ),
        };
        // The decoder turns WhiteIsZero samples into BlackIsZero by inverting them; a volume's
        // voxel values are the stored ones (what tifffile and numpy read), so invert them back.
        let white_is_zero = decoder
            .find_tag_unsigned::<u16>(tiff::tags::Tag::PhotometricInterpretation)
            .map_err(tiff_error)?
            == Some(0);
        let pixels = decoder.read_image().map_err(tiff_error)?;
        let before = occupancy.len();
        macro_rules! page {
            ($v:expr, $t:ty) => {{
                phase.check(name, stringify!($t), <$t>::MIN as i128, <$t>::MAX as i128)?;
                occupancy.extend($v.iter().map(|&v| {
                    let stored = if white_is_zero { !v } else { v };
                    u8::from(phase.occupied(i128::from(stored)))
                }));
            }};
        }
        match pixels {
            DecodingResult::U8(v) if bits == 1 => {
                // Bilevel rows are packed most significant bit first and padded to a byte.
                if let Some(p) = phase.0.filter(|p| !(0..=1).contains(p)) {
                    bail!("--phase {p}: {name} is bilevel (1-bit); use 0 or 1");
                }
                let row = (nx as usize).div_ceil(8);
                if v.len() < row * ny as usize {
                    bail!("--volume: {name}: page {page} holds too few bilevel bytes");
                }
                for y in 0..ny as usize {
                    let bytes = &v[y * row..(y + 1) * row];
                    occupancy.extend((0..nx as usize).map(|x| {
                        let bit = ((bytes[x / 8] >> (7 - x % 8)) & 1) ^ u8::from(white_is_zero);
                        u8::from(phase.occupied(i128::from(bit)))
                    }));
                }
            }
            DecodingResult::U8(v) => page!(v, u8),
            DecodingResult::U16(v) => page!(v, u16),
            DecodingResult::U32(v) => page!(v, u32),
            DecodingResult::I8(v) => page!(v, i8),
            DecodingResult::I16(v) => page!(v, i16),
            DecodingResult::I32(v) => page!(v, i32),
            _ => bail!(
                "--volume: {name}: page {page} holds floating-point or 64-bit samples; a TIFF volume needs 1, 8, 16 or 32-bit integer gray pages"
            ),
        }
        let got = occupancy.len() - before;
        if got != nx as usize * ny as usize {
            bail!("--volume: {name}: page {page} decoded to {got} pixels, expected {nx}×{ny}");
        }
    }
    Ok(Volume {
        cells: [nx, ny, pages as u32],
        occupancy: occupancy.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{MaterialSource, ModelSpec, Names, VoxelsSpec};

    /// The presence path labels on the lattice of the model `run --volume` builds, and gives
    /// that model's occupancy back.
    #[test]
    fn voxel_presence_is_the_model_of_its_volume() {
        let cells = [7, 5, 3];
        let bytes: Vec<u8> = (0..105).map(|i| u8::from(i % 3 == 0)).collect();
        let voxels = VoxelPresence::new(cells, Presence::of_voxels(&bytes, |v| v != 0)).unwrap();
        let volume = Volume::new(cells, bytes).unwrap();
        assert_eq!(voxels.volume(), volume);
        for connectivity in [6, 18, 26] {
            let (model, _) = ModelSpec {
                source: MaterialSource::Voxels(VoxelsSpec {
                    volume: volume.clone(),
                    connectivity: Some(connectivity),
                    voxel_m: 1e-6,
                }),
                ..ModelSpec::default()
            }
            .build(Names::Keywords)
            .unwrap();
            assert_eq!(
                format!("{:?}", voxels.lattice(connectivity)),
                format!("{:?}", model.lattice),
                "connectivity {connectivity}"
            );
        }
    }

    #[test]
    fn voxel_shapes_are_checked_before_reading() {
        assert_eq!(VoxelPresence::cells_of([3, 5, 7]).unwrap(), [7, 5, 3]);
        assert!(VoxelPresence::cells_of([1, 1, 1 << 32]).is_err());
        assert!(VoxelPresence::cells_of([1 << 16, 1 << 16, 2]).is_err());
        assert!(VoxelPresence::cells_of([0, 5, 7]).is_err());
        let presence = Presence::of_voxels(&[1u8; 10], |v| v != 0);
        assert!(VoxelPresence::new([3, 3, 1], presence).is_err());
    }
}

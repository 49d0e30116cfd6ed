//! Voxel volumes from `.npy` files: the occupancy of an sc site lattice (`--volume`).
//!
//! The file is read once, straight into one byte per site; the array's (nz, ny, nx) C order is
//! already the lattice's site order `(z*ny + y)*nx + x`, so no reindexing is needed.

use anyhow::{bail, Context, Result};
use npyz::{DType, NpyFile, Order, TypeChar};
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;
use tunnelgrid_model::engine::MAX_SITES;

/// A volume's shape and packed occupancy.
#[derive(Debug, Clone)]
pub struct Volume {
    /// Cells (voxels) along x, y, z.
    pub cells: [u32; 3],
    /// One byte per site in site-index order: 1 occupied, 0 empty.
    pub occupancy: Arc<[u8]>,
}

impl Volume {
    /// Fraction of occupied voxels (the porosity ε of the conducting phase).
    pub fn fraction(&self) -> f64 {
        let occupied = self.occupancy.iter().filter(|&&b| b != 0).count();
        occupied as f64 / self.occupancy.len().max(1) as f64
    }
}

/// Reads a 3D `.npy` array shaped (nz, ny, nx) in C order. A voxel is occupied when it equals
/// `phase`, or when it is nonzero if `phase` is None.
pub fn read_volume(path: &Path, phase: Option<i64>) -> Result<Volume> {
    let name = path.display();
    let file =
        std::fs::File::open(path).with_context(|| format!("--volume: cannot open {name}"))?;
    let npy = NpyFile::new(BufReader::new(file))
        .with_context(|| format!("--volume: {name} is not a valid .npy file"))?;
    let shape = npy.shape().to_vec();
    if shape.len() != 3 {
        bail!(
            "--volume: {name} is a {}D array of shape {shape:?}; a volume must be 3D, shaped (nz, ny, nx)",
            shape.len()
        );
    }
    if npy.order() == Order::Fortran {
        bail!("--volume: {name} is in Fortran order; save it in C order (numpy.ascontiguousarray)");
    }
    if shape.contains(&0) {
        bail!("--volume: {name} has an empty axis, shape {shape:?}");
    }
    let sites = shape.iter().try_fold(1u64, |a, &n| a.checked_mul(n));
    let sites = match sites {
        Some(s) if s <= MAX_SITES && shape.iter().all(|&n| n <= u64::from(u32::MAX)) => s,
        _ => bail!(
            "--volume: {name} of shape {shape:?} has more than the {MAX_SITES} sites a u32 site index addresses"
        ),
    };
    let mut occupancy: Vec<u8> = Vec::new();
    occupancy
        .try_reserve_exact(sites as usize)
        .map_err(|_| anyhow::anyhow!("--volume: {name}: not enough memory for {sites} voxels"))?;
    let dtype = npy.dtype();
    let DType::Plain(ts) = &dtype else {
        bail!("--volume: {name} has a structured dtype; a volume needs bool or integer voxels");
    };
    let (kind, size) = (ts.type_char(), ts.size_field());
    // Each arm compares in the file's own type, so no value is ever converted lossily.
    macro_rules! pack {
        ($t:ty) => {{
            let target: Option<$t> = match phase {
                Some(v) => Some(<$t>::try_from(v).map_err(|_| {
                    anyhow::anyhow!("--phase {v} is outside the range of {name}'s dtype {ts}")
                })?),
                None => None,
            };
            for value in npy.data::<$t>()? {
                let value = value.with_context(|| format!("--volume: reading {name}"))?;
                let on = match target {
                    Some(t) => value == t,
                    None => value != 0,
                };
                occupancy.push(u8::from(on));
            }
        }};
    }
    match (kind, size) {
        (TypeChar::Bool, 1) => {
            let target = match phase {
                Some(0) => Some(false),
                Some(1) => Some(true),
                Some(v) => bail!("--phase {v}: {name} holds booleans; use 0 or 1"),
                None => None,
            };
            for value in npy.data::<bool>()? {
                let value = value.with_context(|| format!("--volume: reading {name}"))?;
                occupancy.push(u8::from(target.map_or(value, |t| value == t)));
            }
        }
        (TypeChar::Uint, 1) => pack!(u8),
        (TypeChar::Uint, 2) => pack!(u16),
        (TypeChar::Uint, 4) => pack!(u32),
        (TypeChar::Uint, 8) => pack!(u64),
        (TypeChar::Int, 1) => pack!(i8),
        (TypeChar::Int, 2) => pack!(i16),
        (TypeChar::Int, 4) => pack!(i32),
        (TypeChar::Int, 8) => pack!(i64),
        _ => bail!(
            "--volume: {name} has dtype {ts}, which is not supported; a volume needs bool or integer voxels (u8/u16/u32/u64/i8/i16/i32/i64), not floats"
        ),
    }
    if occupancy.len() as u64 != sites {
        bail!(
            "--volume: {name} holds {} voxels, its shape says {sites}",
            occupancy.len()
        );
    }
    Ok(Volume {
        cells: [shape[2] as u32, shape[1] as u32, shape[0] as u32],
        occupancy: occupancy.into(),
    })
}

//! Merging the shards of a sweep into the file an unsharded sweep writes.

use super::{grid_points, read_sweep, Shard, SweepFile, SweepGrid, WriterLock, HEADER};
use crate::output::write_text;
use anyhow::{bail, ensure, Context, Result};
use std::path::{Path, PathBuf};

/// Joins shard files into one unsharded `sweep.csv` at `out`: all shards must come from the same
/// sweep (identity equal but for ` shard=I/N`), every shard 1..=N present once, and together
/// cover every grid point exactly once. Rows are written sorted by index, so the result equals
/// the file of an unsharded sweep byte for byte. Returns the identity and rows.
pub fn merge_shards(inputs: &[PathBuf], out: &Path) -> Result<SweepFile> {
    ensure!(!inputs.is_empty(), "merge: no shard files given");
    let _lock = WriterLock::acquire(out)?;
    // As `sweep` does, never replace a finished sweep.
    ensure!(
        !out.exists(),
        "merge: {} already exists; remove it or choose another --out",
        out.display()
    );
    let mut identity: Option<String> = None;
    let mut seen_shards = std::collections::BTreeSet::new();
    let mut shard_count = None;
    let mut rows = Vec::new();
    for path in inputs {
        let file = read_sweep(path, false)?;
        let (base, shard) = match file.identity.rsplit_once(" shard=") {
            Some((base, s)) => (base.to_string(), Some(Shard::parse(s)?)),
            None => (file.identity.clone(), None),
        };
        let shard = shard.with_context(|| {
            format!(
                "merge: {} is not a shard (no shard=I/N in its first line)",
                path.display()
            )
        })?;
        match &identity {
            None => identity = Some(base),
            Some(id) => ensure!(
                *id == base,
                "merge: {} belongs to another sweep:\n  {}\n  {id}",
                path.display(),
                base
            ),
        }
        ensure!(
            *shard_count.get_or_insert(shard.count) == shard.count,
            "merge: {} is shard {}/{}, but other files split the grid in {} shards",
            path.display(),
            shard.index,
            shard.count,
            shard_count.unwrap_or(0)
        );
        ensure!(
            seen_shards.insert(shard.index),
            "merge: shard {}/{} given twice",
            shard.index,
            shard.count
        );
        SweepGrid::of_identity(&file.identity)?.check_rows(
            path,
            &file.rows,
            |index| shard.owns(index),
            "merge",
        )?;
        rows.extend(file.rows);
    }
    let count = shard_count.unwrap_or(0);
    let missing: Vec<u32> = (1..=count).filter(|i| !seen_shards.contains(i)).collect();
    ensure!(
        missing.is_empty(),
        "merge: shards {missing:?} of {count} are missing"
    );
    let identity = identity.unwrap_or_default();
    let points = grid_points(&identity)?;
    rows.sort_by_key(|r| r.index);
    for w in rows.windows(2) {
        ensure!(
            w[0].index != w[1].index,
            "merge: point {} appears twice",
            w[0].index
        );
    }
    if rows.len() != points {
        let present: std::collections::HashSet<usize> = rows.iter().map(|r| r.index).collect();
        let first_missing = (0..points).find(|i| !present.contains(i)).unwrap_or(0);
        bail!(
            "merge: the shards hold {} of {points} points (point {first_missing} is missing: finish that shard with --resume first)",
            rows.len()
        );
    }
    let mut text = format!("{identity}\n{HEADER}\n");
    for r in &rows {
        text += &r.to_line();
    }
    write_text(out, &text)?;
    Ok(SweepFile { identity, rows })
}

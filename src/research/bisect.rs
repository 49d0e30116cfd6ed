//! Bisection with confidence over seeds, shared by the critical pressure of a preset and by
//! `design`: for every seed, the smallest x (to a tolerance) at which a monotone yes/no question
//! about the sample turns to yes; then the spread of those values over seeds.

use super::fss::mean_sd_se;
use anyhow::{bail, Result};
use tunnelgrid_model::config::short_number;

/// Smallest bracket width accepted, in ulps of the range's largest magnitude.
const RESOLVABLE_ULPS: f64 = 16.0;

/// One seed's bracket: the question is no at `below` and yes at `at_or_above`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SeedBracket {
    /// The seed.
    pub seed: u64,
    /// Largest value found where the answer is no.
    pub below: f64,
    /// Smallest value found where the answer is yes: this seed's critical value.
    pub at_or_above: f64,
    /// Engine runs spent on this seed.
    pub runs: usize,
}

/// The critical values of all seeds and their statistics.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Bisection {
    /// Per seed.
    pub seeds: Vec<SeedBracket>,
    /// Mean of the per-seed critical values.
    pub mean: f64,
    /// Their standard deviation (sample to sample).
    pub sd: f64,
    /// Standard error of the mean.
    pub se: f64,
    /// Smallest per-seed critical value.
    pub min: f64,
    /// Largest per-seed critical value: the answer is yes for every seed from here on.
    pub max: f64,
    /// Bracket width each seed was bisected to.
    pub tolerance: f64,
}

/// Bisects `holds(x, seed)` on `[lo, hi]` for every seed until the bracket is at most
/// `tolerance` wide. `holds` must be no at `lo` and yes at `hi` for every seed (checked: a seed
/// where it is not gets an error naming `flag` and the range, since the range misses its
/// transition); in between it is assumed monotone.
pub fn bisect_over_seeds(
    seeds: &[u64],
    (lo, hi): (f64, f64),
    tolerance: f64,
    flag: &str,
    mut holds: impl FnMut(f64, u64) -> Result<bool>,
) -> Result<Bisection> {
    if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less)
        || tolerance.is_nan()
        || tolerance <= 0.0
        || seeds.is_empty()
    {
        bail!("{flag}: need lo < hi, a positive tolerance and at least one seed (got [{lo}, {hi}], tolerance {tolerance}, {} seeds)", seeds.len());
    }
    // Below a few ulps of the range's scale, halving the bracket stops changing it: such a
    // tolerance could never be met.
    let resolution = RESOLVABLE_ULPS * f64::EPSILON * lo.abs().max(hi.abs());
    if tolerance < resolution {
        bail!(
            "--tolerance {}: f64 cannot bisect [{lo}, {hi}] that finely; allowed a width of at least {}",
            short_number(tolerance),
            short_number(resolution)
        );
    }
    let mut brackets = Vec::with_capacity(seeds.len());
    for &seed in seeds {
        if holds(lo, seed)? {
            // The quantities bisected here (pressure, attraction) are never negative.
            if lo <= 0.0 {
                bail!("{flag}: already yes at {lo}, the lowest value allowed, for seed {seed}: the sample is in that state without any, so there is no onset to find");
            }
            bail!("{flag}: already yes at the low end {lo} for seed {seed}: the onset lies below; lower LO (not below 0)");
        }
        if !holds(hi, seed)? {
            bail!("{flag}: still no at the high end {hi} for seed {seed}; raise the range");
        }
        let (mut below, mut above, mut runs) = (lo, hi, 2);
        while above - below > tolerance {
            let mid = 0.5 * (below + above);
            if mid <= below || mid >= above {
                // Adjacent floats: the bracket cannot shrink further.
                break;
            }
            runs += 1;
            if holds(mid, seed)? {
                above = mid;
            } else {
                below = mid;
            }
        }
        brackets.push(SeedBracket {
            seed,
            below,
            at_or_above: above,
            runs,
        });
    }
    let values: Vec<f64> = brackets.iter().map(|b| b.at_or_above).collect();
    let (mean, sd, se) = mean_sd_se(&values);
    Ok(Bisection {
        mean,
        sd,
        se: if se.is_nan() { 0.0 } else { se },
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        seeds: brackets,
        tolerance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bisection_finds_each_seeds_step() {
        // A step at 0.3 + 0.01·seed: the bracket of every seed holds it.
        let step = |seed: u64| 0.3 + 0.01 * seed as f64;
        let result = bisect_over_seeds(&[0, 1, 2, 3], (0.0, 1.0), 1e-4, "--x", |x, s| {
            Ok(x >= step(s))
        })
        .unwrap();
        for b in &result.seeds {
            assert!(b.below < step(b.seed) && step(b.seed) <= b.at_or_above);
            assert!(b.at_or_above - b.below <= 1e-4);
        }
        assert!((result.mean - 0.315).abs() < 2e-4);
        assert!((result.max - 0.33).abs() < 2e-4);
        let err = bisect_over_seeds(&[0], (0.5, 1.0), 1e-3, "--x", |x, _| Ok(x >= 0.2));
        assert!(err.unwrap_err().to_string().contains("--x"));
    }

    #[test]
    fn bisection_ends_when_the_bracket_stops_shrinking() {
        // Just above the resolution limit the loop must still end, by the adjacent-float guard.
        let tolerance = RESOLVABLE_ULPS * f64::EPSILON * 400.0;
        let result =
            bisect_over_seeds(&[0], (0.0, 400.0), tolerance, "--x", |x, _| Ok(x >= 123.4)).unwrap();
        let b = result.seeds[0];
        assert!(b.below < 123.4 && 123.4 <= b.at_or_above);
        assert!(b.runs < 100, "{} runs", b.runs);
        let err = bisect_over_seeds(&[0], (0.0, 400.0), 1e-15, "--x", |x, _| Ok(x >= 1.0));
        assert!(err.unwrap_err().to_string().contains("--tolerance"));
    }
}

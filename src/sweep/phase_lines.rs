//! The conventional phase lines of a sweep: written into its identity line (so `merge` and the
//! pictures know them from the files alone) and drawn over the resistance phase diagram.

use anyhow::{ensure, Context, Result};
use tunnelgrid_model::phases::{MeltingLine, PhasesConfig, VapourLine};
use tunnelgrid_model::ConventionalState;
use tunnelgrid_render::{Annotation, Overlay, Rgb};

/// ` melting=T_ref,P_ref,a,c` and, with a vapour line, ` vapour=T_ref,P_ref,L[,T_c]` (Rust's
/// shortest round-trip numbers, so reading them back gives the same lines bit for bit).
pub fn identity_fields(phases: &PhasesConfig) -> String {
    let m = &phases.melting;
    let mut text = format!(" melting={},{},{},{}", m.t_ref_k, m.p_ref_gpa, m.a_gpa, m.c);
    if let Some(v) = &phases.vapour {
        text += &format!(
            " vapour={},{},{}",
            v.t_ref_k, v.p_ref_gpa, v.latent_heat_kj_per_mol
        );
        if let Some(t_c) = v.t_critical_k {
            text += &format!(",{t_c}");
        }
    }
    text
}

/// The lines an identity line names, if any.
pub fn from_identity(identity: &str) -> Result<Option<PhasesConfig>> {
    let numbers = |key: &str| -> Result<Option<Vec<f64>>> {
        identity
            .split(' ')
            .find_map(|w| w.strip_prefix(key))
            .map(|list| {
                list.split(',')
                    .map(|v| {
                        v.parse::<f64>().with_context(|| {
                            format!("sweep identity: {key}{list} is not a list of numbers")
                        })
                    })
                    .collect()
            })
            .transpose()
    };
    let Some(m) = numbers("melting=")? else {
        return Ok(None);
    };
    ensure!(m.len() == 4, "sweep identity: melting= needs 4 numbers");
    let vapour = numbers("vapour=")?
        .map(|v| {
            ensure!(
                v.len() == 3 || v.len() == 4,
                "sweep identity: vapour= needs 3 or 4 numbers"
            );
            Ok(VapourLine {
                t_ref_k: v[0],
                p_ref_gpa: v[1],
                latent_heat_kj_per_mol: v[2],
                t_critical_k: v.get(3).copied(),
            })
        })
        .transpose()?;
    let phases = PhasesConfig {
        melting: MeltingLine {
            t_ref_k: m[0],
            p_ref_gpa: m[1],
            a_gpa: m[2],
            c: m[3],
        },
        vapour,
    };
    phases.validate()?;
    Ok(Some(phases))
}

/// Colour of the melting line (dark red: apart from the state colours and the black boundaries).
const MELTING_COLOUR: Rgb = Rgb(150, 20, 40);
/// Colour of the vapour line and the critical isobar (dark violet).
const VAPOUR_COLOUR: Rgb = Rgb(90, 30, 140);
/// Points per line: smooth at any picture size.
const SAMPLES: usize = 400;

/// The lines over a diagram spanning `pressure` × `temperature` (data ranges): the melting line
/// where it borders the solid (it ends at the triple point, where the vapour line takes over),
/// the vapour line up to its critical point, and beyond it the critical isobar.
pub fn overlays(
    phases: &PhasesConfig,
    pressure: (f64, f64),
    temperature: (f64, f64),
) -> Vec<Overlay> {
    let mut lines = Vec::new();
    let step = |(a, b): (f64, f64), i: usize| a + (b - a) * i as f64 / (SAMPLES - 1) as f64;
    let gas_below = |t: f64| phases.vapour.map_or(0.0, |v| v.gas_below_gpa(t));
    let melting: Vec<(f64, f64)> = (0..SAMPLES)
        .map(|i| {
            let p = step((pressure.0.max(0.0), pressure.1), i);
            (p, phases.melting.melting_temperature_k(p))
        })
        .filter(|&(p, t)| p >= gas_below(t))
        .collect();
    lines.push(Overlay {
        label: "melting line".into(),
        points: melting,
        label_at: 0.55,
        colour: MELTING_COLOUR,
        dashed: true,
    });
    if let Some(v) = &phases.vapour {
        let t_end = v
            .t_critical_k
            .map_or(temperature.1, |t_c| t_c.min(temperature.1));
        let vapour: Vec<(f64, f64)> = (0..SAMPLES)
            .map(|i| {
                let t = step((temperature.0.max(1e-3), t_end), i);
                (v.vapour_pressure_gpa(t), t)
            })
            // Below the triple point the vapour line borders the solid (sublimation), above it
            // the liquid: it is a boundary everywhere.
            .collect();
        lines.push(Overlay {
            label: "vapour line".into(),
            points: vapour,
            label_at: 0.8,
            colour: VAPOUR_COLOUR,
            dashed: true,
        });
        if let (Some(t_c), Some(p_c)) = (v.t_critical_k, v.critical_pressure_gpa()) {
            // Only where it is long enough to read (not when T_c is at the top of the diagram).
            if t_c < temperature.1 - 0.1 * (temperature.1 - temperature.0) {
                lines.push(Overlay {
                    label: "critical isobar".into(),
                    points: vec![(p_c, t_c), (p_c, temperature.1)],
                    label_at: 0.5,
                    colour: VAPOUR_COLOUR,
                    dashed: false,
                });
            }
        }
    }
    lines
}

/// A label for each conventional state present in `grid` (row-major, row 0 the first
/// temperature), at the grid point farthest from every point of another state (in units of the
/// picture's width and height), so the labels sit inside their regions.
pub fn region_labels(
    grid: &[Option<ConventionalState>],
    pressures: &[f64],
    temperatures: &[f64],
) -> Vec<Annotation> {
    let (np, nt) = (pressures.len(), temperatures.len());
    if np * nt != grid.len() || grid.is_empty() {
        return Vec::new();
    }
    // At most 48 × 48 points are compared, so large grids stay quick.
    let stride = |n: usize| n.div_ceil(48).max(1);
    let (sp, st) = (stride(np), stride(nt));
    let sample: Vec<(usize, usize)> = (0..nt)
        .step_by(st)
        .flat_map(|j| (0..np).step_by(sp).map(move |i| (i, j)))
        .collect();
    let pos = |i: usize, j: usize| ((i as f64 + 0.5) / np as f64, (j as f64 + 0.5) / nt as f64);
    let mut labels = Vec::new();
    for state in [
        ConventionalState::Solid,
        ConventionalState::Liquid,
        ConventionalState::Gas,
    ] {
        let mut best: Option<(f64, usize, usize)> = None;
        for &(i, j) in &sample {
            if grid[j * np + i] != Some(state) {
                continue;
            }
            let (x, y) = pos(i, j);
            // Distance to the nearest other state, and to the frame (half weight: labels may
            // sit near an edge, not across it).
            let edge = x.min(1.0 - x).min(y).min(1.0 - y) * 2.0;
            let nearest = sample
                .iter()
                .filter(|&&(a, b)| grid[b * np + a].is_some_and(|s| s != state))
                .map(|&(a, b)| {
                    let (u, v) = pos(a, b);
                    (u - x).hypot(v - y)
                })
                .fold(edge, f64::min);
            if best.is_none_or(|(d, _, _)| nearest > d) {
                best = Some((nearest, i, j));
            }
        }
        if let Some((_, i, j)) = best {
            labels.push(Annotation {
                text: state.name().into(),
                at: (pressures[i], temperatures[j]),
            });
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_survive_the_identity_line() {
        let material = tunnelgrid_model::presets::preset("default").unwrap();
        let phases = material.phases.unwrap();
        let identity = format!(
            "# tunnelgrid sweep v2 x=1{} shard=1/2",
            identity_fields(&phases)
        );
        assert_eq!(from_identity(&identity).unwrap(), Some(phases));
        assert_eq!(from_identity("# tunnelgrid sweep v2 x=1").unwrap(), None);
        assert!(
            from_identity("# melting=1,0,0,2").is_err(),
            "a = 0 is refused"
        );
    }
}

//! The picture of a profile: state bands per axis and the conventional phase against depth,
//! beside the pressure and temperature curves.

use super::ProfileRow;
use anyhow::Result;
use std::path::{Path, PathBuf};
use tunnelgrid_model::{ConventionalState, State};
use tunnelgrid_render::colormap::{CONDUCTING, INSULATING, SUPERCONDUCTING};
use tunnelgrid_render::profile::{write_profile, BandColumn, ProfileFigure};
use tunnelgrid_render::{Region, Rgb};

/// Colour of each conventional phase in the phase column (earthy, apart from the state colours).
pub fn phase_colour(state: ConventionalState) -> Rgb {
    match state {
        ConventionalState::Solid => Rgb(150, 120, 90),
        ConventionalState::Liquid => Rgb(120, 185, 140),
        ConventionalState::Gas => Rgb(235, 225, 170),
    }
}

fn state_colour(s: State) -> Rgb {
    match s {
        State::Insulating => Region::Insulating.colour(),
        State::Conducting => Region::Conducting.colour(),
        State::Superconducting => Region::Superconducting.colour(),
        // Rows carry no state for a thin axis; drawn blank should one appear.
        State::NotApplicable => Rgb(255, 255, 255),
    }
}

/// The figure of `rows` (depth order) for `axes` (0 = x, 1 = y, 2 = z), titled with the
/// material and path. Axes whose states agree at every depth share one column ("all axes").
pub fn profile_figure(rows: &[ProfileRow], axes: &[usize], title: &str) -> ProfileFigure {
    let axes: Vec<usize> = axes
        .iter()
        .copied()
        .filter(|&a| rows.iter().any(|r| r.analysis.states[a].is_some()))
        .collect();
    let differ = rows.iter().any(|r| {
        axes.iter()
            .any(|&a| r.analysis.states[a] != r.analysis.states[axes[0]])
    });
    let shown: Vec<usize> = if differ || axes.len() <= 1 {
        axes.clone()
    } else {
        vec![axes[0]]
    };
    // Liquid and gas points keep the lattice's tunnel state, hatched (as on the phase diagram).
    let hatched: Vec<bool> = rows
        .iter()
        .map(|r| {
            r.analysis
                .conventional
                .is_some_and(|c| c != ConventionalState::Solid)
        })
        .collect();
    let mut columns: Vec<BandColumn> = shown
        .iter()
        .map(|&a| BandColumn {
            title: if differ || axes.len() == 1 {
                format!("along {}", ["x", "y", "z"][a])
            } else {
                "all axes".into()
            },
            colours: rows
                .iter()
                .map(|r| r.analysis.states[a].map(state_colour))
                .collect(),
            hatched: hatched.clone(),
            labels: Vec::new(),
        })
        .collect();
    let has_phases = rows.iter().any(|r| r.analysis.conventional.is_some());
    if has_phases {
        columns.push(BandColumn {
            title: "phase".into(),
            colours: rows
                .iter()
                .map(|r| r.analysis.conventional.map(phase_colour))
                .collect(),
            hatched: Vec::new(),
            labels: rows
                .iter()
                .map(|r| {
                    r.analysis
                        .conventional
                        .map_or(String::new(), |c| c.name().to_string())
                })
                .collect(),
        });
    }
    ProfileFigure {
        title: title.into(),
        depths_km: rows.iter().map(|r| r.point.depth_km).collect(),
        columns,
        pressure_gpa: rows.iter().map(|r| r.point.pressure_gpa).collect(),
        temperature_k: rows.iter().map(|r| r.point.temperature_k).collect(),
        legend: vec![
            ("insulating".into(), INSULATING),
            ("conducting".into(), CONDUCTING),
            ("superconducting".into(), SUPERCONDUCTING),
        ],
        hatch_legend: has_phases.then(|| "liquid or gas (hatched)".into()),
    }
}

/// Writes `DIR/profile.png` (1100 × 800) and returns its path.
pub fn render_profile(
    rows: &[ProfileRow],
    axes: &[usize],
    title: &str,
    dir: &Path,
) -> Result<PathBuf> {
    let path = dir.join("profile.png");
    write_profile(&profile_figure(rows, axes, title), &path, (1100, 800))?;
    Ok(path)
}

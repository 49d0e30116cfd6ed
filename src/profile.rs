//! Planetary interiors: a material evaluated along a pressure–temperature path (depth, P, T),
//! from a CSV file or a built-in planet, each point exactly as `run` (and `sweep`) analyses it.
//!
//! # The path
//! A CSV with a header naming the columns `depth_km`, `pressure_gpa` and `temperature_k` (in any
//! order; other columns are ignored; `#` lines and blank lines are skipped), one row per depth,
//! depths strictly increasing, pressures ≥ 0. Built in: `earth` (PREM pressures and a standard
//! geotherm, `earth.rs`).
//!
//! # The result
//! `profile.csv`: per depth the state along each axis, the resistivity per axis (solved along
//! the chosen axes) and the conventional state (solid, liquid, gas) from the material's
//! `[phases]` lines; `profile.png`: the states as bands against depth beside the pressure and
//! temperature curves.

mod earth;
mod figure;

pub use figure::{profile_figure, render_profile};

use crate::output::write_text;
use crate::point::{analyze_point, PointAnalysis, PointOptions};
use anyhow::{bail, ensure, Context, Result};
use std::path::Path;
use tunnelgrid_model::{Conditions, ConventionalState, Engine, Model, State};

/// The built-in planets.
pub const PLANETS: [&str; 1] = ["earth"];

/// One point of a path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProfilePoint {
    /// Depth below the surface, km.
    pub depth_km: f64,
    /// Pressure, GPa.
    pub pressure_gpa: f64,
    /// Temperature, K.
    pub temperature_k: f64,
}

/// The path of a built-in planet.
pub fn planet(name: &str) -> Result<Vec<ProfilePoint>> {
    match name {
        "earth" => Ok(earth::EARTH
            .iter()
            .map(|&(depth_km, pressure_gpa, temperature_k)| ProfilePoint {
                depth_km,
                pressure_gpa,
                temperature_k,
            })
            .collect()),
        other => bail!(
            "--planet {other}: unknown planet (built in: {})",
            PLANETS.join(", ")
        ),
    }
}

/// The columns a path CSV must have.
pub const PATH_COLUMNS: [&str; 3] = ["depth_km", "pressure_gpa", "temperature_k"];

/// Reads a path CSV (see the module docs); errors name the file, the line and the column.
pub fn read_profile_csv(path: &Path) -> Result<Vec<ProfilePoint>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_profile_csv(&text).with_context(|| format!("in {}", path.display()))
}

/// Parses the text of a path CSV.
pub fn parse_profile_csv(text: &str) -> Result<Vec<ProfilePoint>> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let (_, header) = lines.next().with_context(|| {
        format!(
            "the file is empty: expected a header {}",
            PATH_COLUMNS.join(",")
        )
    })?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let mut at = [0usize; 3];
    for (k, column) in PATH_COLUMNS.iter().enumerate() {
        at[k] = names.iter().position(|n| n == column).with_context(|| {
            format!(
                "the header '{header}' has no column {column} (needed: {})",
                PATH_COLUMNS.join(", ")
            )
        })?;
    }
    let mut points: Vec<ProfilePoint> = Vec::new();
    for (line, row) in lines {
        let fields: Vec<&str> = row.split(',').map(str::trim).collect();
        ensure!(
            fields.len() == names.len(),
            "line {line}: {} fields, but the header has {}",
            fields.len(),
            names.len()
        );
        let mut value = [0.0f64; 3];
        for (k, column) in PATH_COLUMNS.iter().enumerate() {
            let text = fields[at[k]];
            let v: f64 = text
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .with_context(|| {
                    format!("line {line}: {column} '{text}' is not a finite number")
                })?;
            value[k] = v;
        }
        let [depth_km, pressure_gpa, temperature_k] = value;
        ensure!(
            depth_km >= 0.0,
            "line {line}: depth_km = {depth_km} is negative (allowed: a depth in km ≥ 0)"
        );
        ensure!(
            pressure_gpa >= 0.0,
            "line {line}: pressure_gpa = {pressure_gpa} is negative (allowed: a pressure in GPa ≥ 0)"
        );
        ensure!(
            temperature_k >= 0.0,
            "line {line}: temperature_k = {temperature_k} is negative (allowed: a temperature in K ≥ 0)"
        );
        if let Some(previous) = points.last() {
            ensure!(
                depth_km > previous.depth_km,
                "line {line}: depth_km = {depth_km} does not increase (the row before is at {} km): sort the rows by increasing depth, each depth once",
                previous.depth_km
            );
        }
        points.push(ProfilePoint {
            depth_km,
            pressure_gpa,
            temperature_k,
        });
    }
    ensure!(
        !points.is_empty(),
        "no rows after the header: give one row per depth"
    );
    Ok(points)
}

/// Checks every point against the material (pressure and temperature ranges) before any runs.
pub fn check_points(model: &Model, points: &[ProfilePoint], source: &str) -> Result<()> {
    for (i, p) in points.iter().enumerate() {
        model
            .check_conditions(&Conditions {
                pressure_gpa: p.pressure_gpa,
                temperature_k: p.temperature_k,
                seed: 0,
                p: model.material.bernoulli.p,
            })
            .with_context(|| format!("{source}, row {} (depth {} km)", i + 1, p.depth_km))?;
    }
    Ok(())
}

/// One evaluated point of a path.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRow {
    /// Where on the path.
    pub point: ProfilePoint,
    /// The analysis there.
    pub analysis: PointAnalysis,
}

/// Evaluates every point in order; `on_point(done, total, row)` after each (progress bars).
pub fn run_profile(
    engine: &dyn Engine,
    model: &Model,
    points: &[ProfilePoint],
    options: &PointOptions<'_>,
    mut on_point: impl FnMut(usize, usize, &ProfileRow),
) -> Result<Vec<ProfileRow>> {
    let mut rows = Vec::with_capacity(points.len());
    for &point in points {
        let analysis = analyze_point(
            engine,
            model,
            point.pressure_gpa,
            point.temperature_k,
            options,
        )
        .with_context(|| format!("depth {} km", point.depth_km))?;
        rows.push(ProfileRow { point, analysis });
        if let Some(row) = rows.last() {
            on_point(rows.len(), points.len(), row);
        }
    }
    Ok(rows)
}

/// The header of `profile.csv`.
pub const PROFILE_HEADER: &str = "depth_km,pressure_gpa,temperature_k,state_x,state_y,state_z,resistivity_x_ohm_m,resistivity_y_ohm_m,resistivity_z_ohm_m,conventional_state";

impl ProfileRow {
    /// The row as one CSV line with its newline (empty fields: z of 2D lattices, resistivities
    /// not solved, no `[phases]`; `inf` for insulating axes).
    pub fn to_line(&self) -> String {
        let p = &self.point;
        let a = &self.analysis;
        let state = |s: Option<State>| s.map(|s| s.to_string()).unwrap_or_default();
        let rho = |v: Option<f64>| match v {
            None => String::new(),
            Some(v) if v.is_infinite() => "inf".into(),
            Some(v) => format!("{v:.9e}"),
        };
        format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            p.depth_km,
            p.pressure_gpa,
            p.temperature_k,
            state(a.states[0]),
            state(a.states[1]),
            state(a.states[2]),
            rho(a.resistivity_ohm_m[0]),
            rho(a.resistivity_ohm_m[1]),
            rho(a.resistivity_ohm_m[2]),
            a.conventional.map_or("", ConventionalState::name),
        )
    }
}

/// Writes `profile.csv` atomically.
pub fn write_profile_csv(path: &Path, rows: &[ProfileRow]) -> Result<()> {
    let mut text = format!("{PROFILE_HEADER}\n");
    for row in rows {
        text += &row.to_line();
    }
    write_text(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earth_runs_from_surface_to_centre_with_prem_pressures() {
        let earth = planet("earth").unwrap();
        assert_eq!(earth[0].depth_km, 0.0);
        assert_eq!(earth.last().unwrap().depth_km, 6371.0);
        assert!(earth
            .windows(2)
            .all(|w| w[1].depth_km > w[0].depth_km && w[1].pressure_gpa >= w[0].pressure_gpa));
        let at = |d: f64| earth.iter().find(|p| p.depth_km == d).unwrap();
        // PREM: 135.75 GPa at the core–mantle boundary, 328.85 at the inner core, 363.85 centre.
        assert!((at(2891.0).pressure_gpa - 135.75).abs() < 0.5);
        assert!((at(5150.0).pressure_gpa - 328.85).abs() < 0.5);
        assert!((at(6371.0).pressure_gpa - 363.85).abs() < 0.5);
        // The text of every point parses back to the same path.
        let mut text = String::from("depth_km,pressure_gpa,temperature_k\n");
        for p in &earth {
            text += &format!("{},{},{}\n", p.depth_km, p.pressure_gpa, p.temperature_k);
        }
        assert_eq!(parse_profile_csv(&text).unwrap(), earth);
        assert!(planet("mars").unwrap_err().to_string().contains("earth"));
    }

    #[test]
    fn columns_may_come_in_any_order_with_comments_and_extras() {
        let text = "# a comment\ntemperature_k, layer, depth_km, pressure_gpa\n300, crust, 0, 0\n\n1600,mantle,100,3.1\n";
        let points = parse_profile_csv(text).unwrap();
        assert_eq!(points.len(), 2);
        assert_eq!(
            points[1],
            ProfilePoint {
                depth_km: 100.0,
                pressure_gpa: 3.1,
                temperature_k: 1600.0
            }
        );
    }
}

//! PNG plots of research studies (`tunnelgrid_render::plot`): the spanning/wrapping probability
//! curves R_L(p), the extrapolation p_L against L^(−1/ν), and the largest-cluster mass against L
//! on log–log axes. They read a study's JSON (what `--json` writes), so a run of record can be
//! plotted again later with `tunnelgrid plot-study`.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tunnelgrid_render::plot::{write_line_chart, LineChart, Series, SeriesStyle};

const SIZE: (u32, u32) = (900, 600);

fn num(v: &Value, key: &str) -> Result<f64> {
    v[key]
        .as_f64()
        .with_context(|| format!("study JSON: '{key}' missing or not a number"))
}

fn array<'a>(v: &'a Value, key: &str) -> Result<&'a Vec<Value>> {
    v[key]
        .as_array()
        .with_context(|| format!("study JSON: '{key}' missing or not an array"))
}

/// Writes the plots of a threshold or scaling study into `dir` with names starting `stem`;
/// returns the files written.
pub fn plot_study(study: &Value, dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = format!(
        "{} {} percolation",
        study["lattice"].as_str().unwrap_or("?"),
        study["mode"].as_str().unwrap_or("?")
    );
    let sizes = array(study, "sizes")?;
    let mut written = Vec::new();
    if study.get("criterion").is_some() {
        // Threshold study.
        let criterion = study["criterion"].as_str().unwrap_or("?");
        let mut curves = Vec::new();
        for s in sizes {
            let points: Result<Vec<(f64, f64, f64)>> = array(s, "curve")?
                .iter()
                .map(|c| Ok((num(c, "p")?, num(c, "r")?, num(c, "r_se")?)))
                .collect();
            let points = points?;
            curves.push(Series {
                name: format!("L = {}", num(s, "size")?),
                y_err: Some(points.iter().map(|p| p.2).collect()),
                points: points.iter().map(|p| (p.0, p.1)).collect(),
                style: SeriesStyle::Line,
            });
        }
        let chart = LineChart {
            title: format!("{name}: R_L(p), criterion {criterion}"),
            x_label: "p".into(),
            y_label: format!("R_L(p) ({criterion})"),
            log_x: false,
            log_y: false,
            series: curves,
        };
        let path = dir.join(format!("{stem}-curves.png"));
        write_line_chart(&chart, &path, SIZE)?;
        written.push(path);
        if let (Some(nu), Some(fit)) = (study["nu"].as_f64(), study["fit"].as_object()) {
            let shift = &fit["shift_fit"];
            let (p_c, a) = (num(shift, "intercept")?, num(shift, "slope")?);
            let mut points = Vec::new();
            let mut err = Vec::new();
            for s in sizes {
                points.push((num(s, "size")?.powf(-1.0 / nu), num(s, "mean")?));
                err.push(num(s, "mean_se")?);
            }
            let x_max = points.iter().map(|p| p.0).fold(0.0, f64::max);
            let mut series = vec![
                Series {
                    name: "p_L (mean of dR/dp) ± se".into(),
                    points,
                    y_err: Some(err),
                    style: SeriesStyle::Markers,
                },
                Series {
                    name: format!("fit p_c + a·L^(-1/ν), p_c = {p_c:.6}, ν = {nu:.3}"),
                    points: vec![(0.0, p_c), (x_max, p_c + a * x_max)],
                    y_err: None,
                    style: SeriesStyle::Line,
                },
            ];
            if let Some(r) = study["reference"]["value"].as_f64() {
                series.push(Series {
                    name: format!("literature p_c = {r}"),
                    points: vec![(0.0, r), (x_max, r)],
                    y_err: None,
                    style: SeriesStyle::Line,
                });
            }
            let chart = LineChart {
                title: format!("{name}: extrapolation to L → ∞"),
                x_label: "L^(-1/ν)".into(),
                y_label: "p_L".into(),
                log_x: false,
                log_y: false,
                series,
            };
            let path = dir.join(format!("{stem}-extrapolation.png"));
            write_line_chart(&chart, &path, SIZE)?;
            written.push(path);
        }
    } else if study.get("reference_d_f").is_some() {
        // Scaling study.
        let mut points = Vec::new();
        let mut err = Vec::new();
        for s in sizes {
            points.push((num(s, "size")?, num(s, "mass")?));
            err.push(num(s, "mass_se")?);
        }
        let mut series = vec![Series {
            name: "largest-cluster mass M_L ± se".into(),
            points: points.clone(),
            y_err: Some(err),
            style: SeriesStyle::Markers,
        }];
        if let Some(fit) = study["fit"].as_object() {
            let (c, d_f) = (
                fit["intercept"].as_f64().unwrap_or(0.0),
                fit["slope"].as_f64().unwrap_or(0.0),
            );
            let line: Vec<(f64, f64)> = points
                .iter()
                .map(|&(l, _)| (l, (c + d_f * l.ln()).exp()))
                .collect();
            series.push(Series {
                name: format!("fit M ∝ L^{d_f:.4}"),
                points: line,
                y_err: None,
                style: SeriesStyle::Line,
            });
        }
        let chart = LineChart {
            title: format!(
                "{name}: mass of the largest cluster at p = {}",
                num(study, "p")?
            ),
            x_label: "L".into(),
            y_label: "M_L (sites)".into(),
            log_x: true,
            log_y: true,
            series,
        };
        let path = dir.join(format!("{stem}-mass.png"));
        write_line_chart(&chart, &path, SIZE)?;
        written.push(path);
    } else {
        bail!("study JSON: neither a threshold nor a scaling study");
    }
    Ok(written)
}

//! The human-readable summary of one analysis, as `tunnelgrid run` prints it and the web page
//! shows it.

use tunnelgrid_model::{Boundary, Mode, Model, Report, State};

/// The human-readable summary of a report.
pub fn summary(model: &Model, r: &Report, engine_reason: &str) -> String {
    let mut s = String::new();
    let [nx, ny, nz] = r.cells;
    let boundary: Vec<String> = r
        .boundary
        .iter()
        .map(|b| format!("{b:?}").to_lowercase())
        .collect();
    let line =
        |s: &mut String, key: &str, value: String| s.push_str(&format!("{key:<12} {value}\n"));
    line(
        &mut s,
        "material",
        format!(
            "{} ({} mode) — {}",
            r.material, r.mode, model.material.description
        ),
    );
    line(
        &mut s,
        "lattice",
        format!(
            "{} {nx}×{ny}×{nz} cells, {} sites, {} bonds, boundaries {}",
            r.lattice,
            r.sites,
            r.bonds,
            boundary.join("/")
        ),
    );
    match r.p {
        // A volume has no p and no seed: its occupancy is the file's.
        Some(_) if model.material.mode == Mode::Volume => line(
            &mut s,
            "voxel",
            format!(
                "{:e} m, R0 = {} Ω per face bond, {}-connected clusters",
                model.material.lattice.a0 * 1e-10,
                model.material.overlap.r0_ohm,
                model.lattice.connectivity()
            ),
        ),
        Some(p) => line(&mut s, "conditions", format!("p = {p}, seed {}", r.seed)),
        None => {
            line(
                &mut s,
                "conditions",
                format!(
                    "P = {} GPa, T = {} K, seed {}",
                    r.pressure_gpa, r.temperature_k, r.seed
                ),
            );
            let [ax, ay, az] = r.cell_edge_angstrom;
            line(
                &mut s,
                "spacing",
                format!("cell edge a = ({ax:.4}, {ay:.4}, {az:.4}) Å"),
            );
            if let Some(phases) = &model.material.phases {
                // The conventional state never changes the tunnel states below.
                let state = phases.state(r.pressure_gpa, r.temperature_k);
                let t_m = phases.melting.melting_temperature_k(r.pressure_gpa);
                line(
                    &mut s,
                    "phase",
                    format!("{state} by the [phases] lines (melting line at {t_m:.1} K at this pressure)"),
                );
            }
        }
    }
    line(
        &mut s,
        "sites",
        format!(
            "{} present ({:.2}%)",
            r.present_sites,
            100.0 * r.present_sites as f64 / r.sites.max(1) as f64
        ),
    );
    line(
        &mut s,
        "tunnels",
        format!(
            "{} bonds, fraction {:.4}",
            r.tunnel_bonds, r.tunnel_bond_fraction
        ),
    );
    line(
        &mut s,
        "sc bonds",
        format!("{} bonds, fraction {:.4}", r.sc_bonds, r.sc_bond_fraction),
    );
    if model.material.mode == Mode::Tunnel {
        line(
            &mut s,
            "near thresh",
            format!(
                "{} bonds within 1e-5 of a threshold (where engines may decide differently, MODEL.md §5)",
                r.near_threshold_bonds
            ),
        );
    }
    if let Some(gap) = r.mean_gap_ev {
        line(
            &mut s,
            "mean gap",
            format!("{gap:.4} eV over normal tunnels"),
        );
    }
    line(
        &mut s,
        "clusters",
        format!(
            "{} (+ {} isolated sites), largest {} sites = {:.4} of all, mean finite size {:.3}",
            r.clusters,
            r.singletons,
            r.largest_cluster,
            r.largest_cluster_fraction,
            r.mean_cluster_size
        ),
    );
    let axes = ["x", "y", "z"];
    let states = r.states.to_vec();
    let spans = r.spans.to_vec();
    let sc_spans = r.sc_spans.to_vec();
    for (i, state) in states.iter().enumerate() {
        let verb = if r.boundary[i] == Boundary::Periodic {
            "wraps"
        } else {
            "spans"
        };
        let text = if *state == State::NotApplicable {
            "n/a (one cell thick: both faces are the same layer, so the axis has no state)"
                .to_string()
        } else {
            format!(
                "{state:<15} (tunnel cluster {verb}: {}, superconducting cluster {verb}: {})",
                yes(spans[i]),
                yes(sc_spans[i])
            )
        };
        line(&mut s, &format!("axis {}", axes[i]), text);
    }
    if let Some(tr) = &r.transport {
        let ohm = |v: Option<f64>| {
            v.map_or("∞".to_string(), |v| {
                if v == 0.0 {
                    "0".into()
                } else {
                    format!("{v:.6e}")
                }
            })
        };
        let res = tr.resistance_ohm.to_vec();
        let rho = tr.resistivity_ohm_m.to_vec();
        let ic = tr.critical_current_a.to_vec();
        let its = tr.solver_iterations.to_vec();
        let setups = tr.solver_setup_s.to_vec();
        let refinements = tr.solver_refinements.as_ref().map(|r| r.to_vec());
        let slabs = tr.solver_slabs.as_ref().map(|s| s.to_vec());
        for i in 0..res.len() {
            let mut text = format!("R = {} Ω, ρ = {} Ω·m", ohm(res[i]), ohm(rho[i]));
            if its[i] > 0 {
                match (&refinements, &slabs) {
                    (Some(outer), Some(slabs)) => {
                        let gpu = format!("{} f32 CG iterations on the GPU", its[i]);
                        text += &format!(
                            " ({gpu} in {} z slab(s), {} f64 refinements, {}",
                            slabs[i], outer[i], tr.solver
                        );
                        if setups[i] > 0.0 {
                            text += &format!("; setup {:.3} s", setups[i]);
                        }
                        text += ")";
                    }
                    _ => {
                        text += &format!(" ({} CG iterations, {}", its[i], tr.solver);
                        if setups[i] > 0.0 {
                            text += &format!("; setup {:.3} s", setups[i]);
                        }
                        text += ")";
                    }
                }
            }
            if let Some(c) = ic[i] {
                text += &format!(", critical current {c:.6e} A");
            }
            if let (Some(rel), Some(tau)) = (&tr.relative_conductivity, &tr.tortuosity) {
                let show = |v: Option<f64>| v.map_or("null".to_string(), |v| format!("{v:.6}"));
                text += &format!(
                    ", σ_eff/σ_0 = {}, τ = {}",
                    show(rel.to_vec()[i]),
                    show(tau.to_vec()[i])
                );
            }
            line(&mut s, &format!("transport {}", axes[i]), text);
        }
    }
    let t = &r.timings;
    line(&mut s, "time", format!("{:.3} s (bonds {:.3}, tunnel labels {:.3}, sc labels {:.3}, stats {:.3}); {:.1} Msites/s", r.elapsed_s, t.bonds_s, t.tunnel_labels_s, t.sc_labels_s, t.stats_s, r.sites as f64 / r.elapsed_s / 1e6));
    line(&mut s, "engine", format!("{} ({engine_reason})", r.engine));
    s
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

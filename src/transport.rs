//! Resistance and critical current of a run (MODEL.md §7, §8).
//!
//! The resistance is solved by the engine's Kirchhoff solver (the GPU's: f32 CG with f64
//! refinement to 1e-6; the CPU's: f64 CG to 1e-10) on the same engine's bond masks (every engine
//! produces the same masks, MODEL.md §5). The critical current's max-flow runs on the host.

use anyhow::Result;
use std::borrow::Cow;
use std::time::Instant;
use tunnelgrid_cpu::maxflow::critical_current;
use tunnelgrid_host::axis::shares_superconducting_roots;
use tunnelgrid_model::{
    AxisResistance, AxisSolution, BondParams, Conditions, Conduction, Engine, Mode, Model, Network,
    PerAxis, ResistanceOptions, Solver, Transport,
};

/// Conductance of the full block of `cells` along `axis` with R0 per bond: (ny·nz) parallel
/// chains of (nx − 1) bonds along x (the bus bars short the transverse bonds). Infinite for a
/// single layer, where the two faces coincide.
pub fn full_block_conductance(cells: [u32; 3], axis: usize, r0_ohm: f64) -> f64 {
    let chains: f64 = (0..3)
        .filter(|&i| i != axis)
        .map(|i| f64::from(cells[i]))
        .product();
    let bonds = f64::from(cells[axis]) - 1.0;
    chains / bonds / r0_ohm
}

/// The occupied fraction ε of a volume's voxels (one occupancy byte per site).
pub fn occupied_fraction(occupancy: &[u8]) -> f64 {
    let occupied = occupancy.iter().filter(|&&b| b != 0).count() as f64;
    occupied / occupancy.len().max(1) as f64
}

/// σ_eff/σ_0 along `solved.axis`: the conductance over that of the full block of the same
/// shape (`full_block_conductance`); `None` when insulating or when the block has one layer.
pub fn relative_conductivity(
    cells: [u32; 3],
    axis: usize,
    r0_ohm: f64,
    solved: &AxisResistance,
) -> Option<f64> {
    let g = 1.0 / solved.resistance_ohm; // 0 when insulating (R = ∞)
    let g0 = full_block_conductance(cells, axis, r0_ohm);
    (g > 0.0 && g.is_finite() && g0.is_finite()).then(|| g / g0)
}

/// One axis of a volume's transport, as `transport` reports it, with the current map on
/// request (the Python module's `transport`).
#[derive(Debug, Clone)]
pub struct VolumeAxisTransport {
    /// The solve: resistance, resistivity, iterations, residual and the current map if asked.
    pub solved: AxisResistance,
    /// σ_eff/σ_0 (`None` when insulating).
    pub relative_conductivity: Option<f64>,
    /// τ = ε·σ_0/σ_eff (`None` when insulating).
    pub tortuosity: Option<f64>,
}

/// The resistance of a volume-mode model along `axis` on `engine`, computed as `transport`
/// computes every axis (the face-connected network, the same solver), with |current| per site
/// when `currents`.
pub fn volume_axis_transport(
    model: &Model,
    conditions: &Conditions,
    engine: &dyn Engine,
    solver: Solver,
    axis: usize,
    currents: bool,
) -> Result<VolumeAxisTransport> {
    anyhow::ensure!(
        model.material.mode == Mode::Volume,
        "volume_axis_transport needs a volume, got material '{}' in {} mode",
        model.material.name,
        model.material.mode.name()
    );
    anyhow::ensure!(
        axis < model.lattice.axes(),
        "axis {axis} is not an axis of the lattice"
    );
    let model = &*conduction_model(model)?;
    let params = BondParams::new(&model.material, &model.lattice, conditions);
    let masks = engine.bond_masks(model, conditions)?.masks;
    let options = ResistanceOptions { solver, currents };
    // As `transport` does, so both solve the very same system.
    let sc_roots = if shares_superconducting_roots(&model.lattice, &params) {
        Some(engine.cluster_roots(model, conditions, &masks, Network::Superconducting)?)
    } else {
        None
    };
    let solved = engine
        .axis_resistance(
            &model.lattice,
            &params,
            &masks,
            sc_roots.as_deref(),
            axis,
            &options,
            &mut |_, _| {},
        )?
        .axis;
    let fraction = params.volume.as_deref().map_or(0.0, occupied_fraction);
    let relative = relative_conductivity(model.lattice.cells, axis, params.r0_ohm, &solved);
    Ok(VolumeAxisTransport {
        relative_conductivity: relative,
        tortuosity: relative.map(|r| fraction / r),
        solved,
    })
}

/// The model whose bonds are the resistor network. For a volume labelled with 18 or 26
/// connectivity it is the same volume with face (6) connectivity: voxels conduct through shared
/// faces only, as in TauFactor and in finite-volume solvers, because an edge or corner contact has
/// no cross-section (docs/MODEL-READINGS.md). Every other model is its own network.
pub fn conduction_model(model: &Model) -> Result<Cow<'_, Model>> {
    if model.material.mode == Mode::Volume && model.lattice.max_forward_bonds() > 3 {
        let mut material = model.material.clone(); // the occupancy is shared, not copied
        material.lattice.connectivity = None;
        Ok(Cow::Owned(Model::new(material)?))
    } else {
        Ok(Cow::Borrowed(model))
    }
}

/// Resistance, resistivity and (along superconducting axes) critical current per axis, on
/// `engine`'s bond masks and Kirchhoff solver. `progress(axis, iteration, residual)` is called
/// during long solves. Volumes are solved on their face-connected network (`conduction_model`).
pub fn transport(
    model: &Model,
    conditions: &Conditions,
    engine: &dyn Engine,
    solver: Solver,
    mut progress: impl FnMut(usize, usize, f64),
) -> Result<Transport> {
    let start = Instant::now();
    let model = &*conduction_model(model)?;
    let lattice = &model.lattice;
    let params = BondParams::new(&model.material, lattice, conditions);
    let masks = engine.bond_masks(model, conditions)?.masks;
    // The superconducting network is labelled once for every open axis (a periodic axis is
    // relabelled with its periodic bonds cut inside the solve). Bernoulli modes have none.
    let sc_roots = if shares_superconducting_roots(lattice, &params) {
        Some(engine.cluster_roots(model, conditions, &masks, Network::Superconducting)?)
    } else {
        None
    };
    let options = ResistanceOptions {
        solver,
        currents: false,
    };
    let mut solutions: Vec<AxisSolution> = Vec::new();
    for axis in 0..lattice.axes() {
        solutions.push(engine.axis_resistance(
            lattice,
            &params,
            &masks,
            sc_roots.as_deref(),
            axis,
            &options,
            &mut |i, r| progress(axis, i, r),
        )?);
    }
    // Engines that iterate on a device report refinements and slabs; the CPU reports none.
    let counts = |count: fn(&AxisSolution) -> Option<usize>| -> Option<Vec<usize>> {
        solutions.iter().map(count).collect()
    };
    let refinements = counts(|s| s.refinements);
    let slabs = counts(|s| s.slabs);
    let axes: Vec<AxisResistance> = solutions.into_iter().map(|s| s.axis).collect();
    let finite = |v: f64| v.is_finite().then_some(v);
    let mut critical = Vec::with_capacity(axes.len());
    for axis in &axes {
        critical.push(match axis.conduction {
            Conduction::Superconducting => Some(
                critical_current(
                    lattice,
                    &params,
                    &masks,
                    axis.axis,
                    model.material.overlap.j0_amp,
                )?
                .critical_current_a,
            ),
            _ => None,
        });
    }
    let n = lattice.axes();
    let per_axis = |values: Vec<Option<f64>>| PerAxis::from_slice(&values, n);
    let (relative_conductivity, tortuosity) = match &params.volume {
        Some(volume) if model.material.mode == Mode::Volume => {
            let fraction = occupied_fraction(volume);
            let relative: Vec<Option<f64>> = axes
                .iter()
                .map(|a| relative_conductivity(lattice.cells, a.axis, params.r0_ohm, a))
                .collect();
            let tau = relative.iter().map(|r| r.map(|r| fraction / r)).collect();
            (Some(per_axis(relative)), Some(per_axis(tau)))
        }
        _ => (None, None),
    };
    Ok(Transport {
        relative_conductivity,
        tortuosity,
        resistance_ohm: per_axis(axes.iter().map(|a| finite(a.resistance_ohm)).collect()),
        resistivity_ohm_m: per_axis(axes.iter().map(|a| finite(a.resistivity_ohm_m)).collect()),
        critical_current_a: per_axis(critical),
        solver_iterations: PerAxis::from_slice(
            &axes.iter().map(|a| a.iterations).collect::<Vec<_>>(),
            n,
        ),
        solver_residual: PerAxis::from_slice(
            &axes.iter().map(|a| a.relative_residual).collect::<Vec<_>>(),
            n,
        ),
        solver: engine.solver_name(&options),
        solver_setup_s: PerAxis::from_slice(&axes.iter().map(|a| a.setup_s).collect::<Vec<_>>(), n),
        solver_refinements: refinements.map(|r| PerAxis::from_slice(&r, n)),
        solver_slabs: slabs.map(|s| PerAxis::from_slice(&s, n)),
        transport_s: start.elapsed().as_secs_f64(),
    })
}

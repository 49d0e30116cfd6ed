//! The GPU solver's network in site space (`AxisStencil`) against `axis_resistance`, on the CPU.

use crate::lattices::options;
use tunnelgrid_cpu::kirchhoff::axis_resistance;
use tunnelgrid_model::Boundary;
use tunnelgrid_testkit::assert_rel;
use tunnelgrid_testkit::lattices::build;

/// The GPU solver's network in site space (`AxisStencil`), solved here with a plain f64
/// Jacobi-PCG on its own residual, equals `axis_resistance`: the stencil (forward and backward
/// bonds, contracted clusters, bus bars, pruning) is the same network. Runs without a GPU.
#[test]
fn the_gpu_stencil_is_the_same_network() {
    use tunnelgrid_cpu::kirchhoff::stencil::{axis_stencil, NodeRole};
    let mut material = tunnelgrid_model::presets::preset("default").unwrap();
    material.lattice.cells = [10, 9, 8];
    material.lattice.boundary = [Boundary::Open, Boundary::Periodic, Boundary::Open];
    material.lattice.vacancy = 0.05;
    let (model, params, masks) = build(material, 150.0, 300.0, 0.5, 3);
    let lattice = &model.lattice;
    for axis in 0..3 {
        let stencil =
            axis_stencil(lattice, &params, &masks, None, axis, &Default::default()).unwrap();
        let n = stencil.sites();
        let free: Vec<bool> = (0..n)
            .map(|s| stencil.role(s as u32) == Some(NodeRole::Free))
            .collect();
        assert_eq!(free.iter().filter(|&&f| f).count(), stencil.free_nodes);
        let mut b = vec![0.0; n];
        stencil.residual(&vec![0.0; n], &mut b);
        // A·v = b − residual(v).
        let apply = |v: &[f64]| {
            let mut r = vec![0.0; n];
            stencil.residual(v, &mut r);
            b.iter().zip(&r).map(|(b, r)| b - r).collect::<Vec<f64>>()
        };
        let inv: Vec<f64> = (0..n)
            .map(|s| {
                if free[s] {
                    1.0 / stencil.diagonal[s]
                } else {
                    0.0
                }
            })
            .collect();
        let dot = |a: &[f64], c: &[f64]| a.iter().zip(c).map(|(a, c)| a * c).sum::<f64>();
        let mut x = vec![0.0; n];
        let mut r = b.clone();
        let mut z: Vec<f64> = r.iter().zip(&inv).map(|(r, d)| r * d).collect();
        let mut p = z.clone();
        let mut rz = dot(&r, &z);
        let b_norm = dot(&b, &b).sqrt();
        let mut iterations = 0;
        while dot(&r, &r).sqrt() > 1e-12 * b_norm && iterations < 10 * n {
            let q = apply(&p);
            let alpha = rz / dot(&p, &q);
            for i in 0..n {
                x[i] += alpha * p[i];
                r[i] -= alpha * q[i];
                z[i] = r[i] * inv[i];
            }
            let rz_new = dot(&r, &z);
            for i in 0..n {
                p[i] = z[i] + rz_new / rz * p[i];
            }
            rz = rz_new;
            iterations += 1;
        }
        let from_stencil = stencil.resistance(&params, &x, iterations).unwrap();
        let reference =
            axis_resistance(lattice, &params, &masks, None, axis, &options(), |_, _| {}).unwrap();
        assert_eq!(from_stencil.conduction, reference.conduction);
        assert_eq!(from_stencil.free_nodes, reference.free_nodes);
        assert_eq!(from_stencil.resistors, reference.resistors);
        assert!(stencil.clusters() > 0, "contracted clusters are exercised");
        assert_rel(
            from_stencil.resistance_ohm,
            reference.resistance_ohm,
            1e-9,
            &format!("stencil axis {axis}"),
        );
    }
}

/// The stencil's sparse Laplacian (what the multigrid hierarchy of both engines is built from)
/// is the operator of its own residual, A·v = residual(0) − residual(v), row by row at the free
/// representatives, contracted superconducting clusters included.
#[test]
fn the_stencil_laplacian_is_its_residual_operator() {
    use tunnelgrid_cpu::kirchhoff::stencil::axis_stencil;
    use tunnelgrid_model::Conduction;
    let mut clusters_seen = 0;
    for (pressure, temperature) in [(150.0, 300.0), (125.0, 60.0), (110.0, 30.0)] {
        let mut material = tunnelgrid_model::presets::preset("default").unwrap();
        material.lattice.cells = [9, 8, 7];
        material.lattice.boundary = [Boundary::Open, Boundary::Periodic, Boundary::Open];
        material.lattice.vacancy = 0.05;
        let (model, params, masks) = build(material, pressure, temperature, 0.5, 5);
        for axis in 0..3 {
            let stencil = axis_stencil(
                &model.lattice,
                &params,
                &masks,
                None,
                axis,
                &Default::default(),
            )
            .unwrap();
            if stencil.conduction != Conduction::Normal {
                continue;
            }
            clusters_seen += stencil.clusters();
            let (reps, a) = stencil.laplacian();
            assert_eq!(reps.len(), stencil.free_nodes);
            let n = stencil.sites();
            let v: Vec<f64> = (0..n).map(|s| ((s * 7919) % 23) as f64 - 11.0).collect();
            let (mut r0, mut rv) = (vec![0.0; n], vec![0.0; n]);
            stencil.residual(&vec![0.0; n], &mut r0);
            stencil.residual(&v, &mut rv);
            let by_row: Vec<f64> = reps.iter().map(|&s| v[s as usize]).collect();
            for (i, &s) in reps.iter().enumerate() {
                let expected = r0[s as usize] - rv[s as usize];
                let got = a.row(i, &by_row);
                assert!(
                    (got - expected).abs() <= 1e-12 * (1.0 + expected.abs()),
                    "P {pressure} T {temperature} axis {axis} row {i}: {got} vs {expected}"
                );
                // Symmetric, as CG and the Galerkin products need.
                for k in a.row_start[i]..a.row_start[i + 1] {
                    let j = a.columns[k] as usize;
                    let back = (a.row_start[j]..a.row_start[j + 1])
                        .find(|&m| a.columns[m] as usize == i)
                        .map(|m| a.conductances[m]);
                    assert_eq!(back, Some(a.conductances[k]));
                }
            }
        }
    }
    assert!(clusters_seen > 0, "no case had contracted clusters");
}

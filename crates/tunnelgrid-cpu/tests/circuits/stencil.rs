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

//! Spacing from pressure and temperature (MODEL.md §3), in f64 on the host.
//!
//! These are evaluated once per (P, T) and handed to the engines as f32 constants, so the
//! transcendental functions (pow, sqrt) never run inside an engine where they could round
//! differently.

use crate::config::EosConfig;

/// Murnaghan volume ratio V(P)/V0 = (1 + K0'·P/K0)^(−1/K0').
pub fn volume_ratio(eos: &EosConfig, pressure_gpa: f64) -> f64 {
    (1.0 + eos.k0_prime * pressure_gpa / eos.k0_gpa).powf(-1.0 / eos.k0_prime)
}

/// Per-axis strain from pressure, s_i(P) = (V/V0)^(w_i/3).
pub fn axis_scale(eos: &EosConfig, pressure_gpa: f64) -> [f64; 3] {
    let v = volume_ratio(eos, pressure_gpa);
    eos.weights.map(|w| v.powf(w / 3.0))
}

/// Thermal expansion factor t(T) = 1 + α·(T − T_ref).
pub fn thermal_factor(eos: &EosConfig, temperature_k: f64) -> f64 {
    1.0 + eos.alpha_per_k * (temperature_k - eos.t_ref_k)
}

/// Displacement rms per component, σ(T) = sqrt(σ_static² + σ_th²·T/T_ref).
pub fn displacement_sigma(eos: &EosConfig, temperature_k: f64) -> f64 {
    (eos.sigma_static.powi(2) + eos.sigma_thermal.powi(2) * temperature_k / eos.t_ref_k).sqrt()
}

/// Cell edge per axis a_i(P, T) = a0_i · s_i(P) · t(T), Å.
pub fn cell_edges(
    eos: &EosConfig,
    a0: [f64; 3],
    pressure_gpa: f64,
    temperature_k: f64,
) -> [f64; 3] {
    let s = axis_scale(eos, pressure_gpa);
    let t = thermal_factor(eos, temperature_k);
    std::array::from_fn(|i| a0[i] * s[i] * t)
}

/// The pressure at which the isotropic volume ratio reaches `ratio` (inverse of `volume_ratio`).
pub fn pressure_for_volume_ratio(eos: &EosConfig, ratio: f64) -> f64 {
    (ratio.powf(-eos.k0_prime) - 1.0) * eos.k0_gpa / eos.k0_prime
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murnaghan_by_hand() {
        let eos = EosConfig::default();
        assert_eq!(volume_ratio(&eos, 0.0), 1.0);
        // 1 + 4·25/100 = 2, 2^(−1/4) = 0.840896...
        assert!((volume_ratio(&eos, 25.0) - 0.840_896_415_253_714_6).abs() < 1e-15);
        let p = pressure_for_volume_ratio(&eos, 0.9);
        assert!((volume_ratio(&eos, p) - 0.9).abs() < 1e-12);
    }

    #[test]
    fn anisotropic_weights_keep_the_volume() {
        let eos = EosConfig {
            weights: [0.8, 0.8, 1.4],
            ..EosConfig::default()
        };
        let s = axis_scale(&eos, 40.0);
        assert!((s[0] * s[1] * s[2] - volume_ratio(&eos, 40.0)).abs() < 1e-12);
        assert!(s[2] < s[0], "the stiff-weighted axis compresses more");
    }

    #[test]
    fn thermal_laws() {
        let eos = EosConfig {
            alpha_per_k: 1e-4,
            sigma_static: 0.02,
            sigma_thermal: 0.03,
            ..EosConfig::default()
        };
        assert!((thermal_factor(&eos, 10.0) - 0.971).abs() < 1e-12);
        assert!((displacement_sigma(&eos, 300.0) - (0.0004f64 + 0.0009).sqrt()).abs() < 1e-12);
        assert!((displacement_sigma(&eos, 0.0) - 0.02).abs() < 1e-12);
    }
}

//! Conventional phase lines (solid, liquid, gas) of a material: the `[phases]` table.
//!
//! The tunnel model decides whether the *lattice* insulates, conducts or superconducts; it knows
//! nothing of melting or boiling. These lines say where the lattice itself would be a liquid or
//! a gas, so pictures can draw the conventional boundaries over the resistance phase diagram
//! (docs/MODEL-READINGS.md, "Conventional phases"). They never change a tunnel state.
//!
//! - Melting line, Simon–Glatzel law: T_m(P) = T_ref·(1 + (P − P_ref)/a)^(1/c).
//! - Vapour line (optional), Clausius–Clapeyron through (P_ref, T_ref) with a constant molar
//!   latent heat L: P_v(T) = P_ref·exp(−(L/R)·(1/T − 1/T_ref)), ending at an optional critical
//!   temperature T_c, beyond which the gas–fluid border is the critical isobar P = P_v(T_c).
//!
//! A point is a gas when P < P_v(min(T, T_c)), else a solid when T < T_m(P), else a liquid
//! (a supercritical fluid counts as a liquid).

use crate::config::{check_range, ConfigError};
use serde::{Deserialize, Serialize};

/// The molar gas constant R, J/(mol·K) (exact in the SI since 2019).
pub const GAS_CONSTANT_J_PER_MOL_K: f64 = 8.314_462_618;

/// The conventional state of matter at a pressure and temperature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConventionalState {
    /// Below the melting line (and above the vapour line).
    Solid,
    /// At or above the melting line, above the vapour line.
    Liquid,
    /// Below the vapour line (P < P_v(T)), or below the critical isobar above T_c.
    Gas,
}

impl ConventionalState {
    /// The name used in CSV files and summaries.
    pub fn name(self) -> &'static str {
        match self {
            ConventionalState::Solid => "solid",
            ConventionalState::Liquid => "liquid",
            ConventionalState::Gas => "gas",
        }
    }

    /// Parses [`ConventionalState::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "solid" => Some(ConventionalState::Solid),
            "liquid" => Some(ConventionalState::Liquid),
            "gas" => Some(ConventionalState::Gas),
            _ => None,
        }
    }
}

impl std::fmt::Display for ConventionalState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `[phases]`: the conventional phase lines of a material.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhasesConfig {
    /// `[phases.melting]`: the Simon–Glatzel melting line.
    pub melting: MeltingLine,
    /// `[phases.vapour]`: the Clausius–Clapeyron vapour line, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vapour: Option<VapourLine>,
}

/// `[phases.melting]`: T_m(P) = T_ref·(1 + (P − P_ref)/a)^(1/c) (Simon & Glatzel 1929).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeltingLine {
    /// T_ref: melting temperature at P_ref, K.
    pub t_ref_k: f64,
    /// P_ref: pressure of the reference point, GPa (often the triple point, ≈ 0).
    #[serde(default)]
    pub p_ref_gpa: f64,
    /// a: the Simon–Glatzel pressure scale, GPa (> P_ref, so the line is defined from P = 0).
    pub a_gpa: f64,
    /// c: the Simon–Glatzel exponent (> 0; T_m grows as P^(1/c) at high pressure).
    pub c: f64,
}

/// `[phases.vapour]`: ln(P_v/P_ref) = −(L/R)·(1/T − 1/T_ref) (Clausius–Clapeyron with the ideal
/// gas and a constant latent heat).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VapourLine {
    /// T_ref: a temperature on the line, K.
    pub t_ref_k: f64,
    /// P_ref: the vapour pressure at T_ref, GPa.
    pub p_ref_gpa: f64,
    /// L: molar latent heat of vaporisation (sublimation below the triple point), kJ/mol.
    pub latent_heat_kj_per_mol: f64,
    /// T_c: the critical temperature where the line ends, K (none: it never ends, and at high
    /// temperature every pressure below P_v(T), which grows without bound, is gas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_critical_k: Option<f64>,
}

impl MeltingLine {
    /// The melting temperature T_m(P), K.
    pub fn melting_temperature_k(&self, pressure_gpa: f64) -> f64 {
        let base = 1.0 + (pressure_gpa - self.p_ref_gpa) / self.a_gpa;
        // Validation keeps the base ≥ 1 − P_ref/a > 0 for every P ≥ 0.
        self.t_ref_k * base.max(0.0).powf(1.0 / self.c)
    }
}

impl VapourLine {
    /// L/R, K.
    fn latent_over_r_k(&self) -> f64 {
        self.latent_heat_kj_per_mol * 1e3 / GAS_CONSTANT_J_PER_MOL_K
    }

    /// The pressure below which the material is a gas at T: P_v(min(T, T_c)), GPa.
    pub fn gas_below_gpa(&self, temperature_k: f64) -> f64 {
        let t = self
            .t_critical_k
            .map_or(temperature_k, |t_c| temperature_k.min(t_c));
        self.vapour_pressure_gpa(t)
    }

    /// The critical pressure P_v(T_c), GPa, when the line has a critical point.
    pub fn critical_pressure_gpa(&self) -> Option<f64> {
        self.t_critical_k.map(|t_c| self.vapour_pressure_gpa(t_c))
    }

    /// The Clausius–Clapeyron vapour pressure P_v(T), GPa (0 at T = 0), ignoring T_c.
    pub fn vapour_pressure_gpa(&self, temperature_k: f64) -> f64 {
        if temperature_k <= 0.0 {
            return 0.0;
        }
        self.p_ref_gpa
            * (-self.latent_over_r_k() * (1.0 / temperature_k - 1.0 / self.t_ref_k)).exp()
    }
}

impl PhasesConfig {
    /// The conventional state at (P, T).
    pub fn state(&self, pressure_gpa: f64, temperature_k: f64) -> ConventionalState {
        if let Some(v) = &self.vapour {
            if pressure_gpa < v.gas_below_gpa(temperature_k) {
                return ConventionalState::Gas;
            }
        }
        if temperature_k < self.melting.melting_temperature_k(pressure_gpa) {
            ConventionalState::Solid
        } else {
            ConventionalState::Liquid
        }
    }

    /// Checks every key; errors name it (`phases.melting.a_gpa`, …) and its allowed range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = |field: &str, value: f64, allowed: &str| {
            check_range(field, value, f64::MIN_POSITIVE, f64::MAX, allowed)
        };
        let m = &self.melting;
        positive(
            "phases.melting.t_ref_k",
            m.t_ref_k,
            "a temperature in K > 0",
        )?;
        positive(
            "phases.melting.a_gpa",
            m.a_gpa,
            "a pressure scale in GPa > 0",
        )?;
        positive("phases.melting.c", m.c, "an exponent > 0")?;
        // P_ref < a keeps 1 + (P − P_ref)/a positive from P = 0 up.
        check_range(
            "phases.melting.p_ref_gpa",
            m.p_ref_gpa,
            0.0,
            m.a_gpa * (1.0 - 1e-12),
            &format!(
                "a pressure in GPa in [0, phases.melting.a_gpa = {}), so the line is defined from P = 0",
                m.a_gpa
            ),
        )?;
        if let Some(v) = &self.vapour {
            positive("phases.vapour.t_ref_k", v.t_ref_k, "a temperature in K > 0")?;
            positive(
                "phases.vapour.p_ref_gpa",
                v.p_ref_gpa,
                "a pressure in GPa > 0",
            )?;
            positive(
                "phases.vapour.latent_heat_kj_per_mol",
                v.latent_heat_kj_per_mol,
                "a latent heat in kJ/mol > 0",
            )?;
            if let Some(t_c) = v.t_critical_k {
                positive("phases.vapour.t_critical_k", t_c, "a temperature in K > 0")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn melting(t_ref_k: f64, p_ref_gpa: f64, a_gpa: f64, c: f64) -> MeltingLine {
        MeltingLine {
            t_ref_k,
            p_ref_gpa,
            a_gpa,
            c,
        }
    }

    #[test]
    fn simon_glatzel_matches_hand_computed_values() {
        // T_ref = 150 K, a = 20 GPa, c = 2: T_m = 150·sqrt(1 + P/20).
        let m = melting(150.0, 0.0, 20.0, 2.0);
        assert_eq!(m.melting_temperature_k(0.0), 150.0);
        assert!((m.melting_temperature_k(60.0) - 300.0).abs() < 1e-12); // 150·√4
        assert!((m.melting_temperature_k(20.0) - 212.132_034_355_964_27).abs() < 1e-9); // 150·√2
                                                                                        // P_ref shifts the reference: T_m(P_ref) = T_ref, and c = 1 is a straight line.
        let m = melting(1000.0, 5.0, 10.0, 1.0);
        assert!((m.melting_temperature_k(5.0) - 1000.0).abs() < 1e-12);
        assert!((m.melting_temperature_k(25.0) - 3000.0).abs() < 1e-9); // 1000·(1 + 20/10)
        assert!((m.melting_temperature_k(0.0) - 500.0).abs() < 1e-9); // 1000·(1 − 5/10)
                                                                      // c = 3: 300·(1 + 7)^(1/3) = 600.
        let m = melting(300.0, 0.0, 1.0, 3.0);
        assert!((m.melting_temperature_k(7.0) - 600.0).abs() < 1e-9);
    }

    #[test]
    fn clausius_clapeyron_goes_through_its_reference_point() {
        let v = VapourLine {
            t_ref_k: 400.0,
            p_ref_gpa: 10.0,
            latent_heat_kj_per_mol: 20.0,
            t_critical_k: None,
        };
        assert!((v.vapour_pressure_gpa(400.0) - 10.0).abs() < 1e-12);
        // ln(P/P_ref) = −(L/R)(1/T − 1/T_ref), by hand at T = 300 K.
        let by_hand = 10.0 * (-(20_000.0f64 / 8.314_462_618) * (1.0 / 300.0 - 1.0 / 400.0)).exp();
        assert!((v.vapour_pressure_gpa(300.0) - by_hand).abs() < 1e-12);
        assert_eq!(v.vapour_pressure_gpa(0.0), 0.0);
    }

    #[test]
    fn states_follow_the_lines() {
        let phases = PhasesConfig {
            melting: melting(150.0, 0.0, 20.0, 2.0),
            vapour: Some(VapourLine {
                t_ref_k: 400.0,
                p_ref_gpa: 10.0,
                latent_heat_kj_per_mol: 20.0,
                t_critical_k: None,
            }),
        };
        assert_eq!(phases.state(100.0, 10.0), ConventionalState::Solid);
        assert_eq!(phases.state(60.0, 299.0), ConventionalState::Solid);
        assert_eq!(phases.state(60.0, 301.0), ConventionalState::Liquid);
        assert_eq!(phases.state(5.0, 400.0), ConventionalState::Gas);
        assert_eq!(phases.state(0.0, 10.0), ConventionalState::Gas);
        let no_vapour = PhasesConfig {
            vapour: None,
            ..phases
        };
        assert_eq!(no_vapour.state(0.0, 10.0), ConventionalState::Solid);
        assert_eq!(no_vapour.state(0.0, 400.0), ConventionalState::Liquid);
        // Beyond T_c the border is the critical isobar P_c = P_v(T_c) = 10 GPa.
        let mut critical = phases.clone();
        critical.vapour.as_mut().unwrap().t_critical_k = Some(400.0);
        assert_eq!(critical.state(9.9, 5000.0), ConventionalState::Gas);
        assert_eq!(critical.state(10.1, 5000.0), ConventionalState::Liquid);
        assert_eq!(phases.state(10.1, 5000.0), ConventionalState::Gas);
    }

    #[test]
    fn bad_values_are_refused_naming_the_key() {
        let text = crate::presets::preset_text("default").unwrap();
        let cases = [
            ("a_gpa = 20.0", "a_gpa = 0.0", "phases.melting.a_gpa"),
            ("a_gpa = 20.0", "a_gpa = -3.0", "phases.melting.a_gpa"),
            ("a_gpa = 20.0", "a_gpa = nan", "phases.melting.a_gpa"),
            ("c = 2.0", "c = 0.0", "phases.melting.c"),
            ("c = 2.0", "c = -1.0", "phases.melting.c"),
            ("c = 2.0", "c = nan", "phases.melting.c"),
            ("t_ref_k = 150.0", "t_ref_k = nan", "phases.melting.t_ref_k"),
            (
                "p_ref_gpa = 0.0",
                "p_ref_gpa = 25.0",
                "phases.melting.p_ref_gpa",
            ),
            (
                "latent_heat_kj_per_mol = 15.0",
                "latent_heat_kj_per_mol = 0.0",
                "phases.vapour.latent_heat_kj_per_mol",
            ),
            (
                "p_ref_gpa = 30.0",
                "p_ref_gpa = -1.0",
                "phases.vapour.p_ref_gpa",
            ),
            (
                "t_critical_k = 400.0",
                "t_critical_k = nan",
                "phases.vapour.t_critical_k",
            ),
        ];
        for (from, to, key) in cases {
            assert!(text.contains(from), "{from}");
            let err = crate::Material::from_toml_str(&text.replacen(from, to, 1))
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{to}: {err}");
        }
        // A missing or unknown key is a parse error that names it.
        let err = crate::Material::from_toml_str(&text.replace("c = 2.0\n", ""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field `c`"), "{err}");
        let err = crate::Material::from_toml_str(&text.replace("c = 2.0", "c = 2.0\nb_gpa = 1.0"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("b_gpa"), "{err}");
    }
}

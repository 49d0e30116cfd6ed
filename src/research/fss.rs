//! Finite-size scaling fits for the research mode: weighted least squares on straight lines
//! (p_L = p_c + a·L^(−1/ν) in x = L^(−1/ν); ln w_L = c − (1/ν)·ln L; ln M_L = c + d_f·ln L) and
//! the delete-one-group jackknife that turns sample-to-sample scatter into standard errors.

/// A weighted straight-line fit y = intercept + slope·x.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LineFit {
    /// Value at x = 0.
    pub intercept: f64,
    /// Standard error of the intercept (from the weights, not rescaled by χ²).
    pub intercept_se: f64,
    /// Slope.
    pub slope: f64,
    /// Standard error of the slope.
    pub slope_se: f64,
    /// χ² of the fit with the given standard errors.
    pub chi2: f64,
    /// Degrees of freedom (points − 2).
    pub dof: usize,
}

/// Weighted least squares of y on x with standard errors `sigma` (all > 0). Needs two distinct x.
pub fn weighted_line_fit(x: &[f64], y: &[f64], sigma: &[f64]) -> Option<LineFit> {
    if x.len() < 2 || x.len() != y.len() || x.len() != sigma.len() {
        return None;
    }
    let (mut s, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for i in 0..x.len() {
        if sigma[i].is_nan() || sigma[i] <= 0.0 || !x[i].is_finite() || !y[i].is_finite() {
            return None;
        }
        let w = 1.0 / (sigma[i] * sigma[i]);
        s += w;
        sx += w * x[i];
        sy += w * y[i];
        sxx += w * x[i] * x[i];
        sxy += w * x[i] * y[i];
    }
    let det = s * sxx - sx * sx;
    if det.is_nan() || det <= 0.0 || det <= 1e-12 * s * sxx {
        return None;
    }
    let intercept = (sxx * sy - sx * sxy) / det;
    let slope = (s * sxy - sx * sy) / det;
    let chi2 = (0..x.len())
        .map(|i| ((y[i] - intercept - slope * x[i]) / sigma[i]).powi(2))
        .sum();
    Some(LineFit {
        intercept,
        intercept_se: (sxx / det).sqrt(),
        slope,
        slope_se: (s / det).sqrt(),
        chi2,
        dof: x.len() - 2,
    })
}

/// Mean, sample standard deviation and standard error of the mean.
pub fn mean_sd_se(values: &[f64]) -> (f64, f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0, f64::NAN);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt(), (var / n).sqrt())
}

/// Jackknife standard error from the delete-one-group estimates `leave_out` (G of them).
pub fn jackknife_se(leave_out: &[f64]) -> f64 {
    let g = leave_out.len() as f64;
    if leave_out.len() < 2 {
        return f64::NAN;
    }
    let mean = leave_out.iter().sum::<f64>() / g;
    ((g - 1.0) / g * leave_out.iter().map(|v| (v - mean).powi(2)).sum::<f64>()).sqrt()
}

/// Sizes, per-size estimates and their errors → ν from the width scaling w_L ∝ L^(−1/ν), then
/// p_c from p_L = p_c + a·L^(−1/ν) at that ν.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ThresholdFit {
    /// Correlation-length exponent from the width scaling.
    pub nu: f64,
    /// The width fit ln w = c − (1/ν) ln L.
    pub width_fit: LineFit,
    /// The extrapolation p_L = p_c + a·L^(−1/ν).
    pub shift_fit: LineFit,
}

impl ThresholdFit {
    /// Fits; `None` when fewer than two sizes or degenerate data.
    pub fn new(
        sizes: &[f64],
        means: &[f64],
        mean_se: &[f64],
        widths: &[f64],
        width_se: &[f64],
    ) -> Option<Self> {
        let ln_l: Vec<f64> = sizes.iter().map(|l| l.ln()).collect();
        let ln_w: Vec<f64> = widths.iter().map(|w| w.ln()).collect();
        let ln_w_se: Vec<f64> = widths.iter().zip(width_se).map(|(w, s)| s / w).collect();
        let width_fit = weighted_line_fit(&ln_l, &ln_w, &ln_w_se)?;
        let nu = -1.0 / width_fit.slope;
        if !nu.is_finite() || nu <= 0.0 {
            return None;
        }
        let x: Vec<f64> = sizes.iter().map(|l| l.powf(-1.0 / nu)).collect();
        let shift_fit = weighted_line_fit(&x, means, mean_se)?;
        Some(Self {
            nu,
            width_fit,
            shift_fit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_recovered_exactly() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y: Vec<f64> = x.iter().map(|x| 0.5 - 2.0 * x).collect();
        let fit = weighted_line_fit(&x, &y, &[0.1, 0.2, 0.1, 0.3]).unwrap();
        assert!((fit.intercept - 0.5).abs() < 1e-12);
        assert!((fit.slope + 2.0).abs() < 1e-12);
        assert!(fit.chi2 < 1e-20);
        // Unweighted two-parameter errors for x = 1..4, σ = 1: var(slope) = 1/Σ(x−x̄)² = 1/5.
        let fit = weighted_line_fit(&x, &y, &[1.0; 4]).unwrap();
        assert!((fit.slope_se - (0.2f64).sqrt()).abs() < 1e-12);
        assert!(weighted_line_fit(&[1.0, 1.0], &[0.0, 1.0], &[1.0, 1.0]).is_none());
    }

    /// Synthetic finite-size data p_L = p_c + a L^(−1/ν), w_L = b L^(−1/ν) with known
    /// parameters and a small deterministic "noise" give back p_c and ν within the errors.
    #[test]
    fn finite_size_fit_recovers_known_parameters() {
        let (pc, nu, a, b) = (0.3116077, 0.8765, 0.21, 0.9);
        let sizes = [16.0, 24.0, 32.0, 48.0, 64.0, 96.0, 128.0];
        let wiggle = [1.0, -0.5, 0.3, -0.8, 0.6, -0.2, 0.4];
        let means: Vec<f64> = sizes
            .iter()
            .zip(wiggle)
            .map(|(l, e): (&f64, f64)| pc + a * l.powf(-1.0 / nu) + e * 1e-5)
            .collect();
        let widths: Vec<f64> = sizes
            .iter()
            .zip(wiggle)
            .map(|(l, e): (&f64, f64)| b * l.powf(-1.0 / nu) * (1.0 + 2e-3 * e))
            .collect();
        let width_se: Vec<f64> = widths.iter().map(|w| w * 2e-3).collect();
        let fit = ThresholdFit::new(&sizes, &means, &[1e-5; 7], &widths, &width_se).unwrap();
        assert!((fit.nu - nu).abs() < 3.0 * fit.width_fit.slope_se * nu * nu + 1e-9);
        assert!((fit.nu - nu).abs() / nu < 0.01, "nu {}", fit.nu);
        assert!(
            (fit.shift_fit.intercept - pc).abs() < 2e-5,
            "{:?}",
            fit.shift_fit
        );
        assert!((fit.shift_fit.slope - a).abs() < 0.01 * a);
    }

    #[test]
    fn jackknife_of_a_mean_is_the_standard_error() {
        let values: Vec<f64> = (0..40).map(|i| ((i * 37) % 11) as f64).collect();
        let (_, _, se) = mean_sd_se(&values);
        let total: f64 = values.iter().sum();
        let leave_out: Vec<f64> = values
            .iter()
            .map(|v| (total - v) / (values.len() - 1) as f64)
            .collect();
        assert!((jackknife_se(&leave_out) - se).abs() < 1e-12);
    }
}

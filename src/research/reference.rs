//! Published percolation thresholds and exponents the research mode compares with
//! (docs/RESEARCH.md lists them with their sources).

use tunnelgrid_cpu::newman_ziff::Percolation;
use tunnelgrid_model::LatticeKind;

/// A literature value with its source.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Reference {
    /// The value.
    pub value: f64,
    /// Its quoted uncertainty in the last digits, as a number (0 when exact).
    pub uncertainty: f64,
    /// Where it comes from.
    pub source: &'static str,
}

const WANG_2013: &str = "Wang, Zhou, Zhang, Garoni, Deng, PRE 87, 052107 (2013); MODEL.md §9";
const LORENZ_ZIFF_1998: &str = "Lorenz & Ziff, J. Phys. A 31, 8147 (1998)";
const XU_2014: &str = "Xu, Wang, Lv, Deng, Front. Phys. 9, 113 (2014)";
const VAN_DER_MARCK_1997: &str = "van der Marck, PRE 55, 1514 (1997)";

/// The threshold p_c of `kind` for site or bond percolation, where one is known.
pub fn threshold(kind: LatticeKind, percolation: Percolation) -> Option<Reference> {
    use LatticeKind::*;
    use Percolation::*;
    let r = |value, uncertainty, source| {
        Some(Reference {
            value,
            uncertainty,
            source,
        })
    };
    match (kind, percolation) {
        (Square, Site) => r(
            0.59274605,
            3e-8,
            "Newman & Ziff, PRL 85, 4104 (2000); MODEL.md §9",
        ),
        (Square, Bond) => r(0.5, 0.0, "exact (Kesten 1980); MODEL.md §9"),
        (Sc | Tetragonal, Site) => r(0.3116077, 2e-7, WANG_2013),
        (Sc | Tetragonal, Bond) => r(
            0.2488126,
            5e-7,
            "Lorenz & Ziff, PRE 57, 230 (1998); MODEL.md §9",
        ),
        (Bcc, Site) => r(0.2459615, 1e-7, LORENZ_ZIFF_1998),
        (Bcc, Bond) => r(0.1802875, 1e-7, "Lorenz & Ziff, PRE 57, 230 (1998)"),
        (Fcc, Site) => r(0.19923517, 2e-8, XU_2014),
        (Fcc, Bond) => r(0.1201635, 1e-7, "Lorenz & Ziff, PRE 57, 230 (1998)"),
        (Diamond, Site) => r(0.4301, 4e-4, VAN_DER_MARCK_1997),
        (Diamond, Bond) => r(0.3893, 2e-4, VAN_DER_MARCK_1997),
    }
}

/// The correlation-length exponent ν (MODEL.md §9).
pub fn nu(kind: LatticeKind) -> f64 {
    if kind.is_2d() {
        4.0 / 3.0
    } else {
        0.8765
    }
}

/// The fractal dimension d_f of the incipient infinite cluster (MODEL.md §9).
pub fn fractal_dimension(kind: LatticeKind) -> f64 {
    if kind.is_2d() {
        91.0 / 48.0
    } else {
        2.5226
    }
}

//! Colour maps: perceptually uniform sequential maps (viridis, magma from `colorous`) for
//! continuous fields, a categorical palette (Tableau 10) for clusters, and the fixed colours of
//! the three states.

/// An 8-bit sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// The colour as plotters' type.
    pub fn to_plotters(self) -> plotters::style::RGBColor {
        plotters::style::RGBColor(self.0, self.1, self.2)
    }

    /// Squared distance in RGB space, to find the nearest palette entry of a pixel.
    pub fn distance2(self, other: Rgb) -> u32 {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2) as u32;
        d(self.0, other.0) + d(self.1, other.1) + d(self.2, other.2)
    }
}

impl From<colorous::Color> for Rgb {
    fn from(c: colorous::Color) -> Self {
        Rgb(c.r, c.g, c.b)
    }
}

/// A sequential colour map over [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Colormap {
    /// Dark blue → green → yellow; the default for densities and labels' backgrounds.
    #[default]
    Viridis,
    /// Black → purple → orange → pale yellow; used for resistivity and current.
    Magma,
}

impl Colormap {
    /// The colour at `t` (clamped to [0, 1]; NaN maps to 0).
    pub fn at(self, t: f64) -> Rgb {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let gradient = match self {
            Colormap::Viridis => colorous::VIRIDIS,
            Colormap::Magma => colorous::MAGMA,
        };
        gradient.eval_continuous(t).into()
    }
}

/// Categorical colour number `i` (Tableau 10, repeating).
pub fn categorical(i: usize) -> Rgb {
    let palette = colorous::TABLEAU10;
    palette[i % palette.len()].into()
}

/// The colour of absent sites and empty cells in heat maps.
pub const BACKGROUND: Rgb = Rgb(255, 255, 255);
/// Insulating regions of the phase diagram (light grey).
pub const INSULATING: Rgb = Rgb(200, 200, 200);
/// Conducting regions (Tableau orange).
pub const CONDUCTING: Rgb = Rgb(242, 142, 43);
/// Superconducting regions (Tableau blue).
pub const SUPERCONDUCTING: Rgb = Rgb(78, 121, 167);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_runs_from_dark_to_light() {
        let dark = Colormap::Viridis.at(0.0);
        let light = Colormap::Viridis.at(1.0);
        let luma = |c: Rgb| 299 * u32::from(c.0) + 587 * u32::from(c.1) + 114 * u32::from(c.2);
        assert!(luma(dark) < luma(Colormap::Viridis.at(0.5)));
        assert!(luma(Colormap::Viridis.at(0.5)) < luma(light));
        assert_eq!(Colormap::Magma.at(f64::NAN), Colormap::Magma.at(0.0));
        assert_eq!(Colormap::Magma.at(7.0), Colormap::Magma.at(1.0));
    }

    #[test]
    fn state_colours_are_distinct() {
        let c = [INSULATING, CONDUCTING, SUPERCONDUCTING, BACKGROUND];
        for i in 0..c.len() {
            for j in i + 1..c.len() {
                assert!(c[i].distance2(c[j]) > 3000, "{:?} vs {:?}", c[i], c[j]);
            }
        }
        assert_ne!(categorical(0), categorical(1));
        assert_eq!(categorical(0), categorical(10));
    }
}

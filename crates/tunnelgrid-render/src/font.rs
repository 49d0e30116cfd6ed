//! The embedded font. plotters' `ab_glyph` backend draws text only with registered fonts, so the
//! one we ship (DejaVu Sans, licence in `fonts/LICENSE-DejaVu.txt`) is registered once as the
//! `sans-serif` family before any drawing; no font is looked up on the system.

use plotters::style::FontStyle;
use std::sync::Once;

static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// The family name every picture uses.
pub(crate) const FAMILY: &str = "sans-serif";

/// Registers the embedded font (idempotent, thread-safe).
pub(crate) fn ensure_registered() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // All styles fall back to Normal in plotters' ab_glyph font map.
        if plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_err() {
            // The bytes are compiled in and checked by the tests; reaching this is a build bug.
            panic!("embedded DejaVuSans.ttf is not a valid font");
        }
    });
}

//! The embedded font. plotters' `ab_glyph` backend draws text only with registered fonts, so the
//! one we ship (DejaVu Sans, licence in `fonts/LICENSE-DejaVu.txt`) is registered once as the
//! `sans-serif` family before any drawing; no font is looked up on the system.

#[cfg(not(target_arch = "wasm32"))]
use plotters::style::FontStyle;
#[cfg(not(target_arch = "wasm32"))]
use std::sync::Once;

#[cfg(not(target_arch = "wasm32"))]
static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// The family name every picture uses.
pub(crate) const FAMILY: &str = "sans-serif";

/// Registers the embedded font (idempotent, thread-safe).
#[cfg(not(target_arch = "wasm32"))]
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

/// In the browser plotters measures and draws text with the browser's fonts and has no font
/// registry; the web page draws its own captions, so there is nothing to register.
#[cfg(target_arch = "wasm32")]
pub(crate) fn ensure_registered() {}

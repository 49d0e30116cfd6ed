//! `tunnelgrid presets` and `tunnelgrid preset NAME`.

use super::stdout::{out, outln};
use anyhow::Result;
use tunnelgrid_model::presets::{preset, preset_text, PRESETS};

/// Lists every preset with its description.
pub fn list() -> Result<()> {
    for (name, _) in PRESETS {
        let material = preset(name)?;
        outln!("{name:<16} {}", material.description);
    }
    outln!(
        "\nShow one as TOML with `tunnelgrid preset NAME`; run an edited copy with --config FILE."
    );
    Ok(())
}

/// Prints one preset's TOML as shipped (with its comments).
pub fn show(name: &str) -> Result<()> {
    out!("{}", preset_text(name)?);
    Ok(())
}

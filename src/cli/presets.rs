//! `tunnelgrid presets` and `tunnelgrid preset NAME`.

use anyhow::Result;
use tunnelgrid_model::presets::{preset, preset_text, PRESETS};

/// Lists every preset with its description.
pub fn list() -> Result<()> {
    for (name, _) in PRESETS {
        let material = preset(name)?;
        println!("{name:<16} {}", material.description);
    }
    println!(
        "\nShow one as TOML with `tunnelgrid preset NAME`; run an edited copy with --config FILE."
    );
    Ok(())
}

/// Prints one preset's TOML as shipped (with its comments).
pub fn show(name: &str) -> Result<()> {
    print!("{}", preset_text(name)?);
    Ok(())
}

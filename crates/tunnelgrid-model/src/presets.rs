//! The materials shipped with the binary (`presets/*.toml`, embedded at build time).

use crate::config::{ConfigError, Material};

/// Name and TOML text of every shipped preset, in the order `tunnelgrid presets` lists them.
pub const PRESETS: [(&str, &str); 5] = [
    ("default", include_str!("../../../presets/default.toml")),
    ("layered", include_str!("../../../presets/layered.toml")),
    ("alloy", include_str!("../../../presets/alloy.toml")),
    (
        "bernoulli-site",
        include_str!("../../../presets/bernoulli-site.toml"),
    ),
    (
        "bernoulli-bond",
        include_str!("../../../presets/bernoulli-bond.toml"),
    ),
];

/// The TOML text of a preset, as shipped (with its comments).
pub fn preset_text(name: &str) -> Result<&'static str, ConfigError> {
    PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
        .ok_or_else(|| ConfigError::UnknownPreset(name.to_string()))
}

/// A preset, parsed and validated.
pub fn preset(name: &str) -> Result<Material, ConfigError> {
    Material::from_toml_str(preset_text(name)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_loads_and_round_trips() {
        for (name, _) in PRESETS {
            let material = preset(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(material.name, name);
            let again = Material::from_toml_str(&material.to_toml_string()).unwrap();
            assert_eq!(again, material, "{name} survives a TOML round trip");
        }
        assert!(matches!(preset("nope"), Err(ConfigError::UnknownPreset(_))));
    }
}

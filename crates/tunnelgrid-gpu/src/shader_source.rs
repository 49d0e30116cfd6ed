//! The WGSL sources of `shaders/`, with `#include "file.wgsl"` lines resolved.
//!
//! `build.rs` includes this same file to validate every stage with naga at build time, so a
//! broken shader fails `cargo build`, not a user's run.

/// Every file of `shaders/`: includes first, then one file per pipeline stage.
pub const FILES: [(&str, &str); 8] = [
    ("common.wgsl", include_str!("../../../shaders/common.wgsl")),
    ("bonds.wgsl", include_str!("../../../shaders/bonds.wgsl")),
    ("labels.wgsl", include_str!("../../../shaders/labels.wgsl")),
    ("remap.wgsl", include_str!("../../../shaders/remap.wgsl")),
    ("stats.wgsl", include_str!("../../../shaders/stats.wgsl")),
    ("gather.wgsl", include_str!("../../../shaders/gather.wgsl")),
    (
        "kirchhoff.wgsl",
        include_str!("../../../shaders/kirchhoff.wgsl"),
    ),
    ("amg.wgsl", include_str!("../../../shaders/amg.wgsl")),
];

/// The stage files (those that are not only included by others).
pub const STAGES: [&str; 7] = [
    "bonds.wgsl",
    "labels.wgsl",
    "remap.wgsl",
    "stats.wgsl",
    "gather.wgsl",
    "kirchhoff.wgsl",
    "amg.wgsl",
];

/// The source of `name` with its includes spliced in (each file at most once).
pub fn resolved(name: &str) -> String {
    let mut out = String::new();
    let mut seen = Vec::new();
    splice(name, &mut out, &mut seen);
    out
}

fn splice(name: &str, out: &mut String, seen: &mut Vec<String>) {
    if seen.iter().any(|s| s == name) {
        return;
    }
    seen.push(name.to_string());
    let text = FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("shader {name} is not in shader_source::FILES"));
    for line in text.lines() {
        match line.trim().strip_prefix("#include ") {
            Some(included) => splice(included.trim().trim_matches('"'), out, seen),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
}

//! `tunnelgrid info`: the adapters wgpu finds and which engine `auto` picks.

use super::stdout::outln;
use anyhow::Result;

/// Prints every compute-capable adapter with its limits, and the engine `auto` would pick.
pub fn info() -> Result<()> {
    let adapters = tunnelgrid_gpu::adapters();
    if adapters.is_empty() {
        outln!("adapters     none found");
    }
    for (i, a) in adapters.iter().enumerate() {
        outln!(
            "adapter {i}    {} — {} backend, {} device, driver {}",
            a.name,
            a.backend,
            a.device_type,
            a.driver
        );
        outln!(
            "             max storage binding {}, max buffer {}",
            tunnelgrid_model::engine::human_bytes(a.max_storage_binding),
            tunnelgrid_model::engine::human_bytes(a.max_buffer)
        );
    }
    match tunnelgrid::engines::select(tunnelgrid::engines::EngineChoice::Auto, Default::default()) {
        Ok(selected) => outln!(
            "auto engine  {} ({})",
            selected.engine.name(),
            selected.reason
        ),
        Err(e) => outln!("auto engine  none ({e})"),
    }
    outln!(
        "cpu engine   rayon, {} threads",
        rayon::current_num_threads()
    );
    Ok(())
}

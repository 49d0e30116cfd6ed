//! `tunnelgrid info`: the adapters wgpu finds and which engine `auto` picks.

use anyhow::Result;

/// Prints every compute-capable adapter with its limits, and the engine `auto` would pick.
pub fn info() -> Result<()> {
    let adapters = tunnelgrid_gpu::adapters();
    if adapters.is_empty() {
        println!("adapters     none found");
    }
    for (i, a) in adapters.iter().enumerate() {
        println!(
            "adapter {i}    {} — {} backend, {} device, driver {}",
            a.name, a.backend, a.device_type, a.driver
        );
        println!(
            "             max storage binding {}, max buffer {}",
            tunnelgrid_model::engine::human_bytes(a.max_storage_binding),
            tunnelgrid_model::engine::human_bytes(a.max_buffer)
        );
    }
    match tunnelgrid::engines::select(tunnelgrid::engines::EngineChoice::Auto, Default::default()) {
        Ok(selected) => println!(
            "auto engine  {} ({})",
            selected.engine.name(),
            selected.reason
        ),
        Err(e) => println!("auto engine  none ({e})"),
    }
    println!(
        "cpu engine   rayon, {} threads",
        rayon::current_num_threads()
    );
    Ok(())
}

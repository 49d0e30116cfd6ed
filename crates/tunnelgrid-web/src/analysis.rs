//! What the page asks of an engine: one analysis with its per-site arrays (for the heat maps),
//! and the benchmark. Both engines are reached through the same calls; the GPU engine's async
//! methods are awaited (in the browser its blocking ones refuse), the CPU engine's blocking
//! ones simply run.

use anyhow::{bail, Result};
use serde::Serialize;
use tunnelgrid::bench::{BenchRecord, Fastest, TIMING_DEVICE, TIMING_WALL};
use tunnelgrid::spec::{MaterialSource, ModelSpec, Names};
use tunnelgrid::summary::summary;
use tunnelgrid_cpu::CpuEngine;
use tunnelgrid_gpu::GpuEngine;
use tunnelgrid_model::presets::{preset, PRESETS};
use tunnelgrid_model::{Conditions, Engine, Model, Network, Report};

/// Cell counts per axis the page offers for exploring, smallest first.
pub const EXPLORE_SIZES: [u32; 9] = [16, 24, 32, 48, 64, 96, 128, 192, 256];
/// Largest lattice the CPU fallback explores: it runs on the page's one thread.
pub const CPU_EXPLORE_MAX: u32 = 128;
/// Sizes every benchmark runs (issue 17), and the one it adds where the limits allow.
pub const BENCH_SIZES: [u32; 3] = [64, 128, 256];
/// The extra benchmark size for hardware adapters whose largest buffer holds a 512³ u32 array.
pub const BENCH_LARGE: u32 = 512;
/// The benchmark's material.
pub const BENCH_PRESET: &str = "bernoulli-site";

/// The engine behind the page.
pub enum Backend {
    /// The GPU engine on the browser's WebGPU adapter, with the browser's label for it.
    Gpu(GpuEngine, String),
    /// The CPU engine compiled to wasm (the fallback without WebGPU).
    Cpu(CpuEngine),
}

/// One analysis the page asks for; `None` keeps the material's own value.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Preset name.
    pub preset: String,
    /// Cells per axis.
    pub size: u32,
    /// Pressure, GPa (tunnel presets).
    pub pressure: Option<f64>,
    /// Temperature, K (tunnel presets).
    pub temperature: Option<f64>,
    /// Seed of the site hash.
    pub seed: u64,
    /// Occupation or opening probability (Bernoulli presets).
    pub p: Option<f64>,
}

/// One finished analysis: its report and summary, and the per-site arrays its heat maps need.
pub struct Analysis {
    /// The model analysed.
    pub model: Model,
    /// Its conditions.
    pub conditions: Conditions,
    /// The report (`report.json`).
    pub report: Report,
    /// `tunnelgrid run`'s summary of it.
    pub summary: String,
    /// Bond mask per site.
    pub masks: Vec<u32>,
    /// Cluster root per site, tunnel network.
    pub tunnel_roots: Vec<u32>,
    /// Cluster root per site, superconducting network.
    pub sc_roots: Vec<u32>,
}

#[derive(Serialize)]
struct AnalysisJson<'a> {
    report: &'a Report,
    summary: &'a str,
}

impl Analysis {
    /// `{report, summary}` for the page.
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string(&AnalysisJson {
            report: &self.report,
            summary: &self.summary,
        })?)
    }
}

#[derive(Serialize)]
struct PresetJson {
    name: &'static str,
    description: String,
    mode: &'static str,
    bernoulli: bool,
    pressure_gpa: f64,
    temperature_k: f64,
    p: f64,
}

/// The shipped presets, for the page's choice.
pub fn presets_json() -> Result<String> {
    let list = PRESETS
        .iter()
        .map(|(name, _)| {
            let m = preset(name)?;
            Ok(PresetJson {
                name,
                description: m.description.clone(),
                mode: m.mode.name(),
                bernoulli: m.mode.is_bernoulli(),
                pressure_gpa: m.conditions.pressure_gpa,
                temperature_k: m.conditions.temperature_k,
                p: m.bernoulli.p,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(serde_json::to_string(&list)?)
}

/// The adapter's name and limits, and the sizes the page offers.
#[derive(Serialize)]
pub struct DeviceJson {
    engine: String,
    kind: &'static str,
    adapter: Option<AdapterJson>,
    explore_sizes: Vec<u32>,
    bench_sizes: Vec<u32>,
}

/// A WebGPU adapter as the page shows it.
#[derive(Serialize)]
pub struct AdapterJson {
    name: String,
    backend: String,
    device_type: String,
    driver: String,
    timestamp_queries: bool,
    max_storage_buffer_binding_size: u64,
    max_buffer_size: u64,
    max_storage_buffers_per_shader_stage: u32,
    max_compute_workgroups_per_dimension: u32,
    max_compute_invocations_per_workgroup: u32,
    max_compute_workgroup_storage_size: u32,
}

impl Backend {
    /// "gpu" or "cpu".
    pub fn kind(&self) -> &'static str {
        match self {
            Backend::Gpu(..) => "gpu",
            Backend::Cpu(_) => "cpu",
        }
    }

    /// The engine, through the trait every engine implements.
    pub fn engine(&self) -> &dyn Engine {
        match self {
            Backend::Gpu(e, _) => e,
            Backend::Cpu(e) => e,
        }
    }

    /// The engine's name with its device. Browsers may hide the adapter's name from wgpu
    /// (Chrome does); the browser's own label (vendor, architecture) names it then.
    pub fn name(&self) -> String {
        match self {
            Backend::Gpu(e, label) if e.context().info.name.is_empty() && !label.is_empty() => {
                format!("gpu ({label}, WebGPU)")
            }
            _ => self.engine().name(),
        }
    }

    /// `report` with its engine named as `name` does (the engine's own name leads the field).
    fn rename(&self, mut report: Report) -> Report {
        report.engine = report
            .engine
            .replacen(&self.engine().name(), &self.name(), 1);
        report
    }

    /// Why this engine, for the summary's engine line.
    fn reason(&self) -> &'static str {
        match self {
            Backend::Gpu(..) => "WebGPU in this browser",
            Backend::Cpu(_) => "fallback: this browser gives no WebGPU adapter",
        }
    }

    /// The adapter and the sizes the page offers on it.
    pub fn device(&self) -> DeviceJson {
        let (adapter, explore_max, large) = match self {
            Backend::Gpu(e, label) => {
                let ctx = e.context();
                let l = &ctx.limits;
                // Interactive sizes keep the whole lattice in one storage binding (one slab:
                // larger ones stream through slabs, correct but too slow to follow a slider).
                let fits = |n: u32| u64::from(n).pow(3) * 4 <= l.max_storage_buffer_binding_size;
                let explore_max = EXPLORE_SIZES
                    .iter()
                    .copied()
                    .filter(|&n| fits(n))
                    .max()
                    .unwrap_or(EXPLORE_SIZES[0]);
                // 512³ where one lattice-sized u32 array fits one buffer, on hardware only: a
                // software adapter (SwiftShader) runs on the host's cores, minutes per run.
                let large = u64::from(BENCH_LARGE).pow(3) * 4 <= l.max_buffer_size
                    && ctx.info.device_type != tunnelgrid_gpu::DeviceType::Cpu;
                let info = &ctx.info;
                (
                    Some(AdapterJson {
                        // Chrome hides the name from wgpu; the browser's label stands in.
                        name: if info.name.is_empty() {
                            label.clone()
                        } else {
                            info.name.clone()
                        },
                        backend: format!("{:?}", info.backend),
                        device_type: format!("{:?}", info.device_type),
                        driver: format!("{} {}", info.driver, info.driver_info)
                            .trim()
                            .to_string(),
                        timestamp_queries: ctx.timestamps,
                        max_storage_buffer_binding_size: l.max_storage_buffer_binding_size,
                        max_buffer_size: l.max_buffer_size,
                        max_storage_buffers_per_shader_stage: l
                            .max_storage_buffers_per_shader_stage,
                        max_compute_workgroups_per_dimension: l
                            .max_compute_workgroups_per_dimension,
                        max_compute_invocations_per_workgroup: l
                            .max_compute_invocations_per_workgroup,
                        max_compute_workgroup_storage_size: l.max_compute_workgroup_storage_size,
                    }),
                    explore_max,
                    large,
                )
            }
            Backend::Cpu(_) => (None, CPU_EXPLORE_MAX, false),
        };
        let mut bench_sizes = BENCH_SIZES.to_vec();
        if large {
            bench_sizes.push(BENCH_LARGE);
        }
        DeviceJson {
            engine: self.name(),
            kind: self.kind(),
            adapter,
            explore_sizes: EXPLORE_SIZES
                .iter()
                .copied()
                .filter(|&n| n <= explore_max)
                .collect(),
            bench_sizes,
        }
    }

    /// The model and conditions of `request`, through the same `ModelSpec` as the CLI; errors
    /// name the page's field (keyword style: `pressure`, `size`, ...).
    fn model(request: &Request) -> Result<(Model, Conditions)> {
        if !PRESETS.iter().any(|(name, _)| *name == request.preset) {
            bail!(
                "preset: '{}' is not a shipped preset ({})",
                request.preset,
                PRESETS.map(|(n, _)| n).join(", ")
            );
        }
        let spec = ModelSpec {
            source: MaterialSource::Preset(request.preset.clone()),
            size: Some(request.size),
            pressure: request.pressure,
            temperature: request.temperature,
            seed: Some(request.seed),
            p: request.p,
            ..ModelSpec::default()
        };
        spec.build(Names::Keywords)
    }

    /// The report of one analysis.
    async fn report(&self, model: &Model, conditions: &Conditions) -> Result<Report> {
        let report = match self {
            Backend::Gpu(e, _) => e.analyze_async(model, conditions).await?,
            Backend::Cpu(e) => e.analyze(model, conditions)?,
        };
        Ok(self.rename(report))
    }

    /// Analyses `request`, and reads back the bond masks and both networks' cluster roots for
    /// the heat maps.
    pub async fn analyze(&self, request: &Request) -> Result<Analysis> {
        let (model, conditions) = Self::model(request)?;
        let report = self.report(&model, &conditions).await?;
        let (masks, tunnel_roots, sc_roots) = match self {
            Backend::Gpu(e, _) => (
                e.bond_masks_async(&model, &conditions).await?.masks,
                e.cluster_roots_async(&model, &conditions, Network::Tunnel)
                    .await?,
                e.cluster_roots_async(&model, &conditions, Network::Superconducting)
                    .await?,
            ),
            Backend::Cpu(e) => {
                let masks = e.bond_masks(&model, &conditions)?.masks;
                let tunnel = e.cluster_roots(&model, &conditions, &masks, Network::Tunnel)?;
                let sc = e.cluster_roots(&model, &conditions, &masks, Network::Superconducting)?;
                (masks, tunnel, sc)
            }
        };
        let summary = summary(&model, &report, self.reason());
        Ok(Analysis {
            model,
            conditions,
            report,
            summary,
            masks,
            tunnel_roots,
            sc_roots,
        })
    }

    /// `tunnelgrid bench` on `bernoulli-site` at `sizes`: per size one untimed warm-up, then
    /// `repeat` timed analyses, keeping the fastest; device times where the engine has them.
    pub async fn bench(
        &self,
        sizes: &[u32],
        repeat: u32,
        mut progress: impl FnMut(u32),
    ) -> Result<Vec<BenchRecord>> {
        let engine = self.engine();
        let device_timing = engine.set_profiling(true);
        let timing = if device_timing {
            TIMING_DEVICE
        } else {
            TIMING_WALL
        };
        let mut records = Vec::new();
        for &size in sizes {
            progress(size);
            let (model, conditions) = Self::model(&Request {
                preset: BENCH_PRESET.into(),
                size,
                pressure: None,
                temperature: None,
                seed: 1,
                p: None,
            })?;
            let mut fastest = Fastest::default();
            for run in 0..=repeat {
                let report = self.report(&model, &conditions).await?;
                fastest.offer(run, report, engine);
            }
            records.extend(fastest.record(size, timing));
        }
        engine.set_profiling(false);
        Ok(records)
    }
}

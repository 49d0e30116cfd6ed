//! tunnelgrid in the browser: wasm-bindgen bindings for the page in `web/`.
//!
//! The page opens an [`Explorer`] on the GPU engine through WebGPU ([`open_gpu`]: wgpu's WebGPU
//! backend, the WGSL stages unchanged) or, where the browser has no WebGPU, on the CPU engine
//! compiled to wasm ([`open_cpu`]: rayon runs on the page's one thread). Every analysis goes
//! through the same `ModelSpec` and `Engine` as the command line, so its report is the CLI's
//! `report.json`; its summary is `tunnelgrid run`'s; its heat maps are `tunnelgrid render`'s
//! (`picture::field_heatmap`), coloured here by tunnelgrid-render's colour maps and drawn by the
//! page; its benchmark records are `tunnelgrid bench --json`'s.

#![warn(missing_docs)]

mod analysis;
mod computed;
mod heatmap;

pub use analysis::{Analysis, Backend, Request};

use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// An engine the page analyses with, and the last analysis (for its heat maps).
#[wasm_bindgen]
pub struct Explorer {
    backend: Rc<Backend>,
    last: Rc<RefCell<Option<Analysis>>>,
}

/// Opens the GPU engine on the browser's WebGPU adapter; rejects with the reason when there is
/// none (the page then opens the CPU engine and says why). `adapter_label` is the browser's
/// description of its adapter (vendor, architecture), used where wgpu reads no adapter name.
#[wasm_bindgen]
pub async fn open_gpu(adapter_label: String) -> Result<Explorer, JsError> {
    let engine = tunnelgrid_gpu::GpuEngine::new_async()
        .await
        .map_err(|e| JsError::new(&e.to_string()))?;
    Ok(Explorer::new(Backend::Gpu(engine, adapter_label)))
}

/// Opens the CPU engine, compiled to wasm (one thread: the browser gives wasm no threads here).
#[wasm_bindgen]
pub fn open_cpu() -> Explorer {
    Explorer::new(Backend::Cpu(tunnelgrid_cpu::CpuEngine::default()))
}

/// The shipped presets as JSON: name, description, mode, whether it takes p instead of (P, T),
/// and its default conditions.
#[wasm_bindgen]
pub fn presets() -> Result<String, JsError> {
    analysis::presets_json().map_err(js_error)
}

/// Installs a panic hook that reports a Rust panic on the browser console (it would otherwise
/// be an opaque "unreachable" trap).
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error(&format!("tunnelgrid panicked: {info}"));
    }));
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

fn js_error(e: anyhow::Error) -> JsError {
    JsError::new(&format!("{e:#}"))
}

#[wasm_bindgen]
impl Explorer {
    fn new(backend: Backend) -> Self {
        Self {
            backend: Rc::new(backend),
            last: Rc::new(RefCell::new(None)),
        }
    }

    /// "gpu" or "cpu".
    pub fn kind(&self) -> String {
        self.backend.kind().to_string()
    }

    /// The engine's name with its device, as reports give it.
    pub fn engine_name(&self) -> String {
        self.backend.name()
    }

    /// The adapter's name and limits, and the largest lattice sizes the page offers, as JSON.
    pub fn device(&self) -> Result<String, JsError> {
        serde_json::to_string(&self.backend.device()).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Analyses `preset` at `size`³ cells with these conditions (NaN keeps the material's own
    /// value: `p` applies to the Bernoulli presets only, pressure and temperature to the others) and keeps the result for `heatmap`. Resolves to JSON:
    /// `{report, summary}` (the report is `report.json`'s, the summary `tunnelgrid run`'s).
    pub fn analyze(
        &self,
        preset: String,
        size: u32,
        pressure: f64,
        temperature: f64,
        seed: u32,
        p: f64,
    ) -> js_sys::Promise {
        let backend = self.backend.clone();
        let last = self.last.clone();
        let request = Request {
            preset,
            size,
            pressure: given(pressure),
            temperature: given(temperature),
            seed: u64::from(seed),
            p: given(p),
        };
        wasm_bindgen_futures::future_to_promise(async move {
            let analysis = backend.analyze(&request).await.map_err(js_value)?;
            let json = analysis.to_json().map_err(js_value)?;
            *last.borrow_mut() = Some(analysis);
            Ok(JsValue::from_str(&json))
        })
    }

    /// The heat map of the last analysis's middle z slice for `field` ("tunnels", "clusters",
    /// "sc" or "gap") as JSON: title, axis labels, cells as RGB rows (bottom row first), and
    /// its colour bar or legend.
    pub fn heatmap(&self, field: String) -> Result<String, JsError> {
        let last = self.last.borrow();
        let analysis = last
            .as_ref()
            .ok_or_else(|| JsError::new("heatmap: no analysis yet; call analyze first"))?;
        heatmap::heatmap_json(analysis, &self.backend, &field).map_err(js_error)
    }

    /// Benchmarks `bernoulli-site` at each of `sizes` (one warm-up and `repeat` timed runs,
    /// keeping the fastest, as `tunnelgrid bench`), calling `progress(size)` before each size.
    /// Resolves to the JSON of `tunnelgrid bench --json`: one record per size, same keys.
    pub fn bench(
        &self,
        sizes: Vec<u32>,
        repeat: u32,
        progress: js_sys::Function,
    ) -> js_sys::Promise {
        let backend = self.backend.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let records = backend
                .bench(&sizes, repeat.max(1), |size| {
                    // The page's progress line; a throwing callback must not stop the run.
                    let _ = progress.call1(&JsValue::NULL, &JsValue::from(size));
                })
                .await
                .map_err(js_value)?;
            let json = serde_json::to_string_pretty(&records)
                .map_err(|e| JsValue::from_str(&e.to_string()))?;
            Ok(JsValue::from_str(&json))
        })
    }
}

/// A number the page set, or `None` for NaN (the material's own value).
fn given(value: f64) -> Option<f64> {
    (!value.is_nan()).then_some(value)
}

fn js_value(e: anyhow::Error) -> JsValue {
    JsError::new(&format!("{e:#}")).into()
}

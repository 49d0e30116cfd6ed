//! The wgpu instance, adapter, device and queue, created once per process.

use crate::GpuError;

/// Everything needed to run compute work on one adapter.
pub struct Context {
    /// The adapter in use.
    pub adapter: wgpu::Adapter,
    /// Its logical device, created with the adapter's own limits.
    pub device: wgpu::Device,
    /// The device's queue.
    pub queue: wgpu::Queue,
    /// The adapter's description (name, backend, device type, driver).
    pub info: wgpu::AdapterInfo,
    /// The limits the device was created with (the adapter's own).
    pub limits: wgpu::Limits,
    /// Whether GPU timestamp queries are available for per-stage timing.
    pub timestamps: bool,
    /// Per-stage device timing (active only while profiling).
    pub timer: crate::timer::Timer,
    /// The first error wgpu reported outside an error scope, or the device's loss: wgpu's
    /// default would panic, so it is kept here and returned by the next wait.
    errors: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

/// An adapter wgpu found, for `tunnelgrid info`.
#[derive(Debug, Clone)]
pub struct AdapterSummary {
    /// Adapter name.
    pub name: String,
    /// Backend (Vulkan, Metal, ...).
    pub backend: String,
    /// Discrete, integrated, virtual, CPU, other.
    pub device_type: String,
    /// Driver and its version.
    pub driver: String,
    /// Largest storage binding, bytes.
    pub max_storage_binding: u64,
    /// Largest buffer, bytes.
    pub max_buffer: u64,
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// Preference order: real GPUs first, then software; Vulkan, Metal and DX12 over GL.
fn rank(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let device = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    };
    let backend = match info.backend {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        _ => 1,
    };
    (device, backend)
}

fn compute_capable(adapter: &wgpu::Adapter) -> bool {
    adapter
        .get_downlevel_capabilities()
        .flags
        .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
}

/// Every compute-capable adapter wgpu finds, best first (in the browser: the one WebGPU gives).
async fn ranked_adapters() -> Vec<wgpu::Adapter> {
    let mut found: Vec<wgpu::Adapter> = instance()
        .enumerate_adapters(wgpu::Backends::all())
        .await
        .into_iter()
        .filter(compute_capable)
        .collect();
    found.sort_by_key(|a| rank(&a.get_info()));
    found
}

/// Every compute-capable adapter wgpu finds, best first.
/// Blocks: natively only.
pub fn adapters() -> Vec<AdapterSummary> {
    pollster::block_on(ranked_adapters())
        .iter()
        .map(|a| {
            let info = a.get_info();
            let limits = a.limits();
            AdapterSummary {
                name: info.name.clone(),
                backend: format!("{:?}", info.backend),
                device_type: format!("{:?}", info.device_type),
                driver: format!("{} {}", info.driver, info.driver_info)
                    .trim()
                    .to_string(),
                max_storage_binding: limits.max_storage_buffer_binding_size,
                max_buffer: limits.max_buffer_size,
            }
        })
        .collect()
}

impl Context {
    /// Opens the best adapter with its own limits. Blocks: natively only.
    pub fn new() -> Result<Self, GpuError> {
        pollster::block_on(Self::new_async())
    }

    /// Opens the best adapter with its own limits.
    pub async fn new_async() -> Result<Self, GpuError> {
        let adapter = ranked_adapters()
            .await
            .into_iter()
            .next()
            .ok_or(GpuError::NoAdapter)?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let required_features = if timestamps {
            wgpu::Features::TIMESTAMP_QUERY
        } else {
            wgpu::Features::empty()
        };
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("tunnelgrid"),
                required_features,
                required_limits: limits.clone(),
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| GpuError::Device(e.to_string()))?;
        let timer = crate::timer::Timer::new(&device, &queue, timestamps);
        let errors = std::sync::Arc::new(std::sync::Mutex::new(None));
        let sink = errors.clone();
        device.on_uncaptured_error(std::sync::Arc::new(move |e: wgpu::Error| {
            sink.lock()
                .expect("error sink")
                .get_or_insert_with(|| e.to_string());
        }));
        let sink = errors.clone();
        device.set_device_lost_callback(move |reason, message| {
            sink.lock()
                .expect("error sink")
                .get_or_insert_with(|| format!("device lost ({reason:?}): {message}"));
        });
        Ok(Self {
            adapter,
            device,
            queue,
            info,
            limits,
            timestamps,
            timer,
            errors,
        })
    }

    /// The first error wgpu reported since the last call, as a `GpuError`.
    pub fn take_error(&self) -> Result<(), GpuError> {
        match self.errors.lock().expect("error sink").take() {
            Some(message) => Err(GpuError::Device(message)),
            None => Ok(()),
        }
    }

    /// "name (backend, type)" for reports.
    pub fn describe(&self) -> String {
        format!(
            "{} ({:?}, {:?})",
            self.info.name, self.info.backend, self.info.device_type
        )
    }

    /// Largest number of u32 words one storage binding (and one buffer) may hold.
    pub fn max_words_per_binding(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
            / 4
    }
}

//! Buffers, bind groups, dispatches and readback on a `Context`.

use crate::context::Context;
use crate::timer::Stage;
use wgpu::util::DeviceExt;

/// Workgroup size of every stage (`WORKGROUP` in shaders/common.wgsl).
pub const WORKGROUP: u32 = 256;
/// Sites per invocation of the reducing stages (`COARSEN` in shaders/common.wgsl).
pub const COARSEN: u64 = 64;
/// Most workgroups per dispatch dimension.
const MAX_GROUPS: u32 = 65535;

/// Workgroups (x, y) that cover `elements` invocations: large counts fold into a 2D grid.
pub fn grid(elements: u64) -> (u32, u32) {
    let groups = elements.div_ceil(WORKGROUP as u64).max(1);
    let x = groups.min(MAX_GROUPS as u64);
    (x as u32, groups.div_ceil(x) as u32)
}

impl Context {
    /// A storage buffer of `words` u32 (at least one), usable as copy source and target.
    pub fn storage(&self, label: &str, words: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: words.max(1) * 4,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// A storage buffer holding `data`.
    pub fn storage_with(&self, label: &str, data: &[u8]) -> wgpu::Buffer {
        let mut bytes = data.to_vec();
        bytes.resize(bytes.len().max(4).next_multiple_of(4), 0);
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: &bytes,
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
            })
    }

    /// A uniform buffer holding `data`.
    pub fn uniform_with(&self, label: &str, data: &[u8]) -> wgpu::Buffer {
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: data,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            })
    }

    /// A bind group for `pipeline`'s group 0 with (binding, buffer) entries.
    pub fn bind(
        &self,
        pipeline: &wgpu::ComputePipeline,
        entries: &[(u32, &wgpu::Buffer)],
    ) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = entries
            .iter()
            .map(|(binding, buffer)| wgpu::BindGroupEntry {
                binding: *binding,
                resource: buffer.as_entire_binding(),
            })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        })
    }

    /// Encodes one dispatch of `pipeline` over `elements` invocations, timed as `stage`.
    pub fn dispatch(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        stage: Stage,
        pipeline: &wgpu::ComputePipeline,
        bind_group: &wgpu::BindGroup,
        elements: u64,
    ) {
        let (x, y) = grid(elements);
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: None,
            timestamp_writes: self.timer.pass_writes(stage),
        });
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, bind_group, &[]);
        pass.dispatch_workgroups(x, y, 1);
    }

    /// Encodes one dispatch of a coarsened stage over `elements` sites (COARSEN per invocation).
    pub fn dispatch_coarse(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        stage: Stage,
        pipeline: &wgpu::ComputePipeline,
        bind_group: &wgpu::BindGroup,
        elements: u64,
    ) {
        self.dispatch(
            encoder,
            stage,
            pipeline,
            bind_group,
            elements.div_ceil(COARSEN),
        );
    }

    /// A fresh command encoder.
    pub fn encoder(&self) -> wgpu::CommandEncoder {
        self.device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None })
    }

    /// Submits `encoder` and waits until the device is idle (reading the stage timestamps
    /// when profiling). Blocks: natively only (`submit_and_wait_async` is the one code path).
    pub fn submit_and_wait(&self, encoder: wgpu::CommandEncoder) -> Result<(), crate::GpuError> {
        pollster::block_on(self.submit_and_wait_async(encoder))
    }

    /// Submits `encoder` and resolves when the queue has finished it (reading the stage
    /// timestamps when profiling).
    pub async fn submit_and_wait_async(
        &self,
        mut encoder: wgpu::CommandEncoder,
    ) -> Result<(), crate::GpuError> {
        let staging = self.timer.profiling().then(|| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("timestamps"),
                size: crate::timer::CAPACITY as u64 * 8,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        });
        let resolved = staging
            .as_ref()
            .map_or(0, |s| self.timer.resolve(&mut encoder, s));
        self.queue.submit([encoder.finish()]);
        self.wait_async().await?;
        if let (Some(staging), true) = (staging, resolved > 0) {
            let ticks: Vec<u64> =
                bytemuck::cast_slice(&self.map_read(&staging, resolved as u64 * 8).await?).to_vec();
            self.timer.record(&ticks);
        }
        Ok(())
    }

    /// Natively, blocks until the device has finished every submission and run its callbacks;
    /// in the browser the device runs on its own and callbacks arrive through the event loop.
    pub(crate) fn poll_until_idle(&self) -> Result<(), crate::GpuError> {
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| crate::GpuError::Device(e.to_string()))?;
        Ok(())
    }

    /// Resolves when the queue has finished the work submitted so far; then reports the first
    /// error wgpu raised meanwhile.
    pub(crate) async fn wait_async(&self) -> Result<(), crate::GpuError> {
        let (sender, done) = crate::oneshot::channel();
        self.queue.on_submitted_work_done(move || sender.send(()));
        self.poll_until_idle()?;
        done.await.map_err(|_| {
            self.take_error().err().unwrap_or_else(|| {
                crate::GpuError::Device("the device dropped a queue callback".into())
            })
        })?;
        self.take_error()
    }

    /// Maps the first `bytes` of a MAP_READ buffer whose copies were submitted, and copies them.
    async fn map_read(
        &self,
        staging: &wgpu::Buffer,
        bytes: u64,
    ) -> Result<Vec<u8>, crate::GpuError> {
        let slice = staging.slice(..bytes);
        let (sender, mapped) = crate::oneshot::channel();
        slice.map_async(wgpu::MapMode::Read, move |result| sender.send(result));
        self.poll_until_idle()?;
        mapped
            .await
            .map_err(|_| crate::GpuError::Device("the device dropped a map callback".into()))?
            .map_err(|e| crate::GpuError::Device(e.to_string()))?;
        self.take_error()?;
        let bytes_out = slice
            .get_mapped_range()
            .map_err(|e| crate::GpuError::Device(e.to_string()))?
            .to_vec();
        staging.unmap();
        Ok(bytes_out)
    }

    /// Reads `words` u32 from `buffer` starting at word `offset`. Blocks: natively only.
    pub fn read_words(
        &self,
        buffer: &wgpu::Buffer,
        offset: u64,
        words: u64,
    ) -> Result<Vec<u32>, crate::GpuError> {
        pollster::block_on(self.read_words_async(buffer, offset, words))
    }

    /// Reads `words` u32 from `buffer` starting at word `offset`.
    pub async fn read_words_async(
        &self,
        buffer: &wgpu::Buffer,
        offset: u64,
        words: u64,
    ) -> Result<Vec<u32>, crate::GpuError> {
        if words == 0 {
            return Ok(Vec::new());
        }
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: words * 4,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.encoder();
        encoder.copy_buffer_to_buffer(buffer, offset * 4, &staging, 0, words * 4);
        self.queue.submit([encoder.finish()]);
        let bytes = self.map_read(&staging, words * 4).await?;
        Ok(bytemuck::cast_slice::<u8, u32>(&bytes).to_vec())
    }
}

/// Workgroups of a coarsened dispatch over `elements` sites (one partial result each).
pub fn coarse_groups(elements: u64) -> u64 {
    let (x, y) = grid(elements.div_ceil(COARSEN));
    x as u64 * y as u64
}

/// A table for the shaders: a length word, then the entries.
pub fn table(entries: impl IntoIterator<Item = u32>, len: usize) -> Vec<u32> {
    let mut out = Vec::with_capacity(len + 1);
    out.push(len as u32);
    out.extend(entries);
    debug_assert_eq!(out.len(), len + 1);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn coarsening_matches_the_shaders() {
        let common = crate::shader_source::resolved("common.wgsl");
        assert!(common.contains(&format!("const COARSEN: u32 = {}u;", super::COARSEN)));
        assert!(common.contains(&format!("const WORKGROUP: u32 = {}u;", super::WORKGROUP)));
    }

    #[test]
    fn large_dispatches_fold_into_two_dimensions() {
        assert_eq!(super::grid(1), (1, 1));
        assert_eq!(super::grid(256 * 65535), (65535, 1));
        let (x, y) = super::grid(1 << 30);
        assert!(x <= 65535 && x as u64 * y as u64 * 256 >= 1 << 30);
    }
}

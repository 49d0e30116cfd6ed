//! Device-side stage timing with timestamp queries, where the adapter supports them.
//!
//! Every compute pass of a timed stage writes a timestamp at its beginning and end; when the
//! encoder is submitted the queries are resolved, and the elapsed device time is added to the
//! stage. Adapters without timestamp queries report no device times (callers fall back to wall
//! clock and say so).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The pipeline stages that are timed separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Bond evaluation.
    Bonds,
    /// Union-find labelling (init, hook, compress).
    Labels,
    /// Slab merge and wrapping: gathering boundary sites, remapping labels.
    Merge,
    /// Cluster sizes and reductions.
    Stats,
    /// Conjugate-gradient iterations of the Kirchhoff solver.
    Kirchhoff,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 5] = [
        Stage::Bonds,
        Stage::Labels,
        Stage::Merge,
        Stage::Stats,
        Stage::Kirchhoff,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Device seconds per stage since the last reset.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DeviceTimes {
    /// Seconds per stage, indexed like `Stage::ALL`.
    pub seconds: [f64; 5],
}

impl DeviceTimes {
    /// Seconds spent in `stage`.
    pub fn of(&self, stage: Stage) -> f64 {
        self.seconds[stage.index()]
    }
}

/// Timestamps per submission (two per timed pass).
pub const CAPACITY: u32 = 4096;

struct State {
    pending: Vec<(Stage, u32)>,
    next: u32,
    times: DeviceTimes,
}

/// Timestamp queries of one device.
pub struct Timer {
    queries: Option<(wgpu::QuerySet, wgpu::Buffer)>,
    period_ns: f64,
    profiling: AtomicBool,
    state: Mutex<State>,
}

impl Timer {
    /// A timer for `device`; inactive when `enabled` is false.
    pub fn new(device: &wgpu::Device, queue: &wgpu::Queue, enabled: bool) -> Self {
        let queries = enabled.then(|| {
            let set = device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("stage timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: CAPACITY,
            });
            let resolve = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("timestamp resolve"),
                size: CAPACITY as u64 * 8,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            (set, resolve)
        });
        Self {
            queries,
            period_ns: queue.get_timestamp_period() as f64,
            profiling: AtomicBool::new(false),
            state: Mutex::new(State {
                pending: Vec::new(),
                next: 0,
                times: DeviceTimes::default(),
            }),
        }
    }

    /// Whether the adapter can measure device times.
    pub fn supported(&self) -> bool {
        self.queries.is_some()
    }

    /// Turns measuring on or off (off by default: it adds a readback per submission).
    pub fn set_profiling(&self, on: bool) {
        self.profiling
            .store(on && self.supported(), Ordering::Relaxed);
    }

    /// Whether device times are being measured.
    pub fn profiling(&self) -> bool {
        self.profiling.load(Ordering::Relaxed)
    }

    /// Timestamp writes for one pass of `stage` (None when inactive or full until resolved).
    pub fn pass_writes(&self, stage: Stage) -> Option<wgpu::ComputePassTimestampWrites<'_>> {
        if !self.profiling() {
            return None;
        }
        let (set, _) = self.queries.as_ref()?;
        let mut state = self.state.lock().expect("timer state");
        if state.next + 2 > CAPACITY {
            return None;
        }
        let begin = state.next;
        state.next += 2;
        state.pending.push((stage, begin));
        Some(wgpu::ComputePassTimestampWrites {
            query_set: set,
            beginning_of_pass_write_index: Some(begin),
            end_of_pass_write_index: Some(begin + 1),
        })
    }

    /// Encodes the resolution of this encoder's queries into `staging` (returns how many).
    pub fn resolve(&self, encoder: &mut wgpu::CommandEncoder, staging: &wgpu::Buffer) -> u32 {
        let Some((set, resolve)) = self.queries.as_ref().filter(|_| self.profiling()) else {
            return 0;
        };
        let state = self.state.lock().expect("timer state");
        if state.next == 0 {
            return 0;
        }
        encoder.resolve_query_set(set, 0..state.next, resolve, 0);
        encoder.copy_buffer_to_buffer(resolve, 0, staging, 0, state.next as u64 * 8);
        state.next
    }

    /// Adds the resolved timestamps (`ticks`, in query order) to their stages.
    pub fn record(&self, ticks: &[u64]) {
        let mut state = self.state.lock().expect("timer state");
        let pending = std::mem::take(&mut state.pending);
        for (stage, begin) in pending {
            let (b, e) = (ticks[begin as usize], ticks[begin as usize + 1]);
            state.times.seconds[stage.index()] +=
                e.saturating_sub(b) as f64 * self.period_ns * 1e-9;
        }
        state.next = 0;
    }

    /// Device times accumulated since the last call, and a reset.
    pub fn take(&self) -> DeviceTimes {
        std::mem::take(&mut self.state.lock().expect("timer state").times)
    }
}

//! One line of `tunnelgrid bench --json`: per-stage times of the best analysis at one size.
//! The web page's Benchmark writes the same records, so a browser run and a native run compare
//! line by line.

use serde::Serialize;
use tunnelgrid_model::{Engine, Report};

/// `timing` of an engine that measures its device with timestamp queries.
pub const TIMING_DEVICE: &str = "GPU timestamp queries (device) and wall clock";
/// `timing` of an engine timed by wall clock alone.
pub const TIMING_WALL: &str = "wall clock";

/// Time of one stage: wall clock, device time where the engine measures it, and throughput
/// (sites over the device time if any, else over the wall clock).
#[derive(Debug, Serialize, Clone, Copy, Default, PartialEq)]
pub struct StageTime {
    /// Wall-clock seconds.
    pub wall_s: f64,
    /// Device seconds from timestamp queries, where the engine has them.
    pub device_s: Option<f64>,
    /// Millions of sites per second.
    pub msites_per_s: f64,
}

/// The benchmark of one lattice size.
#[derive(Debug, Serialize, Clone, PartialEq)]
pub struct BenchRecord {
    /// Cells per axis.
    pub size: u32,
    /// Sites of the lattice.
    pub sites: u64,
    /// The engine, as the report names it.
    pub engine: String,
    /// How the stages were timed ("wall clock", or with GPU timestamp queries).
    pub timing: String,
    /// Bond evaluation.
    pub bonds: StageTime,
    /// Labelling of both networks.
    pub labels: StageTime,
    /// Slab merges and cluster statistics.
    pub stats: StageTime,
    /// The whole analysis.
    pub whole: StageTime,
}

impl BenchRecord {
    /// The record of `report` (the best of the timed runs) at `size`, with the device times of
    /// bonds, labels, stats and the whole run where the engine measured them.
    pub fn new(size: u32, timing: &str, report: &Report, device: [Option<f64>; 4]) -> Self {
        let sites = report.sites;
        let stage = |wall: f64, device: Option<f64>| StageTime {
            wall_s: wall,
            device_s: device,
            msites_per_s: sites as f64 / device.unwrap_or(wall).max(1e-12) / 1e6,
        };
        let t = report.timings;
        Self {
            size,
            sites,
            engine: report.engine.clone(),
            timing: timing.to_string(),
            bonds: stage(t.bonds_s, device[0]),
            labels: stage(t.tunnel_labels_s + t.sc_labels_s, device[1]),
            stats: stage(t.stats_s, device[2]),
            whole: stage(report.elapsed_s, device[3]),
        }
    }
}

/// The fastest of the timed runs at one size, with the device's stage times of that run.
#[derive(Debug, Default)]
pub struct Fastest {
    best: Option<(Report, [Option<f64>; 4])>,
}

impl Fastest {
    /// Takes run `run` (run 0 is the warm-up and never kept), reading the device times `engine`
    /// measured for it (bonds, labels, stats, whole), and keeps it if it is the fastest so far.
    pub fn offer(&mut self, run: u32, report: Report, engine: &dyn Engine) {
        let device = match engine.take_device_times() {
            Some(t) => [
                Some(t.bonds_s),
                Some(t.labels_s),
                Some(t.stats_s),
                Some(t.total_s),
            ],
            None => [None; 4],
        };
        let better = self
            .best
            .as_ref()
            .is_none_or(|(b, _)| report.elapsed_s < b.elapsed_s);
        if run > 0 && better {
            self.best = Some((report, device));
        }
    }

    /// The record of the fastest run at `size`, if a timed run was offered.
    pub fn record(self, size: u32, timing: &str) -> Option<BenchRecord> {
        self.best
            .map(|(report, device)| BenchRecord::new(size, timing, &report, device))
    }
}

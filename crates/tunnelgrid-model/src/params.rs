//! Everything an engine needs to evaluate bonds at one (P, T, seed): the per-run constants.
//!
//! `BondParams::new` turns a material and conditions into f32/u32 constants on the host (in f64,
//! then rounded once), so the CPU engine and the GPU shaders start from the same bits. The site
//! functions here (`is_present`, `species`, `displacement`) and `BondParams::classify` are the
//! CPU twins of `is_present`, `species_of`, `displacement` and `site_mask` in
//! `shaders/bonds.wgsl`.

use crate::config::{Material, Mode, SpeciesPattern};
use crate::eos;
use crate::hash::{
    draw_succeeds, irwin_hall, probability_threshold, StreamKey, STREAM_BOND, STREAM_DISPLACEMENT,
    STREAM_OCCUPATION, STREAM_SPECIES, STREAM_VACANCY,
};
use crate::lattice::Lattice;

/// The conditions of one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conditions {
    /// Pressure, GPa.
    pub pressure_gpa: f64,
    /// Temperature, K.
    pub temperature_k: f64,
    /// Seed of the site hash.
    pub seed: u64,
    /// Occupation/opening probability of the Bernoulli modes (ignored in tunnel mode).
    pub p: f64,
}

/// The laws of one species pair at the run's pressure, as f32 constants.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PairLaw {
    /// A bond tunnels iff d² ≤ tunnel_d2, where tunnel_d2 = (d_t + δ + β·P)²: the same decision as
    /// d_eff ≤ d_t with d_eff = d − δ − β·P, computed without a square root.
    pub tunnel_d2: f32,
    /// A tunnel superconducts iff d² ≤ sc_d2 = (d_sc + δ + β·P)², or never (−1) when that
    /// distance is not positive.
    pub sc_d2: f32,
    /// δ + β·P, Å.
    pub contraction: f32,
    /// Tunnel distance d_t = r − λ·ln S_t, Å.
    pub tunnel_distance: f32,
    /// Gap-closing distance d_sc = r − λ·ln S_sc, Å.
    pub sc_distance: f32,
    /// Δ0 of the pair, eV.
    pub gap_ev: f32,
}

impl PairLaw {
    /// Lifting energy Δ = Δ0·(d_eff − d_sc)/(d_t − d_sc) of a bond of squared length `d2`, eV.
    /// Positive for a normal tunnel, ≤ 0 for a superconducting bond.
    #[inline(always)]
    pub fn gap_ev(&self, d2: f32) -> f32 {
        let d_eff = d2.sqrt() - self.contraction;
        self.gap_ev * (d_eff - self.sc_distance) / (self.tunnel_distance - self.sc_distance)
    }
}

/// Bit of the bond mask that marks a present site (absent sites have no bonds).
pub const PRESENT_BIT: u32 = 1 << 31;

/// Bond-mask bit of forward bond `k`'s tunnel.
#[inline(always)]
pub const fn tunnel_bit(k: usize) -> u32 {
    1 << (2 * k)
}

/// Bond-mask bit of forward bond `k`'s superconducting flag.
#[inline(always)]
pub const fn sc_bit(k: usize) -> u32 {
    1 << (2 * k + 1)
}

/// Mask of every tunnel bit (even bits below the present bit).
pub const ALL_TUNNEL_BITS: u32 = 0x5555_5555 & !PRESENT_BIT;
/// Mask of every superconducting bit (odd bits below the present bit).
pub const ALL_SC_BITS: u32 = 0xAAAA_AAAA & !PRESENT_BIT;

/// Per-run constants of the bond evaluation.
#[derive(Debug, Clone)]
pub struct BondParams {
    /// Tunnel or Bernoulli mode.
    pub mode: Mode,
    /// Seed of the site hash.
    pub seed: u64,
    /// Cell edge per axis at (P, T), Å.
    pub cell_edge: [f64; 3],
    /// Displacement rms per component, Å.
    pub sigma: f32,
    /// Ideal forward-bond vectors in Å, per basis site and forward bond.
    pub bond_vectors: Vec<Vec<[f32; 3]>>,
    /// A site is a vacancy iff its stream-3 hash is below this.
    pub vacancy_threshold: u64,
    /// Species pattern.
    pub species_pattern: SpeciesPattern,
    /// Number of species.
    pub species_count: u32,
    /// Cumulative thresholds of the random pattern: species s iff hash < `thresholds[s]`.
    pub species_thresholds: [u64; 4],
    /// Laws per species pair (symmetric).
    pub pairs: [[PairLaw; 4]; 4],
    /// Bernoulli probability threshold ⌊p·2^32⌋.
    pub bernoulli_threshold: u64,
    /// Bond resistance at Δ = Δ0 (tunnel mode) or of every open bond (Bernoulli modes), ohm.
    pub r0_ohm: f64,
    /// Hash keys of the streams, mixed once per run.
    pub keys: StreamKeys,
    /// Site occupancy of volume mode (one byte per site), shared with the material.
    pub volume: Option<std::sync::Arc<[u8]>>,
}

/// The hash key of every stream of MODEL.md §4 for one seed.
#[derive(Debug, Clone, Copy)]
pub struct StreamKeys {
    /// Displacement components x, y, z (streams 0..2).
    pub displacement: [StreamKey; 3],
    /// Vacancies (stream 3).
    pub vacancy: StreamKey,
    /// Species (stream 4).
    pub species: StreamKey,
    /// Bernoulli site occupation (stream 5).
    pub occupation: StreamKey,
    /// Bernoulli bond k (stream 6 + k), for the most forward bonds any lattice has.
    pub bond: [StreamKey; MAX_FORWARD_BONDS],
}

/// Most forward bonds of any lattice (fcc: 6, bits 0..11 of the mask).
pub const MAX_FORWARD_BONDS: usize = 6;

impl StreamKeys {
    /// Keys for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            displacement: std::array::from_fn(|k| {
                StreamKey::new(seed, STREAM_DISPLACEMENT + k as u32)
            }),
            vacancy: StreamKey::new(seed, STREAM_VACANCY),
            species: StreamKey::new(seed, STREAM_SPECIES),
            occupation: StreamKey::new(seed, STREAM_OCCUPATION),
            bond: std::array::from_fn(|k| StreamKey::new(seed, STREAM_BOND + k as u32)),
        }
    }
}

/// What a bond is, after classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BondClass {
    /// No tunnel: no bond.
    None,
    /// A normal tunnel with a positive gap.
    Tunnel,
    /// The tunnel overlaps the valence orbital: zero resistance.
    Superconducting,
}

impl BondParams {
    /// Prepares the constants of a run. `material` must be validated.
    pub fn new(material: &Material, lattice: &Lattice, conditions: &Conditions) -> Self {
        let l = &material.lattice;
        let a0 = [l.a0, l.a0, l.a0 * l.c_over_a];
        let cell_edge = eos::cell_edges(
            &material.eos,
            a0,
            conditions.pressure_gpa,
            conditions.temperature_k,
        );
        let bond_vectors = (0..lattice.basis_len())
            .map(|b| {
                lattice
                    .forward_bonds(b)
                    .iter()
                    .map(|f| std::array::from_fn(|i| (f.vector_cells[i] * cell_edge[i]) as f32))
                    .collect()
            })
            .collect();
        let mut species_thresholds = [1u64 << 32; 4];
        let mut cumulative = 0.0;
        for (s, f) in material.species.fractions.iter().enumerate().take(4) {
            cumulative += f;
            species_thresholds[s] = probability_threshold(cumulative);
        }
        if let Some(last) = material.species.fractions.len().checked_sub(1) {
            species_thresholds[last.min(3)] = 1 << 32; // rounding never leaves a gap at the top
        }
        let o = &material.overlap;
        let mut pairs = [[PairLaw::default(); 4]; 4];
        for (p, row) in pairs.iter_mut().enumerate() {
            for (q, law) in row.iter_mut().enumerate() {
                let pair = material.pairs.iter().find(|c| {
                    (c.species[0] as usize, c.species[1] as usize) == (p, q)
                        || (c.species[0] as usize, c.species[1] as usize) == (q, p)
                });
                let r = pair
                    .and_then(|c| c.contact_distance)
                    .unwrap_or(o.contact_distance);
                let gap = pair.and_then(|c| c.gap_ev).unwrap_or(o.gap_ev);
                let contraction = pair.map_or(0.0, |c| {
                    c.attraction + c.compression_bond * conditions.pressure_gpa
                });
                let d_t = r - o.decay_length * o.tunnel_onset.ln();
                let d_sc = r - o.decay_length * o.sc_onset.ln();
                let sc_reach = d_sc + contraction;
                *law = PairLaw {
                    tunnel_d2: ((d_t + contraction).powi(2)) as f32,
                    sc_d2: if sc_reach > 0.0 {
                        sc_reach.powi(2) as f32
                    } else {
                        -1.0
                    },
                    contraction: contraction as f32,
                    tunnel_distance: d_t as f32,
                    sc_distance: d_sc as f32,
                    gap_ev: gap as f32,
                };
            }
        }
        let bernoulli_threshold = probability_threshold(conditions.p);
        Self {
            mode: material.mode,
            seed: conditions.seed,
            cell_edge,
            sigma: eos::displacement_sigma(&material.eos, conditions.temperature_k) as f32,
            bond_vectors,
            vacancy_threshold: probability_threshold(l.vacancy),
            species_pattern: material.species.pattern,
            species_count: material.species.count,
            species_thresholds,
            pairs,
            bernoulli_threshold,
            r0_ohm: o.r0_ohm,
            keys: StreamKeys::new(conditions.seed),
            volume: material.volume.as_ref().map(|v| v.0.clone()),
        }
    }

    /// Whether a site is present: not a vacancy (tunnel mode), occupied (site mode), always
    /// (bond mode), its voxel nonzero (volume mode).
    #[inline(always)]
    pub fn is_present(&self, site: u64) -> bool {
        match self.mode {
            Mode::Tunnel => !draw_succeeds(self.keys.vacancy.hash(site), self.vacancy_threshold),
            Mode::BernoulliSite => {
                draw_succeeds(self.keys.occupation.hash(site), self.bernoulli_threshold)
            }
            Mode::BernoulliBond => true,
            // Model::new checked one byte per site; a missing volume has no sites.
            Mode::Volume => self
                .volume
                .as_ref()
                .is_some_and(|v| v.get(site as usize).is_some_and(|&b| b != 0)),
        }
    }

    /// Whether forward bond `k` of a site is open in bond mode.
    #[inline(always)]
    pub fn bond_open(&self, site: u64, k: usize) -> bool {
        draw_succeeds(self.keys.bond[k].hash(site), self.bernoulli_threshold)
    }

    /// Species of a site at cell `cell`, basis `b`.
    #[inline(always)]
    pub fn species(&self, site: u64, cell: [u32; 3], b: u32) -> usize {
        match self.species_pattern {
            SpeciesPattern::Uniform => 0,
            SpeciesPattern::Alternating => ((cell[0] + cell[1] + cell[2] + b) & 1) as usize,
            SpeciesPattern::Layers => (cell[2] % self.species_count) as usize,
            SpeciesPattern::Random => {
                let h = self.keys.species.hash(site) as u64;
                self.species_thresholds
                    .iter()
                    .position(|&t| h < t)
                    .unwrap_or(0)
            }
        }
    }

    /// Species of a site known by index only: its cell is computed (three divisions) only for the
    /// patterns that depend on it.
    #[inline(always)]
    pub fn species_at(&self, lattice: &Lattice, site: u64) -> usize {
        match self.species_pattern {
            SpeciesPattern::Uniform | SpeciesPattern::Random => self.species(site, [0; 3], 0),
            SpeciesPattern::Alternating | SpeciesPattern::Layers => {
                let (cell, b) = lattice.coords(site);
                self.species(site, cell, b)
            }
        }
    }

    /// Thermal/static displacement of a site, σ(T)·IH per component, Å.
    #[inline(always)]
    pub fn displacement(&self, site: u64) -> [f32; 3] {
        std::array::from_fn(|k| self.sigma * irwin_hall(self.keys.displacement[k], site))
    }

    /// Squared length of a bond with ideal vector `ideal` between sites displaced by `from` and
    /// `to`, in f32 with + and × only, in a fixed order.
    #[inline(always)]
    pub fn bond_length2(ideal: [f32; 3], from: [f32; 3], to: [f32; 3]) -> f32 {
        let dx = ideal[0] + (to[0] - from[0]);
        let dy = ideal[1] + (to[1] - from[1]);
        let dz = ideal[2] + (to[2] - from[2]);
        dx * dx + dy * dy + dz * dz
    }

    /// Classifies a bond of squared length `d2` between species `p` and `q`.
    #[inline(always)]
    pub fn classify(&self, p: usize, q: usize, d2: f32) -> BondClass {
        let law = &self.pairs[p][q];
        if d2 <= law.sc_d2 {
            BondClass::Superconducting
        } else if d2 <= law.tunnel_d2 {
            BondClass::Tunnel
        } else {
            BondClass::None
        }
    }

    /// Whether `d2` lies within MODEL.md §5's tolerance (1e-5 of the threshold squared) of either
    /// decision threshold of pair (p, q): such bonds may differ between engines.
    pub fn near_threshold(&self, p: usize, q: usize, d2: f32) -> bool {
        let law = &self.pairs[p][q];
        let near = |t: f32| t > 0.0 && (d2 - t).abs() <= 1e-5 * t;
        near(law.tunnel_d2) || near(law.sc_d2)
    }
}

//! The two bond networks of a lattice and the totals gathered while evaluating its bonds: what
//! every engine produces from its bond pass (MODEL.md §4, §6).

use crate::params::{ALL_SC_BITS, ALL_TUNNEL_BITS};

/// Which bonds connect sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// Every tunnel, normal or superconducting.
    Tunnel,
    /// Superconducting bonds only.
    Superconducting,
}

impl Network {
    /// The mask bits of this network's bonds.
    pub fn bits(self) -> u32 {
        match self {
            Network::Tunnel => ALL_TUNNEL_BITS,
            Network::Superconducting => ALL_SC_BITS,
        }
    }
}

/// Totals gathered while evaluating the bonds, the same on every engine.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BondTotals {
    /// Present sites.
    pub present_sites: u64,
    /// Bonds that tunnel (normal or superconducting).
    pub tunnel_bonds: u64,
    /// Bonds that superconduct.
    pub sc_bonds: u64,
    /// Sum of the lifting energy Δ over normal tunnels, eV.
    pub gap_sum_ev: f64,
    /// Bonds whose d² lies within MODEL.md §5's tolerance of a threshold.
    pub near_threshold_bonds: u64,
}

impl std::ops::Add for BondTotals {
    type Output = Self;

    /// The totals of two disjoint parts of a lattice (slabs, layers).
    fn add(self, o: Self) -> Self {
        Self {
            present_sites: self.present_sites + o.present_sites,
            tunnel_bonds: self.tunnel_bonds + o.tunnel_bonds,
            sc_bonds: self.sc_bonds + o.sc_bonds,
            gap_sum_ev: self.gap_sum_ev + o.gap_sum_ev,
            near_threshold_bonds: self.near_threshold_bonds + o.near_threshold_bonds,
        }
    }
}

impl BondTotals {
    /// Normal (non-superconducting) tunnels.
    pub fn normal_tunnels(&self) -> u64 {
        self.tunnel_bonds - self.sc_bonds
    }
}

/// A lattice's bond masks (one u32 per site, MODEL.md §2) with the totals of the pass that made
/// them.
#[derive(Debug, Clone)]
pub struct BondMasks {
    /// Bond mask per site.
    pub masks: Vec<u32>,
    /// Totals gathered while evaluating the bonds.
    pub totals: BondTotals,
}

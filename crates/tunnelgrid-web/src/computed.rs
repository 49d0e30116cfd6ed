//! An `Engine` that answers from arrays an analysis already read back, so the heat maps go
//! through `tunnelgrid::fields::Fields` and `picture::field_heatmap` (the code behind
//! `tunnelgrid render`) although the GPU engine's own blocking methods cannot run in the
//! browser.

use tunnelgrid_model::{
    AxisSolution, BondMasks, BondParams, BondTotals, Conditions, Engine, EngineError, Lattice,
    Model, Network, Report, ResistanceOptions,
};

/// Bond masks and both networks' cluster roots of one model at one set of conditions.
pub struct Computed<'a> {
    /// The engine that computed them, for `name`.
    pub name: String,
    /// Bond mask per site.
    pub masks: &'a [u32],
    /// Tunnel network's cluster root per site.
    pub tunnel_roots: &'a [u32],
    /// Superconducting network's cluster root per site.
    pub sc_roots: &'a [u32],
}

impl Computed<'_> {
    fn not_kept(what: &str) -> EngineError {
        EngineError::Unsupported(format!(
            "{what} is not kept for the web page's heat maps; analyse again instead"
        ))
    }
}

impl Engine for Computed<'_> {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn analyze(&self, _model: &Model, _conditions: &Conditions) -> Result<Report, EngineError> {
        Err(Self::not_kept("a report"))
    }

    /// The kept masks (the totals are not needed by the pictures and are not kept).
    fn bond_masks(
        &self,
        _model: &Model,
        _conditions: &Conditions,
    ) -> Result<BondMasks, EngineError> {
        Ok(BondMasks {
            masks: self.masks.to_vec(),
            totals: BondTotals::default(),
        })
    }

    fn cluster_roots(
        &self,
        _model: &Model,
        _conditions: &Conditions,
        _masks: &[u32],
        network: Network,
    ) -> Result<Vec<u32>, EngineError> {
        Ok(match network {
            Network::Tunnel => self.tunnel_roots.to_vec(),
            Network::Superconducting => self.sc_roots.to_vec(),
        })
    }

    fn axis_resistance(
        &self,
        _lattice: &Lattice,
        _params: &BondParams,
        _masks: &[u32],
        _sc_roots: Option<&[u32]>,
        _axis: usize,
        _options: &ResistanceOptions,
        _progress: &mut dyn FnMut(usize, f64),
    ) -> Result<AxisSolution, EngineError> {
        Err(EngineError::Unsupported(
            "the resistance is not computed in the browser; use the tunnelgrid binary".into(),
        ))
    }

    fn solver_name(&self, _options: &ResistanceOptions) -> String {
        String::new()
    }
}

//! The binomial convolution of Newman & Ziff: weights B(N, n, p) that turn a sweep's
//! microcanonical R_n into the canonical R(p).

/// Binomial weights B(N, n, p) for n in `start..start + weights.len()`, the range outside which
/// they are below 1e-18 of the mode (Newman & Ziff's convolution).
#[derive(Debug, Clone)]
pub struct BinomialWeights {
    /// First n with a stored weight.
    pub start: u32,
    /// B(N, start + i, p).
    pub weights: Vec<f64>,
}

impl BinomialWeights {
    /// The weights of Binomial(N, p), computed outward from the mode by the ratio recurrence and
    /// normalised to sum 1.
    pub fn new(n_total: u32, p: f64) -> Self {
        let p = p.clamp(0.0, 1.0);
        if p == 0.0 || p == 1.0 {
            let n = if p == 0.0 { 0 } else { n_total };
            return Self {
                start: n,
                weights: vec![1.0],
            };
        }
        let total = n_total as f64;
        let mode = ((total + 1.0) * p).floor().min(total) as u32;
        let ratio = p / (1.0 - p);
        let mut up = vec![1.0f64];
        let mut n = mode;
        while n < n_total {
            let next = up[up.len() - 1] * (total - n as f64) / (n as f64 + 1.0) * ratio;
            if next < 1e-18 {
                break;
            }
            up.push(next);
            n += 1;
        }
        let mut down = Vec::new();
        let mut w = 1.0f64;
        let mut n = mode;
        while n > 0 {
            w *= n as f64 / (total - n as f64 + 1.0) / ratio;
            if w < 1e-18 {
                break;
            }
            down.push(w);
            n -= 1;
        }
        let start = mode - down.len() as u32;
        let mut weights: Vec<f64> = down.into_iter().rev().chain(up).collect();
        let sum: f64 = weights.iter().sum();
        weights.iter_mut().for_each(|w| *w /= sum);
        Self { start, weights }
    }

    /// P(X ≥ n) for X ~ Binomial(N, p).
    pub fn tail(&self, n: u32) -> f64 {
        if n <= self.start {
            return 1.0;
        }
        let i = (n - self.start) as usize;
        if i >= self.weights.len() {
            return 0.0;
        }
        self.weights[i..].iter().sum()
    }

    /// Suffix sums, so that `tails[i]` = P(X ≥ start + i); for many tail queries at one p.
    pub fn tails(&self) -> Vec<f64> {
        let mut tails = vec![0.0; self.weights.len() + 1];
        for i in (0..self.weights.len()).rev() {
            tails[i] = tails[i + 1] + self.weights[i];
        }
        tails
    }

    pub(super) fn weight(&self, n: u32) -> f64 {
        n.checked_sub(self.start)
            .and_then(|i| self.weights.get(i as usize))
            .copied()
            .unwrap_or(0.0)
    }
}

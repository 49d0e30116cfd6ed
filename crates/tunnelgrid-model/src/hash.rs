//! The one source of randomness (MODEL.md §4): a counter-based hash of (seed, site, stream).
//!
//! Nothing random is stored anywhere: every engine recomputes draws from the site index, so the
//! same seed gives the same lattice on every engine, slab decomposition and GPU. The hash is
//! murmur3's 32-bit block mix and finaliser over five words (seed lo/hi, site lo/hi, stream),
//! chosen because it needs only u32 multiply, xor, rotate and shift, which WGSL has
//! (`site_hash`, `fmix32` and `irwin_hall` in `shaders/common.wgsl` are the twins of this file).

/// Stream of displacement component 0 (x); components 1 and 2 use streams 1 and 2.
pub const STREAM_DISPLACEMENT: u32 = 0;
/// Stream deciding whether a site is a vacancy.
pub const STREAM_VACANCY: u32 = 3;
/// Stream choosing the species of a site under the `random` pattern.
pub const STREAM_SPECIES: u32 = 4;
/// Stream of Bernoulli site occupation.
pub const STREAM_OCCUPATION: u32 = 5;
/// First stream of Bernoulli bond opening; forward bond `k` uses `STREAM_BOND + k`.
pub const STREAM_BOND: u32 = 6;
/// First of the two streams that shuffle the occupation order of a Newman–Ziff sweep (research
/// mode); far above the bond streams (6 + k, k < 6) so they never collide.
pub const STREAM_SWEEP_ORDER: u32 = 0x100;

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

#[inline(always)]
fn mix_block(h: u32, k: u32) -> u32 {
    let k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    (h ^ k)
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

/// murmur3's finaliser: full avalanche of a 32-bit word.
#[inline(always)]
pub fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

/// `h(seed, site, stream)`: the hash every random decision of the model is drawn from.
///
/// The words are mixed in the order seed lo, seed hi, stream, site hi, site lo, so that the
/// first three blocks are the same for every site of a run and `StreamKey` can mix them once.
#[inline(always)]
pub fn site_hash(seed: u64, site: u64, stream: u32) -> u32 {
    StreamKey::new(seed, stream).hash(site)
}

/// The part of `site_hash` that depends only on (seed, stream), mixed once per run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamKey(u32);

impl StreamKey {
    /// Mixes the seed and the stream.
    #[inline(always)]
    pub fn new(seed: u64, stream: u32) -> Self {
        let mut h = 0x7475_6e6e; // "tunn": a fixed, non-zero initial state
        h = mix_block(h, seed as u32);
        h = mix_block(h, (seed >> 32) as u32);
        Self(mix_block(h, stream))
    }

    /// The mixed prefix (what the GPU receives as a uniform).
    pub fn prefix(self) -> u32 {
        self.0
    }

    /// The state after also mixing a zero high site word: what `shaders/common.wgsl`'s
    /// `site_hash` starts from, since the GPU engine addresses fewer than 2^32 sites.
    pub fn low_word_key(self) -> u32 {
        mix_block(self.0, 0)
    }

    /// `site_hash(seed, site, stream)` for this key's seed and stream.
    #[inline(always)]
    pub fn hash(self, site: u64) -> u32 {
        let h = mix_block(self.0, (site >> 32) as u32);
        fmix32(mix_block(h, site as u32) ^ 20)
    }
}

/// The u32 threshold that a probability `p` in [0, 1] is compared against: a draw `h` succeeds
/// iff `h < threshold` (MODEL.md §5: ⌊p·2^32⌋). Returned as u64 so that p = 1 always succeeds.
pub fn probability_threshold(p: f64) -> u64 {
    let p = p.clamp(0.0, 1.0);
    ((p * 4_294_967_296.0).floor() as u64).min(1 << 32)
}

/// Whether a draw `h` succeeds against `probability_threshold(p)`.
#[inline(always)]
pub fn draw_succeeds(h: u32, threshold: u64) -> bool {
    (h as u64) < threshold
}

/// √3 / 65536: scales a centred sum of four 16-bit uniforms to unit variance.
const IRWIN_HALL_SCALE: f32 = 1.732_050_8 / 65536.0;

/// Irwin–Hall sum of four uniforms, shifted and scaled to mean 0 and variance 1 (MODEL.md §3).
///
/// The four uniforms are the 16-bit halves of `key.hash(site)` and of one more
/// finaliser round of it. They are summed as integers (exact), centred with an integer subtraction
/// (exact: the mean of four (k + ½)/65536 uniforms is 131070 + 2 in units of 1/65536) and converted
/// with one multiplication, so every engine gets the same f32 bit for bit.
#[inline(always)]
pub fn irwin_hall(key: StreamKey, site: u64) -> f32 {
    let first = key.hash(site);
    let second = fmix32(first.wrapping_add(0x9e37_79b9));
    let sum = (first & 0xffff) + (first >> 16) + (second & 0xffff) + (second >> 16);
    (sum as i32 - 131_070) as f32 * IRWIN_HALL_SCALE
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINNED: [u32; 3] = [0x3f77_cf87, 0x717e_f9de, 0x9972_9546];

    #[test]
    fn streams_and_sites_give_different_draws() {
        let a = site_hash(1, 0, 0);
        assert_ne!(a, site_hash(1, 0, 1));
        assert_ne!(a, site_hash(1, 1, 0));
        assert_ne!(a, site_hash(2, 0, 0));
        assert_ne!(a, site_hash(1 << 32, 0, 0));
        assert_ne!(a, site_hash(1, 1 << 32, 0));
    }

    /// Pinned values: any change to the hash changes every lattice, and the WGSL twin must
    /// reproduce exactly these.
    #[test]
    fn hash_values_are_pinned() {
        let got: Vec<u32> = [(0, 0, 0), (1, 2, 3), (u64::MAX, 1 << 33, 9)]
            .iter()
            .map(|&(seed, site, stream)| site_hash(seed, site, stream))
            .collect();
        assert_eq!(got, PINNED.to_vec(), "{got:x?}");
    }

    #[test]
    fn hash_is_uniform_enough() {
        // Mean of the top bit and a chi-square over 16 bins on 2^16 draws.
        let n = 1 << 16;
        let mut bins = [0u32; 16];
        for i in 0..n {
            bins[(site_hash(7, i, 5) >> 28) as usize] += 1;
        }
        let expected = n as f64 / 16.0;
        let chi2: f64 = bins
            .iter()
            .map(|&b| (b as f64 - expected).powi(2) / expected)
            .sum();
        // 15 degrees of freedom: p = 0.001 at chi² = 37.7.
        assert!(chi2 < 37.7, "chi2 = {chi2}");
    }

    #[test]
    fn irwin_hall_has_mean_zero_and_unit_variance() {
        let n = 200_000u64;
        let (mut s, mut s2) = (0.0f64, 0.0f64);
        for i in 0..n {
            let v = irwin_hall(StreamKey::new(3, 1), i) as f64;
            s += v;
            s2 += v * v;
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "variance {var}");
        // Bounded support: |IH| ≤ 2·√3.
        assert!((0..1000).all(|i| irwin_hall(StreamKey::new(9, 2), i).abs() <= 3.4642));
    }

    #[test]
    fn probability_threshold_edges() {
        assert_eq!(probability_threshold(0.0), 0);
        assert_eq!(probability_threshold(1.0), 1 << 32);
        assert_eq!(probability_threshold(0.5), 1 << 31);
        assert!(draw_succeeds(u32::MAX, probability_threshold(1.0)));
        assert!(!draw_succeeds(0, probability_threshold(0.0)));
    }
}

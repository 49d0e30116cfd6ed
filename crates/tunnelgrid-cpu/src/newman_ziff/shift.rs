//! Periodic image shifts of the sweep's union-find, in two widths.
//!
//! A non-root site stores the image shift to its parent (the convention of
//! [`crate::wrap::ShiftForest`]); a root stores no shift (its own is zero) and keeps its
//! cluster's face-touch bits in the same word instead. [`Packed`] holds the three shifts as i8
//! lanes of one u32, so that a site's whole state (parent-or-size and this word) is 8 bytes, one
//! cache access. The shifts of a cluster that has not wrapped an axis are differences of the
//! sites' image numbers, which stay in a few units in practice but are bounded only by the
//! cluster's extent; every operation therefore reports the lanes whose result left the i8 range,
//! and a sweep that sees such an overflow on an axis whose wrapping it still waits for reruns the
//! sample with [`Wide`] (i32) shifts, which cannot overflow below 2^31 sites. Results are exact
//! either way; the wide rerun only costs time.

/// Image shifts per axis, plus the face bits a root keeps.
pub(super) trait Shift: Copy + Send + Sync + 'static {
    /// No shift.
    const ZERO: Self;
    /// A root's word: zero shift and the cluster's face bits.
    fn root(faces: u8) -> Self;
    /// The face bits of a root's word.
    fn faces(self) -> u8;
    /// A bond's periodic crossings.
    fn crossing(c: [i8; 3]) -> Self;
    /// Lane-wise sum, and a bit per axis whose result does not fit.
    fn add(self, other: Self) -> (Self, u8);
    /// Lane-wise difference, and a bit per axis whose result does not fit.
    fn sub(self, other: Self) -> (Self, u8);
    /// Bit i set where the shift along axis i is non-zero.
    fn nonzero(self) -> u8;
}

/// Three i8 lanes (bytes 0–2) and, in roots, the face bits (byte 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Packed(u32);

const LANES: u32 = 0x00ff_ffff;
const SIGNS: u32 = 0x0080_8080;

/// Bits 7, 15, 23 (the lanes' sign positions) → bits 0, 1, 2.
#[inline(always)]
fn lane_bits(signs: u32) -> u8 {
    (((signs >> 7) & 1) | ((signs >> 14) & 2) | ((signs >> 21) & 4)) as u8
}

impl Shift for Packed {
    const ZERO: Self = Packed(0);

    #[inline(always)]
    fn root(faces: u8) -> Self {
        Packed((faces as u32) << 24)
    }

    #[inline(always)]
    fn faces(self) -> u8 {
        (self.0 >> 24) as u8
    }

    #[inline(always)]
    fn crossing(c: [i8; 3]) -> Self {
        Packed(u32::from_le_bytes([c[0] as u8, c[1] as u8, c[2] as u8, 0]))
    }

    /// SWAR addition: the low seven bits of each lane add without carrying into the next lane,
    /// the sign bits are added by xor; a lane overflows when both operands have the same sign
    /// and the result's differs.
    #[inline(always)]
    fn add(self, other: Self) -> (Self, u8) {
        let (a, b) = (self.0 & LANES, other.0 & LANES);
        let r = ((a & !SIGNS & LANES) + (b & !SIGNS & LANES)) ^ ((a ^ b) & SIGNS);
        let overflow = !(a ^ b) & (a ^ r) & SIGNS;
        (Packed(r), lane_bits(overflow))
    }

    /// SWAR subtraction: each lane borrows from its own set sign bit, never from the next lane;
    /// a lane overflows when the operands' signs differ and the result's differs from a's.
    #[inline(always)]
    fn sub(self, other: Self) -> (Self, u8) {
        let (a, b) = (self.0 & LANES, other.0 & LANES);
        let r = ((a | SIGNS) - (b & !SIGNS & LANES)) ^ ((a ^ !b) & SIGNS);
        let overflow = (a ^ b) & (a ^ r) & SIGNS;
        (Packed(r & LANES), lane_bits(overflow))
    }

    #[inline(always)]
    fn nonzero(self) -> u8 {
        let b = self.0.to_le_bytes();
        u8::from(b[0] != 0) | (u8::from(b[1] != 0) << 1) | (u8::from(b[2] != 0) << 2)
    }
}

/// Three i32 lanes and the face bits: 16 bytes a site, for the rare rerun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Wide {
    lanes: [i32; 3],
    faces: u8,
}

impl Shift for Wide {
    const ZERO: Self = Wide {
        lanes: [0; 3],
        faces: 0,
    };

    #[inline(always)]
    fn root(faces: u8) -> Self {
        Wide {
            lanes: [0; 3],
            faces,
        }
    }

    #[inline(always)]
    fn faces(self) -> u8 {
        self.faces
    }

    #[inline(always)]
    fn crossing(c: [i8; 3]) -> Self {
        Wide {
            lanes: c.map(i32::from),
            faces: 0,
        }
    }

    /// Shifts are differences of image numbers of sites of one cluster, so below 2^31 sites
    /// they fit in i32: no overflow to report.
    #[inline(always)]
    fn add(self, other: Self) -> (Self, u8) {
        let lanes = std::array::from_fn(|i| self.lanes[i].wrapping_add(other.lanes[i]));
        (Wide { lanes, faces: 0 }, 0)
    }

    #[inline(always)]
    fn sub(self, other: Self) -> (Self, u8) {
        let lanes = std::array::from_fn(|i| self.lanes[i].wrapping_sub(other.lanes[i]));
        (Wide { lanes, faces: 0 }, 0)
    }

    #[inline(always)]
    fn nonzero(self) -> u8 {
        (0..3).fold(0, |m, i| m | (u8::from(self.lanes[i] != 0) << i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lanes(p: Packed) -> [i32; 3] {
        let b = p.0.to_le_bytes();
        [b[0] as i8 as i32, b[1] as i8 as i32, b[2] as i8 as i32]
    }

    /// Every packed operation against i32 arithmetic, with overflow exactly where the i32 result
    /// leaves [−128, 127].
    #[test]
    fn packed_lanes_match_wide_arithmetic() {
        let values = [-128i8, -127, -100, -2, -1, 0, 1, 2, 63, 64, 126, 127];
        for &a0 in &values {
            for &b0 in &values {
                for (a1, b1) in [(a0, b0), (b0, a0), (-1, 1), (127, 127)] {
                    let a = Packed::crossing([a0, a1, -a0.max(-127)]);
                    let b = Packed::crossing([b0, b1, 5]);
                    let (wa, wb) = (lanes(a), lanes(b));
                    for (op, (got, overflow)) in [("+", a.add(b)), ("-", a.sub(b))] {
                        let want: [i32; 3] = std::array::from_fn(|i| {
                            if op == "+" {
                                wa[i] + wb[i]
                            } else {
                                wa[i] - wb[i]
                            }
                        });
                        let want_overflow = (0..3).fold(0u8, |m, i| {
                            m | (u8::from(want[i] != want[i] as i8 as i32) << i)
                        });
                        assert_eq!(overflow, want_overflow, "{wa:?} {op} {wb:?}");
                        let wrapped = want.map(|v| v as i8 as i32);
                        assert_eq!(lanes(got), wrapped, "{wa:?} {op} {wb:?}");
                        let nonzero = (0..3).fold(0u8, |m, i| m | (u8::from(wrapped[i] != 0) << i));
                        assert_eq!(got.nonzero(), nonzero);
                        assert_eq!(got.faces(), 0);
                    }
                }
            }
        }
        let root = Packed::root(0b10_0110);
        assert_eq!(root.faces(), 0b10_0110);
        assert_eq!(root.nonzero(), 0);
    }
}

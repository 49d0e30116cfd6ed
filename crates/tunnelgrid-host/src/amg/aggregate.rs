//! Aggregation: the nodes of a level are grouped into small connected aggregates, each of which
//! becomes one node of the next level (Vaněk, Mandel & Brezina, Computing 56, 179 (1996); the
//! three passes of pyamg's `standard_aggregation`).
//!
//! 1. Every node whose strong neighbours are all still free starts an aggregate with them (its
//!    "star"); a node with no strong neighbour at all is an aggregate of its own.
//! 2. Every node still free joins the aggregate of a strong neighbour that pass 1 placed (the
//!    first in row order).
//! 3. What is left starts aggregates with its still-free strong neighbours.
//!
//! The passes run in node order, so the aggregates are the same bits on every run.

use super::Laplacian;

/// Not yet in an aggregate.
const FREE: u32 = u32::MAX;

/// Whether entry k of row i couples i strongly to its column: |c| ≥ θ·√(d_i·d_j). θ = 0
/// (pyamg's default for smoothed aggregation) makes every coupling strong.
#[inline(always)]
fn strong(a: &Laplacian, i: usize, k: usize, theta: f64) -> bool {
    let c = a.conductances[k];
    let j = a.columns[k] as usize;
    c != 0.0 && j != i && c.abs() >= theta * (a.diagonal[i] * a.diagonal[j]).abs().sqrt()
}

/// The aggregate of every node, numbered 0.. in order of creation, and their number.
pub fn aggregate(a: &Laplacian, theta: f64) -> (Vec<u32>, usize) {
    let n = a.len();
    let mut of = vec![FREE; n];
    let mut count = 0u32;
    let neighbours = |i: usize| {
        (a.row_start[i]..a.row_start[i + 1])
            .filter(move |&k| strong(a, i, k, theta))
            .map(|k| a.columns[k] as usize)
    };
    // Pass 1: stars of free nodes.
    for i in 0..n {
        if of[i] != FREE || neighbours(i).any(|j| of[j] != FREE) {
            continue;
        }
        of[i] = count;
        for j in neighbours(i) {
            of[j] = count;
        }
        count += 1;
    }
    // Pass 2: join a neighbouring aggregate of pass 1 (not one joined in this pass, so
    // aggregates do not creep along chains).
    let placed = of.clone();
    for i in 0..n {
        if of[i] == FREE {
            if let Some(j) = neighbours(i).find(|&j| placed[j] != FREE) {
                of[i] = placed[j];
            }
        }
    }
    // Pass 3: what is left.
    for i in 0..n {
        if of[i] != FREE {
            continue;
        }
        of[i] = count;
        for j in neighbours(i) {
            if of[j] == FREE {
                of[j] = count;
            }
        }
        count += 1;
    }
    (of, count as usize)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::grid;
    use super::*;

    #[test]
    fn every_node_lies_in_one_connected_aggregate() {
        let a = grid(17, 13);
        let (of, count) = aggregate(&a, 0.0);
        assert!(of.iter().all(|&g| (g as usize) < count));
        // Stars of 5 in 2D: about a fifth as many aggregates as nodes, and none empty.
        assert!(
            count * 3 < a.len() && count * 8 > a.len(),
            "{count} of {}",
            a.len()
        );
        let mut sizes = vec![0usize; count];
        for &g in &of {
            sizes[g as usize] += 1;
        }
        assert!(sizes.iter().all(|&s| s > 0));
        // Connected: a flood fill inside each aggregate reaches all its nodes.
        for g in 0..count as u32 {
            let members: Vec<usize> = (0..a.len()).filter(|&i| of[i] == g).collect();
            let mut seen = vec![members[0]];
            let mut k = 0;
            while k < seen.len() {
                let i = seen[k];
                for e in a.row_start[i]..a.row_start[i + 1] {
                    let j = a.columns[e] as usize;
                    if of[j] == g && !seen.contains(&j) {
                        seen.push(j);
                    }
                }
                k += 1;
            }
            assert_eq!(seen.len(), members.len(), "aggregate {g} is not connected");
        }
    }

    #[test]
    fn weak_couplings_are_not_followed_and_isolated_nodes_stand_alone() {
        // Nodes 0–1 strongly coupled, 1–2 weakly (1e-6 of the diagonal), 3 isolated.
        let a = Laplacian {
            diagonal: vec![1.0, 1.0, 1.0, 1.0],
            row_start: vec![0, 1, 3, 4, 4],
            columns: vec![1, 0, 2, 1],
            conductances: vec![0.9, 0.9, 1e-6, 1e-6],
        };
        let (of, count) = aggregate(&a, 0.1);
        assert_eq!(count, 3);
        assert_eq!(of[0], of[1]);
        assert_ne!(of[1], of[2]);
        assert_ne!(of[3], of[2]);
        // With θ = 0 every coupling is strong: node 0's star takes 1, and 2 joins it.
        let (of, _) = aggregate(&a, 0.0);
        assert_eq!((of[0], of[1], of[2]), (0, 0, 0));
    }
}

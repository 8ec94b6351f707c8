//! The divide-and-conquer product's leaves as a flat task list, so the
//! schedulers, traces and sweeps apply to it like to any other workload.

use super::{Matrix, check_sizes, matmul_serial};
use crate::engine::exec::gil::TaskEnv;
use crate::engine::workloads::{Mismatch, TaskWorkload, WorkloadError};

/// The recursion's leaf products as a flat task list, so the schedulers,
/// traces and sweeps apply: task t is the product A(i,k)·B(k,j) of
/// cutoff-sized blocks, numbered in the recursion's order (base-8 digits
/// from the top level: C₁₁, C₁₂, C₂₁, C₂₂, T₁₁, T₁₂, T₂₁, T₂₂), and
/// `combine` adds each block's k-products with the recursion's ADD tree.
#[derive(Clone, Debug)]
pub struct MatmulLeaves {
    pub a: Matrix,
    pub b: Matrix,
    pub cutoff: usize,
}

/// Largest memory the leaf outputs may take together.
pub const MAX_LEAF_BYTES: usize = 1 << 30;

impl MatmulLeaves {
    pub fn new(n: usize, cutoff: usize, seed: u64) -> Result<Self, WorkloadError> {
        check_sizes(n, cutoff)?;
        let bytes = (n / cutoff) * n * n * 8;
        if bytes > MAX_LEAF_BYTES {
            return Err(WorkloadError::MatmulMemory { mib: bytes >> 20 });
        }
        Ok(MatmulLeaves {
            a: Matrix::random_small_ints(n, seed),
            b: Matrix::random_small_ints(n, seed.wrapping_add(1)),
            cutoff,
        })
    }

    fn blocks(&self) -> usize {
        self.a.n / self.cutoff
    }

    /// Block coordinates (i, j, k) of leaf task `t`.
    pub fn leaf_coords(&self, t: usize) -> (usize, usize, usize) {
        let depth = self.blocks().trailing_zeros();
        let (mut i, mut j, mut k) = (0, 0, 0);
        for level in (0..depth).rev() {
            let digit = (t >> (3 * level)) & 7;
            i = i * 2 + ((digit >> 1) & 1);
            j = j * 2 + (digit & 1);
            k = k * 2 + (digit >> 2);
        }
        (i, j, k)
    }

    fn task_index(&self, i: usize, j: usize, k: usize) -> usize {
        let depth = self.blocks().trailing_zeros();
        let mut t = 0;
        for level in (0..depth).rev() {
            let digit = (((i >> level) & 1) << 1) | ((j >> level) & 1) | (((k >> level) & 1) << 2);
            t = t * 8 + digit;
        }
        t
    }
}

impl TaskWorkload for MatmulLeaves {
    /// One cutoff×cutoff block product, row-major.
    type Output = Vec<f64>;
    type Result = Matrix;

    fn name(&self) -> &'static str {
        "matmul"
    }
    fn task_label(&self) -> &'static str {
        "leaf"
    }
    fn work_unit(&self) -> &'static str {
        "multiply-adds"
    }
    fn num_tasks(&self) -> usize {
        self.blocks().pow(3)
    }
    fn run_task(&self, t: usize, env: &TaskEnv) -> (Vec<f64>, u64) {
        let (bi, bj, bk) = self.leaf_coords(t);
        let (n, c) = (self.a.n, self.cutoff);
        let block = env.compute(t, || {
            let mut out = vec![0.0; c * c];
            for i in 0..c {
                let row = &mut out[i * c..(i + 1) * c];
                for k in 0..c {
                    let aik = self.a.data[(bi * c + i) * n + bk * c + k];
                    let brow = (bk * c + k) * n + bj * c;
                    for (o, bv) in row.iter_mut().zip(&self.b.data[brow..brow + c]) {
                        *o += aik * bv;
                    }
                }
            }
            out
        });
        (block, (c * c * c) as u64)
    }
    fn combine(&self, leaves: Vec<Vec<f64>>) -> Matrix {
        let (n, c, nb) = (self.a.n, self.cutoff, self.blocks());
        // The ADD tree: sum over k of [lo, hi) = sum of the halves.
        let sum = |i: usize, j: usize| -> Vec<f64> {
            fn tree(
                w: &MatmulLeaves,
                leaves: &[Vec<f64>],
                i: usize,
                j: usize,
                lo: usize,
                hi: usize,
            ) -> Vec<f64> {
                if hi - lo == 1 {
                    return leaves[w.task_index(i, j, lo)].clone();
                }
                let mid = (lo + hi) / 2;
                let mut left = tree(w, leaves, i, j, lo, mid);
                let right = tree(w, leaves, i, j, mid, hi);
                for (l, r) in left.iter_mut().zip(&right) {
                    *l += r;
                }
                left
            }
            tree(self, &leaves, i, j, 0, nb)
        };
        let mut data = vec![0.0; n * n];
        for bi in 0..nb {
            for bj in 0..nb {
                let block = sum(bi, bj);
                for r in 0..c {
                    let row = (bi * c + r) * n + bj * c;
                    data[row..row + c].copy_from_slice(&block[r * c..(r + 1) * c]);
                }
            }
        }
        Matrix { n, data }
    }
    fn serial(&self) -> Matrix {
        matmul_serial(&self.a, &self.b)
    }
    fn results_agree(&self, parallel: &Matrix, serial: &Matrix) -> Result<(), Mismatch> {
        if parallel == serial {
            return Ok(());
        }
        let at = parallel
            .data
            .iter()
            .zip(&serial.data)
            .position(|(p, s)| p != s);
        Err(Mismatch::Matmul { first: at })
    }
    fn summarise(&self, m: &Matrix) -> String {
        let trace: f64 = (0..m.n).map(|i| m.data[i * m.n + i]).sum();
        format!(
            "{n}×{n} product of small-integer matrices, {} leaf products of {c}×{c}, trace {trace}",
            self.num_tasks(),
            n = m.n,
            c = self.cutoff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::workloads::test_util::check_all_schedules;

    #[test]
    fn leaves_as_tasks_equal_serial_for_every_schedule() {
        check_all_schedules(&MatmulLeaves::new(32, 8, 4).expect("valid"));
        check_all_schedules(&MatmulLeaves::new(8, 8, 4).expect("valid"));
    }

    #[test]
    fn leaf_numbering_round_trips() {
        let w = MatmulLeaves::new(32, 4, 1).expect("valid");
        let mut seen = std::collections::HashSet::new();
        for t in 0..w.num_tasks() {
            let (i, j, k) = w.leaf_coords(t);
            assert_eq!(w.task_index(i, j, k), t);
            assert!(seen.insert((i, j, k)));
        }
        // The first eight leaves are the top level's eight products in order.
        let w = MatmulLeaves::new(16, 8, 1).expect("valid");
        let order: Vec<_> = (0..8).map(|t| w.leaf_coords(t)).collect();
        assert_eq!(
            order,
            vec![
                (0, 0, 0),
                (0, 1, 0),
                (1, 0, 0),
                (1, 1, 0),
                (0, 0, 1),
                (0, 1, 1),
                (1, 0, 1),
                (1, 1, 1)
            ]
        );
    }
}

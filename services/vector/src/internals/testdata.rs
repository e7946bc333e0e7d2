//! Deterministic generated data for the recall test and the benchmark: a tiny pseudo-random
//! generator and clustered vectors with low intrinsic dimension. Not part of the service.

/// A linear congruential generator: deterministic, with no dependency on test order.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next value, uniform in [-1, 1).
    pub fn next_f32(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    /// A vector of `dimension` values in [-1, 1).
    pub fn vector(&mut self, dimension: usize) -> Vec<f32> {
        (0..dimension).map(|_| self.next_f32()).collect()
    }
}

/// Clustered data with low intrinsic dimension, like real embeddings: each cluster has a centre
/// and its own random 8-dimensional subspace the points spread in, plus a little isotropic
/// noise. (Isotropic noise alone in many dimensions makes all points of a cluster nearly
/// equidistant, and "nearest" meaningless.) The clusters depend only on `clusters` and
/// `dimension`, so data and queries drawn with different seeds share them.
pub fn clustered(points: usize, clusters: usize, dimension: usize, seed: u64) -> Vec<Vec<f32>> {
    const LATENT: usize = 8;
    let mut rng = Lcg(seed);
    let mut structure = Lcg(7);
    let centres: Vec<Vec<f32>> = (0..clusters).map(|_| structure.vector(dimension)).collect();
    let bases: Vec<Vec<Vec<f32>>> = (0..clusters)
        .map(|_| {
            (0..LATENT)
                .map(|_| {
                    structure
                        .vector(dimension)
                        .iter()
                        .map(|x| x * 0.25)
                        .collect()
                })
                .collect()
        })
        .collect();
    (0..points)
        .map(|i| {
            let c = i % clusters;
            let z = rng.vector(LATENT);
            (0..dimension)
                .map(|d| {
                    centres[c][d]
                        + (0..LATENT).map(|l| z[l] * bases[c][l][d]).sum::<f32>()
                        + 0.02 * rng.next_f32()
                })
                .collect()
        })
        .collect()
}

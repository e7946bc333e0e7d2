//! The contract's distance metrics and their exact arithmetic: how a vector is prepared for a
//! metric (unit length for cosine), and the `(score, distance)` pair the API reports. Every engine
//! scores the same way with these, and the in-memory index measures with the same kernels.
//!
//! The kernels are hand-written lane loops rather than a BLAS or SIMD crate: sixteen independent
//! lanes let the compiler vectorise them, and on x86-64 the AVX2 build of the same code is chosen
//! at run time, which measured faster than scalar code with no dependency added.

/// How closeness is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// 1 - cosine similarity.
    Cosine,
    /// Euclidean distance.
    L2,
    /// Inner product (larger is closer).
    Dot,
}

impl Metric {
    /// The vector as the index stores it (unit length for cosine).
    pub fn prepare(self, vector: &[f32]) -> Vec<f32> {
        match self {
            Metric::Cosine => {
                let norm = dot(vector, vector).sqrt();
                vector.iter().map(|x| x / norm).collect()
            }
            Metric::L2 | Metric::Dot => vector.to_vec(),
        }
    }

    /// Exact `(score, distance)` between two prepared vectors, as the API reports them.
    pub fn score_and_distance(self, a: &[f32], b: &[f32]) -> (f32, f32) {
        match self {
            Metric::Cosine => {
                let cos = dot(a, b).clamp(-1.0, 1.0);
                (cos, 1.0 - cos)
            }
            Metric::L2 => {
                let d = l2(a, b);
                (-d, d)
            }
            Metric::Dot => {
                let d = dot(a, b);
                (d, -d)
            }
        }
    }
}

/// Sum of products. On x86-64 with AVX2 the same lane code is compiled for 256-bit registers
/// (chosen at run time); elsewhere it is compiled for the baseline target.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { dot_avx2(a, b) };
    }
    dot_lanes(a, b)
}

pub(crate) fn l2(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { l2_avx2(a, b) }.sqrt();
    }
    l2_squared_lanes(a, b).sqrt()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    dot_lanes(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn l2_avx2(a: &[f32], b: &[f32]) -> f32 {
    l2_squared_lanes(a, b)
}

/// Sixteen independent lanes: wide enough to fill two vector registers, with no dependency
/// between consecutive additions, so the compiler vectorises the loop.
#[inline(always)]
fn dot_lanes(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..16 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[inline(always)]
fn l2_squared_lanes(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..16 {
            let d = x[i] - y[i];
            lanes[i] += d * d;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_scores_follow_the_documented_conventions() {
        let a = Metric::Cosine.prepare(&[3.0, 4.0]);
        let b = Metric::Cosine.prepare(&[4.0, 3.0]);
        let (score, distance) = Metric::Cosine.score_and_distance(&a, &b);
        assert!((score - 0.96).abs() < 1e-6 && (distance - 0.04).abs() < 1e-6);
        assert_eq!(
            Metric::L2.score_and_distance(&[0.0, 0.0], &[3.0, 4.0]),
            (-5.0, 5.0)
        );
        assert_eq!(
            Metric::Dot.score_and_distance(&[1.0, 2.0], &[3.0, 4.0]),
            (11.0, -11.0)
        );
    }

    #[test]
    fn lane_sums_match_the_plain_definition() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 3.0 - i as f32).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-3);
    }
}

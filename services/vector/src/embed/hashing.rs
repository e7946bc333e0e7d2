//! `hashing-v1`, the built-in embedder: it needs no model files, is deterministic, and puts
//! texts that share words (or parts of words) near each other.
//!
//! It hashes each word, and each character trigram of each word, to a signed coordinate (the
//! "hashing trick"), weights common function words down, and L2-normalises. Any dimension from
//! 16 to 4096 works; more dimensions mean fewer collisions.

use super::{Embedder, HASHING_V1};

/// The built-in, model-free embedder.
#[derive(Debug, Clone)]
pub(crate) struct HashingEmbedder {
    dimension: usize,
}

/// Words that carry little meaning in questions; they still count, with a small weight.
const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "and", "are", "can", "do", "does", "for", "how", "i", "in", "is", "it", "me", "my",
    "of", "on", "or", "the", "to", "what", "when", "where", "which", "who", "why", "with", "you",
    "your",
];

const WORD_WEIGHT: f32 = 1.0;
const FUNCTION_WORD_WEIGHT: f32 = 0.2;
const TRIGRAM_WEIGHT: f32 = 0.35;

impl HashingEmbedder {
    /// An embedder producing `dimension`-long vectors.
    pub(crate) fn new(dimension: usize) -> Self {
        Self { dimension }
    }

    fn add(&self, vector: &mut [f32], feature: &[u8], salt: u64, weight: f32) {
        let hash = fnv1a(feature, salt);
        // The same index as `%`; a mask where it can be (the usual dimensions), as a 64-bit
        // division per feature was a visible part of embedding a query.
        let index = if self.dimension.is_power_of_two() {
            (hash & (self.dimension as u64 - 1)) as usize
        } else {
            (hash % self.dimension as u64) as usize
        };
        let sign = if hash >> 63 == 1 { -1.0 } else { 1.0 };
        vector[index] += sign * weight;
    }
}

impl Embedder for HashingEmbedder {
    fn name(&self) -> &str {
        HASHING_V1
    }

    fn dimension(&self) -> Option<usize> {
        None
    }

    fn embed(&self, text: &str) -> Vec<f32> {
        let mut vector = vec![0.0f32; self.dimension];
        let normalised: String = text
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .flat_map(char::to_lowercase)
            .collect();
        // One buffer for every word's padded form (` word `), whose trigrams are hashed.
        let mut padded: Vec<u8> = Vec::new();
        for word in normalised.split_whitespace() {
            let is_function_word = FUNCTION_WORDS.contains(&word);
            let weight = if is_function_word {
                FUNCTION_WORD_WEIGHT
            } else {
                WORD_WEIGHT
            };
            self.add(&mut vector, word.as_bytes(), 0x5752_4f44, weight);
            if is_function_word {
                continue;
            }
            padded.clear();
            padded.push(b' ');
            padded.extend_from_slice(word.as_bytes());
            padded.push(b' ');
            for gram in padded.windows(3) {
                self.add(&mut vector, gram, 0x5452_4947, TRIGRAM_WEIGHT);
            }
        }
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            vector.iter_mut().for_each(|x| *x /= norm);
        }
        vector
    }
}

/// 64-bit FNV-1a, seeded so that words and trigrams hash independently.
fn fnv1a(bytes: &[u8], salt: u64) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ salt;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Final avalanche so that the top bit (the sign) and the low bits (the index) are mixed.
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^ (hash >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn deterministic_normalised_and_sized() {
        let e = HashingEmbedder::new(256);
        let a = e.embed("How do I reset my password?");
        assert_eq!(a, e.embed("How do I reset my password?"));
        assert_eq!(a.len(), 256);
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-5);
        assert!(e.embed("?!  ...").iter().all(|x| *x == 0.0));
    }

    #[test]
    fn paraphrases_with_shared_words_are_closer_than_unrelated_text() {
        let e = HashingEmbedder::new(256);
        let q = e.embed("How can I reset my password?");
        let paraphrase = e.embed("Resetting a forgotten password");
        let unrelated = e.embed("Which team owns the billing service?");
        assert!(cosine(&q, &paraphrase) > cosine(&q, &unrelated) + 0.2);
    }

    const A_NONZERO: usize = 38;
    const B_NONZERO: usize = 32;
    const A_FINGERPRINT: f64 = 113.721_147_477_626_8;
    const B_FINGERPRINT: f64 = 67.689_620_718_359_95;

    #[test]
    fn the_vectors_are_the_ones_stored_collections_were_built_with() {
        // Collections persist their vectors: the embedder must give the same floats for the
        // same text, whatever its internals. The sums below were taken from the code before its
        // internals last changed (2026-12-07), for a power-of-two dimension and one that is not.
        let fingerprint = |v: &[f32]| {
            v.iter()
                .enumerate()
                .map(|(i, x)| (i as f64 + 1.0) * f64::from(*x))
                .sum::<f64>()
        };
        let text = "How do I reset my password? Straße, naïve café";
        let a = HashingEmbedder::new(256).embed(text);
        let b = HashingEmbedder::new(100).embed(text);
        assert_eq!(a.iter().filter(|x| **x != 0.0).count(), A_NONZERO);
        assert_eq!(b.iter().filter(|x| **x != 0.0).count(), B_NONZERO);
        assert!(
            (fingerprint(&a) - A_FINGERPRINT).abs() < 1e-6,
            "{}",
            fingerprint(&a)
        );
        assert!(
            (fingerprint(&b) - B_FINGERPRINT).abs() < 1e-6,
            "{}",
            fingerprint(&b)
        );
    }

    #[test]
    fn case_and_punctuation_do_not_matter() {
        let e = HashingEmbedder::new(64);
        assert_eq!(e.embed("Reset, PASSWORD!"), e.embed("reset password"));
    }
}

//! Seeded random streams and the draws the simulation needs.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a random stream is used for; each concern (and each store or distribution centre
/// within it) draws from its own stream, so adding a store does not reshuffle the others.
#[derive(Clone, Copy)]
pub(crate) enum Concern {
    World = 1,
    Promotions = 2,
    Demand = 3,
    StoreOps = 4,
    StoreFaults = 5,
    Supply = 6,
    SupplyFaults = 7,
    Online = 8,
}

/// The stream for one concern and key (a store or distribution centre index).
pub(crate) fn stream(seed: u64, concern: Concern, key: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(((concern as u64) << 40) | key);
    rng
}

/// A Poisson draw with mean `lambda`: exact for small means, normal approximation above 40.
pub(crate) fn poisson(rng: &mut impl Rng, lambda: f64) -> u32 {
    if lambda <= 0.0 || !lambda.is_finite() {
        return 0;
    }
    if lambda > 40.0 {
        let (u1, u2): (f64, f64) = (rng.random::<f64>().max(f64::MIN_POSITIVE), rng.random());
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        return (lambda + z * lambda.sqrt()).round().max(0.0) as u32;
    }
    let limit = (-lambda).exp();
    let mut k = 0u32;
    let mut p = rng.random::<f64>();
    while p > limit {
        k += 1;
        p *= rng.random::<f64>();
    }
    k
}

/// True with probability `p`.
pub(crate) fn chance(rng: &mut impl Rng, p: f64) -> bool {
    p > 0.0 && rng.random::<f64>() < p
}

/// Picks one of several exclusive outcomes with the given probabilities, or none. Probabilities
/// summing above 1 are scaled down to share the whole range.
pub(crate) fn pick_exclusive(rng: &mut impl Rng, rates: &[f64]) -> Option<usize> {
    let total: f64 = rates.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let scale = if total > 1.0 { 1.0 / total } else { 1.0 };
    let u = rng.random::<f64>();
    let mut acc = 0.0;
    for (i, r) in rates.iter().enumerate() {
        acc += r * scale;
        if u < acc {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_means_are_close() {
        let mut rng = stream(7, Concern::Demand, 0);
        for lambda in [0.5, 3.0, 60.0] {
            let n = 4000;
            let sum: u64 = (0..n).map(|_| u64::from(poisson(&mut rng, lambda))).sum();
            let mean = sum as f64 / f64::from(n);
            assert!((mean - lambda).abs() < lambda * 0.1 + 0.05, "mean {mean} for {lambda}");
        }
    }

    #[test]
    fn streams_are_independent_and_repeatable() {
        let a: u64 = stream(1, Concern::Demand, 0).random();
        let b: u64 = stream(1, Concern::Demand, 1).random();
        let c: u64 = stream(1, Concern::Demand, 0).random();
        assert_ne!(a, b);
        assert_eq!(a, c);
    }
}

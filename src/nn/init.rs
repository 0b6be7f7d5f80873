//! Seeded initial weights.
//!
//! The generator is ChaCha8 (`rand_chacha`), whose output is fixed across platforms
//! and versions; normal draws use `rand_distr::StandardNormal`. A net's stream is seeded
//! from the run's seed and the net's name (FNV-1a), so the nets of one system start
//! different, and a net of one name starts the same in every system. Weights are drawn
//! layer by layer, each `w_k` in row-major order; biases start at 0.

use super::mlp::Mlp;
use crate::check::{Init, Net};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The standard deviation of the weights of layer `k` of `layers`, with fan-in `fi`
/// and fan-out `fo`, under `init`:
///
/// - `lnn` (the LNN reference code): `n = max(fi, fo)`; `2.2/sqrt(n)` for the first
///   layer, `0.58*k/sqrt(n)` for hidden layer `k`, `sqrt(n)` for the last layer (the
///   first rule wins for a single-layer net);
/// - `xavier` (Glorot normal): `sqrt(2/(fi + fo))`;
/// - `kaiming` (He normal): `sqrt(2/fi)`.
pub fn weight_std(init: Init, k: usize, layers: usize, fi: usize, fo: usize) -> f64 {
    match init {
        Init::Lnn => {
            let n = fi.max(fo) as f64;
            if k == 0 {
                2.2 / n.sqrt()
            } else if k + 1 == layers {
                n.sqrt()
            } else {
                0.58 * k as f64 / n.sqrt()
            }
        }
        Init::Xavier => (2.0 / (fi + fo) as f64).sqrt(),
        Init::Kaiming => (2.0 / fi as f64).sqrt(),
    }
}

/// The 64-bit seed of net `name` under run seed `seed`.
pub fn net_seed(seed: u64, name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// An MLP of `net`'s shape with seeded initial weights (scheme `net.init`).
pub fn init_mlp(net: &Net, seed: u64) -> Mlp {
    let mut mlp = Mlp::for_net(net);
    let mut rng = ChaCha8Rng::seed_from_u64(net_seed(seed, &net.name));
    let layers = mlp.n_layers();
    for k in 0..layers {
        let (fi, fo) = (mlp.widths()[k], mlp.widths()[k + 1]);
        let std = weight_std(net.init, k, layers, fi, fo);
        let (w, _) = mlp.layer_ranges(k);
        for p in &mut mlp.params_mut()[w] {
            let z: f64 = StandardNormal.sample(&mut rng);
            *p = std * z;
        }
    }
    mlp
}

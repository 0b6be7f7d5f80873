//! Weights files from the outside world: random and mutated bytes never panic the
//! reader, and whatever it accepts either fits a system or is refused naming a tensor.

use crate::common;

use common::checked_model;
use lagc::nn::{SystemNets, Weights};
use proptest::prelude::*;

const SRC: &str =
    "system s { coord x; learn k = 1; net f = mlp(in: 2, hidden: [3]); L = f(x, x') + k*x'^2; }";

/// A valid weights file for `SRC`'s system.
fn valid_file() -> Vec<u8> {
    let m = checked_model(SRC, &[]);
    let sys = &m.systems[0];
    SystemNets::init(sys, 0)
        .to_weights(sys, &[1.5])
        .to_bytes()
        .expect("encodes")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Weights::from_bytes(&bytes);
    }

    #[test]
    fn mutated_files_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
                                 cut in any::<prop::sample::Index>()) {
        let m = checked_model(SRC, &[]);
        let sys = &m.systems[0];
        let mut bytes = valid_file();
        for (i, b) in flips {
            let k = i.index(bytes.len());
            bytes[k] = b;
        }
        let keep = cut.index(bytes.len() + 1).max(bytes.len() / 2);
        bytes.truncate(keep);
        if let Ok(w) = Weights::from_bytes(&bytes) {
            match SystemNets::from_weights(sys, &w) {
                Ok(nets) => prop_assert_eq!(nets.mlps().len(), 1),
                Err(e) => prop_assert!(e.to_string().contains("f.") || e.to_string().contains('k'), "{}", e),
            }
        }
    }
}

#[test]
fn the_valid_file_round_trips() {
    let m = checked_model(SRC, &[]);
    let sys = &m.systems[0];
    let w = Weights::from_bytes(&valid_file()).expect("reads");
    let nets = SystemNets::from_weights(sys, &w).expect("fits");
    let again = nets.to_weights(sys, &[1.5]).to_bytes().unwrap();
    assert_eq!(again, valid_file());
}

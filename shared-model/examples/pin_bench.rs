//! What one PIN check costs, with and without the store's pepper (BENCHMARKS.md, "PIN hashes"):
//! the cost a till pays per PIN entry and an offline guesser pays per guess.
//!
//! ```text
//! cargo run --release -p shared-model --example pin_bench [rounds]
//! ```

use std::time::{Duration, Instant};

use shared_model::users::{PinPepper, hash_pin, verify_pin};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(rounds: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    let max = *samples.iter().max().expect("rounds > 0");
    (median(samples), max)
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20)
        .max(1);
    let pepper = PinPepper::random();
    let plain = hash_pin("1234", None).expect("hash");
    let keyed = hash_pin("1234", Some(&pepper)).expect("hash");
    let rows = [
        (
            "hash, no pepper (before)",
            time(rounds, || {
                hash_pin("1234", None).expect("hash");
            }),
        ),
        (
            "hash, peppered (now)",
            time(rounds, || {
                hash_pin("1234", Some(&pepper)).expect("hash");
            }),
        ),
        (
            "verify, no pepper (before)",
            time(rounds, || {
                assert!(verify_pin(&plain, "1234", None));
            }),
        ),
        (
            "verify, peppered (now)",
            time(rounds, || {
                assert!(verify_pin(&keyed, "1234", Some(&pepper)));
            }),
        ),
        (
            "verify a peppered hash without the pepper (refused)",
            time(rounds, || {
                assert!(!verify_pin(&keyed, "1234", None));
            }),
        ),
    ];
    println!("{rounds} rounds each");
    for (what, (p50, max)) in rows {
        println!("{what:<55} p50 {p50:>10.2?}  max {max:>10.2?}");
    }
}

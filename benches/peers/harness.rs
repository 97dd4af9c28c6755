//! The wall-clock harness: peers measured round by round, interleaved, so that every ratio is
//! taken between samples measured side by side (on a shared 2-core VM, load drifts between
//! benchmarks run one after the other; interleaving cancels most of it).
//!
//! Each peer is a closure that runs `k` iterations and returns the time they took (a closure may
//! leave set-up work out of the time it returns). The harness calibrates `k` per peer so that a
//! sample lasts about `Config::sample`, then takes `Config::rounds` rounds; in round `r` the
//! peers run in an order rotated by `r`. It prints, tab-separated:
//!
//! `RESULT metric peer median min max unit rounds` and `RATIO metric a b median min max`, the
//! ratio being `a / b` per round (its median, min and max over the rounds).

use std::time::{Duration, Instant};

/// How long and how often to sample.
#[derive(Clone, Copy)]
pub struct Config {
    /// Rounds (samples per peer).
    pub rounds: usize,
    /// Target length of one sample.
    pub sample: Duration,
}

impl Config {
    /// `full`, or in smoke mode (`ci/test`: the benchmarks must run, no time is read) few, short
    /// samples.
    pub fn unless_smoke(smoke: bool, full: Config) -> Config {
        if smoke {
            Config {
                rounds: 5,
                sample: Duration::from_micros(300),
            }
        } else {
            full
        }
    }
}

/// One peer of a metric.
pub struct Peer<'a> {
    /// Name, as in the table.
    pub name: &'static str,
    /// Runs `k` iterations; returns the time to count.
    pub run: Box<dyn FnMut(u64) -> Duration + 'a>,
}

/// Builds a [`Peer`].
pub fn peer<'a>(name: &'static str, run: impl FnMut(u64) -> Duration + 'a) -> Peer<'a> {
    Peer {
        name,
        run: Box::new(run),
    }
}

/// Times `k` calls of `f`.
pub fn timed(k: u64, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..k {
        f();
    }
    start.elapsed()
}

/// Median, minimum and maximum of `values`.
pub fn stats(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (median, v[0], v[n - 1])
}

/// Measures `peers` for `metric`; each iteration counts `units` units (e.g. 1000 events), and
/// results are in ns per unit. Prints the results and the ratios `pairs` (by peer name).
pub fn measure(
    metric: &str,
    unit: &str,
    units: f64,
    cfg: Config,
    mut peers: Vec<Peer>,
    pairs: &[(&str, &str)],
) {
    let mut iters = Vec::with_capacity(peers.len());
    for p in peers.iter_mut() {
        let mut k = 1u64;
        loop {
            let d = (p.run)(k);
            if d >= cfg.sample || k >= 1 << 24 {
                break;
            }
            // Aim a little past the target from what this try took.
            let scale = cfg.sample.as_secs_f64() / d.as_secs_f64().max(1e-9);
            k = (k as f64 * scale.clamp(1.5, 16.0)).ceil() as u64;
        }
        iters.push(k);
    }
    let mut samples = vec![Vec::with_capacity(cfg.rounds); peers.len()];
    for round in 0..cfg.rounds {
        for i in 0..peers.len() {
            let p = (i + round) % peers.len();
            let d = (peers[p].run)(iters[p]);
            samples[p].push(d.as_nanos() as f64 / (iters[p] as f64 * units));
        }
    }
    for (p, s) in peers.iter().zip(&samples) {
        let (median, min, max) = stats(s);
        println!(
            "RESULT\t{metric}\t{}\t{median:.2}\t{min:.2}\t{max:.2}\t{unit}\t{}",
            p.name, cfg.rounds
        );
    }
    let index = |name: &str| {
        peers
            .iter()
            .position(|p| p.name == name)
            .expect("peer in pairs")
    };
    for (a, b) in pairs {
        let (a_i, b_i) = (index(a), index(b));
        let ratios: Vec<f64> = samples[a_i]
            .iter()
            .zip(&samples[b_i])
            .map(|(x, y)| x / y)
            .collect();
        let (median, min, max) = stats(&ratios);
        println!("RATIO\t{metric}\t{a}\t{b}\t{median:.3}\t{min:.3}\t{max:.3}");
    }
}

//! Metric 5b: a wake while no thread sleeps in the poller, the common case in a busy runtime.
//!
//! Every wake measured here is a first wake: its poller has no wake pending (a repeated wake
//! is cheaper still in every peer that keeps a flag). Each sample wakes a batch of
//! [`BATCH`] pollers once each, timed, then consumes the wakes, untimed.
//!
//! - `nosleep count PEER N`: wakes `N` fresh pollers between two `getppid` markers, for
//!   `ci/bench` to count the system calls between them in an `strace -f` log.
//! - `nosleep wall [--smoke]`: ns per wake, peers interleaved by the harness.

use crate::harness::{measure, peer, Config};
use crate::netpoll_go::GoNetpoll;
use rawpoll::netpoll::Netpoll;
use std::time::{Duration, Instant};

/// Peers, in table order (glibc: Go's `netpollBreak` written with the libc crate).
pub const PEERS: [&str; 4] = ["rawpoll", "glibc", "mio", "polling"];

/// Pollers woken per timed batch.
const BATCH: usize = 64;

/// `count` pollers of one peer: `wake(i)` wakes the i-th, `consume()` makes every one take its
/// wake back (a blocking poll that returns at once).
struct Pollers {
    wake: Box<dyn Fn(usize)>,
    consume: Box<dyn FnMut()>,
}

fn pollers(peer: &str, count: usize) -> Pollers {
    match peer {
        "rawpoll" => {
            let nps: Vec<Netpoll> = (0..count).map(|_| Netpoll::new()).collect();
            for np in &nps {
                np.init().expect("init");
            }
            let nps = std::rc::Rc::new(nps);
            let waker = std::rc::Rc::clone(&nps);
            Pollers {
                wake: Box::new(move |i| waker[i].wake().expect("wake")),
                consume: Box::new(move || {
                    for np in nps.iter() {
                        np.poll(-1, |_, _, _| {}).expect("poll");
                    }
                }),
            }
        }
        "glibc" => {
            let gos = std::rc::Rc::new((0..count).map(|_| GoNetpoll::new()).collect::<Vec<_>>());
            let waker = std::rc::Rc::clone(&gos);
            Pollers {
                wake: Box::new(move |i| waker[i].wake()),
                consume: Box::new(move || {
                    for go in gos.iter() {
                        go.poll(-1, |_, _| {});
                    }
                }),
            }
        }
        "mio" => {
            // Waker::wake is a write whatever the state; the counter only grows (no reset
            // needed for 2^64 - 2 wakes).
            let mut polls = Vec::with_capacity(count);
            let mut wakers = Vec::with_capacity(count);
            for _ in 0..count {
                let poll = mio::Poll::new().expect("Poll");
                wakers.push(mio::Waker::new(poll.registry(), mio::Token(0)).expect("Waker"));
                polls.push(poll);
            }
            Pollers {
                wake: Box::new(move |i| wakers[i].wake().expect("wake")),
                consume: Box::new(move || {
                    let _alive = &polls;
                }),
            }
        }
        "polling" => {
            let pollers = std::rc::Rc::new(
                (0..count)
                    .map(|_| polling::Poller::new().expect("Poller"))
                    .collect::<Vec<_>>(),
            );
            let waker = std::rc::Rc::clone(&pollers);
            let mut events = polling::Events::with_capacity(128.try_into().expect("128"));
            Pollers {
                wake: Box::new(move |i| waker[i].notify().expect("notify")),
                consume: Box::new(move || {
                    for p in pollers.iter() {
                        events.clear();
                        p.wait(&mut events, Some(Duration::ZERO)).expect("wait");
                    }
                }),
            }
        }
        _ => panic!("unknown peer {peer}"),
    }
}

/// The strace marker: a system call nothing else in the process makes.
fn marker() {
    // SAFETY: getppid has no preconditions.
    unsafe { libc::getppid() };
}

/// `nosleep count PEER N`.
pub fn count(peer: &str, n: &str) -> i32 {
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("nosleep: bad count {n}");
        return 2;
    };
    if !PEERS.contains(&peer) {
        eprintln!("nosleep: unknown peer {peer} (one of {PEERS:?})");
        return 2;
    }
    let p = pollers(peer, n);
    marker();
    for i in 0..n {
        (p.wake)(i);
    }
    marker();
    0
}

/// `nosleep wall [--smoke]`: ns per first wake with no sleeper.
pub fn wall(smoke: bool) -> i32 {
    let cfg = Config::unless_smoke(
        smoke,
        Config {
            // Consuming the wakes, untimed, costs far more than the timed wakes: short samples.
            rounds: 31,
            sample: Duration::from_millis(1),
        },
    );
    let peers = PEERS
        .iter()
        .map(|&name| {
            let mut p = pollers(name, BATCH);
            peer(name, move |k| {
                let mut timed = Duration::ZERO;
                for _ in 0..k {
                    let start = Instant::now();
                    for i in 0..BATCH {
                        (p.wake)(std::hint::black_box(i));
                    }
                    timed += start.elapsed();
                    (p.consume)();
                }
                timed
            })
        })
        .collect();
    measure(
        "m5b_nosleep_wake_ns",
        "ns/wake",
        BATCH as f64,
        cfg,
        peers,
        &[("rawpoll", "mio"), ("rawpoll", "glibc")],
    );
    0
}

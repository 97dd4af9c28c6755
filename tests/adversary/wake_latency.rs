//! How soon a thread asleep in `Netpoll::poll` returns after `wake()` has returned `Ok`, and
//! what can keep it asleep after a wake wrote its edge.
//!
//! `wake_to_return_latency` measures, for every wake, the time from `wake()` returning `Ok` to
//! the sleeper's return, with the sleeper confirmed asleep inside the kernel's epoll wait before
//! each wake (`has_sleeper()`, `/proc/self/task/TID/syscall` showing `epoll_pwait`, state `S`,
//! and a wait channel in epoll where the kernel names it: a thread that only counts as a sleeper,
//! or whose call is held at the door, does not pass). Three ways: the sleeper alone; with two
//! threads looping on `poll(0)` beside it (they can take the wake's edge and must give it back);
//! and, for comparison, a thread in a bare `epoll_pwait` on an eventfd written directly (no
//! netpoller: what the kernel and the scheduler alone take). Every wake must be answered within
//! [`DEADLINE`] and each one must be exactly one eventfd write; the times are printed, never
//! asserted. `RAWPOLL_WAKE_LATENCY_WAKES` sets the wakes per way (default 300; `ci/soak` runs
//! more, under a full CPU load, and reports the longest).
//!
//! `edge_held_by_a_nonblocking_poll_outlasts_a_timed_sleep` shows, deterministically (seccomp
//! user notification), the one way a `wake()` that wrote its edge and returned `Ok` leaves a
//! thread in a 2 s `poll` asleep for its full 2 s: a `poll(0)` on another thread took the edge
//! and has not yet put it back (here its `epoll_ctl(MOD)` is held; in the wild, that thread is
//! not scheduled between its wait and its give-back). The wake is not lost: the edge, once given
//! back, ends the next blocking poll.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
#[path = "../common/mod.rs"]
mod common;

use adversary::{in_epoll_wait, poller, rescue, sleeps_in, tid, wchan, writes, DEADLINE};
use common::{adversary, seccomp};
use rawpoll::netpoll::Netpoll;
use rawpoll::{EpollEvent, Errno, EFD_CLOEXEC, EFD_NONBLOCK, EPOLLET, EPOLLIN, EPOLL_CTL_ADD};
use seccomp::{Action, Faults, Rule};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DEFAULT_WAKES: usize = 300;

fn wakes() -> usize {
    std::env::var("RAWPOLL_WAKE_LATENCY_WAKES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_WAKES)
}

/// The delays of one way of waking, and how many returns came before `wake()` itself returned.
#[derive(Default)]
struct Delays {
    samples: Vec<Duration>,
    before_ok: usize,
}

impl Delays {
    fn add(&mut self, ok_at: Instant, returned_at: Instant) {
        if returned_at < ok_at {
            self.before_ok += 1;
        }
        self.samples
            .push(returned_at.saturating_duration_since(ok_at));
    }

    fn max(&self) -> Duration {
        self.samples.iter().copied().max().unwrap_or_default()
    }

    fn line(&self, name: &str) -> String {
        let mut s = self.samples.clone();
        s.sort();
        let at = |q: f64| s[((s.len() - 1) as f64 * q) as usize];
        let over = |d: Duration| s.iter().filter(|&&x| x > d).count();
        format!(
            "wake latency, {name}: {} wakes, sleeper confirmed in the kernel's epoll wait before each; return after wake() Ok: p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}; over 10 ms: {}, over 100 ms: {}, over 1 s: {}; returned before wake() returned: {}",
            s.len(),
            at(0.5),
            at(0.99),
            at(0.999),
            self.max(),
            over(Duration::from_millis(10)),
            over(Duration::from_millis(100)),
            over(Duration::from_secs(1)),
            self.before_ok
        )
    }
}

/// Waits until thread `tid` sleeps in the kernel's epoll wait and `counted()` holds.
fn wait_in_kernel(tid: i32, counted: impl Fn() -> bool, what: &str) {
    let end = Instant::now() + DEADLINE;
    if common::emulated() {
        // `/proc` shows the host's system calls under an emulator: a sleeper that counts, then
        // a little time to reach the kernel (the times printed mean little there).
        while !counted() {
            assert!(
                Instant::now() < end,
                "{what}: no sleeper within {DEADLINE:?}"
            );
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(2));
        return;
    }
    while !(counted() && in_epoll_wait(tid)) {
        assert!(
            Instant::now() < end,
            "{what}: thread {tid} not asleep in epoll_pwait within {DEADLINE:?} (wchan {:?})",
            wchan(tid)
        );
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// `n` wakes of a thread looping on `poll(-1)`, with `peekers` threads looping on `poll(0)`.
fn netpoll_delays(n: usize, peekers: usize, name: &str) -> Delays {
    let np = poller();
    let stop = AtomicBool::new(false);
    let sleeper_tid = AtomicI32::new(0);
    let peek_errors = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    let mut delays = Delays::default();
    let written = std::thread::scope(|s| {
        // Ends the sleeper and the peekers at the end, also after a failing assertion. The stop
        // is a real wake: a raw write's edge could be taken by a `poll(0)` that, seeing no wake
        // pending, does not give it back. On a failure, raw writes too (the wake may have been
        // lost).
        struct Stop<'a>(&'a AtomicBool, &'a Netpoll);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
                let _ = self.1.wake();
                if std::thread::panicking() {
                    for _ in 0..4 {
                        rescue(self.1);
                    }
                }
            }
        }
        let _stop = Stop(&stop, &np);
        s.spawn(|| {
            sleeper_tid.store(tid(), Ordering::SeqCst);
            while !stop.load(Ordering::SeqCst) {
                let r = np.poll(-1, |_, _, _| {});
                if tx.send((r, Instant::now())).is_err() {
                    return;
                }
            }
        });
        for _ in 0..peekers {
            s.spawn(|| {
                while !stop.load(Ordering::SeqCst) {
                    if np.poll(0, |_, _, _| {}) != Ok(0) {
                        peek_errors.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
        let end = Instant::now() + DEADLINE;
        while sleeper_tid.load(Ordering::SeqCst) == 0 {
            assert!(Instant::now() < end);
            std::thread::yield_now();
        }
        let tid = sleeper_tid.load(Ordering::SeqCst);
        for i in 0..n {
            let what = format!("{name}, wake {i}");
            wait_in_kernel(tid, || np.has_sleeper(), &what);
            assert_eq!(np.wake(), Ok(()), "{what}");
            let ok_at = Instant::now();
            match rx.recv_timeout(DEADLINE) {
                Ok((r, at)) => {
                    assert_eq!(r, Ok(0), "{what}");
                    delays.add(ok_at, at);
                }
                Err(_) => panic!("{what}: the sleeper did not return within {DEADLINE:?}"),
            }
        }
        writes(&np)
    });
    assert_eq!(
        peek_errors.load(Ordering::SeqCst),
        0,
        "{name}: poll(0) errors"
    );
    assert_eq!(written, n as u64, "{name}: one eventfd write per wake");
    delays
}

/// The same with no netpoller: a thread in a bare `epoll_pwait` on an edge-triggered eventfd that
/// the main thread writes.
fn bare_epoll_delays(n: usize) -> Delays {
    let ep = rawpoll::epoll_create1(rawpoll::EPOLL_CLOEXEC).expect("epoll_create1");
    let efd = rawpoll::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).expect("eventfd");
    let event = EpollEvent::new(EPOLLIN | EPOLLET, 1);
    assert_eq!(
        rawpoll::epoll_ctl(&ep, EPOLL_CTL_ADD, &efd, Some(&event)),
        Ok(())
    );
    let stop = AtomicBool::new(false);
    let sleeper_tid = AtomicI32::new(0);
    let (tx, rx) = mpsc::channel::<(Result<usize, Errno>, Instant)>();
    let mut delays = Delays::default();
    std::thread::scope(|s| {
        struct Stop<'a>(&'a AtomicBool, &'a rawpoll::OwnedFd);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
                let _ = rawpoll::eventfd_write(self.1, 1);
            }
        }
        let _stop = Stop(&stop, &efd);
        s.spawn(|| {
            sleeper_tid.store(tid(), Ordering::SeqCst);
            let mut events = [EpollEvent::zeroed(); 4];
            while !stop.load(Ordering::SeqCst) {
                let r = rawpoll::epoll_pwait(&ep, &mut events, -1);
                if tx.send((r, Instant::now())).is_err() {
                    return;
                }
            }
        });
        let end = Instant::now() + DEADLINE;
        while sleeper_tid.load(Ordering::SeqCst) == 0 {
            assert!(Instant::now() < end);
            std::thread::yield_now();
        }
        let tid = sleeper_tid.load(Ordering::SeqCst);
        for i in 0..n {
            let what = format!("bare epoll, write {i}");
            wait_in_kernel(tid, || true, &what);
            assert_eq!(rawpoll::eventfd_write(&efd, 1), Ok(()), "{what}");
            let ok_at = Instant::now();
            match rx.recv_timeout(DEADLINE) {
                Ok((r, at)) => {
                    assert_eq!(r, Ok(1), "{what}");
                    delays.add(ok_at, at);
                }
                Err(_) => panic!("{what}: the sleeper did not return within {DEADLINE:?}"),
            }
        }
    });
    delays
}

/// Every wake of a sleeper confirmed in the kernel is answered, one write each; the delays from
/// `wake()` returning `Ok` to the sleeper's return are printed (never asserted).
#[test]
fn wake_to_return_latency() {
    let n = common::scaled(wakes() as u64) as usize;
    let alone = netpoll_delays(n, 0, "sleeper alone");
    let peeked = netpoll_delays(n, 2, "sleeper with 2 poll(0) threads");
    let bare = bare_epoll_delays(n);
    println!("{}", alone.line("sleeper alone"));
    println!("{}", peeked.line("sleeper with 2 poll(0) threads"));
    println!("{}", bare.line("bare epoll_pwait, no netpoller (control)"));
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "wake latency: longest sleeper return after a wake: {:.3} ms (alone {:.3} ms, beside poll(0) threads {:.3} ms; bare epoll control {:.3} ms) over {} netpoller wakes",
        ms(alone.max().max(peeked.max())),
        ms(alone.max()),
        ms(peeked.max()),
        ms(bare.max()),
        2 * n
    );
}

/// A wake whose edge a `poll(0)` took and has not yet given back: the sleeper it was written for
/// stays asleep. Here the sleeper counts as one and `/proc` shows it in `epoll_pwait`, sleeping,
/// but its call is held at the door (seccomp); `wake()` writes the edge and returns `Ok`; a
/// `poll(0)` takes the edge and its give-back (`epoll_ctl(MOD)`) is held. The sleeper, let into
/// the kernel, finds no edge and sleeps its full 2 s (the kernel's lower bound, asserted), while
/// the give-back is still held. Once released, the edge ends the next blocking poll at once.
#[test]
fn edge_held_by_a_nonblocking_poll_outlasts_a_timed_sleep() {
    if let Some(reason) = seccomp::unavailable() {
        println!("skipped: seccomp user notification is unavailable: {reason}");
        return;
    }
    const SLEEP: Duration = Duration::from_secs(2);
    let np = poller();
    let door = Faults::new(vec![
        Rule::new("epoll_pwait", libc::SYS_epoll_pwait).plan(&[Action::Hold])
    ]);
    let give_back = Faults::new(vec![Rule::new("epoll_ctl(MOD)", libc::SYS_epoll_ctl)
        .arg(1, u64::from(rawpoll::EPOLL_CTL_MOD))
        .plan(&[Action::Hold])]);
    let (tid_tx, tid_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let (slept, held_wchan, peeked) = std::thread::scope(|s| {
        struct Unstick<'a>(&'a Netpoll, [&'a Faults; 2]);
        impl Drop for Unstick<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.1.iter().for_each(|f| f.release_all());
                    rescue(self.0);
                }
            }
        }
        let _unstick = Unstick(&np, [&door, &give_back]);
        s.spawn(|| {
            door.attach().expect("attach the sleeper's filter");
            tid_tx.send(tid()).unwrap();
            let start = Instant::now();
            let r = np.poll(SLEEP.as_nanos() as i64, |_, _, _| {});
            let _ = done_tx.send((r, start.elapsed()));
        });
        let sleeper = tid_rx.recv_timeout(DEADLINE).expect("the sleeper started");
        let at_door = door.wait_held(DEADLINE);
        // What an outside check sees: a sleeper, in epoll_pwait, sleeping.
        let end = Instant::now() + DEADLINE;
        while !sleeps_in(sleeper, rawpoll::raw::SYS_EPOLL_PWAIT) {
            assert!(Instant::now() < end, "the held call shows in /proc");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(np.has_sleeper());
        let held_wchan = wchan(sleeper);
        assert_eq!(np.wake(), Ok(()));
        assert_eq!(writes(&np), 1, "the wake wrote its edge");
        let peeker = s.spawn(|| {
            give_back.attach().expect("attach the poll(0)'s filter");
            np.poll(0, |_, _, _| {})
        });
        let held_mod = give_back.wait_held(DEADLINE);
        door.release(at_door, Action::Continue);
        let slept = match done_rx.recv_timeout(DEADLINE) {
            Ok(r) => r,
            Err(_) => panic!("the timed sleeper did not return"),
        };
        give_back.release(held_mod, Action::Continue);
        let peeked = peeker.join().expect("the poll(0) thread");
        (slept, held_wchan, peeked)
    });
    // Given back after the sleeper left: the edge ends the next blocking poll at once.
    let next = std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        let np = &np;
        s.spawn(move || {
            let _ = tx.send(np.poll(-1, |_, _, _| {}));
        });
        rx.recv_timeout(DEADLINE).unwrap_or_else(|_| {
            rescue(np);
            panic!("the given-back edge did not end the next poll(-1)")
        })
    });
    println!(
        "held edge: wake() wrote (1 eventfd write) and returned Ok while the sleeper counted and showed epoll_pwait in /proc (wait channel {held_wchan:?}); \
         a poll(0) took the edge ({peeked:?}) with its give-back held: the 2 s sleeper returned {:?} after {:?}; the next poll(-1) returned {next:?} on the given-back edge",
        slept.0, slept.1
    );
    assert_eq!(slept.0, Ok(0));
    assert!(
        slept.1 >= SLEEP,
        "{:?}: a timeout sleeps at least its length",
        slept.1
    );
    assert_eq!(peeked, Ok(0));
    assert_eq!(next, Ok(0));
    assert_eq!(
        writes(&np),
        1,
        "no other write: the edge was given back by epoll_ctl(MOD)"
    );
}

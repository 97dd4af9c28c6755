//! A signal storm against a blocked poller: `EINTR` must never lose a wake nor end a wait early.
//!
//! A `SIGUSR1` handler is installed without `SA_RESTART`, so every signal that lands while the
//! poller sits in `epoll_pwait` makes the kernel return `EINTR`. Another thread sends at least
//! 10,000 signals to the polling thread in each phase while the main thread drives rounds of
//! wakes:
//!
//! - `poll(-1)`: `EINTR` must be retried inside, so the poll returns exactly once per wake;
//! - `poll(delay)` (1, 5, 20 ms; then 100 µs to 20 ms with `epoll_pwait2`): `EINTR` may end the
//!   poll early with `Ok(0)`, but no error reaches the caller, every doorbell write (an eventfd
//!   registered with the poller) is reported exactly once, and every poll returns within its
//!   delay plus a generous 2 s (a bound that only exists to catch hangs).
//!
//! One test in this file: the handler is process-wide.

#[path = "../common/mod.rs"]
mod common;

use rawpoll::netpoll::{Netpoll, PollDesc};
use rawpoll::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

// usize counters: 32-bit targets (mips) have no 64-bit atomics.
static DELIVERED: AtomicUsize = AtomicUsize::new(0);
static DOORBELL: PollDesc = PollDesc::new();

/// Signals per phase at least (divided by `RAWPOLL_EMULATED_SCALE` under emulation).
const SIGNALS: u64 = 10_000;
/// Wake rounds per phase at least (likewise).
const MIN_ROUNDS: u64 = 500;
/// The bound that catches a hang: a round not acknowledged by then fails the test.
const DEADLINE: Duration = Duration::from_secs(30);
/// Slack allowed past a poll's delay.
const SLACK: Duration = Duration::from_secs(2);

extern "C" fn on_signal(_: libc::c_int) {
    DELIVERED.fetch_add(1, Ordering::Relaxed);
}

/// SIGUSR1 as this architecture's kernel numbers it (16 on MIPS), from linux-raw-sys: the libc
/// crate (0.2.190, 0.2.191) gives mips64 glibc the generic number 10, SIGBUS there.
const SIGUSR1: libc::c_int = linux_raw_sys::general::SIGUSR1 as libc::c_int;

extern "C" {
    /// glibc's `siginterrupt`: with `flag` 1, clears `SA_RESTART` for `sig`.
    fn siginterrupt(sig: libc::c_int, flag: libc::c_int) -> libc::c_int;
}

/// Installs `on_signal` for SIGUSR1 without `SA_RESTART`, through glibc's `signal` and
/// `siginterrupt` rather than the libc crate's `struct sigaction`, whose mips64 layout is the
/// generic one in libc 0.2.190 and 0.2.191.
fn install_handler() {
    // SAFETY: the handler only touches an atomic, which is async-signal-safe; signal and
    // siginterrupt take integers and a function pointer.
    unsafe {
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        assert_ne!(libc::signal(SIGUSR1, handler), libc::SIG_ERR);
        assert_eq!(
            siginterrupt(SIGUSR1, 1),
            0,
            "SA_RESTART left out on purpose"
        );
    }
}

/// Sends SIGUSR1 to the thread published in `thread` until `stop`, returning how many were sent.
fn storm(thread: &AtomicUsize, stop: &AtomicBool) -> u64 {
    let mut sent = 0;
    let tid = loop {
        match thread.load(Ordering::Acquire) {
            0 => std::thread::yield_now(),
            tid => break tid as libc::pthread_t,
        }
    };
    while !stop.load(Ordering::Acquire) {
        // SAFETY: the poller thread is not joined before `stop` is set and this returns.
        if unsafe { libc::pthread_kill(tid, SIGUSR1) } != 0 {
            break;
        }
        sent += 1;
        for _ in 0..200 {
            std::hint::spin_loop();
        }
    }
    sent
}

struct Phase {
    rounds: u64,
    returns: u64,
    early_returns: u64,
    doorbells: u64,
    errors: Vec<String>,
    max_overshoot: Duration,
    sent: u64,
    delivered: u64,
    /// Writes to the wake eventfd during the phase (its counter; no poll reads it).
    writes: u64,
    took: Duration,
}

/// Runs one phase: `delays` empty means `poll(-1)`, otherwise the poller cycles through them
/// and waits for the doorbell. Returns the figures.
fn phase(np: &Netpoll, doorbell: BorrowedFd<'_>, delays: &'static [i64]) -> Phase {
    let (signals, min_rounds) = (common::scaled(SIGNALS), common::scaled(MIN_ROUNDS));
    let acked = AtomicUsize::new(0);
    let target = AtomicUsize::new(usize::MAX);
    let stop_storm = AtomicBool::new(false);
    let poller_thread = AtomicUsize::new(0);
    let delivered_before = DELIVERED.load(Ordering::Relaxed);
    let writes_before = common::eventfd_count(np.raw_wake_fd());
    let start = Instant::now();
    std::thread::scope(|s| {
        let poller = s.spawn(|| {
            // SAFETY: pthread_self has no preconditions.
            poller_thread.store(unsafe { libc::pthread_self() } as usize, Ordering::Release);
            let mut returns = 0u64;
            let mut early = 0u64;
            let mut errors = Vec::new();
            let mut max_overshoot = Duration::ZERO;
            let mut doorbells = 0u64;
            let mut i = 0usize;
            loop {
                if delays.is_empty() {
                    match np.poll(-1, |_, _, _| {}) {
                        Ok(0) => {}
                        other => errors.push(format!("poll(-1): {other:?}")),
                    }
                    returns += 1;
                    acked.store(returns as usize, Ordering::Release);
                    if returns as usize >= target.load(Ordering::Acquire) {
                        break;
                    }
                } else {
                    let delay = delays[i % delays.len()];
                    i += 1;
                    let t = Instant::now();
                    let mut rang = false;
                    let r = np.poll(delay, |pd, ready, _| {
                        rang = std::ptr::eq(pd, &DOORBELL) && ready.readable;
                    });
                    let took = t.elapsed();
                    returns += 1;
                    let bound = Duration::from_nanos(delay as u64);
                    max_overshoot = max_overshoot.max(took.saturating_sub(bound));
                    if took > bound + SLACK {
                        errors.push(format!("poll({delay}) took {took:?}"));
                    }
                    match r {
                        Ok(1) if rang => {
                            doorbells += 1;
                            acked.store(doorbells as usize, Ordering::Release);
                        }
                        Ok(0) => early += 1,
                        other => errors.push(format!("poll({delay}): {other:?}")),
                    }
                    if doorbells as usize >= target.load(Ordering::Acquire) {
                        break;
                    }
                }
                if errors.len() > 10 || start.elapsed() > DEADLINE * 2 {
                    break;
                }
            }
            (returns, early, errors, max_overshoot, doorbells)
        });
        let sender = s.spawn(|| storm(&poller_thread, &stop_storm));
        let mut rounds = 0u64;
        let mut errors = Vec::new();
        let round = |rounds: &mut u64, errors: &mut Vec<String>| {
            *rounds += 1;
            if !delays.is_empty() {
                if let Err(e) = rawpoll::eventfd_write(doorbell, 1) {
                    errors.push(format!("doorbell: {e:?}"));
                }
            }
            if let Err(e) = np.wake() {
                errors.push(format!("wake: {e:?}"));
            }
            let t = Instant::now();
            while (acked.load(Ordering::Acquire) as u64) < *rounds {
                if t.elapsed() > DEADLINE {
                    errors.push(format!("round {rounds} not acknowledged in {DEADLINE:?}"));
                    return false;
                }
                std::thread::yield_now();
            }
            true
        };
        loop {
            let sent_enough =
                (DELIVERED.load(Ordering::Relaxed) - delivered_before) as u64 >= signals;
            if rounds >= min_rounds && sent_enough {
                break;
            }
            if !round(&mut rounds, &mut errors) || start.elapsed() > DEADLINE {
                break;
            }
        }
        stop_storm.store(true, Ordering::Release);
        let sent = sender.join().unwrap_or(0);
        // The last round, signals stopped: the poller leaves after it.
        target.store(rounds as usize + 1, Ordering::Release);
        round(&mut rounds, &mut errors);
        let (returns, early_returns, poll_errors, max_overshoot, doorbells) = poller
            .join()
            .unwrap_or((0, 0, vec!["poller panicked".into()], Duration::ZERO, 0));
        errors.extend(poll_errors);
        Phase {
            rounds,
            returns,
            early_returns,
            doorbells,
            errors,
            max_overshoot,
            sent,
            delivered: (DELIVERED.load(Ordering::Relaxed) - delivered_before) as u64,
            writes: common::eventfd_count(np.raw_wake_fd()) - writes_before,
            took: start.elapsed(),
        }
    })
}

#[test]
fn signal_storm_during_poll() {
    install_handler();
    let np = Netpoll::new();
    np.init().expect("init");
    let doorbell =
        rawpoll::eventfd(0, rawpoll::EFD_CLOEXEC | rawpoll::EFD_NONBLOCK).expect("eventfd");

    let mut total_sent = 0;
    let mut failed = Vec::new();
    let phases: [(&str, &'static [i64], bool); 3] = [
        ("poll(-1)", &[], false),
        (
            "poll(1|5|20 ms)",
            &[1_000_000, 5_000_000, 20_000_000],
            false,
        ),
        (
            "poll(100 us|1 ms|20 ms), epoll_pwait2",
            &[100_000, 1_000_000, 20_000_000],
            true,
        ),
    ];
    for (name, delays, pwait2) in phases {
        np.use_epoll_pwait2(pwait2);
        if !delays.is_empty() && np.open(&doorbell, &DOORBELL).is_ok() {
            // The registration's own edge (an eventfd is writable at once) is collected here.
            assert_eq!(np.poll(0, |_, _, _| {}), Ok(1));
        }
        let p = phase(&np, doorbell.as_fd(), delays);
        total_sent += p.sent;
        let what = if delays.is_empty() {
            "wakes"
        } else {
            "doorbell rings (each with a wake)"
        };
        println!(
            "signals, {name}: {} signals sent, {} delivered, {} {what}, {} seen by the poller, {} poll returns ({} early Ok(0)), {} eventfd writes, {} errors, max overrun past the delay {:?}, {:.2} s",
            p.sent,
            p.delivered,
            p.rounds,
            if delays.is_empty() { p.returns } else { p.doorbells },
            p.returns,
            p.early_returns,
            p.writes,
            p.errors.len(),
            p.max_overshoot,
            p.took.as_secs_f64()
        );
        if !p.errors.is_empty() {
            failed.push(format!("{name}: {:?}", p.errors));
        }
        if p.sent < common::scaled(SIGNALS) {
            failed.push(format!("{name}: only {} signals sent", p.sent));
        }
        // Every wake is followed by a return. A few more returns than wakes are possible: a
        // waker that reads the sleeper count just as the poller, seeing the wake's flag, polls
        // without sleeping writes an edge that ends the next poll(-1) at once (seen under
        // qemu-arm: 1553 returns for 1552 wakes). Each such return needs its own write.
        if delays.is_empty() && (p.returns < p.rounds || p.returns - p.rounds > p.writes) {
            failed.push(format!(
                "{name}: {} returns for {} wakes and {} eventfd writes",
                p.returns, p.rounds, p.writes
            ));
        }
        if !delays.is_empty() && p.doorbells != p.rounds {
            failed.push(format!(
                "{name}: {} doorbells seen of {}",
                p.doorbells, p.rounds
            ));
        }
    }
    // After the storm: a wake still wakes a blocking poll.
    np.wake().expect("wake");
    let t = Instant::now();
    assert_eq!(np.poll(-1, |_, _, _| {}), Ok(0));
    println!(
        "signals: {total_sent} signals sent in all; after the storm a wake ends poll(-1) in {:?}",
        t.elapsed()
    );
    assert!(t.elapsed() < DEADLINE);
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(np.close(&doorbell), Ok(()));
    assert_eq!(rawpoll::close(doorbell), Ok(()));
}

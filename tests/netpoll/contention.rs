//! Contention on `wake`: many threads waking one poller must neither lose a wake nor write more
//! than the poller needs.
//!
//! 8 threads call `wake()` 100,000 times each while one thread loops on `poll(-1)` and two more
//! loop on `poll(0)`. Every call must succeed, the blocking poller must keep waking (the run has
//! a 60 s watchdog: needing it is a hang), and the number of eventfd writes is checked against
//! the poller's cycles and its sleeping cycles (see `eight_threads_of_wakes_against_one_poller`
//! for the bound and why it holds).
//!
//! Then each of the 8 threads does 5,000 rounds of: read the poller's cycle count, `wake()`,
//! wait until the count has moved past it. Every single wake must be followed by a poll return
//! (Go's `netpollBreak` promise), also when it coalesced into another thread's write.
//!
//! Then the writes a wake saves: the same 8 threads of wakes with nobody asleep (only the `poll(0)` threads)
//! make no write at all, and neither do same-thread `wake(); poll(-1)` cycles.
//!
//! The writes are counted by the kernel: `syscw` in `/proc/self/io` counts the process's write
//! system calls, and nothing else in this process writes while the test runs (one test in this
//! file; its output is printed after the count). Counters are `usize`: 32-bit targets such as
//! mips have no 64-bit atomics. Under emulation (`RAWPOLL_EMULATED`) the counts of wakes are
//! divided by `RAWPOLL_EMULATED_SCALE` (default 10).

#[path = "../common/mod.rs"]
mod common;

use rawpoll::netpoll::Netpoll;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const WAKERS: usize = 8;
const WAKES_PER_THREAD: u64 = 100_000;
const PEEKERS: usize = 2;
const PING_PONG_ROUNDS: u64 = 5_000;
const SAME_THREAD_CYCLES: u64 = 100_000;
const DEADLINE: Duration = Duration::from_secs(60);

/// The calling thread's voluntary context switches so far (`getrusage(RUSAGE_THREAD)`): a
/// thread that really sleeps in `epoll_pwait` switches out voluntarily.
fn voluntary_switches() -> i64 {
    // SAFETY: a zeroed rusage is valid; getrusage writes one.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes one rusage into `usage`.
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) },
        0
    );
    usage.ru_nvcsw as i64
}

/// The process's write system calls so far, as the kernel counts them.
fn write_syscalls() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").expect("/proc/self/io");
    io.lines()
        .find_map(|l| l.strip_prefix("syscw: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("syscw")
}

/// The bound, from `src/netpoll.rs`'s protocol (one blocking poller, no failing system call, so
/// the flag is never UNDELIVERED and `poll(0)`'s give-back, an `epoll_ctl`, never writes):
///
/// - `wake` writes only after its own compare-exchange IDLE -> WRITING succeeded (and it then
///   read a non-zero sleeper count). Once a wake holds WRITING, the flag leaves it for DELIVERED
///   (not IDLE) or is set to IDLE by a blocking poll; nothing else stores IDLE (`poll(0)` never
///   does, `init` did once before the run).
/// - So between two successful IDLE -> WRITING exchanges there is at least one IDLE store, and
///   each blocking poll call stores IDLE at most once (after its wait). Hence
///   writes <= exchanges <= IDLE stores + 1 <= blocking poll cycles + 1 (the final stop wake and
///   its cycle included).
/// - Against sleeping cycles (polls in which the poller really slept: its voluntary context
///   switches grew) there is no such bound: a write can land in a poll that did not sleep (the
///   poller saw a waker's WRITING flag and polled with timeout 0 while that waker read the
///   sleeper count, or the edge arrived before `epoll_pwait` got to sleep), and its edge then
///   ends the next poll early too. The host shows a few such writes per run (writes - sleeping
///   cycles = 3 in one run), so sleeping cycles are counted and printed, not bounded.
#[test]
fn eight_threads_of_wakes_against_one_poller() {
    let wakes_per_thread = common::scaled(WAKES_PER_THREAD);
    let ping_pong_rounds = common::scaled(PING_PONG_ROUNDS);
    let np = Netpoll::new();
    np.init().expect("init");
    let stop = AtomicBool::new(false);
    let done = AtomicBool::new(false);
    let hung = AtomicBool::new(false);
    let start = Instant::now();
    let writes_before = write_syscalls();
    let cycle_count = AtomicUsize::new(0);
    let (cycles, sleeping, poll_errors, peeks, peek_errors, wake_errors, wakers_took, unanswered) =
        std::thread::scope(|s| {
            let watchdog = s.spawn(|| {
                while !done.load(Ordering::Acquire) {
                    if start.elapsed() > DEADLINE {
                        hung.store(true, Ordering::Release);
                        let _ = common::raw_eventfd_write(np.raw_wake_fd(), 1);
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            });
            let poller = s.spawn(|| {
                let (mut cycles, mut sleeping, mut errors) = (0u64, 0u64, 0u64);
                loop {
                    let before = voluntary_switches();
                    if np.poll(-1, |_, _, _| {}) != Ok(0) {
                        errors += 1;
                    }
                    if voluntary_switches() > before {
                        sleeping += 1;
                    }
                    cycles += 1;
                    cycle_count.store(cycles as usize, Ordering::Release);
                    if stop.load(Ordering::Acquire) {
                        return (cycles, sleeping, errors);
                    }
                }
            });
            let peekers: Vec<_> = (0..PEEKERS)
                .map(|_| {
                    s.spawn(|| {
                        let (mut peeks, mut errors) = (0u64, 0u64);
                        while !stop.load(Ordering::Acquire) {
                            if np.poll(0, |_, _, _| {}) != Ok(0) {
                                errors += 1;
                            }
                            peeks += 1;
                        }
                        (peeks, errors)
                    })
                })
                .collect();
            let wakers: Vec<_> = (0..WAKERS)
                .map(|_| {
                    s.spawn(|| {
                        (0..wakes_per_thread)
                            .filter(|_| {
                                let failed = np.wake().is_err();
                                for _ in 0..64 {
                                    std::hint::spin_loop();
                                }
                                failed
                            })
                            .count() as u64
                    })
                })
                .collect();
            let mut wake_errors: u64 = wakers
                .into_iter()
                .map(|h| h.join().unwrap_or(u64::MAX))
                .sum();
            let wakers_took = start.elapsed();
            let ping_pong: Vec<_> = (0..WAKERS)
                .map(|_| {
                    s.spawn(|| {
                        let (mut errors, mut unanswered) = (0u64, 0u64);
                        for _ in 0..ping_pong_rounds {
                            let before = cycle_count.load(Ordering::Acquire);
                            if np.wake().is_err() {
                                errors += 1;
                            }
                            while cycle_count.load(Ordering::Acquire) <= before {
                                if start.elapsed() > DEADLINE {
                                    unanswered += 1;
                                    break;
                                }
                                std::thread::yield_now();
                            }
                        }
                        (errors, unanswered)
                    })
                })
                .collect();
            let mut unanswered = 0;
            for h in ping_pong {
                let (e, u) = h.join().unwrap_or((u64::MAX, u64::MAX));
                wake_errors += e;
                unanswered += u;
            }
            stop.store(true, Ordering::Release);
            let _ = np.wake();
            let (cycles, sleeping, poll_errors) = poller.join().unwrap_or((0, 0, u64::MAX));
            let (peeks, peek_errors) = peekers
                .into_iter()
                .map(|h| h.join().unwrap_or((0, u64::MAX)))
                .fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
            done.store(true, Ordering::Release);
            let _ = watchdog.join();
            (
                cycles,
                sleeping,
                poll_errors,
                peeks,
                peek_errors,
                wake_errors,
                wakers_took,
                unanswered,
            )
        });
    let writes = write_syscalls() - writes_before;
    let took = start.elapsed();
    let (quiet_writes, quiet_wakes, quiet_peeks) = wakes_with_nobody_asleep(&np, wakes_per_thread);
    let same_thread = common::scaled(SAME_THREAD_CYCLES);
    let same_thread_writes = same_thread_cycles(&np, same_thread);
    println!(
        "contention: {WAKERS} threads x {wakes_per_thread} wake() = {} wakes in {wakers_took:?}, then {WAKERS} threads x {ping_pong_rounds} \
         wake-and-wait rounds ({unanswered} wakes not followed by a poll return); {wake_errors} wake errors; \
         {cycles} blocking poll cycles, {sleeping} of them sleeping ({poll_errors} errors); {peeks} poll(0) calls in {PEEKERS} threads ({peek_errors} errors); \
         {writes} eventfd writes (kernel count, includes the final stop wake) <= cycles + 1 = {}; \
         writes - sleeping cycles = {}; watchdog needed: {}; {took:?} in all",
        WAKERS as u64 * wakes_per_thread,
        cycles + 1,
        writes as i64 - sleeping as i64,
        hung.load(Ordering::Acquire)
    );
    println!(
        "contention, nobody asleep: {quiet_wakes} wake() in {WAKERS} threads against {quiet_peeks} poll(0): {quiet_writes} eventfd writes; \
         {same_thread} same-thread wake(); poll(-1) cycles: {same_thread_writes} writes"
    );
    assert!(
        !hung.load(Ordering::Acquire),
        "a blocked poll was not woken: hang"
    );
    assert_eq!(wake_errors, 0);
    assert_eq!(unanswered, 0);
    assert_eq!(poll_errors, 0);
    assert_eq!(peek_errors, 0);
    assert!(writes >= 1);
    assert!(sleeping >= 1, "the poller slept at least once");
    assert!(
        writes <= cycles + 1,
        "{writes} writes for {cycles} poll cycles"
    );
    assert!(took < DEADLINE, "bounded time");
    assert_eq!(quiet_writes, 0, "no write without a sleeper");
    assert_eq!(
        same_thread_writes, 0,
        "same-thread wake cycles write nothing"
    );
}

/// 8 threads of wakes while 2 threads loop on `poll(0)` and nobody blocks: returns the write
/// system calls made, the wakes and the poll(0) calls. The first wake finds the flag IDLE (reset
/// first) and nobody asleep, so it writes nothing; the others find it pending, which `poll(0)`
/// never consumes. Then one `poll(-1)` must return at once (the wake is pending).
fn wakes_with_nobody_asleep(np: &Netpoll, wakes_per_thread: u64) -> (u64, u64, u64) {
    // Reset: make a wake pending for sure and consume it (a leftover edge may end this poll
    // too), so the flag is IDLE.
    assert_eq!(np.wake(), Ok(()));
    assert_eq!(np.poll(-1, |_, _, _| {}), Ok(0));
    let stop = AtomicBool::new(false);
    let before = write_syscalls();
    let peeks = std::thread::scope(|s| {
        let peekers: Vec<_> = (0..PEEKERS)
            .map(|_| {
                s.spawn(|| {
                    let mut peeks = 0u64;
                    while !stop.load(Ordering::Acquire) {
                        assert_eq!(np.poll(0, |_, _, _| {}), Ok(0));
                        peeks += 1;
                    }
                    peeks
                })
            })
            .collect();
        let wakers: Vec<_> = (0..WAKERS)
            .map(|_| s.spawn(|| (0..wakes_per_thread).all(|_| np.wake().is_ok())))
            .collect();
        for w in wakers {
            assert_eq!(w.join().ok(), Some(true), "every wake Ok");
        }
        stop.store(true, Ordering::Release);
        peekers.into_iter().map(|p| p.join().unwrap_or(0)).sum()
    });
    let writes = write_syscalls() - before;
    assert!(!np.has_sleeper());
    assert_eq!(
        np.poll(-1, |_, _, _| {}),
        Ok(0),
        "the pending wake ends poll(-1)"
    );
    (writes, WAKERS as u64 * wakes_per_thread, peeks)
}

/// `cycles` same-thread `wake(); poll(-1)` cycles; returns the write system calls made.
fn same_thread_cycles(np: &Netpoll, cycles: u64) -> u64 {
    let before = write_syscalls();
    for _ in 0..cycles {
        assert_eq!(np.wake(), Ok(()));
        assert_eq!(np.poll(-1, |_, _, _| {}), Ok(0));
    }
    write_syscalls() - before
}

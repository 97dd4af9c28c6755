//! Issue 5, item 5: contention on `wake`.
//!
//! 8 threads call `wake()` 100,000 times each while one thread loops on `poll(-1)` and two more
//! loop on `poll(0)`. Every call must succeed, the blocking poller must keep waking (the run has
//! a 60 s watchdog: needing it is a hang), and the number of eventfd writes must stay at most the
//! number of blocking poll cycles plus one: at most one wake is ever pending, so `wake` coalesces
//! everything between two polls into a single write.
//!
//! Then each of the 8 threads does 5,000 rounds of: read the poller's cycle count, `wake()`,
//! wait until the count has moved past it. Every single wake must be followed by a poll return
//! (Go's `netpollBreak` promise), also when it coalesced into another thread's write.
//!
//! The writes are counted by the kernel: `syscw` in `/proc/self/io` counts the process's write
//! system calls, and nothing else in this process writes while the test runs (one test in this
//! file; its output is printed after the count).

use rawpoll::netpoll::Netpoll;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const WAKERS: usize = 8;
const WAKES_PER_THREAD: u64 = 100_000;
const PEEKERS: usize = 2;
const PING_PONG_ROUNDS: u64 = 5_000;
const DEADLINE: Duration = Duration::from_secs(60);

/// The process's write system calls so far, as the kernel counts them.
fn write_syscalls() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").expect("/proc/self/io");
    io.lines()
        .find_map(|l| l.strip_prefix("syscw: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("syscw")
}

#[test]
fn eight_threads_of_wakes_against_one_poller() {
    let np = Netpoll::new();
    np.init().expect("init");
    let stop = AtomicBool::new(false);
    let done = AtomicBool::new(false);
    let hung = AtomicBool::new(false);
    let start = Instant::now();
    let writes_before = write_syscalls();
    let cycle_count = AtomicU64::new(0);
    let (cycles, poll_errors, peeks, peek_errors, wake_errors, wakers_took, unanswered) =
        std::thread::scope(|s| {
            let watchdog = s.spawn(|| {
                while !done.load(Ordering::Acquire) {
                    if start.elapsed() > DEADLINE {
                        hung.store(true, Ordering::Release);
                        let _ = rawpoll::eventfd_write(np.wake_fd(), 1);
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            });
            let poller = s.spawn(|| {
                let (mut cycles, mut errors) = (0u64, 0u64);
                loop {
                    if np.poll(-1, |_, _| {}) != Ok(0) {
                        errors += 1;
                    }
                    cycles += 1;
                    cycle_count.store(cycles, Ordering::Release);
                    if stop.load(Ordering::Acquire) {
                        return (cycles, errors);
                    }
                }
            });
            let peekers: Vec<_> = (0..PEEKERS)
                .map(|_| {
                    s.spawn(|| {
                        let (mut peeks, mut errors) = (0u64, 0u64);
                        while !stop.load(Ordering::Acquire) {
                            if np.poll(0, |_, _| {}) != Ok(0) {
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
                        (0..WAKES_PER_THREAD)
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
                        for _ in 0..PING_PONG_ROUNDS {
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
            let (cycles, poll_errors) = poller.join().unwrap_or((0, u64::MAX));
            let (peeks, peek_errors) = peekers
                .into_iter()
                .map(|h| h.join().unwrap_or((0, u64::MAX)))
                .fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
            done.store(true, Ordering::Release);
            let _ = watchdog.join();
            (
                cycles,
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
    println!(
        "contention: {WAKERS} threads x {WAKES_PER_THREAD} wake() = {} wakes in {wakers_took:?}, then {WAKERS} threads x {PING_PONG_ROUNDS} \
         wake-and-wait rounds ({unanswered} wakes not followed by a poll return); {wake_errors} wake errors; \
         {cycles} blocking poll cycles ({poll_errors} errors); {peeks} poll(0) calls in {PEEKERS} threads ({peek_errors} errors); \
         {writes} eventfd writes (kernel count, includes the final stop wake) <= cycles + 1 = {}; watchdog needed: {}; {took:?} in all",
        WAKERS as u64 * WAKES_PER_THREAD,
        cycles + 1,
        hung.load(Ordering::Acquire)
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
    assert!(
        writes <= cycles + 1,
        "{writes} writes for {cycles} poll cycles"
    );
    assert!(took < DEADLINE, "bounded time");
}

//! The wake eventfd's counter at its maximum, `0xfffffffffffffffe`: a full counter must not
//! lose a wake.
//!
//! A full counter makes the next 8-byte write fail with `EAGAIN`, and a failed write makes no
//! edge for the edge-triggered registration: `wake` must then read the counter back to zero and
//! write again (so the counter holds exactly 1 afterwards), return `Ok`, and the blocked poll
//! must return. `wake` writes only when a thread sleeps in the poller, so the
//! write path is driven with a poller blocked in another thread (`has_sleeper()` true before the
//! wake); with nobody asleep a wake leaves the full counter alone and the next blocking poll
//! returns on the pending flag. Every blocking poll here runs under a 10 s watchdog: a poll that
//! needs it is a hang, and fails the test.

use crate::common::{
    self, eventfd_count, raw_eventfd_read as eventfd_read, raw_eventfd_write as eventfd_write,
};
use rawpoll::netpoll::Netpoll;
use rawpoll::{Errno, RawFd};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const MAX: u64 = 0xffff_ffff_ffff_fffe;
const DEADLINE: Duration = Duration::from_secs(10);

/// Fills the counter to its maximum from outside.
fn fill(fd: RawFd) {
    assert_eq!(eventfd_write(fd, MAX - eventfd_count(fd)), Ok(()));
    assert_eq!(eventfd_count(fd), MAX);
}

/// `poll(-1)` under a watchdog: returns the result, how long it took and whether the watchdog
/// had to end it (a hang).
fn guarded_poll(np: &Netpoll) -> (Result<usize, Errno>, Duration, bool) {
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        let dog = s.spawn(move || {
            if rx.recv_timeout(DEADLINE).is_err() {
                // Whatever state the flag is in, a direct write of 1 ends the wait (or the
                // counter is full, and the poll is not waiting).
                let _ = eventfd_write(np.raw_wake_fd(), 1);
                return true;
            }
            false
        });
        let t = Instant::now();
        let r = np.poll(-1, |_, _, _| {});
        let took = t.elapsed();
        let _ = tx.send(());
        (r, took, dog.join().unwrap_or(true))
    })
}

/// `f` while another thread is blocked in `poll(-1)` (under the watchdog): waits until
/// `has_sleeper()` is true and a little more, runs `f`, and returns its result with the poll's.
/// No wake may be pending. An edge left on the wake eventfd (by a write from outside, or by a
/// write whose poll had already returned) is taken first with a `poll(0)`, which never consumes
/// a wake: otherwise the poll would return on it at once instead of sleeping.
fn while_blocked<T>(
    np: &Netpoll,
    f: impl FnOnce() -> T,
) -> (T, Result<usize, Errno>, Duration, bool) {
    assert_eq!(np.poll(0, |_, _, _| {}), Ok(0));
    std::thread::scope(|s| {
        let poller = s.spawn(|| guarded_poll(np));
        let start = Instant::now();
        while !np.has_sleeper() && start.elapsed() < DEADLINE {
            std::thread::yield_now();
        }
        assert!(np.has_sleeper(), "the poller never blocked");
        std::thread::sleep(Duration::from_millis(2));
        let t = f();
        let (r, took, hung) = poller.join().unwrap_or((Err(Errno::EIO), DEADLINE, true));
        (t, r, took, hung)
    })
}

#[test]
fn wake_with_a_saturated_counter() {
    // It opens descriptors: not while the tests that reason about descriptor numbers run.
    let _serial = crate::serial();
    let np = Netpoll::new();
    np.init().expect("init");
    let fd = np.raw_wake_fd();
    let slowest = std::cell::Cell::new(Duration::ZERO);
    let check = |what: &str, r: Result<usize, Errno>, took: Duration, hung: bool| {
        slowest.set(slowest.get().max(took));
        assert!(!hung, "{what}: poll(-1) hung");
        assert_eq!(r, Ok(0), "{what}");
    };

    // No wake pending, counter filled from outside, a poller asleep: wake's write gets EAGAIN,
    // so wake resets the counter and writes again.
    fill(fd);
    assert_eq!(
        eventfd_write(fd, 1),
        Err(Errno::EAGAIN),
        "the counter is full"
    );
    let (woke, r, took, hung) = while_blocked(&np, || np.wake());
    assert_eq!(woke, Ok(()));
    check("full counter, wake to a sleeper", r, took, hung);
    assert_eq!(
        eventfd_count(fd),
        1,
        "wake reset the full counter and wrote once"
    );
    let (woke, r, took, hung) = while_blocked(&np, || np.wake());
    assert_eq!(woke, Ok(()));
    check("the next wake", r, took, hung);
    assert_eq!(eventfd_count(fd), 2, "the next wake wrote again");

    // Full counter, nobody asleep: the wake makes no system call, so the counter stays full,
    // and the next blocking poll returns on the pending flag.
    fill(fd);
    assert_eq!(np.wake(), Ok(()));
    assert_eq!(eventfd_count(fd), MAX, "no write without a sleeper");
    let (r, took, hung) = guarded_poll(&np);
    check("full counter, wake with nobody asleep", r, took, hung);

    // A wake pending, then the counter filled to the maximum: more wakes are no-ops (the flag),
    // a non-blocking poll does not consume the wake, a blocking one does.
    assert_eq!(eventfd_read(fd), Ok(MAX));
    assert_eq!(np.wake(), Ok(()));
    fill(fd);
    let wakes_ok = (0..1000).filter(|_| np.wake() == Ok(())).count();
    assert_eq!(wakes_ok, 1000);
    assert_eq!(
        eventfd_count(fd),
        MAX,
        "the pending wake made the other 1000 wakes no-ops"
    );
    assert_eq!(np.poll(0, |_, _, _| {}), Ok(0));
    assert_eq!(
        eventfd_write(fd, 1),
        Err(Errno::EAGAIN),
        "poll(0) left it full"
    );
    let (r, took, hung) = guarded_poll(&np);
    check("wake pending, then full", r, took, hung);

    // A poller blocked when the counter fills (no wake pending: zero the count first).
    assert_eq!(eventfd_read(fd), Ok(MAX));
    let (filled, r, took, hung) = while_blocked(&np, || eventfd_write(fd, MAX));
    assert_eq!(filled, Ok(()));
    check("the counter filled under a blocked poll", r, took, hung);
    assert_eq!(eventfd_count(fd), MAX, "polls never read the counter");
    let (woke, r, took, hung) = while_blocked(&np, || np.wake());
    assert_eq!(woke, Ok(()));
    check("after a blocked poll saw the counter fill", r, took, hung);
    assert_eq!(eventfd_count(fd), 1);

    // Rounds: fill (and take the fill's own edge with a poll(0), so that it wakes nobody), then
    // a wake to a poller blocked in another thread, which must reset the counter, write once
    // and wake it.
    let rounds = common::scaled(500);
    let start = Instant::now();
    for round in 0..rounds {
        assert_eq!(eventfd_write(fd, MAX - 1), Ok(()), "round {round}");
        assert_eq!(np.poll(0, |_, _, _| {}), Ok(0), "round {round}");
        let (woke, r, took, hung) = while_blocked(&np, || np.wake());
        assert_eq!(woke, Ok(()), "round {round}");
        check(&format!("round {round}"), r, took, hung);
        assert_eq!(
            eventfd_count(fd),
            1,
            "round {round}: reset and written once"
        );
    }
    assert_eq!(eventfd_count(fd), 1);
    println!(
        "saturation: counter filled to {MAX:#x}: wake Ok every time (reset and one write with a sleeper, no write without), \
         1000 wakes on a full counter Ok, blocking polls all returned (slowest guarded poll {:?}); \
         {rounds} fill/wake-a-sleeper rounds in {:?}",
        slowest.get(),
        start.elapsed()
    );
}

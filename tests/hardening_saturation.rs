//! Issue 5, item 4: the wake eventfd's counter at its maximum, `0xfffffffffffffffe`.
//!
//! A full counter makes the next 8-byte write fail with `EAGAIN`, and a failed write makes no
//! edge for the edge-triggered registration: `wake` must then read the counter back to zero and
//! write again (so the counter holds exactly 1 afterwards), return `Ok`, and the next blocking
//! poll must return. Every blocking poll here runs under a 10 s watchdog: a poll that needs it
//! is a hang, and fails the test.

mod common;

use common::eventfd_count;
use rawpoll::netpoll::Netpoll;
use rawpoll::{eventfd_read, eventfd_write, Errno};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const MAX: u64 = 0xffff_ffff_ffff_fffe;
const DEADLINE: Duration = Duration::from_secs(10);

/// Fills the counter to its maximum from outside.
fn fill(fd: i32) {
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
                let _ = eventfd_write(np.wake_fd(), 1);
                return true;
            }
            false
        });
        let t = Instant::now();
        let r = np.poll(-1, |_, _| {});
        let took = t.elapsed();
        let _ = tx.send(());
        (r, took, dog.join().unwrap_or(true))
    })
}

#[test]
fn wake_with_a_saturated_counter() {
    let np = Netpoll::new();
    np.init().expect("init");
    let fd = np.wake_fd();
    let slowest = std::cell::Cell::new(Duration::ZERO);
    let check = |what: &str, np: &Netpoll| {
        let (r, took, hung) = guarded_poll(np);
        slowest.set(slowest.get().max(took));
        assert!(!hung, "{what}: poll(-1) hung");
        assert_eq!(r, Ok(0), "{what}");
    };

    // No wake pending, counter filled from outside: wake's write gets EAGAIN, so wake resets the
    // counter and writes again.
    fill(fd);
    assert_eq!(
        eventfd_write(fd, 1),
        Err(Errno::EAGAIN),
        "the counter is full"
    );
    assert_eq!(np.wake(), Ok(()));
    assert_eq!(
        eventfd_count(fd),
        1,
        "wake reset the full counter and wrote once"
    );
    check("full counter, wake after", &np);
    assert_eq!(np.wake(), Ok(()));
    assert_eq!(eventfd_count(fd), 2, "the next wake wrote again");
    check("the next wake", &np);

    // A wake pending, then the counter filled to the maximum: more wakes are no-ops (the flag),
    // a non-blocking poll does not consume the wake, a blocking one does.
    assert_eq!(np.wake(), Ok(()));
    fill(fd);
    let wakes_ok = (0..1000).filter(|_| np.wake() == Ok(())).count();
    assert_eq!(wakes_ok, 1000);
    assert_eq!(
        eventfd_count(fd),
        MAX,
        "the pending wake made the other 1000 wakes no-ops"
    );
    assert_eq!(np.poll(0, |_, _| {}), Ok(0));
    assert_eq!(
        eventfd_write(fd, 1),
        Err(Errno::EAGAIN),
        "poll(0) left it full"
    );
    check("wake pending, then full", &np);

    // A poller blocked when the counter fills (no wake pending: zero the count first).
    assert_eq!(eventfd_read(fd), Ok(MAX));
    let (r, took, hung) = std::thread::scope(|s| {
        let filler = s.spawn(|| {
            std::thread::sleep(Duration::from_millis(20));
            eventfd_write(fd, MAX)
        });
        let r = guarded_poll(&np);
        assert_eq!(filler.join().ok(), Some(Ok(())));
        r
    });
    assert!(!hung);
    assert_eq!(r, Ok(0));
    slowest.set(slowest.get().max(took));
    assert_eq!(eventfd_count(fd), MAX, "polls never read the counter");
    assert_eq!(np.wake(), Ok(()));
    assert_eq!(eventfd_count(fd), 1);
    check("after a blocked poll saw the counter fill", &np);

    // Rounds: fill, wake, poll(-1).
    let rounds = 10_000;
    let start = Instant::now();
    for round in 0..rounds {
        assert_eq!(eventfd_write(fd, MAX - 1), Ok(()), "round {round}");
        assert_eq!(np.wake(), Ok(()), "round {round}");
        assert_eq!(
            eventfd_count(fd),
            1,
            "round {round}: reset and written once"
        );
        assert_eq!(np.poll(-1, |_, _| {}), Ok(0), "round {round}");
        assert!(start.elapsed() < DEADLINE, "round {round}: bounded time");
    }
    assert_eq!(eventfd_count(fd), 1);
    println!(
        "saturation: counter filled to {MAX:#x}: wake Ok every time, 1000 wakes on a full counter Ok, \
         blocking polls all returned (slowest guarded poll {:?}); {rounds} fill/wake/poll(-1) rounds in {:?}",
        slowest.get(),
        start.elapsed()
    );
}

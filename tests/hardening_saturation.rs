//! Issue 5, item 4: the wake eventfd's counter at its maximum, `0xfffffffffffffffe`.
//!
//! A full counter makes the next 8-byte write fail with `EAGAIN`; `wake` must take that as "a
//! wake is pending" and return `Ok`, and the next blocking poll must still return (and drain the
//! counter, so that later wakes work). Every blocking poll here runs under a 10 s watchdog: a
//! poll that needs it is a hang, and fails the test.

use rawpoll::netpoll::Netpoll;
use rawpoll::{eventfd_read, eventfd_write, Errno};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const MAX: u64 = 0xffff_ffff_ffff_fffe;
const DEADLINE: Duration = Duration::from_secs(10);

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
        assert_eq!(
            eventfd_read(fd),
            Err(Errno::EAGAIN),
            "{what}: counter drained"
        );
    };

    // No wake pending, counter filled from outside: wake's write gets EAGAIN, wake says Ok.
    assert_eq!(eventfd_write(fd, MAX), Ok(()));
    assert_eq!(
        eventfd_write(fd, 1),
        Err(Errno::EAGAIN),
        "the counter is full"
    );
    assert_eq!(np.wake(), Ok(()));
    check("full counter, wake after", &np);
    assert_eq!(np.wake(), Ok(()));
    check("the next wake", &np);

    // A wake pending (counter 1), then filled to the maximum: more wakes are no-ops, a
    // non-blocking poll does not consume, a blocking one does.
    assert_eq!(np.wake(), Ok(()));
    assert_eq!(eventfd_write(fd, MAX - 1), Ok(()));
    let wakes_ok = (0..1000).filter(|_| np.wake() == Ok(())).count();
    assert_eq!(wakes_ok, 1000);
    assert_eq!(np.poll(0, |_, _| {}), Ok(0));
    assert_eq!(
        eventfd_write(fd, 1),
        Err(Errno::EAGAIN),
        "poll(0) left it full"
    );
    check("wake pending, then full", &np);

    // A poller blocked when the counter fills.
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
    assert_eq!(eventfd_read(fd), Err(Errno::EAGAIN));
    assert_eq!(np.wake(), Ok(()));
    check("after a blocked poll saw the counter fill", &np);

    // Rounds: fill, wake, poll(-1).
    let rounds = 10_000;
    let start = Instant::now();
    for round in 0..rounds {
        assert_eq!(eventfd_write(fd, MAX), Ok(()), "round {round}");
        assert_eq!(np.wake(), Ok(()), "round {round}");
        assert_eq!(np.poll(-1, |_, _| {}), Ok(0), "round {round}");
        assert!(start.elapsed() < DEADLINE, "round {round}: bounded time");
    }
    assert_eq!(eventfd_read(fd), Err(Errno::EAGAIN));
    println!(
        "saturation: counter filled to {MAX:#x}: wake Ok every time, 1000 wakes on a full counter Ok, \
         blocking polls all returned (slowest guarded poll {:?}); {rounds} fill/wake/poll(-1) rounds in {:?}",
        slowest.get(),
        start.elapsed()
    );
}

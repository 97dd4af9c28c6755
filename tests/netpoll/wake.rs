//! `wake` and the sleeper: a blocking poll woken from another thread, concurrent wakes writing
//! the eventfd once per cycle (and not at all with nobody asleep), a non-blocking poll that
//! never consumes a pending wake, and `has_sleeper`: a wake that returned `Ok` is never lost, and
//! costs no system call when nobody sleeps.

use super::*;

#[test]
fn blocking_poll_is_woken_from_another_thread() {
    let _serial = serial();
    let np = Arc::new(ready_netpoll());
    let rx = blocked_poller(&np);
    assert!(np.has_sleeper());
    assert_eq!(writes(&np), 0);
    let wake_started = Instant::now();
    assert_eq!(np.wake(), Ok(()));
    let returned = woken(rx, &np);
    assert!(
        returned >= wake_started,
        "the poll returned before it was woken"
    );
    // The eventfd counts writes (it is edge-triggered and never read by a poll): one so far,
    // since a thread slept.
    assert_eq!(writes(&np), 1);
    // With nobody asleep a wake makes no system call (it used to write a second
    // time); the same thread's next poll(-1) sees it pending and returns at once.
    assert!(!np.has_sleeper());
    assert_eq!(np.wake(), Ok(()));
    assert_eq!(writes(&np), 1, "no write without a sleeper");
    poll_returns(&np, -1, "poll(-1) after a wake");
    assert_eq!(writes(&np), 1);
    // That poll reset the wake flag: the next wake to a sleeper writes again.
    let rx = blocked_poller(&np);
    assert_eq!(np.wake(), Ok(()));
    woken(rx, &np);
    assert_eq!(writes(&np), 2);
}

/// 8 threads released together call `wake()`, `CYCLES` times. The exact counts: with a
/// thread blocked in `poll(-1)` exactly one of them writes (the others find the wake pending);
/// with nobody asleep none does, and the next `poll(-1)` still returns at once.
#[test]
fn concurrent_wakes_write_the_eventfd_once_per_cycle() {
    let _serial = serial();
    const THREADS: usize = 8;
    let cycles = common::scaled(100);
    let np = Arc::new(ready_netpoll());
    let racing_wakes = |np: &Arc<Netpoll>| {
        let barrier = Arc::new(Barrier::new(THREADS));
        let wakers: Vec<_> = (0..THREADS)
            .map(|_| {
                let (np, barrier) = (Arc::clone(np), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    np.wake()
                })
            })
            .collect();
        for w in wakers {
            assert_eq!(w.join().unwrap(), Ok(()));
        }
    };
    // A blocked poller: one write per cycle.
    for cycle in 1..=cycles {
        let rx = blocked_poller(&np);
        racing_wakes(&np);
        woken(rx, &np);
        // Each write adds 1 and no poll reads the counter: it equals the number of writes.
        assert_eq!(
            writes(&np),
            cycle,
            "one write per cycle of 8 wakes to a sleeper"
        );
        // A waker that came after the poll returned left a wake pending (without writing:
        // nobody slept), as it must; consume it so that the next poller really blocks.
        settle(&np);
    }
    // Nobody asleep: no write at all, and the wake is still delivered.
    for _ in 1..=cycles {
        racing_wakes(&np);
        assert_eq!(writes(&np), cycles, "no write without a sleeper");
        poll_returns(&np, -1, "poll(-1) after wakes");
    }
    println!(
        "{cycles} cycles x {THREADS} concurrent wake() calls to a blocked poller, then {cycles} with nobody asleep: {} eventfd writes",
        writes(&np)
    );
    assert_eq!(writes(&np), cycles);
}

#[test]
fn non_blocking_poll_never_consumes_a_pending_wake() {
    let _serial = serial();
    let np = Arc::new(ready_netpoll());
    // Nobody sleeps, so none of these wakes writes the eventfd (it used to count 1,
    // 2, 3 below); the pending flag alone carries the wake to the next blocking poll.
    assert_eq!(np.wake(), Ok(()));
    for _ in 0..3 {
        assert_eq!(np.poll(0, |_, _, _| {}), Ok(0));
    }
    // Still pending: another wake is a no-op.
    assert_eq!(np.wake(), Ok(()));
    assert_eq!(writes(&np), 0, "no write without a sleeper");
    // A blocking poll returns at once and consumes it.
    poll_returns(&np, -1, "poll(-1) with a pending wake");
    // A positive delay consumes a wake too (delay != 0): a quick return, still no write.
    assert_eq!(np.wake(), Ok(()));
    assert_eq!(writes(&np), 0);
    let start = Instant::now();
    poll_returns(&np, 1_000_000_000, "poll(1 s) with a pending wake");
    println!(
        "poll(1 s) with a wake pending returned after {:?}",
        start.elapsed()
    );
    // And the flag was reset: a poll blocks again, and a wake to it writes (once).
    let rx = blocked_poller(&np);
    assert_eq!(np.wake(), Ok(()));
    woken(rx, &np);
    assert_eq!(writes(&np), 1);

    // A thread blocks while another spins on poll(0), which takes the wake's edge whenever it
    // gets there first: the blocked thread must still be woken, every round, and the wake
    // writes exactly once per round (poll(0) puts a taken edge back with EPOLL_CTL_MOD, not
    // with a write).
    const ROUNDS: u64 = 50;
    let writes_before = writes(&np);
    for _ in 0..ROUNDS {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let spinner = {
            let (np, stop) = (Arc::clone(&np), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut polls = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    assert_eq!(np.poll(0, |_, _, _| {}), Ok(0));
                    polls += 1;
                }
                polls
            })
        };
        let rx = blocked_poller(&np);
        assert_eq!(np.wake(), Ok(()));
        let woken = rx.recv_timeout(DEADLINE).map(|(r, _)| r);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let polls = spinner.join().unwrap();
        assert_eq!(
            woken,
            Ok(Ok(0)),
            "blocked poll not woken ({polls} racing poll(0))"
        );
        // An edge put back after the blocked poll had returned may still be queued.
        settle(&np);
    }
    println!(
        "{ROUNDS} rounds: a blocked poll woken while another thread spun on poll(0); {} writes",
        writes(&np) - writes_before
    );
    assert_eq!(writes(&np) - writes_before, ROUNDS, "one write per round");
}

#[test]
fn has_sleeper_while_a_thread_blocks() {
    let _serial = serial();
    let np = Arc::new(ready_netpoll());
    assert!(!np.has_sleeper());
    assert_eq!(np.poll(0, |_, _, _| {}), Ok(0));
    assert!(!np.has_sleeper(), "poll(0) never sleeps");
    // poll(-1): a sleeper until woken.
    let rx = blocked_poller(&np);
    assert!(np.has_sleeper());
    std::thread::sleep(Duration::from_millis(20));
    assert!(np.has_sleeper(), "still blocked");
    assert_eq!(np.wake(), Ok(()));
    woken(rx, &np);
    assert!(!np.has_sleeper());
    // A positive delay counts too, and ends on its own.
    let (tx, rx) = mpsc::channel();
    let poller = Arc::clone(&np);
    std::thread::spawn(move || {
        let _ = tx.send(poller.poll(200_000_000, |_, _, _| {}));
    });
    let start = Instant::now();
    while !np.has_sleeper() {
        assert!(start.elapsed() < DEADLINE);
        std::thread::yield_now();
    }
    assert_eq!(rx.recv_timeout(DEADLINE), Ok(Ok(0)));
    assert!(!np.has_sleeper(), "the timed-out poll left");
    assert_eq!(writes(&np), 1, "only the wake to the blocked poller wrote");
}

//! What the callback of `Netpoll::poll` can do to the poller, seen from outside: panic, take its
//! time, wait for another poller, or call the poller again.
//!
//! The callback is user code that runs inside `poll`, between the wait and the return. The
//! promises under test: a `wake` that returned `Ok` is never lost, and a panic in a callback
//! leaves the poller as usable as a normal return (the events of the batch not yet handed to a
//! callback are dropped). A non-blocking poll that overlaps a sleeper can take the wake's edge;
//! the sleeper then depends on that poll to put it back, so whatever the callback does must not
//! keep the edge from the sleeper: not a panic, not a slow callback, not a callback that waits
//! for the sleeper to return.
//!
//! Determinism: where a case needs the non-blocking poll to take the edge (rather than the
//! sleeper, which the kernel wakes at the same moment), the sleeper is held by seccomp user
//! notification (`common/seccomp.rs`) at the door of its `epoll_pwait`: it already counts as a
//! sleeper, so `wake` writes the edge, and it reaches the kernel only when the test releases it,
//! after the non-blocking poll has run. `panics_in_callbacks_round_after_round` replays the
//! outside user's own program instead, with no seccomp and the race left to the scheduler.
//!
//! The test bodies use the public API only and no `unsafe` (the helper modules do, for seccomp
//! and for the raw write that unblocks a sleeper a lost wake left asleep). No time is asserted:
//! a return that must come is given [`DEADLINE`], and order is checked with stamps.
//!
//! A test binary of its own, as every file of `adversary/` (`ci/soak` runs them one by one);
//! its cases could share a process.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
#[path = "../common/mod.rs"]
mod common;

use adversary::{leak_pd, poller, rescue, tid, wait_asleep, writes, Pipe, DEADLINE};
use common::{adversary, seccomp};
use rawpoll::netpoll::{Interest, Netpoll, PollDesc, Ready};
use rawpoll::{Errno, EFD_CLOEXEC, EFD_NONBLOCK, EPOLLIN, EPOLLOUT};
use seccomp::{Action, Faults, Rule};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Mutex, OnceLock};
use std::thread::Scope;
use std::time::{Duration, Instant};

/// Rounds of the repeated panic cases.
const ROUNDS: usize = 25;
/// How long the slow callback sleeps at least.
const SLOW: Duration = Duration::from_secs(2);
/// What the panicking callbacks panic with.
const BOOM: &str = "callback panics on purpose";

/// Whether seccomp user notification works here; prints why not once.
fn seccomp_available() -> bool {
    static UNAVAILABLE: OnceLock<Option<String>> = OnceLock::new();
    match UNAVAILABLE.get_or_init(seccomp::unavailable) {
        Some(reason) => {
            println!("skipped: seccomp user notification is unavailable: {reason}");
            false
        }
        None => true,
    }
}

/// Holds every `epoll_pwait` of the threads that attach it at the door, until released.
fn hold_waits() -> Faults {
    Faults::new(vec![
        Rule::new("epoll_pwait", libc::SYS_epoll_pwait).then(Action::Hold)
    ])
}

/// A thread in (or about to enter) one `poll(-1)`: its id, and its result with a stamp taken
/// from `clock` just after the poll returned (when it also sets `returned`).
struct Sleeper<'s> {
    tid: i32,
    done: Receiver<(Result<usize, Errno>, usize)>,
    returned: &'s AtomicBool,
}

/// Starts a thread that polls once with `poll(-1)`; its `epoll_pwait` is held if `faults` is
/// given.
fn sleeper<'s>(
    s: &'s Scope<'s, '_>,
    np: &'s Netpoll,
    faults: Option<&'s Faults>,
    clock: &'s AtomicUsize,
) -> Sleeper<'s> {
    sleeper_flagged(
        s,
        np,
        faults,
        clock,
        Box::leak(Box::new(AtomicBool::new(false))),
    )
}

/// [`sleeper`], setting `returned` when the poll has returned.
fn sleeper_flagged<'s>(
    s: &'s Scope<'s, '_>,
    np: &'s Netpoll,
    faults: Option<&'s Faults>,
    clock: &'s AtomicUsize,
    returned: &'s AtomicBool,
) -> Sleeper<'s> {
    let (tid_tx, tid_rx) = mpsc::channel();
    let (done_tx, done) = mpsc::channel();
    s.spawn(move || {
        if let Some(faults) = faults {
            faults.attach().expect("attach the sleeper's filter");
        }
        tid_tx.send(tid()).unwrap();
        let r = np.poll(-1, |_, _, _| {});
        let stamp = clock.fetch_add(1, Ordering::SeqCst);
        returned.store(true, Ordering::SeqCst);
        let _ = done_tx.send((r, stamp));
    });
    let tid = tid_rx.recv_timeout(DEADLINE).expect("the sleeper started");
    Sleeper {
        tid,
        done,
        returned,
    }
}

impl Sleeper<'_> {
    /// What the poll returned and its stamp; fails (after unblocking it) if it does not
    /// return within [`DEADLINE`].
    fn woken(&self, np: &Netpoll, what: &str) -> (Result<usize, Errno>, usize) {
        match self.done.recv_timeout(DEADLINE) {
            Ok(r) => r,
            Err(_) => {
                rescue(np);
                panic!("{what}: the sleeper was not woken within {DEADLINE:?}: the wake was lost");
            }
        }
    }

    /// Waits until it sleeps in `epoll_pwait` (a poll that returns instead fails the test).
    fn wait_asleep(&self, np: &Netpoll, what: &str) {
        wait_asleep(np, self.tid, || self.returned.load(Ordering::SeqCst), what);
    }

    fn still_asleep(&self, what: &str) {
        assert_eq!(
            self.done.try_recv().err(),
            Some(TryRecvError::Empty),
            "{what}: the sleeper returned"
        );
    }
}

/// A failing assertion inside a thread scope would leave sleepers blocked and the scope waiting
/// for them: on a panic, let held calls run and write the eventfd a few times.
struct Unstick<'a> {
    np: &'a Netpoll,
    faults: Option<&'a Faults>,
}

impl Drop for Unstick<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(f) = self.faults {
                f.release_all();
            }
            for _ in 0..4 {
                rescue(self.np);
            }
        }
    }
}

/// The message of a caught panic.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Runs `np.poll(delay, ...)` with a callback that counts its calls in `calls` and panics on
/// the first one; the panic is caught with `catch_unwind` (`caught`) or ends the thread it ran
/// on. Returns the panic's message.
fn panicking_poll(np: &Netpoll, delay: i64, caught: bool, calls: &AtomicUsize) -> String {
    let poll = || {
        np.poll(delay, |_, _, _| {
            calls.fetch_add(1, Ordering::SeqCst);
            panic!("{BOOM}");
        })
    };
    let outcome = std::thread::scope(|s| {
        s.spawn(|| {
            if caught {
                match catch_unwind(AssertUnwindSafe(poll)) {
                    Ok(r) => Ok(r),
                    Err(payload) => Err(message(&*payload)),
                }
            } else {
                // Not caught: the panic ends this thread.
                Ok(poll())
            }
        })
        .join()
        .map_err(|payload| message(&*payload))
    });
    match outcome {
        Ok(Err(m)) | Err(m) => m,
        Ok(Ok(r)) => panic!("the poll returned {r:?} without calling its callback"),
    }
}

/// The outside user's case, made deterministic: a sleeper waits in `poll(-1)` with a wake
/// pending (its edge written), and a `poll(0)` whose callback panics takes the edge. The sleeper
/// must return; the descriptors of the batch after the panicking one are dropped (not reported
/// later, not reported to the sleeper: it returns `Ok(0)`); later wakes still wake. `ROUNDS`
/// rounds, the panic caught with `catch_unwind` in even rounds and ending its thread in odd ones.
#[test]
fn panic_in_a_nonblocking_poll_callback_keeps_the_sleepers_wake() {
    if !seccomp_available() {
        return;
    }
    let np = poller();
    let (first, second) = (Pipe::new(), Pipe::new());
    let (pd1, pd2) = (leak_pd(1), leak_pd(2));
    assert_eq!(np.open(&first.r, pd1), Ok(()));
    assert_eq!(np.open(&second.r, pd2), Ok(()));
    let faults = hold_waits();
    let clock = AtomicUsize::new(0);
    for round in 0..ROUNDS {
        let caught = round % 2 == 0;
        let what = format!(
            "round {round} ({})",
            if caught { "caught" } else { "uncaught" }
        );
        let written = writes(&np);
        std::thread::scope(|s| {
            let _unstick = Unstick {
                np: &np,
                faults: Some(&faults),
            };
            let held = sleeper(s, &np, Some(&faults), &clock);
            let call = faults.wait_held(DEADLINE);
            assert!(
                np.has_sleeper(),
                "{what}: the held poll counts as a sleeper"
            );
            assert_eq!(np.wake(), Ok(()), "{what}: wake");
            assert_eq!(writes(&np), written + 1, "{what}: the wake wrote its edge");
            first.fill();
            second.fill();
            // The batch: the wake's edge, then the two pipes. The callback panics on the first
            // pipe.
            let calls = AtomicUsize::new(0);
            let msg = panicking_poll(&np, 0, caught, &calls);
            assert_eq!(msg, BOOM, "{what}");
            assert_eq!(calls.load(Ordering::SeqCst), 1, "{what}: callbacks run");
            // Now the sleeper reaches the kernel, where the edge must be waiting for it.
            faults.release(call, Action::Continue);
            let (r, _) = held.woken(&np, &what);
            assert_eq!(r, Ok(0), "{what}: the sleeper gets the wake, no descriptor");
            // The second pipe's event was in the batch and never handed over: dropped.
            let mut late = Vec::new();
            assert_eq!(
                np.poll(0, |pd, _, _| late.push(pd.user_data())),
                Ok(0),
                "{what}: {late:?}"
            );
            // Both pipes still work: a new edge is reported.
            assert_eq!((first.drain(), second.drain()), (1, 1));
            second.fill();
            assert_eq!(np.poll(0, |pd, _, _| late.push(pd.user_data())), Ok(1));
            assert_eq!(late, [2], "{what}");
            assert_eq!(second.drain(), 1);
            // A later wake reaches a later sleeper (unfiltered, really asleep in the kernel).
            let later = sleeper(s, &np, None, &clock);
            later.wait_asleep(&np, &what);
            assert_eq!(np.wake(), Ok(()), "{what}: later wake");
            assert_eq!(later.woken(&np, &what).0, Ok(0), "{what}: later sleeper");
            assert_eq!(
                writes(&np),
                written + 2,
                "{what}: one write per sleeper woken"
            );
        });
    }
    println!(
        "callbacks: {ROUNDS} rounds of a panic in a poll(0) callback that held a sleeper's wake edge: every sleeper woken, the rest of each batch dropped, {} eventfd writes",
        writes(&np)
    );
}

/// A blocking poll that consumed a pending wake (it found the flag set and did not sleep) and
/// whose callback panics: the next `wake` must still wake a thread asleep in the poller, and a
/// poller must afterwards be exactly as after a normal return (the next `poll(-1)` sleeps until
/// a wake, not returning at once on a flag the panicked poll left set).
#[test]
fn panic_in_a_blocking_poll_callback_that_consumed_a_wake() {
    if !seccomp_available() {
        return;
    }
    let np = poller();
    let pipe = Pipe::new();
    assert_eq!(np.open(&pipe.r, leak_pd(1)), Ok(()));
    let faults = hold_waits();
    let clock = AtomicUsize::new(0);
    for round in 0..ROUNDS {
        let caught = round % 2 == 0;
        let what = format!(
            "round {round} ({})",
            if caught { "caught" } else { "uncaught" }
        );
        let written = writes(&np);
        std::thread::scope(|s| {
            let _unstick = Unstick {
                np: &np,
                faults: Some(&faults),
            };
            // A sleeper that entered before the wake (held at the kernel's door).
            let first = sleeper(s, &np, Some(&faults), &clock);
            let call = faults.wait_held(DEADLINE);
            assert_eq!(np.wake(), Ok(()), "{what}: first wake");
            assert_eq!(writes(&np), written + 1);
            pipe.fill();
            // Another blocking poll finds the wake pending, does not sleep, takes the edge and
            // the pipe, and its callback panics: that poll consumed the wake.
            let calls = AtomicUsize::new(0);
            assert_eq!(panicking_poll(&np, -1, caught, &calls), BOOM, "{what}");
            assert_eq!(calls.load(Ordering::SeqCst), 1, "{what}");
            assert_eq!(pipe.drain(), 1);
            faults.release(call, Action::Continue);
            first.wait_asleep(&np, &what);
            first.still_asleep(&what);
            // The next wake is a new one, and the first sleeper is asleep: it must be written.
            assert_eq!(np.wake(), Ok(()), "{what}: second wake");
            assert_eq!(
                first
                    .woken(&np, &format!("{what}, the wake after the panic"))
                    .0,
                Ok(0)
            );
            assert_eq!(writes(&np), written + 2, "{what}: the second wake wrote");

            // The same with nobody asleep: the wake is pending (no write), consumed by a
            // blocking poll whose callback panics. The next poll(-1) must sleep (the flag is
            // clear, as after a normal return) and a wake must end it.
            assert_eq!(np.wake(), Ok(()));
            pipe.fill();
            assert_eq!(panicking_poll(&np, -1, caught, &calls), BOOM, "{what}");
            assert_eq!(calls.load(Ordering::SeqCst), 2, "{what}");
            assert_eq!(pipe.drain(), 1);
            let next = sleeper(s, &np, None, &clock);
            next.wait_asleep(
                &np,
                &format!("{what}: the poll(-1) after a panicked poll that consumed a wake"),
            );
            assert_eq!(np.wake(), Ok(()));
            assert_eq!(next.woken(&np, &what).0, Ok(0));
            assert_eq!(writes(&np), written + 3, "{what}");
        });
    }
}

/// The outside user's program as they wrote it: one thread loops on `poll(-1)` over a pipe
/// registered with a `&'static PollDesc`; each round the main thread waits until it sleeps,
/// calls `wake()`, writes the pipe and runs `poll(0)` with a panicking callback in a thread
/// (odd rounds) or under `catch_unwind` (even rounds). No seccomp: whether the sleeper or the
/// `poll(0)` gets the edge is the scheduler's choice. In every round the sleeper must return,
/// and exactly one of the two polls gets the pipe's event.
#[test]
fn panics_in_callbacks_round_after_round() {
    let np = poller();
    let pipe = Pipe::new();
    static PD: PollDesc = PollDesc::new();
    assert_eq!(np.open(&pipe.r, &PD), Ok(()));
    let tid_now = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel();
    let mut took_edge = 0;
    std::thread::scope(|s| {
        let _unstick = Unstick {
            np: &np,
            faults: None,
        };
        let (tid_now, stop, np) = (&tid_now, &stop, &np);
        s.spawn(move || {
            tid_now.store(tid() as usize, Ordering::SeqCst);
            while go_rx.recv().is_ok() && !stop.load(Ordering::SeqCst) {
                let mut pipe_events = 0;
                let r = np.poll(-1, |pd, _, _| {
                    assert!(std::ptr::eq(pd, &PD));
                    pipe_events += 1;
                });
                let _ = done_tx.send((r, pipe_events));
            }
        });
        for round in 0..ROUNDS {
            let caught = round % 2 == 0;
            let what = format!(
                "round {round} ({})",
                if caught { "caught" } else { "uncaught" }
            );
            go_tx.send(()).unwrap();
            let end = Instant::now() + DEADLINE;
            while tid_now.load(Ordering::SeqCst) == 0 {
                assert!(Instant::now() < end);
                std::thread::yield_now();
            }
            let calls = AtomicUsize::new(0);
            let go = AtomicBool::new(false);
            // The poll(0) runs on a thread started beforehand that spins until `go`, so that it
            // polls right after the pipe is written (a thread spawned then would come late).
            // It either panics on the pipe or finds nothing (the sleeper took all).
            let poll0 = std::thread::scope(|t| {
                let poller = t.spawn(|| {
                    while !go.load(Ordering::SeqCst) {
                        std::hint::spin_loop();
                    }
                    let poll = || {
                        np.poll(0, |_, _, _| {
                            calls.fetch_add(1, Ordering::SeqCst);
                            panic!("{BOOM}");
                        })
                    };
                    if caught {
                        catch_unwind(AssertUnwindSafe(poll)).ok()
                    } else {
                        Some(poll())
                    }
                });
                wait_asleep(np, tid_now.load(Ordering::SeqCst) as i32, || false, &what);
                assert_eq!(np.wake(), Ok(()), "{what}");
                pipe.fill();
                go.store(true, Ordering::SeqCst);
                poller.join().ok().flatten()
            });
            let panicked = calls.load(Ordering::SeqCst);
            let (r, sleeper_got) = match done_rx.recv_timeout(DEADLINE) {
                Ok(x) => x,
                Err(_) => {
                    rescue(np);
                    let _ = done_rx.recv_timeout(DEADLINE);
                    panic!(
                        "{what}: the sleeper was not woken within {DEADLINE:?} after wake() returned Ok \
                         (the poll(0) callback panicked: {})",
                        panicked == 1
                    );
                }
            };
            assert_eq!(r, Ok(sleeper_got), "{what}");
            assert_eq!(panicked + sleeper_got, 1, "{what}: one poll got the pipe");
            if panicked == 1 {
                assert_eq!(poll0, None, "{what}: the poll(0) panicked");
                took_edge += 1;
            } else {
                assert_eq!(poll0, Some(Ok(0)), "{what}: the poll(0) found nothing");
            }
            assert_eq!(pipe.drain(), 1);
        }
        stop.store(true, Ordering::SeqCst);
        drop(go_tx);
    });
    println!(
        "callbacks: the outside user's program, {ROUNDS} rounds: the panicking poll(0) got the pipe in {took_edge}, the sleeper in {}; the sleeper returned every round",
        ROUNDS - took_edge
    );
}

/// Sets up the race the slow and waiting callbacks need: a sleeper held at the kernel's door,
/// a wake written for it, and a pipe made ready; then `poll(0)` with `callback` takes both (on
/// another thread), and once the callback has signalled `entered` the sleeper is let into the
/// kernel. The sleeper stamps its return from `clock` and sets `returned`. Returns the poll(0)'s
/// result, the sleeper's, and the sleeper's stamp.
fn nonblocking_poll_with_sleeper<F>(
    what: &str,
    clock: &AtomicUsize,
    returned: &AtomicBool,
    callback: F,
    entered: &Receiver<()>,
) -> (Result<usize, Errno>, Result<usize, Errno>, usize)
where
    F: FnMut(&'static PollDesc, Ready, rawpoll::netpoll::Tag) + Send,
{
    let np = poller();
    let pipe = Pipe::new();
    assert_eq!(np.open(&pipe.r, leak_pd(1)), Ok(()));
    let faults = hold_waits();
    std::thread::scope(|s| {
        let _unstick = Unstick {
            np: &np,
            faults: Some(&faults),
        };
        let held = sleeper_flagged(s, &np, Some(&faults), clock, returned);
        let call = faults.wait_held(DEADLINE);
        assert_eq!(np.wake(), Ok(()));
        assert_eq!(writes(&np), 1);
        pipe.fill();
        let poll0 = s.spawn(|| np.poll(0, callback));
        entered
            .recv_timeout(DEADLINE)
            .expect("the callback was called");
        faults.release(call, Action::Continue);
        // Generous: long enough for a late return (after the callback) to be seen and stamped.
        let (slept, stamp) = match held.done.recv_timeout(DEADLINE * 3) {
            Ok(r) => r,
            Err(_) => {
                rescue(&np);
                panic!("{what}: the sleeper never returned");
            }
        };
        let polled = poll0.join().expect("the poll(0) thread");
        (polled, slept, stamp)
    })
}

/// A slow callback (it sleeps 2 s, then keeps sleeping until the sleeper has returned, at most
/// [`DEADLINE`] more) in a `poll(0)` that took a sleeper's wake edge: the sleeper must return
/// while the callback is still inside, not when it ends. Order is checked with stamps from one
/// counter: callback entered < sleeper returned < callback left.
#[test]
fn slow_callback_does_not_hold_a_sleepers_wake() {
    if !seccomp_available() {
        return;
    }
    let clock = AtomicUsize::new(0);
    let returned = AtomicBool::new(false);
    let (entered_tx, entered) = mpsc::channel();
    let stamps = Mutex::new(None);
    let callback = |_: &'static PollDesc, _: Ready, _| {
        let inside = clock.fetch_add(1, Ordering::SeqCst);
        entered_tx.send(()).unwrap();
        std::thread::sleep(SLOW);
        let end = Instant::now() + DEADLINE;
        while !returned.load(Ordering::SeqCst) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10));
        }
        let left = clock.fetch_add(1, Ordering::SeqCst);
        *stamps.lock().unwrap() = Some((inside, left));
    };
    let (polled, slept, back) =
        nonblocking_poll_with_sleeper("slow callback", &clock, &returned, callback, &entered);
    let (inside, left) = stamps.lock().unwrap().expect("the callback ran");
    println!(
        "callbacks: slow callback: entered at stamp {inside}, sleeper returned at stamp {back}, callback left at stamp {left}"
    );
    assert_eq!(polled, Ok(1), "the poll(0) reported the pipe");
    assert_eq!(slept, Ok(0), "the sleeper got the wake");
    assert!(
        inside < back && back < left,
        "the sleeper returned (stamp {back}) only after the slow callback left (stamp {left}): \
         its wake was held for as long as the callback ran"
    );
}

/// A callback that waits until the sleeper whose wake edge its `poll(0)` took has returned: it
/// must not wait forever (the test bounds the wait by [`DEADLINE`] and fails if it ran out).
#[test]
fn callback_waiting_for_the_sleeper_does_not_deadlock() {
    if !seccomp_available() {
        return;
    }
    let clock = AtomicUsize::new(0);
    let returned = AtomicBool::new(false);
    let (entered_tx, entered) = mpsc::channel();
    let seen = Mutex::new(None);
    let callback = |_: &'static PollDesc, _: Ready, _| {
        entered_tx.send(()).unwrap();
        let end = Instant::now() + DEADLINE;
        while !returned.load(Ordering::SeqCst) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(1));
        }
        *seen.lock().unwrap() = Some(returned.load(Ordering::SeqCst));
    };
    let (polled, slept, _) =
        nonblocking_poll_with_sleeper("waiting callback", &clock, &returned, callback, &entered);
    let seen = seen.lock().unwrap().expect("the callback ran");
    println!("callbacks: a callback waiting for the sleeper saw it return: {seen}");
    assert_eq!(polled, Ok(1));
    assert_eq!(slept, Ok(0));
    assert!(
        seen,
        "deadlock: the callback waited {DEADLINE:?} for a sleeper that waited for the callback's poll"
    );
}

/// What every reentrant call made from inside a callback returned.
#[derive(Debug, PartialEq)]
struct Inside {
    init: Result<(), Errno>,
    open: Result<(), Errno>,
    open_again: Result<(), Errno>,
    modify: Result<(), Errno>,
    open_other: Result<(), Errno>,
    close_other: Result<(), Errno>,
    close_other_again: Result<(), Errno>,
    wake: Result<(), Errno>,
    has_sleeper: bool,
    /// `poll(0)`: what it returned and `(user data, events)` of what it reported, sorted.
    nested_look: (Result<usize, Errno>, Vec<(usize, u32)>),
    /// `poll(-1)` with the wake the callback made pending: returns at once.
    nested_forever: Result<usize, Errno>,
    /// `poll(5 ms)` with nothing pending: times out.
    nested_delay: Result<usize, Errno>,
}

/// Runs `f` on another thread of a scope, and fails the test (after a rescue write, so a stuck
/// poll ends) if it has not returned within [`DEADLINE`].
fn bounded<T: Send>(np: &Netpoll, what: &str, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        s.spawn(move || {
            let _ = tx.send(f());
        });
        match rx.recv_timeout(DEADLINE) {
            Ok(v) => v,
            Err(_) => {
                rescue(np);
                panic!("{what}: still running after {DEADLINE:?}");
            }
        }
    })
}

/// Every call of the poller made from inside one of its callbacks: `init` (`EBUSY`), `open`
/// (and `EEXIST` for a second one), `modify`, `open` and `close` of another descriptor (then
/// `ENOENT`), `wake`, a nested `poll(0)` that sees what the callback registered, a nested
/// `poll(-1)` that returns on the wake the callback made, and a nested `poll(5 ms)` that times
/// out. The outer poll then returns normally, and a later wake reaches a later sleeper.
#[test]
fn reentrant_calls_from_a_callback() {
    let np = poller();
    let efd = || rawpoll::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).expect("eventfd");
    let (a, b, c) = (efd(), efd(), efd());
    assert_eq!(rawpoll::eventfd_write(&a, 1), Ok(()));
    let (pd_a, pd_b, pd_c) = (leak_pd(1), leak_pd(2), leak_pd(3));
    assert_eq!(np.open(&a, pd_a), Ok(()));
    let (outer, inside) = bounded(&np, "the poll with reentrant callbacks", || {
        let mut inside = None;
        let outer = np.poll(0, |pd, ready, _| {
            assert!(std::ptr::eq(pd, pd_a));
            assert_eq!(ready.events, EPOLLIN | EPOLLOUT);
            let mut looked = Vec::new();
            let mut deep_calls = 0;
            let init = np.init();
            let open = np.open(&b, pd_b);
            let open_again = np.open(&b, pd_b);
            let modify = np.modify(&a, pd_a, Interest::READABLE);
            let open_other = np.open(&c, pd_c);
            let close_other = np.close(&c);
            let close_other_again = np.close(&c);
            let wake = np.wake();
            let has_sleeper = np.has_sleeper();
            let look = np.poll(0, |pd, ready, _| {
                looked.push((pd.user_data(), ready.events))
            });
            looked.sort();
            let nested_forever = np.poll(-1, |_, _, _| deep_calls += 1);
            let nested_delay = np.poll(5_000_000, |_, _, _| deep_calls += 1);
            assert_eq!(deep_calls, 0);
            inside = Some(Inside {
                init,
                open,
                open_again,
                modify,
                open_other,
                close_other,
                close_other_again,
                wake,
                has_sleeper,
                nested_look: (look, looked),
                nested_forever,
                nested_delay,
            });
        });
        (outer, inside)
    });
    let inside = inside.expect("the callback ran");
    println!("callbacks: reentrant calls from a callback: {inside:?}; the outer poll(0) returned {outer:?}");
    assert_eq!(
        inside,
        Inside {
            init: Err(Errno::EBUSY),
            open: Ok(()),
            open_again: Err(Errno::EEXIST),
            modify: Ok(()),
            open_other: Ok(()),
            close_other: Ok(()),
            close_other_again: Err(Errno::ENOENT),
            wake: Ok(()),
            has_sleeper: false,
            // `a` re-queued by the modify (readable only now), `b` writable since its open.
            nested_look: (Ok(2), vec![(1, EPOLLIN), (2, EPOLLOUT)]),
            nested_forever: Ok(0),
            nested_delay: Ok(0),
        }
    );
    assert_eq!(outer, Ok(1));
    // Afterwards: nothing queued, nobody asleep, no write made yet, and a wake reaches a
    // sleeper that is asleep in the kernel.
    assert_eq!(np.poll(0, |_, _, _| {}), Ok(0));
    assert!(!np.has_sleeper());
    assert_eq!(writes(&np), 0);
    let clock = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let _unstick = Unstick {
            np: &np,
            faults: None,
        };
        let later = sleeper(s, &np, None, &clock);
        later.wait_asleep(&np, "after the reentrant calls");
        assert_eq!(np.wake(), Ok(()));
        assert_eq!(later.woken(&np, "after the reentrant calls").0, Ok(0));
    });
    assert_eq!(writes(&np), 1);
    for fd in [a, b, c] {
        let _ = np.close(&fd);
        assert_eq!(rawpoll::close(fd), Ok(()));
    }
}

/// A blocking poll that consumed a pending wake is delivering its batch; during its callbacks,
/// the callback itself and then another thread call `wake()`, which return `Ok`. Those wakes
/// came after the consumed one, so they must not be swallowed by it: after the outer poll
/// returns, the next `poll(-1)` must return (at once: the wake is pending) rather than sleep.
#[test]
fn wake_during_the_callbacks_of_a_consuming_poll_stays_pending() {
    let np = poller();
    let pipe = Pipe::new();
    assert_eq!(np.open(&pipe.r, leak_pd(1)), Ok(()));
    for from_callback in [true, false] {
        let what = if from_callback {
            "a wake from the callback"
        } else {
            "a wake from another thread while the callback runs"
        };
        assert_eq!(np.wake(), Ok(()), "nobody asleep: pending, no write");
        pipe.fill();
        let (outer, waked) = bounded(&np, what, || {
            std::thread::scope(|s| {
                let mut waked = None;
                let outer = np.poll(-1, |_, _, _| {
                    waked = Some(if from_callback {
                        np.wake()
                    } else {
                        s.spawn(|| np.wake()).join().expect("the waker")
                    });
                });
                (outer, waked)
            })
        });
        assert_eq!(outer, Ok(1), "{what}: the consuming poll reported the pipe");
        assert_eq!(waked, Some(Ok(())), "{what}");
        assert_eq!(pipe.drain(), 1);
        let next = bounded(&np, &format!("{what}: the next poll(-1)"), || {
            np.poll(-1, |_, _, _| {})
        });
        assert_eq!(next, Ok(0), "{what}");
    }
    assert_eq!(writes(&np), 0, "nobody slept: no write");
}

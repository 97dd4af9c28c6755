//! Host tests of `rawpoll::netpoll` with real threads, pipes, socketpairs and eventfds: the
//! tests that can share one process, a file per concern. The files of this folder that Cargo.toml
//! names as tests of their own (`contention`, `faults`, `limits`, `model`, `scale`, `signals`)
//! change or count something process-wide, and run alone in a binary each.
//!
//! Times are never asserted as upper bounds, except as generous deadlines that turn a hang into
//! a failure; lower bounds the kernel guarantees (a timeout sleeps at least its length) are.

#[path = "../common/mod.rs"]
mod common;

mod interest;
mod lifecycle;
mod readiness;
mod reuse;
mod saturation;
mod timeouts;
mod wake;

use common::{eventfd_count, fd_of};
use rawpoll::netpoll::{
    delay_to_timeout_ms, Interest, Netpoll, PollDesc, Ready, Tag, EVENTS_PER_POLL,
};
use rawpoll::*;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::{mpsc, Arc, Barrier, Mutex, MutexGuard};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);

/// The tests below reason about fd numbers (reuse, closed numbers), so they run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether `fd` is open: `fcntl(fd, F_GETFD)` fails with EBADF exactly when it is not.
fn fd_is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD reads descriptor flags and touches no memory.
    let r = unsafe { raw::syscall6(raw::SYS_FCNTL, fd as usize, 1, 0, 0, 0, 0) };
    Errno::result(r) != Err(Errno::EBADF)
}

fn leak_pd() -> &'static PollDesc {
    Box::leak(Box::new(PollDesc::new()))
}

fn ready_netpoll() -> Netpoll {
    let np = Netpoll::new();
    np.init().unwrap();
    np
}

/// Runs `f` on another thread and fails the test if it takes longer than DEADLINE (a hang).
fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("{what}: still running after {DEADLINE:?}"))
}

/// A poll with `delay` that must return `Ok(0)` (a wake, no descriptor), within DEADLINE.
fn poll_returns(np: &Arc<Netpoll>, delay: i64, what: &str) {
    let np2 = Arc::clone(np);
    assert_eq!(
        bounded(what, move || np2.poll(delay, |_, _, _| {})),
        Ok(0),
        "{what}"
    );
}

/// The eventfd writes made for sleepers so far: the wake eventfd's counter (no poll reads it).
fn writes(np: &Netpoll) -> u64 {
    eventfd_count(np.raw_wake_fd())
}

/// Polls with `delay`, collecting `(user_data, Ready)` of each reported descriptor.
fn collect(np: &Netpoll, delay: i64) -> (usize, Vec<(usize, Ready)>) {
    let mut seen = Vec::new();
    let n = np
        .poll(delay, |pd, ready, tag| {
            assert_eq!(tag, pd.tag(), "the tag of a reported event is current");
            seen.push((pd.user_data(), ready))
        })
        .unwrap();
    assert_eq!(n, seen.len(), "poll's count is the number of callbacks");
    (n, seen)
}

/// `prlimit64(0, RLIMIT_NOFILE, new, old)` through the raw layer (`struct rlimit64`: two u64
/// on every architecture).
fn prlimit_nofile(new: Option<&[u64; 2]>, old: Option<&mut [u64; 2]>) {
    let new = new.map_or(0, |n| n.as_ptr() as usize);
    let old = old.map_or(0, |o| o.as_mut_ptr() as usize);
    // SAFETY: the kernel reads two u64s at `new` and writes two at `old`, each null or live.
    let r = unsafe {
        raw::syscall6(
            raw::SYS_PRLIMIT64,
            0,
            raw::RLIMIT_NOFILE as usize,
            new,
            old,
            0,
            0,
        )
    };
    assert_eq!(r.1, 0);
}

fn raise_nofile_limit(wanted: u64) {
    let mut limit = [0u64; 2];
    prlimit_nofile(None, Some(&mut limit));
    if limit[0] < wanted {
        limit[0] = wanted.min(limit[1]);
        prlimit_nofile(Some(&limit), None);
    }
}

/// Starts a thread blocked in `np.poll(-1)` and returns once it is: `has_sleeper()` is true,
/// then a short sleep so that it sits in `epoll_pwait`. (Counts do not depend on the sleep:
/// `wake` writes whenever the sleeper count is non-zero.) The receiver gets the poll's result
/// and when it returned.
fn blocked_poller(np: &Arc<Netpoll>) -> Blocked {
    assert!(!np.has_sleeper(), "nobody sleeps yet");
    let (tx, rx) = mpsc::channel();
    let poller = Arc::clone(np);
    std::thread::spawn(move || {
        let r = poller.poll(-1, |_, _, _| {});
        let _ = tx.send((r, Instant::now()));
    });
    let start = Instant::now();
    while !np.has_sleeper() {
        assert!(start.elapsed() < DEADLINE, "the poller never blocked");
        std::thread::yield_now();
    }
    std::thread::sleep(Duration::from_millis(5));
    rx
}

/// Leaves no wake pending and no edge queued, without a write: a wake with nobody asleep
/// (no system call), consumed by a blocking poll that therefore returns at once.
fn settle(np: &Arc<Netpoll>) {
    let before = writes(np);
    assert_eq!(np.wake(), Ok(()));
    poll_returns(np, -1, "poll(-1) on a pending wake");
    assert_eq!(writes(np), before, "settling wrote nothing");
}

/// What [`blocked_poller`] hands back: the poll's result and when it returned.
type Blocked = mpsc::Receiver<(Result<usize, Errno>, Instant)>;

/// Waits for the poll started by [`blocked_poller`], which must return `Ok(0)`; afterwards
/// nobody sleeps. Returns when the poll returned.
fn woken(rx: Blocked, np: &Netpoll) -> Instant {
    let (r, returned) = rx.recv_timeout(DEADLINE).expect("poll(-1) was not woken");
    assert_eq!(r, Ok(0), "a wake reports no descriptor");
    assert!(!np.has_sleeper(), "the woken poller left");
    returned
}

/// Polls once with delay 0 and returns the raw event bits of each report.
fn events_of(np: &Netpoll) -> Vec<u32> {
    collect(np, 0)
        .1
        .into_iter()
        .map(|(_, r)| r.events)
        .collect()
}

/// A non-blocking socket pair whose first end is registered with `interest`.
fn registered_pair(np: &Netpoll, interest: Interest) -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    np.open_with(fd_of(&a), leak_pd(), interest).unwrap();
    (a, b)
}

/// Polls once with delay 0, which must report exactly one descriptor; returns its readiness.
fn only_report(np: &Netpoll) -> Ready {
    let (n, seen) = collect(np, 0);
    assert_eq!(n, 1, "{seen:?}");
    seen[0].1
}

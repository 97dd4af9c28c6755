//! Host tests of `rawpoll::netpoll` with real threads, pipes, socketpairs and eventfds.
//!
//! Times are never asserted as upper bounds, except as generous deadlines that turn a hang into
//! a failure; lower bounds the kernel guarantees (a timeout sleeps at least its length) are.

mod common;

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

#[test]
fn ready_maps_events_as_go_does() {
    #[allow(clippy::fn_params_excessive_bools)]
    fn r(
        readable: bool,
        writable: bool,
        error: bool,
        read_closed: bool,
        hang_up: bool,
        events: u32,
    ) -> Ready {
        Ready {
            readable,
            writable,
            error,
            read_closed,
            hang_up,
            events,
        }
    }
    let cases = [
        (EPOLLIN, r(true, false, false, false, false, EPOLLIN)),
        (EPOLLRDHUP, r(true, false, false, true, false, EPOLLRDHUP)),
        (EPOLLOUT, r(false, true, false, false, false, EPOLLOUT)),
        (EPOLLHUP, r(true, true, false, true, true, EPOLLHUP)),
        (EPOLLERR, r(true, true, true, false, false, EPOLLERR)),
        (
            EPOLLERR | EPOLLOUT,
            r(true, true, false, false, false, EPOLLERR | EPOLLOUT),
        ),
        (
            EPOLLIN | EPOLLRDHUP | EPOLLHUP,
            r(
                true,
                true,
                false,
                true,
                true,
                EPOLLIN | EPOLLRDHUP | EPOLLHUP,
            ),
        ),
        (
            EPOLLIN | EPOLLOUT | EPOLLRDHUP,
            r(
                true,
                true,
                false,
                true,
                false,
                EPOLLIN | EPOLLOUT | EPOLLRDHUP,
            ),
        ),
        (EPOLLPRI, r(false, false, false, false, false, EPOLLPRI)),
        (0, Ready::default()),
    ];
    for (events, want) in cases {
        assert_eq!(Ready::from_events(events), want, "events {events:#x}");
    }
    assert!(Ready::from_events(EPOLLPRI).is_empty());
    assert!(Ready::from_events(EPOLLRDHUP).read_closed && !Ready::from_events(EPOLLRDHUP).hang_up);
    assert!(!Ready::from_events(EPOLLOUT | EPOLLIN).is_empty());
}

#[test]
fn go_timeout_rule() {
    let _serial = serial();
    let cases = [
        (i64::MIN, -1),
        (-1, -1),
        (0, 0),
        (1, 1),
        (999_999, 1),
        (1_000_000, 1),
        (1_999_999, 1),
        (2_000_000, 2),
        (999_999_999_999_999, 999_999_999),
        (1_000_000_000_000_000, 1_000_000_000),
        (i64::MAX, 1_000_000_000),
    ];
    for (delay, ms) in cases {
        assert_eq!(delay_to_timeout_ms(delay), ms, "delay {delay} ns");
    }
    let np = ready_netpoll();
    for (delay, at_least) in [(1_000i64, 1_000_000u128), (3_000_000, 3_000_000)] {
        let start = Instant::now();
        assert_eq!(np.poll(delay, |_, _, _| {}), Ok(0));
        let took = start.elapsed().as_nanos();
        println!("poll({delay} ns) on a quiet set slept {took} ns (Go's rule: >= {at_least})");
        assert!(took >= at_least, "slept {took} ns < {at_least}");
    }
    assert_eq!(np.poll(0, |_, _, _| {}), Ok(0));
}

#[test]
fn epoll_pwait2_gives_sub_millisecond_delays() {
    let _serial = serial();
    let np = ready_netpoll();
    assert!(!np.uses_epoll_pwait2(), "off unless asked for");
    let best_of = |np: &Netpoll| {
        (0..20)
            .map(|_| {
                let start = Instant::now();
                assert_eq!(np.poll(100_000, |_, _, _| {}), Ok(0));
                start.elapsed()
            })
            .min()
            .unwrap()
    };
    let without = best_of(&np);
    np.use_epoll_pwait2(true);
    assert!(np.uses_epoll_pwait2(), "on until a poll finds it missing");
    let with = best_of(&np);
    println!(
        "poll(100 us), best of 20: {without:?} with Go's ms rule, {with:?} with epoll_pwait2 ({:?})",
        common::epoll_pwait2_probe()
    );
    assert!(without >= Duration::from_millis(1));
    assert!(with >= Duration::from_micros(100));
    if common::has_epoll_pwait2() {
        assert!(np.uses_epoll_pwait2(), "this kernel has epoll_pwait2");
        // The best of 20 tries: only if every one of them was delayed by ~900 us would this fail.
        assert!(with < Duration::from_millis(1), "{with:?}");
        np.use_epoll_pwait2(false);
        assert!(!np.uses_epoll_pwait2());
    } else {
        // ENOSYS (an old kernel, or qemu-user): the first poll fell back for good to Go's rule,
        // which sleeps at least 1 ms, and asking again changes nothing.
        assert!(!np.uses_epoll_pwait2(), "fell back after ENOSYS");
        assert!(with >= Duration::from_millis(1), "{with:?}");
        np.use_epoll_pwait2(true);
        assert!(!np.uses_epoll_pwait2(), "the fallback is for good");
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
fn socketpair_readiness_and_rdhup() {
    let _serial = serial();
    let np = ready_netpoll();
    let (a, mut b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let pd = leak_pd();
    pd.set_user_data(77);
    np.open(fd_of(&a), pd).unwrap();
    let writable = Ready::from_events(EPOLLOUT);
    let both = Ready::from_events(EPOLLIN | EPOLLOUT);
    assert_eq!(collect(&np, 0), (1, vec![(77, writable)]));
    assert_eq!(
        collect(&np, 0),
        (0, vec![]),
        "edge-triggered: reported once"
    );
    b.write_all(b"x").unwrap();
    assert_eq!(collect(&np, 0), (1, vec![(77, both)]));
    b.shutdown(std::net::Shutdown::Write).unwrap();
    let rdhup = only_report(&np);
    assert_eq!(
        rdhup,
        Ready::from_events(EPOLLIN | EPOLLOUT | EPOLLRDHUP),
        "RDHUP makes it readable"
    );
    assert!(
        rdhup.readable && rdhup.writable && rdhup.read_closed && !rdhup.hang_up && !rdhup.error
    );
    drop(b);
    let hup = only_report(&np);
    assert_eq!(
        hup,
        Ready::from_events(EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP),
        "HUP"
    );
    assert!(hup.readable && hup.writable && hup.read_closed && hup.hang_up && !hup.error);
    assert_eq!(np.close(fd_of(&a)), Ok(()));
    assert_eq!(np.close(fd_of(&a)), Err(Errno::ENOENT));
}

#[test]
fn epollerr_alone_is_reported_as_an_error() {
    let _serial = serial();
    let np = ready_netpoll();
    let (r, w) = pipe2(EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    // Fill the pipe so the write end is not writable.
    let chunk = [0u8; 4096];
    let mut filled = 0;
    while let Ok(n) = write(&w, &chunk) {
        filled += n;
    }
    let pd = leak_pd();
    pd.set_user_data(5);
    np.open(&w, pd).unwrap();
    assert_eq!(
        collect(&np, 0),
        (0, vec![]),
        "a full pipe's write end is not ready"
    );
    close(r).unwrap();
    let error = Ready {
        readable: true,
        writable: true,
        error: true,
        read_closed: false,
        hang_up: false,
        events: EPOLLERR,
    };
    assert_eq!(
        collect(&np, 0),
        (1, vec![(5, error)]),
        "after filling {filled} bytes"
    );
    close(w).unwrap();
}

#[test]
fn a_thousand_ready_fds_are_each_reported_once() {
    let _serial = serial();
    raise_nofile_limit(4096);
    let np = ready_netpoll();
    let fds: Vec<OwnedFd> = (0..1000)
        .map(|i| {
            let fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
            let pd = leak_pd();
            pd.set_user_data(i);
            np.open(&fd, pd).unwrap();
            fd
        })
        .collect();
    let mut batches = Vec::new();
    let mut seen = Vec::new();
    loop {
        let (n, got) = collect(&np, 0);
        batches.push(n);
        seen.extend(got.into_iter().map(|(i, ready)| {
            assert_eq!(ready, Ready::from_events(EPOLLIN | EPOLLOUT));
            i
        }));
        if n == 0 {
            break;
        }
    }
    println!("1000 ready eventfds reported in batches {batches:?}");
    assert_eq!(batches, [128, 128, 128, 128, 128, 128, 128, 104, 0]);
    assert_eq!(EVENTS_PER_POLL, 128);
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..1000).collect::<Vec<_>>(),
        "none lost, none doubled"
    );
    for fd in fds {
        close(fd).unwrap();
    }
}

#[test]
fn stale_event_after_fd_reuse_is_dropped() {
    let _serial = serial();
    let np = ready_netpoll();
    let pd = leak_pd();
    pd.set_user_data(1);
    // The old registration: fd `a` at sequence 0. A duplicate keeps its file open after `a` is
    // closed, so the kernel keeps the registration (and its old data) alive.
    let a = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    let a_number = a.as_raw_fd();
    np.open(&a, pd).unwrap();
    assert_eq!(collect(&np, 0).0, 1, "initially writable");
    // The duplicate: dup3 onto a descriptor this test owns (a spare eventfd), keeping its number.
    let mut keep = eventfd(0, EFD_CLOEXEC).unwrap();
    dup3(&a, &mut keep, 0).unwrap();
    close(a).unwrap();
    // The runtime reuses the descriptor for a new fd, which gets the same number.
    assert_eq!(pd.bump_sequence(), 1);
    pd.set_user_data(2);
    let b = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    assert_eq!(b.as_raw_fd(), a_number, "the fd number is reused");
    np.open(&b, pd).unwrap();
    assert_eq!(
        collect(&np, 0),
        (1, vec![(2, Ready::from_events(EPOLLOUT))])
    );
    // The old file becomes readable: the kernel reports it with the old data (sequence 0),
    // which must be dropped.
    eventfd_write(&keep, 1).unwrap();
    assert_eq!(collect(&np, 0), (0, vec![]), "stale event dropped");
    // The new one still works.
    eventfd_write(&b, 1).unwrap();
    let both = Ready::from_events(EPOLLIN | EPOLLOUT);
    assert_eq!(collect(&np, 0), (1, vec![(2, both)]));
    close(keep).unwrap();
    close(b).unwrap();
}

#[test]
fn no_sequence_makes_a_descriptor_look_like_the_wake_eventfd() {
    let _serial = serial();
    let np = ready_netpoll();
    assert_eq!(np.wake(), Ok(()));
    let wake_fd = np.raw_wake_fd() as usize;
    // Values that would collide with the wake marker under a packing that compares only one
    // pointer-sized half of the data word (Go bug #72900 on 32-bit little-endian).
    for (i, sequence) in [0, 1, wake_fd, usize::MAX, 1 << 31, 0x1fff, 0x2000]
        .into_iter()
        .enumerate()
    {
        let pd = leak_pd();
        pd.set_sequence(sequence);
        pd.set_user_data(i);
        let fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
        np.open(&fd, pd).unwrap();
        // Nobody slept when wake() ran, so it wrote nothing (it used to write once,
        // which put the wake's event in every batch below). An edge written here from outside
        // puts it back in the same batch as the descriptor's event.
        common::raw_eventfd_write(np.raw_wake_fd(), 1).unwrap();
        let both = Ready::from_events(EPOLLIN | EPOLLOUT);
        assert_eq!(
            collect(&np, 0),
            (1, vec![(i, both)]),
            "sequence {sequence:#x}"
        );
        assert_eq!(
            writes(&np),
            i as u64 + 1,
            "the pending wake is untouched: only this test's own writes"
        );
        close(fd).unwrap();
    }
    // The wake is still pending after those non-blocking polls: a blocking poll returns at once
    // and reports no descriptor.
    poll_returns(&Arc::new(np), -1, "poll(-1) with the wake pending");
}

#[test]
fn bad_input_gets_an_errno() {
    let _serial = serial();
    let np = Netpoll::new();
    let pd = leak_pd();
    let efd = eventfd(0, EFD_CLOEXEC).unwrap();
    assert!(!np.is_initialized());
    assert_eq!(np.raw_epoll_fd(), -1);
    assert_eq!(np.raw_wake_fd(), -1);
    assert!(!np.has_sleeper());
    assert_eq!(np.open(&efd, pd), Err(Errno::EBADF), "open before init");
    assert_eq!(
        np.open_with(&efd, pd, Interest::READABLE),
        Err(Errno::EBADF),
        "open_with before init"
    );
    assert_eq!(
        np.modify(&efd, pd, Interest::WRITABLE),
        Err(Errno::EBADF),
        "modify before init"
    );
    assert_eq!(np.close(&efd), Err(Errno::EBADF), "close before init");
    assert_eq!(np.wake(), Err(Errno::EBADF), "wake before init");
    assert_eq!(
        np.wake(),
        Err(Errno::EBADF),
        "the failed wake left no wake pending"
    );
    assert_eq!(
        np.poll(0, |_, _, _| {}),
        Err(Errno::EBADF),
        "poll before init"
    );
    assert!(!np.is_poll_descriptor(-1));
    assert_eq!(np.init(), Ok(()));
    assert_eq!(np.init(), Err(Errno::EBUSY), "second init");
    assert!(np.is_poll_descriptor(np.raw_wake_fd()));
    assert!(np.is_poll_descriptor(np.raw_epoll_fd()));
    assert!(!np.is_poll_descriptor(efd.as_raw_fd()));
    assert_eq!(np.open(&efd, pd), Ok(()));
    assert_eq!(np.open(&efd, pd), Err(Errno::EEXIST), "double open");
    let other = eventfd(0, EFD_CLOEXEC).unwrap();
    assert_eq!(
        np.close(&other),
        Err(Errno::ENOENT),
        "close of an unregistered fd"
    );
    assert_eq!(
        np.modify(&other, pd, Interest::GO),
        Err(Errno::ENOENT),
        "modify of an unregistered fd"
    );
    // Safe code can no longer hand `open` a closed descriptor (it needs an `AsFd`); what the
    // kernel answers the ADD it would make is checked through the raw layer instead, on the
    // poller's own epoll instance: EBADF.
    let closed = other.as_raw_fd();
    close(other).unwrap();
    let event = EpollEvent::new(EPOLLIN, 1);
    // SAFETY: epoll_ctl reads one live EpollEvent; the ADD of a closed number fails and leaves
    // the poller's epoll set unchanged.
    let r = unsafe {
        raw::syscall6(
            raw::SYS_EPOLL_CTL,
            np.raw_epoll_fd() as usize,
            EPOLL_CTL_ADD as usize,
            closed as usize,
            &event as *const EpollEvent as usize,
            0,
            0,
        )
    };
    assert_eq!(Errno::result(r), Err(Errno::EBADF), "open of a closed fd");
    close(efd).unwrap();
}

#[test]
fn drop_closes_the_pollers_fds() {
    let _serial = serial();
    let np = ready_netpoll();
    let (wake_fd, epoll_fd) = (np.raw_wake_fd(), np.raw_epoll_fd());
    assert_eq!(eventfd_count(wake_fd), 0);
    assert!(fd_is_open(wake_fd) && fd_is_open(epoll_fd));
    drop(np);
    assert!(!fd_is_open(wake_fd), "drop closed the wake eventfd");
    assert!(!fd_is_open(epoll_fd), "drop closed the epoll instance");
}

static STATIC_POLLER: Netpoll = Netpoll::new();
static STATIC_PD: PollDesc = PollDesc::new();

#[test]
fn a_static_poller_and_descriptor() {
    let _serial = serial();
    STATIC_POLLER.init().unwrap();
    let efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    STATIC_PD.set_user_data(9);
    STATIC_POLLER.open(&efd, &STATIC_PD).unwrap();
    let mut seen = Vec::new();
    assert_eq!(
        STATIC_POLLER.poll(0, |pd, _, _| seen.push(std::ptr::eq(pd, &STATIC_PD))),
        Ok(1)
    );
    assert_eq!(seen, [true]);
    close(efd).unwrap();
}

#[test]
fn interest_bits() {
    assert_eq!(Interest::READABLE.bits(), EPOLLIN | EPOLLRDHUP | EPOLLET);
    assert_eq!(Interest::WRITABLE.bits(), EPOLLOUT | EPOLLET);
    assert_eq!(
        Interest::GO.bits(),
        EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET
    );
    assert_eq!(Interest::READABLE | Interest::WRITABLE, Interest::GO);
    assert_eq!(Interest::WRITABLE.and(Interest::READABLE), Interest::GO);
    assert_eq!(
        Interest::READABLE.oneshot().bits(),
        EPOLLIN | EPOLLRDHUP | EPOLLET | EPOLLONESHOT
    );
    assert_eq!(Interest::WRITABLE.level_triggered().bits(), EPOLLOUT);
    assert_eq!(
        Interest::GO.level_triggered().oneshot().bits(),
        EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLONESHOT
    );
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

#[test]
fn readable_interest_gets_no_writable_only_events() {
    let _serial = serial();
    let np = ready_netpoll();
    let (a, b) = registered_pair(&np, Interest::READABLE);
    const ROUNDS: usize = 20;
    let (mut writable_only, mut readable, mut other) = (0, 0, 0);
    let mut tally = |events: Vec<u32>| {
        for e in events {
            match e {
                EPOLLOUT => writable_only += 1,
                EPOLLIN => readable += 1,
                _ => other += 1,
            }
        }
    };
    // A socket is writable from the start: a GO registration reports that, this one must not.
    tally(events_of(&np));
    let mut buf = [0u8; 64];
    for _ in 0..ROUNDS {
        // `a` sends and the peer drains: each drain frees room in `a`'s send path, an EPOLLOUT
        // wake-up for `a` that a READABLE registration must not report.
        assert_eq!(write(fd_of(&a), b"ping"), Ok(4));
        assert_eq!(read(fd_of(&b), &mut buf), Ok(4));
        tally(events_of(&np));
        // The peer sends: exactly one readable report, with EPOLLIN alone (no EPOLLOUT).
        assert_eq!(write(fd_of(&b), b"x"), Ok(1));
        tally(events_of(&np));
        assert_eq!(read(fd_of(&a), &mut buf), Ok(1));
    }
    println!("READABLE on a socketpair, {ROUNDS} rounds: {readable} EPOLLIN, {writable_only} EPOLLOUT-only, {other} other reports");
    assert_eq!(writable_only, 0);
    assert_eq!(other, 0);
    assert_eq!(readable, ROUNDS);
    // RDHUP is part of READABLE: the peer's shutdown is reported, still without EPOLLOUT.
    b.shutdown(std::net::Shutdown::Write).unwrap();
    let only = only_report(&np);
    assert_eq!(only, Ready::from_events(EPOLLIN | EPOLLRDHUP));
    assert!(only.read_closed && !only.writable);
    np.close(fd_of(&a)).unwrap();
}

#[test]
fn writable_interest_gets_no_readable_events() {
    let _serial = serial();
    let np = ready_netpoll();
    let (a, b) = registered_pair(&np, Interest::WRITABLE);
    assert_eq!(
        events_of(&np),
        [EPOLLOUT],
        "writable at once, reported once"
    );
    // The peer sends: readable, which this registration does not ask about.
    assert_eq!(write(fd_of(&b), b"data"), Ok(4));
    assert_eq!(events_of(&np), Vec::<u32>::new());
    // Fill `a`'s send path until EAGAIN, then let the peer drain it: writable again, once.
    let chunk = [7u8; 4096];
    let mut sent = 0;
    while let Ok(n) = write(fd_of(&a), &chunk) {
        sent += n;
    }
    assert_eq!(write(fd_of(&a), &chunk), Err(Errno::EAGAIN));
    assert_eq!(events_of(&np), Vec::<u32>::new(), "full: not writable");
    let mut buf = vec![0u8; sent + 4096];
    let mut drained = 0;
    while let Ok(n) = read(fd_of(&b), &mut buf) {
        drained += n;
    }
    assert_eq!(drained, sent);
    assert_eq!(
        events_of(&np),
        [EPOLLOUT],
        "writable again after {sent} bytes drained"
    );
    assert_eq!(events_of(&np), Vec::<u32>::new(), "edge-triggered");
    // A hang-up is reported whatever the interest.
    drop(b);
    let only = only_report(&np);
    assert!(only.hang_up && only.read_closed, "{:?}", only);
    assert_eq!(
        only.events & (EPOLLIN | EPOLLRDHUP),
        0,
        "nothing of READABLE: {:?}",
        only
    );
    np.close(fd_of(&a)).unwrap();
}

#[test]
fn oneshot_reports_once_until_modify_rearms_it() {
    let _serial = serial();
    let np = ready_netpoll();
    let efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    let pd = leak_pd();
    pd.set_user_data(11);
    np.open_with(&efd, pd, Interest::READABLE.oneshot())
        .unwrap();
    assert_eq!(events_of(&np), Vec::<u32>::new(), "not readable yet");
    eventfd_write(&efd, 1).unwrap();
    assert_eq!(events_of(&np), [EPOLLIN]);
    // Disabled now: new edges are not reported.
    for _ in 0..3 {
        eventfd_write(&efd, 1).unwrap();
        assert_eq!(
            events_of(&np),
            Vec::<u32>::new(),
            "oneshot: disabled after one report"
        );
    }
    // Re-armed: still readable, so reported once more, then disabled again.
    np.modify(&efd, pd, Interest::READABLE.oneshot()).unwrap();
    assert_eq!(events_of(&np), [EPOLLIN], "re-armed by modify");
    assert_eq!(events_of(&np), Vec::<u32>::new());
    eventfd_write(&efd, 1).unwrap();
    assert_eq!(events_of(&np), Vec::<u32>::new());
    // Re-armed with another interest: writable (the counter is below its maximum).
    np.modify(&efd, pd, Interest::WRITABLE.oneshot()).unwrap();
    assert_eq!(events_of(&np), [EPOLLOUT]);
    assert_eq!(events_of(&np), Vec::<u32>::new());
    // Modify to a plain registration: reported on every new edge.
    np.modify(&efd, pd, Interest::READABLE).unwrap();
    assert_eq!(
        events_of(&np),
        [EPOLLIN],
        "the MOD itself re-queues a ready descriptor"
    );
    for _ in 0..3 {
        eventfd_write(&efd, 1).unwrap();
        assert_eq!(events_of(&np), [EPOLLIN]);
    }
    assert_eq!(np.modify(&efd, pd, Interest::GO), Ok(()));
    assert_eq!(np.close(&efd), Ok(()));
    assert_eq!(
        np.modify(&efd, pd, Interest::GO),
        Err(Errno::ENOENT),
        "modify after close"
    );
}

#[test]
fn level_triggered_reports_on_every_poll() {
    let _serial = serial();
    let np = ready_netpoll();
    let efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    let pd = leak_pd();
    np.open_with(&efd, pd, Interest::READABLE.level_triggered())
        .unwrap();
    const POLLS: usize = 5;
    let reports: usize = (0..POLLS).map(|_| events_of(&np).len()).sum();
    assert_eq!(
        reports, POLLS,
        "readable on every poll while the counter is non-zero"
    );
    // Edge-triggered for comparison, on the same kind of file: once.
    let efd2 = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    np.open_with(&efd2, leak_pd(), Interest::READABLE).unwrap();
    let reports: Vec<usize> = (0..POLLS).map(|_| events_of(&np).len()).collect();
    assert_eq!(
        reports,
        [2, 1, 1, 1, 1],
        "the edge-triggered one only in the first poll"
    );
    // Drained: the level is gone, and so are the reports.
    assert_eq!(eventfd_read(&efd), Ok(1));
    assert_eq!(eventfd_read(&efd2), Ok(1));
    assert_eq!(events_of(&np), Vec::<u32>::new());
    // A blocking poll returns at once for a level that holds.
    eventfd_write(&efd, 5).unwrap();
    let np = Arc::new(np);
    let np2 = Arc::clone(&np);
    assert_eq!(
        bounded("poll(-1) on a level", move || np2.poll(-1, |_, _, _| {})),
        Ok(1)
    );
    assert_eq!(events_of(&np), [EPOLLIN]);
}

#[test]
fn the_callback_gets_the_events_tag() {
    let _serial = serial();
    let np = ready_netpoll();
    let pd = leak_pd();
    pd.set_sequence(5);
    assert_eq!(pd.tag(), Tag::of(5));
    assert_eq!(pd.tag().bits(), 5);
    let efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    np.open(&efd, pd).unwrap();
    let mut tags = Vec::new();
    assert_eq!(
        np.poll(0, |p, _, tag| tags.push((std::ptr::eq(p, pd), tag))),
        Ok(1)
    );
    assert_eq!(tags, [(true, Tag::of(5))]);
    assert!(tags[0].1.matches(5) && !tags[0].1.matches(6));

    // After bump_sequence, an event of the old registration carries the old tag: dropped.
    eventfd_write(&efd, 1).unwrap();
    assert_eq!(pd.bump_sequence(), 6);
    let mut calls = 0;
    assert_eq!(
        np.poll(0, |_, _, _| calls += 1),
        Ok(0),
        "stale event dropped"
    );
    assert_eq!(calls, 0);
    // A modify packs the new sequence: the next event carries Tag::of(6), equal to pd.tag().
    np.modify(&efd, pd, Interest::GO).unwrap();
    let mut tags = Vec::new();
    assert_eq!(np.poll(0, |p, _, tag| tags.push((p.tag(), tag))), Ok(1));
    assert_eq!(tags, [(Tag::of(6), Tag::of(6))]);

    // The tag keeps TAG_BITS bits of the sequence: sequences that differ above them match.
    let bits = rawpoll::netpoll::TAG_BITS;
    let expected_bits = if cfg!(target_pointer_width = "64") {
        13
    } else {
        32
    };
    assert_eq!(bits, expected_bits);
    let wrap = 1usize.checked_shl(bits).unwrap_or(0);
    assert!(Tag::of(wrap + 6).matches(6), "tags wrap at 2^{bits}");
    assert_eq!(
        Tag::of(usize::MAX).bits(),
        (usize::MAX as u64) & ((1u64 << bits) - 1)
    );
    np.close(&efd).unwrap();
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

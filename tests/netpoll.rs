//! Host tests of `rawpoll::netpoll` with real threads, pipes, socketpairs and eventfds.
//!
//! Times are never asserted as upper bounds, except as generous deadlines that turn a hang into
//! a failure; lower bounds the kernel guarantees (a timeout sleeps at least its length) are.

mod common;

use common::eventfd_count;
use rawpoll::netpoll::{delay_to_timeout_ms, Netpoll, PollDesc, Ready, EVENTS_PER_POLL};
use rawpoll::*;
use std::io::Write;
use std::os::fd::AsRawFd;
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

/// Polls with `delay`, collecting `(user_data, Ready)` of each reported descriptor.
fn collect(np: &Netpoll, delay: i64) -> (usize, Vec<(usize, Ready)>) {
    let mut seen = Vec::new();
    let n = np
        .poll(delay, |pd, ready| seen.push((pd.user_data(), ready)))
        .unwrap();
    assert_eq!(n, seen.len(), "poll's count is the number of callbacks");
    (n, seen)
}

/// `prlimit64(0, RLIMIT_NOFILE, new, old)` through the raw layer.
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
    let r = |readable, writable, error| Ready {
        readable,
        writable,
        error,
    };
    assert_eq!(Ready::from_events(EPOLLIN), r(true, false, false));
    assert_eq!(Ready::from_events(EPOLLRDHUP), r(true, false, false));
    assert_eq!(Ready::from_events(EPOLLOUT), r(false, true, false));
    assert_eq!(Ready::from_events(EPOLLHUP), r(true, true, false));
    assert_eq!(Ready::from_events(EPOLLERR), r(true, true, true));
    assert_eq!(
        Ready::from_events(EPOLLERR | EPOLLOUT),
        r(true, true, false)
    );
    assert_eq!(Ready::from_events(EPOLLPRI), r(false, false, false));
    assert!(Ready::from_events(EPOLLPRI).is_empty());
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
        assert_eq!(np.poll(delay, |_, _| {}), Ok(0));
        let took = start.elapsed().as_nanos();
        println!("poll({delay} ns) on a quiet set slept {took} ns (Go's rule: >= {at_least})");
        assert!(took >= at_least, "slept {took} ns < {at_least}");
    }
    assert_eq!(np.poll(0, |_, _| {}), Ok(0));
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
                assert_eq!(np.poll(100_000, |_, _| {}), Ok(0));
                start.elapsed()
            })
            .min()
            .unwrap()
    };
    let without = best_of(&np);
    np.use_epoll_pwait2(true);
    let with = best_of(&np);
    println!("poll(100 us), best of 20: {without:?} with Go's ms rule, {with:?} with epoll_pwait2");
    assert!(without >= Duration::from_millis(1));
    assert!(with >= Duration::from_micros(100));
    assert!(np.uses_epoll_pwait2(), "the host kernel has epoll_pwait2");
    // The best of 20 tries: only if every one of them was delayed by ~900 us would this fail.
    assert!(with < Duration::from_millis(1), "{with:?}");
    np.use_epoll_pwait2(false);
    assert!(!np.uses_epoll_pwait2());
}

#[test]
fn blocking_poll_is_woken_from_another_thread() {
    let _serial = serial();
    let np = Arc::new(ready_netpoll());
    let poller = Arc::clone(&np);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let n = poller.poll(-1, |_, _| {});
        let _ = tx.send((n, Instant::now()));
    });
    std::thread::sleep(Duration::from_millis(50));
    let wake_started = Instant::now();
    assert_eq!(np.wake(), Ok(()));
    let (n, returned) = rx.recv_timeout(DEADLINE).expect("poll(-1) was not woken");
    assert_eq!(n, Ok(0), "a wake reports no descriptor");
    assert!(
        returned >= wake_started,
        "the poll returned before it was woken"
    );
    // The eventfd counts writes (it is edge-triggered and never read by a poll): one so far.
    assert_eq!(eventfd_count(np.wake_fd()), 1);
    // The woken poll reset the wake flag, so the next wake writes again.
    assert_eq!(np.wake(), Ok(()));
    assert_eq!(eventfd_count(np.wake_fd()), 2);
}

#[test]
fn concurrent_wakes_write_the_eventfd_once_per_cycle() {
    let _serial = serial();
    const THREADS: usize = 8;
    const CYCLES: u64 = 200;
    let np = Arc::new(ready_netpoll());
    for cycle in 1..=CYCLES {
        let barrier = Arc::new(Barrier::new(THREADS));
        let wakers: Vec<_> = (0..THREADS)
            .map(|_| {
                let (np, barrier) = (Arc::clone(&np), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    np.wake()
                })
            })
            .collect();
        for w in wakers {
            assert_eq!(w.join().unwrap(), Ok(()));
        }
        // Each write adds 1 and no poll reads the counter: it equals the number of writes.
        assert_eq!(
            eventfd_count(np.wake_fd()),
            cycle,
            "one write per cycle of 8 wakes"
        );
        let np2 = Arc::clone(&np);
        assert_eq!(
            bounded("poll(-1) after wakes", move || np2.poll(-1, |_, _| {})),
            Ok(0)
        );
    }
    println!(
        "{CYCLES} cycles x {THREADS} concurrent wake() calls: {} eventfd writes",
        eventfd_count(np.wake_fd())
    );
    assert_eq!(eventfd_count(np.wake_fd()), CYCLES);
}

#[test]
fn non_blocking_poll_never_consumes_a_pending_wake() {
    let _serial = serial();
    let np = Arc::new(ready_netpoll());
    assert_eq!(np.wake(), Ok(()));
    for _ in 0..3 {
        assert_eq!(np.poll(0, |_, _| {}), Ok(0));
    }
    // Still pending: another wake writes nothing more.
    assert_eq!(np.wake(), Ok(()));
    assert_eq!(eventfd_count(np.wake_fd()), 1, "one write");
    // A blocking poll returns at once and consumes it.
    let np2 = Arc::clone(&np);
    assert_eq!(
        bounded("poll(-1) with a pending wake", move || np2
            .poll(-1, |_, _| {})),
        Ok(0)
    );
    // A positive delay consumes a wake too (delay != 0): a second write, then a quick return.
    assert_eq!(np.wake(), Ok(()));
    assert_eq!(eventfd_count(np.wake_fd()), 2);
    let np2 = Arc::clone(&np);
    assert_eq!(
        bounded("poll(1 s) with a pending wake", move || np2
            .poll(1_000_000_000, |_, _| {})),
        Ok(0)
    );
    // And the flag was reset: the next wake writes again.
    assert_eq!(np.wake(), Ok(()));
    assert_eq!(eventfd_count(np.wake_fd()), 3);
    let np2 = Arc::clone(&np);
    assert_eq!(bounded("poll(-1)", move || np2.poll(-1, |_, _| {})), Ok(0));

    // A thread blocks while another spins on poll(0), which takes the wake's edge whenever it
    // gets there first: the blocked thread must still be woken, every round.
    const ROUNDS: usize = 50;
    for _ in 0..ROUNDS {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let spinner = {
            let (np, stop) = (Arc::clone(&np), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut polls = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    assert_eq!(np.poll(0, |_, _| {}), Ok(0));
                    polls += 1;
                }
                polls
            })
        };
        let (tx, rx) = mpsc::channel();
        let blocker = Arc::clone(&np);
        std::thread::spawn(move || {
            let _ = tx.send(blocker.poll(-1, |_, _| {}));
        });
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(np.wake(), Ok(()));
        let woken = rx.recv_timeout(DEADLINE);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let polls = spinner.join().unwrap();
        assert_eq!(
            woken,
            Ok(Ok(0)),
            "blocked poll not woken ({polls} racing poll(0))"
        );
    }
    println!("{ROUNDS} rounds: a blocked poll woken while another thread spun on poll(0)");
}

#[test]
fn socketpair_readiness_and_rdhup() {
    let _serial = serial();
    let np = ready_netpoll();
    let (a, mut b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let pd = leak_pd();
    pd.set_user_data(77);
    np.open(a.as_raw_fd(), pd).unwrap();
    let writable = Ready {
        readable: false,
        writable: true,
        error: false,
    };
    let both = Ready {
        readable: true,
        writable: true,
        error: false,
    };
    assert_eq!(collect(&np, 0), (1, vec![(77, writable)]));
    assert_eq!(
        collect(&np, 0),
        (0, vec![]),
        "edge-triggered: reported once"
    );
    b.write_all(b"x").unwrap();
    assert_eq!(collect(&np, 0), (1, vec![(77, both)]));
    b.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(
        collect(&np, 0),
        (1, vec![(77, both)]),
        "RDHUP makes it readable"
    );
    drop(b);
    assert_eq!(collect(&np, 0), (1, vec![(77, both)]), "HUP");
    assert_eq!(np.close(a.as_raw_fd()), Ok(()));
    assert_eq!(np.close(a.as_raw_fd()), Err(Errno::ENOENT));
}

#[test]
fn epollerr_alone_is_reported_as_an_error() {
    let _serial = serial();
    let np = ready_netpoll();
    let [r, w] = pipe2(EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    // Fill the pipe so the write end is not writable.
    let chunk = [0u8; 4096];
    let mut filled = 0;
    while let Ok(n) = write(w, &chunk) {
        filled += n;
    }
    let pd = leak_pd();
    pd.set_user_data(5);
    np.open(w, pd).unwrap();
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
    let fds: Vec<RawFd> = (0..1000)
        .map(|i| {
            let fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
            let pd = leak_pd();
            pd.set_user_data(i);
            np.open(fd, pd).unwrap();
            fd
        })
        .collect();
    let mut batches = Vec::new();
    let mut seen = Vec::new();
    loop {
        let (n, got) = collect(&np, 0);
        batches.push(n);
        seen.extend(got.into_iter().map(|(i, ready)| {
            assert_eq!(
                ready,
                Ready {
                    readable: true,
                    writable: true,
                    error: false
                }
            );
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
    np.open(a, pd).unwrap();
    assert_eq!(collect(&np, 0).0, 1, "initially writable");
    let keep = dup3(a, 200, 0).unwrap();
    close(a).unwrap();
    // The runtime reuses the descriptor for a new fd, which gets the same number.
    assert_eq!(pd.bump_sequence(), 1);
    pd.set_user_data(2);
    let b = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    assert_eq!(b, a, "the fd number is reused");
    np.open(b, pd).unwrap();
    assert_eq!(
        collect(&np, 0),
        (
            1,
            vec![(
                2,
                Ready {
                    readable: false,
                    writable: true,
                    error: false
                }
            )]
        )
    );
    // The old file becomes readable: the kernel reports it with the old data (sequence 0),
    // which must be dropped.
    eventfd_write(keep, 1).unwrap();
    assert_eq!(collect(&np, 0), (0, vec![]), "stale event dropped");
    // The new one still works.
    eventfd_write(b, 1).unwrap();
    let both = Ready {
        readable: true,
        writable: true,
        error: false,
    };
    assert_eq!(collect(&np, 0), (1, vec![(2, both)]));
    close(keep).unwrap();
    close(b).unwrap();
}

#[test]
fn no_sequence_makes_a_descriptor_look_like_the_wake_eventfd() {
    let _serial = serial();
    let np = ready_netpoll();
    assert_eq!(np.wake(), Ok(()));
    let wake_fd = np.wake_fd() as usize;
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
        np.open(fd, pd).unwrap();
        let both = Ready {
            readable: true,
            writable: true,
            error: false,
        };
        assert_eq!(
            collect(&np, 0),
            (1, vec![(i, both)]),
            "sequence {sequence:#x}"
        );
        assert_eq!(
            eventfd_count(np.wake_fd()),
            1,
            "the pending wake is untouched"
        );
        close(fd).unwrap();
    }
}

#[test]
fn bad_input_gets_an_errno() {
    let _serial = serial();
    let np = Netpoll::new();
    let pd = leak_pd();
    let efd = eventfd(0, EFD_CLOEXEC).unwrap();
    assert!(!np.is_initialized());
    assert_eq!(np.open(efd, pd), Err(Errno::EBADF), "open before init");
    assert_eq!(np.close(efd), Err(Errno::EBADF), "close before init");
    assert_eq!(np.wake(), Err(Errno::EBADF), "wake before init");
    assert_eq!(
        np.wake(),
        Err(Errno::EBADF),
        "the failed wake left no wake pending"
    );
    assert_eq!(np.poll(0, |_, _| {}), Err(Errno::EBADF), "poll before init");
    assert!(!np.is_poll_descriptor(-1));
    assert_eq!(np.init(), Ok(()));
    assert_eq!(np.init(), Err(Errno::EBUSY), "second init");
    assert!(np.is_poll_descriptor(np.wake_fd()));
    assert!(!np.is_poll_descriptor(efd));
    assert_eq!(np.open(efd, pd), Ok(()));
    assert_eq!(np.open(efd, pd), Err(Errno::EEXIST), "double open");
    let other = eventfd(0, EFD_CLOEXEC).unwrap();
    assert_eq!(
        np.close(other),
        Err(Errno::ENOENT),
        "close of an unregistered fd"
    );
    close(other).unwrap();
    assert_eq!(np.open(other, pd), Err(Errno::EBADF), "open of a closed fd");
    close(efd).unwrap();
}

#[test]
fn drop_closes_the_pollers_fds() {
    let _serial = serial();
    let np = ready_netpoll();
    let wake_fd = np.wake_fd();
    assert_eq!(eventfd_count(wake_fd), 0);
    assert!(fd_is_open(wake_fd));
    drop(np);
    assert!(!fd_is_open(wake_fd), "drop closed the wake eventfd");
}

static STATIC_POLLER: Netpoll = Netpoll::new();
static STATIC_PD: PollDesc = PollDesc::new();

#[test]
fn a_static_poller_and_descriptor() {
    let _serial = serial();
    STATIC_POLLER.init().unwrap();
    let efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    STATIC_PD.set_user_data(9);
    STATIC_POLLER.open(efd, &STATIC_PD).unwrap();
    let mut seen = Vec::new();
    assert_eq!(
        STATIC_POLLER.poll(0, |pd, _| seen.push(std::ptr::eq(pd, &STATIC_PD))),
        Ok(1)
    );
    assert_eq!(seen, [true]);
    close(efd).unwrap();
}

//! Faults injected into the real system calls of the netpoller and its wrappers.
//!
//! `common/seccomp.rs` filters chosen threads with seccomp user notification: a supervisor
//! thread fails chosen calls with an errno, or holds a call in flight while other threads act.
//! Every error path of `src/netpoll.rs` is driven here: `init`'s three steps, `open`, `modify`,
//! `close`, the wake's write and read-back, the poll's wait, and the re-arm a non-blocking poll
//! makes when it takes the wake's edge from a sleeper. Each test checks the result, the exact
//! number of calls made, and that a wake the library answered `Ok` for reaches its sleeper.
//!
//! Determinism: a sleeper that must not have reached the kernel yet is held by the supervisor
//! inside its `epoll_pwait` (it already counts as a sleeper); a sleeper that must be asleep is
//! waited for until `has_sleeper()` and `/proc/self/task/TID/syscall` show it in the wait. No
//! test asserts a time: a return that does not come within [`DEADLINE`] fails the test (and the
//! test then writes the eventfd itself so that the stuck thread ends).
//!
//! seccomp can inject any errno into any call; which of them the kernel can really return is
//! said at each test (see the README's "Fault injection" section).
//!
//! Output: one `fault:` line per injected errno, `cargo test --test netpoll_faults --
//! --nocapture` prints them (the README's table sums them).
//!
//! A test binary of its own: its cases count the process's open descriptors (`open_fds`), so no
//! other test may open or close one meanwhile.

#[path = "../common/mod.rs"]
mod common;

use common::seccomp;

use rawpoll::netpoll::{Netpoll, PollDesc};
use rawpoll::AsRawFd;
use rawpoll::{Errno, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD};
use seccomp::{Action, Faults, Rule};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Barrier, Mutex, MutexGuard, OnceLock};
use std::thread::Scope;
use std::time::{Duration, Instant};

/// The bound that turns a hang (a lost wake) into a failure.
const DEADLINE: Duration = Duration::from_secs(10);
/// A delay no test waits out: a poll with it that returns was woken.
const LONG: i64 = 30_000_000_000;

const EINTR: i32 = libc::EINTR;
const EAGAIN: i32 = libc::EAGAIN;
const EBADF: i32 = libc::EBADF;
const EINVAL: i32 = libc::EINVAL;
const EFAULT: i32 = libc::EFAULT;
const ENOMEM: i32 = libc::ENOMEM;
const ENOENT: i32 = libc::ENOENT;

/// The tests share the process's descriptor table (they count open descriptors) and a CPU
/// budget: they run one at a time.
fn serial() -> Option<MutexGuard<'static, ()>> {
    static LOCK: Mutex<()> = Mutex::new(());
    static UNAVAILABLE: OnceLock<Option<String>> = OnceLock::new();
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    match UNAVAILABLE.get_or_init(seccomp::unavailable) {
        Some(reason) => {
            println!("skipped: seccomp user notification is unavailable: {reason}");
            None
        }
        None => Some(guard),
    }
}

fn errno(e: i32) -> Errno {
    Errno::from_raw(e as u16)
}

fn name(e: i32) -> &'static str {
    match e {
        libc::ENODEV => "ENODEV",
        _ => errno(e).name().unwrap_or("?"),
    }
}

/// Prints what was injected and what the library did about it, one line per errno.
fn report(faults: &Faults, reaction: &str) {
    for (call, e, n) in faults.injected() {
        println!("fault: {call} {} x{n} -> {reaction}", name(e));
    }
}

fn poller() -> Netpoll {
    let np = Netpoll::new();
    np.init().expect("init");
    np
}

/// The answers a rule gives, in order (see [`Rule::plan`]).
type Plan<'a> = &'a [Action];

/// How a sleeper sleeps.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// `poll(-1)`.
    Forever,
    /// `poll(30 s)`, through `epoll_pwait`.
    Delay,
    /// `poll(30 s)` with `epoll_pwait2` on.
    Delay2,
}

const SLEEPER_MODES: [Mode; 3] = [Mode::Forever, Mode::Delay, Mode::Delay2];

impl Mode {
    fn delay(self) -> i64 {
        match self {
            Mode::Forever => -1,
            Mode::Delay | Mode::Delay2 => LONG,
        }
    }

    /// Sets the poller up for this mode.
    fn apply(self, np: &Netpoll) {
        np.use_epoll_pwait2(matches!(self, Mode::Delay2));
    }

    /// The system call the sleeper sleeps in.
    fn wait_call(self) -> (&'static str, libc::c_long) {
        match self {
            Mode::Forever | Mode::Delay => ("epoll_pwait", libc::SYS_epoll_pwait),
            Mode::Delay2 => ("epoll_pwait2", libc::SYS_epoll_pwait2),
        }
    }

    fn wait_rule(self) -> Rule {
        let (name, nr) = self.wait_call();
        Rule::new(name, nr)
    }
}

fn wake_write(np: &Netpoll) -> Rule {
    Rule::new("write(wake fd)", libc::SYS_write).arg(0, np.raw_wake_fd() as u64)
}

fn wake_read(np: &Netpoll) -> Rule {
    Rule::new("read(wake fd)", libc::SYS_read).arg(0, np.raw_wake_fd() as u64)
}

fn epoll_ctl_op(name: &'static str, op: u32) -> Rule {
    Rule::new(name, libc::SYS_epoll_ctl).arg(1, u64::from(op))
}

fn gettid() -> i32 {
    // SAFETY: gettid takes no argument and cannot fail.
    unsafe { libc::gettid() }
}

/// A thread blocked (or about to block) in `poll`.
struct Sleeper {
    tid: i32,
    done: Receiver<Result<usize, Errno>>,
}

/// Starts a thread that polls once with `delay`; filtered by `faults` if given.
fn sleeper<'s>(
    s: &'s Scope<'s, '_>,
    np: &'s Netpoll,
    delay: i64,
    faults: Option<&'s Faults>,
) -> Sleeper {
    let (tid_tx, tid_rx) = mpsc::channel();
    let (done_tx, done) = mpsc::channel();
    s.spawn(move || {
        if let Some(faults) = faults {
            faults.attach().expect("attach the sleeper's filter");
        }
        tid_tx.send(gettid()).unwrap();
        let _ = done_tx.send(np.poll(delay, |_, _, _| {}));
    });
    let tid = tid_rx.recv_timeout(DEADLINE).expect("the sleeper started");
    Sleeper { tid, done }
}

/// Waits until `sleeper` is counted as a sleeper and sits in system call `nr`.
fn wait_asleep(np: &Netpoll, sleeper: &Sleeper, nr: libc::c_long) {
    let path = format!("/proc/self/task/{}/syscall", sleeper.tid);
    let end = Instant::now() + DEADLINE;
    loop {
        let in_call = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.split_whitespace().next().map(str::to_owned))
            .is_some_and(|first| first == nr.to_string());
        if np.has_sleeper() && in_call {
            return;
        }
        assert!(Instant::now() < end, "the sleeper did not block in {nr}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Writes the eventfd directly, so that a sleeper a lost wake left asleep ends with the test.
fn rescue(np: &Netpoll) {
    let one = 1u64.to_ne_bytes();
    // SAFETY: an 8-byte write from a live buffer; the number is the poller's eventfd, which
    // stays open while `np` lives.
    let _ = unsafe { libc::write(np.raw_wake_fd(), one.as_ptr().cast(), 8) };
}

/// Keeps a failing test from hanging: if an assertion fails inside a thread scope, lets every
/// held call run and writes the eventfd, so that the scope's threads end and the test fails.
struct Unstick<'a> {
    np: &'a Netpoll,
    faults: Vec<&'a Faults>,
}

impl Drop for Unstick<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for faults in &self.faults {
                faults.release_all();
            }
            rescue(self.np);
        }
    }
}

/// What the sleeper's poll returned; fails the test if it did not return within [`DEADLINE`].
fn expect_woken(np: &Netpoll, sleeper: &Sleeper, what: &str) -> Result<usize, Errno> {
    match sleeper.done.recv_timeout(DEADLINE) {
        Ok(r) => r,
        Err(_) => {
            rescue(np);
            panic!("{what}: the sleeper was not woken within {DEADLINE:?}: the wake was lost");
        }
    }
}

/// The sleeper has not returned yet (a snapshot, no waiting).
fn expect_still_asleep(sleeper: &Sleeper, what: &str) {
    assert_eq!(
        sleeper.done.try_recv().err(),
        Some(TryRecvError::Empty),
        "{what}: the sleeper returned"
    );
}

/// Runs `f` on a new thread filtered by `faults`.
fn filtered<T: Send>(faults: &Faults, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            faults.attach().expect("attach the filter");
            f()
        })
        .join()
        .expect("the filtered thread panicked")
    })
}

/// A blocking poll on a new thread (filtered by `faults` if given), bounded by [`DEADLINE`].
fn poll_bounded(
    np: &Netpoll,
    delay: i64,
    faults: Option<&Faults>,
    what: &str,
) -> Result<usize, Errno> {
    std::thread::scope(|s| {
        let poller = sleeper(s, np, delay, faults);
        expect_woken(np, &poller, what)
    })
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// `init`: each of its three steps fails in turn. `init` returns that errno, closes exactly
/// what it had opened (0, 1, 2 descriptors), leaves the poller uninitialised, and the next
/// `init` works. All these errnos are real: `EMFILE`/`ENFILE`/`ENOMEM` for both creations
/// (`ENODEV` for eventfd2 without an anonymous inode mount), `ENOSPC`
/// (`fs.epoll.max_user_watches`) and `ENOMEM` for `EPOLL_CTL_ADD`.
#[test]
fn init_failing_at_each_step_closes_what_it_opened_and_init_works_after() {
    let Some(_serial) = serial() else { return };
    let steps: [(Rule, i32, usize); 6] = [
        (
            Rule::new("epoll_create1", libc::SYS_epoll_create1),
            libc::EMFILE,
            0,
        ),
        (
            Rule::new("epoll_create1", libc::SYS_epoll_create1),
            ENOMEM,
            0,
        ),
        (Rule::new("eventfd2", libc::SYS_eventfd2), libc::ENFILE, 1),
        (Rule::new("eventfd2", libc::SYS_eventfd2), libc::ENODEV, 1),
        (
            epoll_ctl_op("epoll_ctl(ADD)", EPOLL_CTL_ADD),
            libc::ENOSPC,
            2,
        ),
        (epoll_ctl_op("epoll_ctl(ADD)", EPOLL_CTL_ADD), ENOMEM, 2),
    ];
    for (rule, e, opened) in steps {
        let faults = Faults::new(vec![
            rule.plan(&[Action::Fail(e)]),
            Rule::new("close", libc::SYS_close),
        ]);
        let (result, closes, initialized, fds_before, fds_after, again) = filtered(&faults, || {
            let np = Netpoll::new();
            let before = open_fds();
            let closes_before = faults.count(1);
            let result = np.init();
            let closes = faults.count(1) - closes_before;
            let initialized = np.is_initialized();
            let after = open_fds();
            let again = np.init().map(|_| np.is_initialized());
            (result, closes, initialized, before, after, again)
        });
        let step = faults.calls(0);
        assert_eq!(result, Err(errno(e)), "init with {} failing", name(e));
        // The failing step was reached once and the retry made it again (Continue).
        assert_eq!(step.len(), 2, "{}: calls of the failing step", name(e));
        // One close per descriptor opened before the failing step.
        assert_eq!(closes, opened, "{}: descriptors closed by init", name(e));
        assert!(!initialized, "{}: initialised after a failed init", name(e));
        assert_eq!(fds_after, fds_before, "{}: descriptors leaked", name(e));
        assert_eq!(again, Ok(true), "{}: init after the failure", name(e));
        report(
            &faults,
            &format!("init returns it, closes {opened} fd, next init works"),
        );
    }
}

static OPENED: PollDesc = PollDesc::new();

/// `open`, `modify` and `close` are one `epoll_ctl` each, and return its error; the next call
/// works. `ENOMEM` (all three) and `ENOSPC` (`ADD`, the watch limit) are real errnos.
#[test]
fn open_modify_close_return_the_epoll_ctl_error() {
    let Some(_serial) = serial() else { return };
    let np = poller();
    let (read_end, write_end) = rawpoll::pipe2(0).unwrap();
    let faults = Faults::new(vec![
        epoll_ctl_op("epoll_ctl(ADD)", EPOLL_CTL_ADD)
            .arg(2, read_end.as_raw_fd() as u64)
            .plan(&[Action::Fail(libc::ENOSPC), Action::Fail(ENOMEM)]),
        epoll_ctl_op("epoll_ctl(MOD)", EPOLL_CTL_MOD)
            .arg(2, read_end.as_raw_fd() as u64)
            .plan(&[Action::Fail(ENOMEM)]),
        epoll_ctl_op("epoll_ctl(DEL)", EPOLL_CTL_DEL)
            .arg(2, read_end.as_raw_fd() as u64)
            .plan(&[Action::Fail(ENOMEM)]),
    ]);
    let interest = rawpoll::netpoll::Interest::READABLE;
    let results = filtered(&faults, || {
        [
            np.open(&read_end, &OPENED),
            np.open(&read_end, &OPENED),
            np.open(&read_end, &OPENED),
            np.modify(&read_end, &OPENED, interest),
            np.modify(&read_end, &OPENED, interest),
        ]
    });
    assert_eq!(
        results,
        [
            Err(errno(libc::ENOSPC)),
            Err(errno(ENOMEM)),
            Ok(()),
            Err(errno(ENOMEM)),
            Ok(())
        ]
    );
    rawpoll::write(&write_end, b"x").unwrap();
    let mut seen = 0;
    assert_eq!(
        np.poll(0, |pd, r, _| seen +=
            usize::from(std::ptr::eq(pd, &OPENED) && r.readable)),
        Ok(1)
    );
    assert_eq!(seen, 1);
    let closes = filtered(&faults, || {
        [
            np.close(&read_end),
            np.close(&read_end),
            np.close(&read_end),
        ]
    });
    assert_eq!(closes, [Err(errno(ENOMEM)), Ok(()), Err(errno(ENOENT))]);
    assert_eq!(
        [faults.count(0), faults.count(1), faults.count(2)],
        [3, 2, 3]
    );
    report(
        &faults,
        "returned by open/modify/close; the next call works",
    );
}

/// One wake from a thread filtered by `rules`, while a sleeper sleeps in `mode`; `check` gets
/// the wake's result with the sleeper still in place.
fn wake_against_sleeper(
    mode: Mode,
    rules: impl Fn(&Netpoll) -> Vec<Rule>,
    check: impl FnOnce(&Netpoll, &Faults, &Sleeper, Result<(), Errno>),
) {
    let np = poller();
    mode.apply(&np);
    let faults = Faults::new(rules(&np));
    std::thread::scope(|s| {
        let _unstick = Unstick {
            np: &np,
            faults: vec![&faults],
        };
        let asleep = sleeper(s, &np, mode.delay(), None);
        wait_asleep(&np, &asleep, mode.wait_call().1);
        let woke = filtered(&faults, || np.wake());
        check(&np, &faults, &asleep, woke);
    });
}

/// The wake's write meets failures it repairs: `EINTR` (retried), `EAGAIN` (read back, written
/// again; the read-back itself failing once is covered by the second write attempt), and any
/// other error once (`EBADF`, `EINVAL`: tried once more). The wake returns `Ok`, the exact
/// number of writes and reads is made, and the sleeper wakes, in each sleeper mode.
///
/// Real errnos: only `EAGAIN`, and only with a saturated counter (0xfffffffffffffffe). The
/// eventfd is non-blocking, so its write and read never sleep and cannot give `EINTR`; the
/// poller owns the descriptor (no `EBADF`) and writes the value 1 from an 8-byte buffer (no
/// `EINVAL`); a read of the 8-byte counter gives only `EAGAIN` (counter 0).
#[test]
fn wake_write_failures_that_are_repaired_still_wake_the_sleeper() {
    let Some(_serial) = serial() else { return };
    let f = Action::Fail;
    // (write plan, read-back plan, writes, reads, what the library does)
    let cases: [(Plan, Plan, usize, usize, &str); 6] = [
        (&[f(EINTR), f(EINTR)], &[], 3, 0, "write retried"),
        (&[f(EAGAIN)], &[], 2, 1, "read back, written again"),
        (
            &[f(EAGAIN)],
            &[f(EINTR)],
            2,
            1,
            "read-back retried, written again",
        ),
        (
            &[f(EAGAIN)],
            &[f(EINVAL)],
            2,
            1,
            "read-back failed; the second attempt writes",
        ),
        (&[f(EBADF)], &[], 2, 0, "the second attempt writes"),
        (&[f(EINVAL)], &[], 2, 0, "the second attempt writes"),
    ];
    for mode in SLEEPER_MODES {
        for (writes, reads, write_count, read_count, reaction) in cases {
            let what = format!("{mode:?}, writes {writes:?}, reads {reads:?}");
            wake_against_sleeper(
                mode,
                |np| vec![wake_write(np).plan(writes), wake_read(np).plan(reads)],
                |np, faults, asleep, woke| {
                    assert_eq!(woke, Ok(()), "{what}");
                    assert_eq!(expect_woken(np, asleep, &what), Ok(0), "{what}");
                    assert_eq!(faults.count(0), write_count, "{what}: writes");
                    assert_eq!(faults.count(1), read_count, "{what}: reads");
                    assert_eq!(common::eventfd_count(np.raw_wake_fd()), 1, "{what}: edges");
                    report(faults, &format!("wake: {reaction}; Ok, sleeper woken"));
                },
            );
        }
    }
}

/// The wake's write fails twice (a failure the retry cannot repair): `wake` returns the error
/// and the wake stays pending. The sleeper is not woken by it (the documented limit: the
/// guarantee holds under any single failure); the next blocking poll returns at once, and the
/// next `wake` writes again and wakes the sleeper. Also with the read-back failing twice.
#[test]
fn wake_write_failing_twice_returns_the_error_and_keeps_the_wake_pending() {
    let Some(_serial) = serial() else { return };
    let f = Action::Fail;
    // (write plan, read-back plan, error, writes, reads)
    let cases: [(Plan, Plan, i32, usize, usize); 3] = [
        (&[f(EBADF), f(EBADF)], &[], EBADF, 2, 0),
        (&[f(EINVAL), f(EINVAL)], &[], EINVAL, 2, 0),
        (
            &[f(EAGAIN), f(EAGAIN)],
            &[f(EINVAL), f(EINVAL)],
            EINVAL,
            2,
            2,
        ),
    ];
    for mode in SLEEPER_MODES {
        for (writes, reads, e, write_count, read_count) in cases {
            for blocking_poll_first in [false, true] {
                let what = format!("{mode:?}, writes {writes:?}, reads {reads:?}");
                wake_against_sleeper(
                    mode,
                    |np| vec![wake_write(np).plan(writes), wake_read(np).plan(reads)],
                    |np, faults, asleep, woke| {
                        assert_eq!(woke, Err(errno(e)), "{what}");
                        assert_eq!(faults.count(0), write_count, "{what}: writes");
                        assert_eq!(faults.count(1), read_count, "{what}: reads");
                        assert_eq!(common::eventfd_count(np.raw_wake_fd()), 0, "{what}");
                        expect_still_asleep(asleep, &what);
                        if blocking_poll_first {
                            // Pending: a new blocking poll does not sleep, and consumes it.
                            let r = poll_bounded(np, -1, None, &what);
                            assert_eq!(r, Ok(0), "{what}: the next blocking poll");
                        }
                        // The next wake writes (through the filter: its plan is used up).
                        assert_eq!(filtered(faults, || np.wake()), Ok(()), "{what}");
                        assert_eq!(faults.count(0), write_count + 1, "{what}: writes");
                        assert_eq!(expect_woken(np, asleep, &what), Ok(0), "{what}");
                        report(
                            faults,
                            "wake returns it, wake stays pending, next wake writes",
                        );
                    },
                );
            }
        }
    }
}

/// A wake coalesced behind a write in flight. Thread A's wake writes for
/// the sleeper and its write is held in flight; thread B's wake finds it and returns `Ok`
/// without a system call; A's write then fails (`EBADF`, `EINVAL`). A tries once more, returns
/// `Ok`, and the sleeper wakes: B's `Ok` was kept. (The old library returned A's error, dropped
/// the flag, and the sleeper slept on.) Then both of A's attempts failing: A returns the error,
/// and the next wake writes again.
#[test]
fn coalesced_wake_behind_a_failing_write_still_wakes_the_sleeper() {
    let Some(_serial) = serial() else { return };
    for mode in SLEEPER_MODES {
        for e in [EBADF, EINVAL] {
            for fail_twice in [false, true] {
                let what = format!("{mode:?}, {}, twice: {fail_twice}", name(e));
                let np = poller();
                mode.apply(&np);
                let second = if fail_twice {
                    Action::Fail(e)
                } else {
                    Action::Continue
                };
                let a_faults = Faults::new(vec![wake_write(&np).plan(&[Action::Hold, second])]);
                let b_faults = Faults::new(vec![wake_write(&np)]);
                std::thread::scope(|s| {
                    let _unstick = Unstick {
                        np: &np,
                        faults: vec![&a_faults, &b_faults],
                    };
                    let asleep = sleeper(s, &np, mode.delay(), None);
                    wait_asleep(&np, &asleep, mode.wait_call().1);
                    let a = s.spawn(|| {
                        a_faults.attach().expect("attach A's filter");
                        np.wake()
                    });
                    let held = a_faults.wait_held(DEADLINE);
                    assert_eq!(filtered(&b_faults, || np.wake()), Ok(()), "{what}: B");
                    assert_eq!(b_faults.count(0), 0, "{what}: B made a system call");
                    a_faults.release(held, Action::Fail(e));
                    let a = a.join().expect("A panicked");
                    if fail_twice {
                        assert_eq!(a, Err(errno(e)), "{what}: A");
                        expect_still_asleep(&asleep, &what);
                        assert_eq!(filtered(&b_faults, || np.wake()), Ok(()), "{what}");
                        assert_eq!(b_faults.count(0), 1, "{what}: the next wake writes");
                        assert_eq!(expect_woken(&np, &asleep, &what), Ok(0), "{what}");
                    } else {
                        assert_eq!(expect_woken(&np, &asleep, &what), Ok(0), "{what}");
                        assert_eq!(a, Ok(()), "{what}: A");
                    }
                    assert_eq!(a_faults.count(0), 2, "{what}: A's writes");
                    assert_eq!(common::eventfd_count(np.raw_wake_fd()), 1, "{what}");
                });
                report(
                    &a_faults,
                    if fail_twice {
                        "held write failed twice: A returns it, wake pending, next wake writes"
                    } else {
                        "held write failed once under a coalesced wake: A retries, Ok, sleeper woken"
                    },
                );
            }
        }
    }
}

/// The poll's wait hit by `EINTR`, in each delay mode: `poll(-1)` retries it (and then sleeps
/// until woken), `poll(30 s)` returns `Ok(0)` so that its caller recomputes the delay (through
/// `epoll_pwait` and `epoll_pwait2`), `poll(0)` retries it; a blocking poll that finds a wake
/// pending waits with timeout 0 and retries it too. Exact wait counts.
///
/// Real: `EINTR` for a blocking wait (a signal handler without `SA_RESTART`; see
/// `signals.rs`). A wait with timeout 0 never sleeps, and the kernel checks for
/// signals only before sleeping, so `poll(0)` cannot really get it.
#[test]
fn poll_wait_eintr_in_each_delay_mode() {
    let Some(_serial) = serial() else { return };
    let eintr_once = |mode: Mode| vec![mode.wait_rule().plan(&[Action::Fail(EINTR)])];

    // poll(-1): retried, then asleep until the wake.
    let np = poller();
    let faults = Faults::new(eintr_once(Mode::Forever));
    std::thread::scope(|s| {
        let _unstick = Unstick {
            np: &np,
            faults: vec![&faults],
        };
        let asleep = sleeper(s, &np, -1, Some(&faults));
        faults.wait_count(0, 2, DEADLINE);
        wait_asleep(&np, &asleep, libc::SYS_epoll_pwait);
        assert_eq!(np.wake(), Ok(()));
        assert_eq!(expect_woken(&np, &asleep, "poll(-1), EINTR"), Ok(0));
    });
    assert_eq!(faults.count(0), 2, "poll(-1): waits");
    report(&faults, "poll(-1) retries; woken by the next wake");

    // poll(30 s), with and without epoll_pwait2: Ok(0) after one wait.
    for mode in [Mode::Delay, Mode::Delay2] {
        let np = poller();
        mode.apply(&np);
        let faults = Faults::new(eintr_once(mode));
        assert_eq!(
            filtered(&faults, || np.poll(LONG, |_, _, _| {})),
            Ok(0),
            "{mode:?}"
        );
        assert_eq!(faults.count(0), 1, "{mode:?}: waits");
        assert!(!np.has_sleeper(), "{mode:?}: a sleeper left counted");
        report(&faults, "poll(delay > 0) returns Ok(0)");
    }

    // poll(0): retried.
    let np = poller();
    let faults = Faults::new(eintr_once(Mode::Forever));
    assert_eq!(
        filtered(&faults, || np.poll(0, |_, _, _| {})),
        Ok(0),
        "poll(0)"
    );
    assert_eq!(faults.count(0), 2, "poll(0): waits");
    report(&faults, "poll(0) retries");

    // A blocking poll with a wake pending waits with timeout 0, and retries EINTR there.
    for mode in SLEEPER_MODES {
        let np = poller();
        mode.apply(&np);
        assert_eq!(np.wake(), Ok(()));
        let faults = Faults::new(eintr_once(Mode::Forever));
        assert_eq!(
            filtered(&faults, || np.poll(mode.delay(), |_, _, _| {})),
            Ok(0)
        );
        let waits = faults.calls(0);
        assert_eq!(waits.len(), 2, "{mode:?}, wake pending: waits");
        assert!(
            waits.iter().all(|c| c.args[3] == 0),
            "{mode:?}: a wait had a timeout"
        );
        report(
            &faults,
            "blocking poll with a wake pending: timeout-0 wait retried",
        );
    }
}

/// The poll's wait failing with another error (`EBADF`, `EFAULT`) is returned, in each delay
/// mode, and a pending wake survives it: the next blocking poll returns at once. Also a sleeper
/// whose wait fails after a wake wrote the edge for it: it returns the error, and the wake is
/// still there for the next blocking poll.
///
/// Neither errno is real here: the poller owns its epoll descriptor (no `EBADF`) and passes a
/// buffer on its own stack (no `EFAULT`).
#[test]
fn poll_wait_errors_are_returned_and_a_pending_wake_survives_them() {
    let Some(_serial) = serial() else { return };
    let fail_once = |e: i32| {
        vec![
            Mode::Forever.wait_rule().plan(&[Action::Fail(e)]),
            Mode::Delay2.wait_rule().plan(&[Action::Fail(e)]),
        ]
    };
    for e in [EBADF, EFAULT] {
        for (mode, delay) in SLEEPER_MODES
            .iter()
            .map(|&m| (m, m.delay()))
            .chain([(Mode::Forever, 0)])
        {
            let what = format!("{mode:?}, delay {delay}, {}", name(e));
            // Without a wake: the error comes back.
            let np = poller();
            mode.apply(&np);
            let faults = Faults::new(fail_once(e));
            let r = filtered(&faults, || np.poll(delay, |_, _, _| {}));
            assert_eq!(r, Err(errno(e)), "{what}");
            assert_eq!(faults.count(0) + faults.count(1), 1, "{what}: waits");
            assert!(!np.has_sleeper(), "{what}: a sleeper left counted");
            report(&faults, "returned");

            // With a wake pending: returned, and the wake is still pending.
            let np = poller();
            mode.apply(&np);
            assert_eq!(np.wake(), Ok(()));
            let faults = Faults::new(fail_once(e));
            let r = filtered(&faults, || np.poll(delay, |_, _, _| {}));
            assert_eq!(r, Err(errno(e)), "{what}, wake pending");
            let next = poll_bounded(&np, -1, None, &what);
            assert_eq!(next, Ok(0), "{what}: the next blocking poll");
            report(&faults, "returned; the pending wake is kept");
        }
    }

    // A sleeper held in its wait while a wake writes its edge; the wait then fails.
    for mode in SLEEPER_MODES {
        for e in [EBADF, EFAULT] {
            let what = format!("held {mode:?}, {}", name(e));
            let np = poller();
            mode.apply(&np);
            let faults = Faults::new(vec![mode.wait_rule().plan(&[Action::Hold])]);
            std::thread::scope(|s| {
                let _unstick = Unstick {
                    np: &np,
                    faults: vec![&faults],
                };
                let asleep = sleeper(s, &np, mode.delay(), Some(&faults));
                let held = faults.wait_held(DEADLINE);
                assert!(np.has_sleeper(), "{what}");
                assert_eq!(np.wake(), Ok(()), "{what}");
                assert_eq!(common::eventfd_count(np.raw_wake_fd()), 1, "{what}");
                faults.release(held, Action::Fail(e));
                assert_eq!(expect_woken(&np, &asleep, &what), Err(errno(e)), "{what}");
            });
            assert_eq!(
                poll_bounded(&np, -1, None, &what),
                Ok(0),
                "{what}: next poll"
            );
            report(
                &faults,
                "sleeper returns it; the wake is kept for the next poll",
            );
        }
    }
}

static REPORTED: PollDesc = PollDesc::new();

/// A non-blocking poll takes the wake's edge from a sleeper (held in its
/// wait by the supervisor, so the edge is certainly left for the `poll(0)`), and its re-arm
/// (`EPOLL_CTL_MOD` of the eventfd) fails once with `ENOMEM` or `ENOENT`. A fresh write repairs
/// it: `poll(0)` returns `Ok`, and the sleeper wakes. (The old library dropped the wake and
/// returned `Ok`; the sleeper slept on.) The fresh write hit by `EINTR` is retried. With the
/// re-arm working, no write is made. In each sleeper mode.
///
/// Real: `ENOMEM` is listed for `epoll_ctl`, though `EPOLL_CTL_MOD` allocates nothing in
/// current kernels; `ENOENT` cannot happen, the wake eventfd stays registered (nothing safe can
/// remove it); `EINTR` cannot happen to an eventfd write (see above).
#[test]
fn rearm_failure_is_repaired_by_a_fresh_write_and_the_sleeper_wakes() {
    let Some(_serial) = serial() else { return };
    let f = Action::Fail;
    // (re-arm plan, fresh-write plan, re-arms, fresh writes, what the library does)
    let cases: [(Plan, Plan, usize, usize, &str); 4] = [
        (&[], &[], 1, 0, "re-armed"),
        (
            &[f(ENOMEM)],
            &[],
            1,
            1,
            "poll(0): fresh write, Ok, sleeper woken",
        ),
        (
            &[f(ENOENT)],
            &[],
            1,
            1,
            "poll(0): fresh write, Ok, sleeper woken",
        ),
        (
            &[f(ENOMEM)],
            &[f(EINTR)],
            1,
            2,
            "poll(0): fresh write retried, Ok, sleeper woken",
        ),
    ];
    for mode in SLEEPER_MODES {
        for (rearms, writes, rearm_count, write_count, reaction) in cases {
            let what = format!("{mode:?}, re-arm {rearms:?}, write {writes:?}");
            rearm_against_held_sleeper(mode, rearms, writes, |np, faults, asleep, polled| {
                assert_eq!(polled, Ok(0), "{what}: poll(0)");
                faults.release_sleeper();
                assert_eq!(expect_woken(np, asleep, &what), Ok(0), "{what}");
                assert_eq!(faults.poller.count(0), rearm_count, "{what}: re-arms");
                assert_eq!(faults.poller.count(1), write_count, "{what}: fresh writes");
                let edges = 1 + u64::from(write_count > 0);
                assert_eq!(common::eventfd_count(np.raw_wake_fd()), edges, "{what}");
                report(&faults.poller, reaction);
            });
        }
    }
}

/// The re-arm and the fresh write both fail: `poll(0)` returns the write's error, after it
/// reported the descriptor it collected, and the wake stays pending: the sleeper is not woken
/// by it, but the next blocking poll returns at once, and the next wake writes again.
#[test]
fn rearm_and_fresh_write_failing_return_the_error_and_keep_the_wake_pending() {
    let Some(_serial) = serial() else { return };
    for mode in SLEEPER_MODES {
        for e in [EBADF, EINVAL] {
            for blocking_poll_first in [false, true] {
                let what = format!(
                    "{mode:?}, {}, blocking poll first: {blocking_poll_first}",
                    name(e)
                );
                let rearm = [Action::Fail(ENOMEM)];
                let write = [Action::Fail(e)];
                rearm_against_held_sleeper(mode, &rearm, &write, |np, faults, asleep, polled| {
                    assert_eq!(polled, Err(errno(e)), "{what}: poll(0)");
                    faults.release_sleeper();
                    wait_asleep(np, asleep, mode.wait_call().1);
                    expect_still_asleep(asleep, &what);
                    if blocking_poll_first {
                        assert_eq!(poll_bounded(np, -1, None, &what), Ok(0), "{what}");
                    }
                    assert_eq!(np.wake(), Ok(()), "{what}: the next wake");
                    assert_eq!(expect_woken(np, asleep, &what), Ok(0), "{what}");
                    assert_eq!(common::eventfd_count(np.raw_wake_fd()), 2, "{what}");
                    report(
                        &faults.poller,
                        "poll(0) returns the write's error after its callbacks; wake pending",
                    );
                });
            }
        }
    }
}

/// The filters of [`rearm_against_held_sleeper`]: the sleeper's (its wait held) and the
/// non-blocking poller's (rule 0: the re-arm, rule 1: writes to the eventfd).
struct RearmFaults {
    sleeper: Faults,
    held: Mutex<Option<seccomp::Held>>,
    poller: Faults,
}

impl RearmFaults {
    fn release_sleeper(&self) {
        let held = self
            .held
            .lock()
            .unwrap()
            .take()
            .expect("the sleeper is held");
        self.sleeper.release(held, Action::Continue);
    }
}

/// A sleeper in `mode` held in its wait; a wake writes its edge; a `poll(0)` on a thread whose
/// re-arm and fresh writes follow `rearm` and `write` takes it, with a ready pipe that it
/// reports exactly once. `check` gets the `poll(0)` result with the sleeper still held.
fn rearm_against_held_sleeper(
    mode: Mode,
    rearm: &[Action],
    write: &[Action],
    check: impl FnOnce(&Netpoll, &RearmFaults, &Sleeper, Result<usize, Errno>),
) {
    let np = poller();
    mode.apply(&np);
    let (read_end, write_end) = rawpoll::pipe2(0).unwrap();
    np.open(&read_end, &REPORTED).unwrap();
    rawpoll::write(&write_end, b"x").unwrap();
    let faults = RearmFaults {
        sleeper: Faults::new(vec![mode.wait_rule().plan(&[Action::Hold])]),
        held: Mutex::new(None),
        poller: Faults::new(vec![
            epoll_ctl_op("epoll_ctl(MOD, wake fd)", EPOLL_CTL_MOD)
                .arg(0, np.raw_epoll_fd() as u64)
                .arg(2, np.raw_wake_fd() as u64)
                .plan(rearm),
            wake_write(&np).plan(write),
        ]),
    };
    std::thread::scope(|s| {
        let _unstick = Unstick {
            np: &np,
            faults: vec![&faults.sleeper],
        };
        let asleep = sleeper(s, &np, mode.delay(), Some(&faults.sleeper));
        *faults.held.lock().unwrap() = Some(faults.sleeper.wait_held(DEADLINE));
        assert!(np.has_sleeper());
        assert_eq!(np.wake(), Ok(()));
        assert_eq!(common::eventfd_count(np.raw_wake_fd()), 1);
        let mut reported = 0;
        let polled = filtered(&faults.poller, || {
            np.poll(0, |pd, ready, _| {
                assert!(std::ptr::eq(pd, &REPORTED) && ready.readable);
                reported += 1;
            })
        });
        assert_eq!(reported, 1, "poll(0) reported the ready pipe");
        check(&np, &faults, &asleep, polled.map(|n| n - 1));
        if faults.held.lock().unwrap().is_some() {
            faults.release_sleeper();
        }
    });
}

/// Rounds of the racing tests.
const ROUNDS: usize = 200;

/// A thread that polls with -1 over and over until `stop`, sending each result.
fn looping_sleeper<'s>(s: &'s Scope<'s, '_>, np: &'s Netpoll, stop: &'s AtomicBool) -> Sleeper {
    let (tid_tx, tid_rx) = mpsc::channel();
    let (done_tx, done) = mpsc::channel();
    s.spawn(move || {
        tid_tx.send(gettid()).unwrap();
        while !stop.load(Ordering::Acquire) {
            let _ = done_tx.send(np.poll(-1, |_, _, _| {}));
        }
    });
    let tid = tid_rx.recv_timeout(DEADLINE).expect("the sleeper started");
    Sleeper { tid, done }
}

/// Ends a [`looping_sleeper`].
fn stop_sleeper(np: &Netpoll, stop: &AtomicBool) {
    stop.store(true, Ordering::Release);
    rescue(np);
}

/// The stolen edge (above) with a real race: a sleeper truly asleep in the kernel, and a thread that wakes
/// it and at once polls with 0, with every re-arm failing (`ENOMEM`). Whoever takes the edge,
/// the sleeper returns in every round, and every edge the `poll(0)` took cost exactly one fresh
/// write: writes = rounds + re-arms, and the eventfd counter counts them all.
#[test]
fn rearm_always_failing_racing_a_real_sleeper() {
    let Some(_serial) = serial() else { return };
    let np = poller();
    let faults = Faults::new(vec![
        epoll_ctl_op("epoll_ctl(MOD, wake fd)", EPOLL_CTL_MOD)
            .arg(2, np.raw_wake_fd() as u64)
            .then(Action::Fail(ENOMEM)),
        wake_write(&np),
    ]);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let _unstick = Unstick {
            np: &np,
            faults: vec![],
        };
        let asleep = looping_sleeper(s, &np, &stop);
        let np = &np;
        filtered(&faults, move || {
            for round in 0..ROUNDS {
                let what = format!("round {round}");
                wait_asleep(np, &asleep, libc::SYS_epoll_pwait);
                assert_eq!(np.wake(), Ok(()), "{what}: wake");
                assert_eq!(np.poll(0, |_, _, _| {}), Ok(0), "{what}: poll(0)");
                assert_eq!(expect_woken(np, &asleep, &what), Ok(0), "{what}");
            }
        });
        stop_sleeper(np, &stop);
    });
    let (rearms, writes) = (faults.count(0), faults.count(1));
    assert_eq!(writes, ROUNDS + rearms, "one fresh write per failed re-arm");
    // The rescue that stopped the sleeper wrote one more edge.
    assert_eq!(common::eventfd_count(np.raw_wake_fd()), writes as u64 + 1);
    println!("racing re-arm: {ROUNDS} rounds, poll(0) took the edge {rearms} times");
    report(
        &faults,
        "racing: poll(0) writes a fresh edge, Ok, sleeper woken every round",
    );
}

/// The coalesced wake (above) with a real race: in each round a filtered waker, whose every first write attempt
/// fails (`EBADF`) and every second succeeds, and an unfiltered waker wake a sleeper truly
/// asleep in the kernel at the same moment. Every wake returns `Ok` and the sleeper returns in
/// every round; the filtered waker's writes come in pairs.
#[test]
fn failing_writes_racing_a_second_waker() {
    let Some(_serial) = serial() else { return };
    let np = poller();
    let alternate: Vec<Action> = (0..4 * ROUNDS)
        .flat_map(|_| [Action::Fail(EBADF), Action::Continue])
        .collect();
    let faults = Faults::new(vec![wake_write(&np).plan(&alternate)]);
    let stop = AtomicBool::new(false);
    let start = Barrier::new(2);
    std::thread::scope(|s| {
        let _unstick = Unstick {
            np: &np,
            faults: vec![],
        };
        let asleep = looping_sleeper(s, &np, &stop);
        let other = s.spawn(|| {
            for _ in 0..ROUNDS {
                start.wait();
                assert_eq!(np.wake(), Ok(()), "the unfiltered waker");
                start.wait();
            }
        });
        let (np, start) = (&np, &start);
        filtered(&faults, move || {
            for round in 0..ROUNDS {
                let what = format!("round {round}");
                wait_asleep(np, &asleep, libc::SYS_epoll_pwait);
                start.wait();
                assert_eq!(np.wake(), Ok(()), "{what}: the filtered waker");
                start.wait();
                assert_eq!(expect_woken(np, &asleep, &what), Ok(0), "{what}");
                // A wake that came after the sleeper's return may wake it once more.
                wait_asleep(np, &asleep, libc::SYS_epoll_pwait);
                while let Ok(r) = asleep.done.try_recv() {
                    assert_eq!(r, Ok(0), "{what}: an extra return");
                }
            }
        });
        other.join().expect("the unfiltered waker panicked");
        stop_sleeper(np, &stop);
    });
    let writes = faults.count(0);
    assert_eq!(writes % 2, 0, "the filtered waker's writes come in pairs");
    println!(
        "racing wakers: {ROUNDS} rounds, the filtered waker wrote {} times",
        writes / 2
    );
    report(
        &faults,
        "racing: the failing waker writes again, Ok, sleeper woken every round",
    );
}

//! Issue 12: faults injected into the real system calls of the netpoller and its wrappers.
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
//! Output: one `fault:` line per injected errno, `cargo test --test hardening_faults --
//! --nocapture` prints them (the README's table sums them).

mod common;
#[path = "common/seccomp.rs"]
mod seccomp;

use rawpoll::netpoll::{Netpoll, PollDesc};
use rawpoll::{Errno, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD};
use seccomp::{Action, Faults, Rule};
use rawpoll::AsRawFd;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Mutex, MutexGuard, OnceLock};
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
fn poll_bounded(np: &Netpoll, delay: i64, faults: Option<&Faults>, what: &str) -> Result<usize, Errno> {
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
        (Rule::new("epoll_create1", libc::SYS_epoll_create1), libc::EMFILE, 0),
        (Rule::new("epoll_create1", libc::SYS_epoll_create1), ENOMEM, 0),
        (Rule::new("eventfd2", libc::SYS_eventfd2), libc::ENFILE, 1),
        (Rule::new("eventfd2", libc::SYS_eventfd2), libc::ENODEV, 1),
        (epoll_ctl_op("epoll_ctl(ADD)", EPOLL_CTL_ADD), libc::ENOSPC, 2),
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
        report(&faults, &format!("init returns it, closes {opened} fd, next init works"));
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
        [Err(errno(libc::ENOSPC)), Err(errno(ENOMEM)), Ok(()), Err(errno(ENOMEM)), Ok(())]
    );
    rawpoll::write(&write_end, b"x").unwrap();
    let mut seen = 0;
    assert_eq!(np.poll(0, |pd, r, _| seen += usize::from(std::ptr::eq(pd, &OPENED) && r.readable)), Ok(1));
    assert_eq!(seen, 1);
    let closes = filtered(&faults, || [np.close(&read_end), np.close(&read_end), np.close(&read_end)]);
    assert_eq!(closes, [Err(errno(ENOMEM)), Ok(()), Err(errno(ENOENT))]);
    assert_eq!([faults.count(0), faults.count(1), faults.count(2)], [3, 2, 3]);
    report(&faults, "returned by open/modify/close; the next call works");
}

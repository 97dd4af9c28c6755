//! Helpers of the `tests/adversary/*.rs` files: what an outside user of the public API needs to
//! watch a poller from outside (which thread sleeps where), to run a case alone in a child
//! process, and to unblock a thread that a lost wake left asleep. Everything here is safe code
//! over std and `/proc`; the one raw write is `common::raw_eventfd_write`.
#![allow(dead_code)]

use rawpoll::netpoll::{Netpoll, PollDesc};
use rawpoll::{Errno, OwnedFd, EFD_CLOEXEC, EFD_NONBLOCK};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The bound that turns a hang (a lost wake, a deadlock) into a failure. Never a speed check:
/// every wait below it is for something that must come.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// A fresh `'static` descriptor carrying `user` as its user data.
pub fn leak_pd(user: usize) -> &'static PollDesc {
    let pd: &'static PollDesc = Box::leak(Box::new(PollDesc::new()));
    pd.set_user_data(user);
    pd
}

/// An initialised poller.
pub fn poller() -> Netpoll {
    let np = Netpoll::new();
    assert_eq!(np.init(), Ok(()));
    np
}

/// A non-blocking pipe: `fill` makes its read end readable (a new edge), `drain` empties it.
pub struct Pipe {
    pub r: OwnedFd,
    pub w: OwnedFd,
}

impl Pipe {
    pub fn new() -> Pipe {
        // The eventfd flags are the O_ flags of the same names.
        let (r, w) = rawpoll::pipe2(EFD_CLOEXEC | EFD_NONBLOCK).expect("pipe2");
        Pipe { r, w }
    }

    pub fn fill(&self) {
        assert_eq!(rawpoll::write(&self.w, b"x"), Ok(1));
    }

    /// Reads everything there is; returns the byte count.
    pub fn drain(&self) -> usize {
        let mut buf = [0u8; 256];
        let mut total = 0;
        loop {
            match rawpoll::read(&self.r, &mut buf) {
                Ok(0) => return total,
                Ok(n) => total += n,
                Err(e) if e == Errno::EAGAIN => return total,
                Err(e) => panic!("pipe read: {e:?}"),
            }
        }
    }
}

impl Default for Pipe {
    fn default() -> Self {
        Pipe::new()
    }
}

/// The calling thread's id, from `/proc/thread-self` (`PID/task/TID`).
pub fn tid() -> i32 {
    let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
    link.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.parse().ok())
        .expect("a thread id")
}

/// Whether thread `tid` of this process is blocked in system call `nr` and sleeping there:
/// `/proc/self/task/TID/syscall` starts with the number (it says `running` for a running
/// thread), and `/proc/self/task/TID/stat` gives state `S`.
pub fn sleeps_in(tid: i32, nr: usize) -> bool {
    let base = format!("/proc/self/task/{tid}");
    let in_call = std::fs::read_to_string(format!("{base}/syscall"))
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .is_some_and(|first| first == nr.to_string());
    // The state follows the command name, which is in parentheses and may hold spaces.
    let sleeping = std::fs::read_to_string(format!("{base}/stat"))
        .ok()
        .and_then(|s| {
            s.rfind(')')
                .map(|i| s[i + 1..].trim_start().starts_with('S'))
        })
        .unwrap_or(false);
    in_call && sleeping
}

/// Waits until `np` has a sleeper and thread `tid` sleeps in `epoll_pwait`. `gone` says whether
/// the thread has already returned from its poll: then this fails at once with `what`.
///
/// Under an emulator (`RAWPOLL_EMULATED`), `/proc` shows the host's system calls, not the
/// target's: there this waits for `has_sleeper()` and then 20 ms, as `blocked_poller` in
/// `tests/netpoll/main.rs` does.
/// (A wake to a thread that counts as a sleeper writes its edge either way; only where it finds
/// the thread differs.)
pub fn wait_asleep(np: &Netpoll, tid: i32, mut gone: impl FnMut() -> bool, what: &str) {
    let end = Instant::now() + DEADLINE;
    let emulated = crate::common::emulated();
    loop {
        if np.has_sleeper() && (emulated || sleeps_in(tid, rawpoll::raw::SYS_EPOLL_PWAIT)) {
            if emulated {
                std::thread::sleep(Duration::from_millis(20));
            }
            return;
        }
        assert!(!gone(), "{what}: the poll returned instead of sleeping");
        assert!(
            Instant::now() < end,
            "{what}: thread {tid} did not sleep in epoll_pwait within {DEADLINE:?}"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Writes the poller's eventfd from outside: a new edge that ends one sleeper, so that a test
/// that found a wake lost can end the thread it left asleep.
pub fn rescue(np: &Netpoll) {
    let _ = crate::common::raw_eventfd_write(np.raw_wake_fd(), 1);
}

/// The writes made to the poller's wake eventfd so far (no poll ever reads it).
pub fn writes(np: &Netpoll) -> u64 {
    crate::common::eventfd_count(np.raw_wake_fd())
}

/// The environment variable that tells a re-executed test binary which case to run alone.
pub const CHILD_VAR: &str = "RAWPOLL_ADVERSARY_CHILD";

/// Whether this process is the child that runs `test` alone.
pub fn is_child(test: &str) -> bool {
    std::env::var(CHILD_VAR).as_deref() == Ok(test)
}

/// Runs test `test` (a top-level `#[test]` of this binary) again in a child process, alone
/// (`--exact`, one test thread), with [`CHILD_VAR`] set so that it runs its body instead of
/// spawning; fails unless the child passed. Returns the child's standard output.
///
/// The child is where process-wide changes go (rlimits) and where descriptor numbers and
/// `/proc/self/fd` counts mean something: no other test thread opens or closes descriptors
/// there.
///
/// Under an emulator the child is started through the same runner as this binary (cargo's
/// `CARGO_TARGET_<TRIPLE>_RUNNER`, e.g. `qemu-aarch64 -L /usr/aarch64-linux-gnu`), since the
/// host cannot run the target's binary by itself; without one the case is skipped (`None`).
pub fn run_in_child(test: &str) -> Option<String> {
    let exe = std::env::current_exe().expect("current_exe");
    let mut command = if crate::common::emulated() {
        let runner = std::env::vars().find_map(|(k, v)| {
            (k.starts_with("CARGO_TARGET_") && k.ends_with("_RUNNER")).then_some(v)
        });
        let Some(runner) = runner else {
            println!("skipped: {test} runs in a child process, and no CARGO_TARGET_*_RUNNER says how to start one under the emulator");
            return None;
        };
        let mut words = runner.split_whitespace();
        let mut command = Command::new(words.next().expect("a runner command"));
        command.args(words).arg(exe);
        command
    } else {
        Command::new(exe)
    };
    let mut child = command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, test)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the child test");
    // The pipes are read on threads, so that a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let end = Instant::now() + CHILD_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break Some(status);
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    print!("{stdout}");
    let status = status.unwrap_or_else(|| {
        panic!("child {test}: still running after {CHILD_DEADLINE:?}, killed (a hang)\n{stdout}\n{stderr}")
    });
    assert!(
        status.success(),
        "child {test}: {status}\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "child {test} ran no test:\n{stdout}"
    );
    Some(stdout)
}

/// How long a child from [`run_in_child`] may run before it counts as hung.
pub const CHILD_DEADLINE: Duration = Duration::from_secs(120);

/// Descriptors open in this process (`/proc/self/fd`, less the one the listing opens).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
        - 1
}

/// Whether descriptor number `fd` is open in this process. Meaningful only where no other thread
/// opens descriptors (a child from [`run_in_child`]).
pub fn fd_open(fd: i32) -> bool {
    std::fs::symlink_metadata(format!("/proc/self/fd/{fd}")).is_ok()
}

/// The kernel function thread `tid` sleeps in (`/proc/self/task/TID/wchan`), if the kernel says.
pub fn wchan(tid: i32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/wchan"))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty() && s != "0")
}

/// Whether thread `tid` sleeps inside the kernel's epoll wait: [`sleeps_in`] `epoll_pwait`, and,
/// where the kernel names it, a wait channel in epoll (`do_epoll_wait`, `ep_poll`). A thread
/// whose `epoll_pwait` is held at the door (seccomp user notification, for one) is in the system
/// call and sleeping too, but elsewhere.
pub fn in_epoll_wait(tid: i32) -> bool {
    sleeps_in(tid, rawpoll::raw::SYS_EPOLL_PWAIT)
        && wchan(tid).is_none_or(|w| w.contains("epoll_wait") || w.contains("ep_poll"))
}

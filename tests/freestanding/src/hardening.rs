//! The freestanding subset of issue 5 (hardening), run on every target under qemu-user:
//!
//! - item 3: `RLIMIT_NOFILE` lowered (raw `prlimit64`) so that each of `init`'s descriptor
//!   steps fails in turn: `EMFILE`, the number of open descriptors unchanged, and the paths that
//!   open nothing still work at a limit with no room left;
//! - item 4: the wake eventfd's counter at `0xfffffffffffffffe`: `wake` returns, the next
//!   poll still wakes (bounded: a 10 s poll that must drain the counter);
//! - item 6: the raw layer given bad pointers (`EFAULT`), unknown numbers (`ENOSYS`) and
//!   invalid descriptors (`EBADF`), beyond what the conformance runner checks;
//! - a fork-based wake storm: children call `wake` on their copy of an initialised poller.
//!
//! One line per case, then `N passed, N failed`.
#![no_std]
#![no_main]

use rawpoll::netpoll::{Netpoll, PollDesc};
use rawpoll::raw::{self, syscall6};
use rawpoll::*;
use rawpoll_freestanding::check::Checker;
use rawpoll_freestanding::{entry, exit, exit_code, fd_is_open, fork, print, print_u64, wait};

entry!(main);

/// Page 0 is never mapped for user code.
const BAD: usize = 8;
/// A descriptor number nothing here opens.
const CLOSED: usize = 900;
/// How far the descriptor table is probed.
const PROBE: i32 = 1024;
/// A bounded "blocking" poll: 10 s.
const BOUNDED_NS: i64 = 10_000_000_000;
const MAX_COUNT: u64 = 0xffff_ffff_ffff_fffe;

static PIPE: PollDesc = PollDesc::new();
static EVENT: PollDesc = PollDesc::new();

fn main() -> i32 {
    let mut c = Checker::new();
    print("rawpoll hardening (freestanding subset of issue 5)\n");
    raw_cases(&mut c);
    exhaustion(&mut c);
    saturation(&mut c);
    fork_storm(&mut c);
    c.finish()
}

fn err(e: Errno) -> (usize, usize) {
    (usize::MAX, e.raw() as usize)
}

/// One raw call and the error it must give.
struct RawCase {
    name: &'static str,
    /// The system-call number, then its six arguments.
    call: [usize; 7],
    want: Errno,
}

fn raw_cases(c: &mut Checker) {
    let efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap_or(-1);
    let ep = epoll_create1(EPOLL_CLOEXEC).unwrap_or(-1);
    let _ = epoll_ctl(ep, EPOLL_CTL_ADD, efd, Some(&EpollEvent::new(EPOLLIN, 1)));
    // The eventfd is readable, so the `epoll_pwait` into page 0 has an event to copy out.
    let _ = eventfd_write(efd, 1);
    let mut ev = [EpollEvent::zeroed(); 1];
    let mut buf = [0u8; 8];
    let event = EpollEvent::new(EPOLLIN, 0);
    let (efd_u, ep_u) = (efd as usize, ep as usize);
    let (ev_p, buf_p) = (ev.as_mut_ptr() as usize, buf.as_mut_ptr() as usize);
    let event_p = &event as *const EpollEvent as usize;
    let (add, del) = (EPOLL_CTL_ADD as usize, EPOLL_CTL_DEL as usize);
    let nofile = raw::RLIMIT_NOFILE as usize;
    let unknown = raw::SYS_EPOLL_PWAIT2;
    #[rustfmt::skip]
    let cases = [
        RawCase { name: "unknown number (epoll_pwait2 + 100) -> ENOSYS",
                  call: [unknown + 100, 0, 0, 0, 0, 0, 0], want: Errno::ENOSYS },
        RawCase { name: "unknown number (epoll_pwait2 + 300), junk args -> ENOSYS",
                  call: [unknown + 300, 1, 2, 3, 4, 5, 6], want: Errno::ENOSYS },
        RawCase { name: "write from page 0 -> EFAULT",
                  call: [raw::SYS_WRITE, efd_u, BAD, 8, 0, 0, 0], want: Errno::EFAULT },
        RawCase { name: "pipe2 into page 0 -> EFAULT",
                  call: [raw::SYS_PIPE2, BAD, 0, 0, 0, 0, 0], want: Errno::EFAULT },
        RawCase { name: "epoll_ctl ADD, event at page 0 -> EFAULT",
                  call: [raw::SYS_EPOLL_CTL, ep_u, add, 0, BAD, 0, 0], want: Errno::EFAULT },
        RawCase { name: "epoll_pwait, events at page 0, one ready -> EFAULT",
                  call: [raw::SYS_EPOLL_PWAIT, ep_u, BAD, 1, 0, 0, 0], want: Errno::EFAULT },
        RawCase { name: "prlimit64, old limit into page 0 -> EFAULT",
                  call: [raw::SYS_PRLIMIT64, 0, nofile, 0, BAD, 0, 0], want: Errno::EFAULT },
        RawCase { name: "prlimit64, new limit from page 0 -> EFAULT",
                  call: [raw::SYS_PRLIMIT64, 0, nofile, BAD, 0, 0, 0], want: Errno::EFAULT },
        RawCase { name: "read(closed) -> EBADF",
                  call: [raw::SYS_READ, CLOSED, buf_p, 8, 0, 0, 0], want: Errno::EBADF },
        RawCase { name: "write(-1) -> EBADF",
                  call: [raw::SYS_WRITE, usize::MAX, buf_p, 8, 0, 0, 0], want: Errno::EBADF },
        RawCase { name: "dup3(closed, 50) -> EBADF",
                  call: [raw::SYS_DUP3, CLOSED, 50, 0, 0, 0, 0], want: Errno::EBADF },
        RawCase { name: "fcntl(closed, F_GETFD) -> EBADF",
                  call: [raw::SYS_FCNTL, CLOSED, 1, 0, 0, 0, 0], want: Errno::EBADF },
        RawCase { name: "epoll_ctl on a closed epfd -> EBADF",
                  call: [raw::SYS_EPOLL_CTL, CLOSED, del, efd_u, 0, 0, 0], want: Errno::EBADF },
        RawCase { name: "epoll_ctl ADD of a closed fd -> EBADF",
                  call: [raw::SYS_EPOLL_CTL, ep_u, add, CLOSED, event_p, 0, 0], want: Errno::EBADF },
        RawCase { name: "epoll_pwait on a closed epfd -> EBADF",
                  call: [raw::SYS_EPOLL_PWAIT, CLOSED, ev_p, 1, 0, 0, 0], want: Errno::EBADF },
    ];
    for case in &cases {
        let [num, a1, a2, a3, a4, a5, a6] = case.call;
        // SAFETY: every call gets a bad address the kernel checks and refuses, an invalid
        // descriptor, or an unassigned number; none writes memory of this process except into
        // `ev` and `buf`, which are large enough, and `event` outlives the loop.
        let r = unsafe { syscall6(num, a1, a2, a3, a4, a5, a6) };
        c.eq(case.name, r, err(case.want));
    }
    // `epoll_pwait2` is missing under qemu-user: either answer is right, the exact one per
    // platform is asserted by the conformance runner.
    // SAFETY: the kernel refuses the timeout at page 0 before it writes into `ev`.
    let r = unsafe { syscall6(raw::SYS_EPOLL_PWAIT2, ep_u, ev_p, 1, BAD, 0, 0) };
    c.that(
        "epoll_pwait2, timeout at page 0 -> EFAULT (ENOSYS where not provided)",
        r == err(Errno::EFAULT) || r == err(Errno::ENOSYS),
        r,
    );
    let np = Netpoll::new();
    c.eq(
        "uninitialised Netpoll: open -> EBADF",
        np.open(efd, &EVENT),
        Err(Errno::EBADF),
    );
    c.eq(
        "uninitialised Netpoll: close -> EBADF",
        np.close(efd),
        Err(Errno::EBADF),
    );
    c.eq(
        "uninitialised Netpoll: wake -> EBADF",
        np.wake(),
        Err(Errno::EBADF),
    );
    c.eq(
        "uninitialised Netpoll: poll(0) -> EBADF",
        np.poll(0, |_, _| {}),
        Err(Errno::EBADF),
    );
    c.eq(
        "uninitialised Netpoll: poll(-1) -> EBADF",
        np.poll(-1, |_, _| {}),
        Err(Errno::EBADF),
    );
    c.eq(
        "uninitialised Netpoll: poll(1 ms) -> EBADF",
        np.poll(1_000_000, |_, _| {}),
        Err(Errno::EBADF),
    );
    let _ = close(efd);
    let _ = close(ep);
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Rlimit64 {
    cur: u64,
    max: u64,
}

fn prlimit(new: Option<&Rlimit64>) -> Result<Rlimit64, Errno> {
    let mut old = Rlimit64 { cur: 0, max: 0 };
    let new = new.map_or(0, |n| n as *const Rlimit64 as usize);
    // SAFETY: prlimit64 reads one struct at `new` (or none) and writes one into `old`.
    let r = unsafe {
        syscall6(
            raw::SYS_PRLIMIT64,
            0,
            raw::RLIMIT_NOFILE as usize,
            new,
            &mut old as *mut Rlimit64 as usize,
            0,
            0,
        )
    };
    Errno::result(r).map(|_| old)
}

fn open_fds() -> u64 {
    (0..PROBE).filter(|&fd| fd_is_open(fd)).count() as u64
}

/// The `N` lowest free descriptor numbers: where the next opens land.
fn free_numbers<const N: usize>() -> [i32; N] {
    let mut out = [-1; N];
    let mut free = (0..PROBE).filter(|&fd| !fd_is_open(fd));
    for slot in out.iter_mut() {
        *slot = free.next().unwrap_or(-1);
    }
    out
}

fn set_soft(saved: Rlimit64, soft: u64) -> Result<Rlimit64, Errno> {
    prlimit(Some(&Rlimit64 {
        cur: soft,
        max: saved.max,
    }))
}

fn exhaustion(c: &mut Checker) {
    let saved = match prlimit(None) {
        Ok(l) => l,
        Err(e) => {
            c.eq("prlimit64 get RLIMIT_NOFILE", Err(e), Ok(0u64));
            return;
        }
    };
    let np = Netpoll::new();
    for (allowed, name) in [
        (
            0usize,
            "RLIMIT_NOFILE with room for 0 fds: init fails at epoll_create1 -> EMFILE",
        ),
        (
            1,
            "RLIMIT_NOFILE with room for 1 fd: init fails at eventfd -> EMFILE",
        ),
    ] {
        let before = open_fds();
        let free: [i32; 2] = free_numbers();
        let set = set_soft(saved, free[allowed] as u64);
        let got = np.init();
        let restore = set_soft(saved, saved.cur);
        let after = open_fds();
        c.eq(
            "  prlimit64 set and restore",
            (set.map(|_| ()), restore.map(|_| ())),
            (Ok(()), Ok(())),
        );
        c.eq(name, got, Err(Errno::EMFILE));
        c.eq(
            "  open fds before, after",
            (before, after),
            (before, before),
        );
        c.eq("  poller still uninitialised", np.is_initialized(), false);
    }
    c.eq(
        "the same poller initialises with the limit restored",
        np.init(),
        Ok(()),
    );
    drop(np);

    let before = open_fds();
    let [r, w] = pipe2(0x80000).unwrap_or([-1, -1]);
    let efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap_or(-1);
    let free: [i32; 3] = free_numbers();
    let set = set_soft(saved, free[2] as u64);
    let np = Netpoll::new();
    let init = np.init();
    let exhausted = eventfd(0, EFD_CLOEXEC);
    let opens = (np.open(r, &PIPE), np.open(efd, &EVENT));
    let _ = write(w, b"x");
    let wake = np.wake();
    let mut seen = (0usize, 0usize);
    let polled = np.poll(-1, |pd, ready| {
        if core::ptr::eq(pd, &PIPE) && ready.readable && !ready.writable {
            seen.0 += 1;
        }
        if core::ptr::eq(pd, &EVENT) && ready.writable && !ready.readable {
            seen.1 += 1;
        }
    });
    let quiet = np.poll(0, |_, _| {});
    let closes = (np.close(r), np.close(efd));
    let restore = set_soft(saved, saved.cur);
    c.eq(
        "room for exactly init's 2 fds: prlimit64 set, restore",
        (set.map(|_| ()), restore.map(|_| ())),
        (Ok(()), Ok(())),
    );
    c.eq("  init -> Ok", init, Ok(()));
    c.eq("  a new eventfd -> EMFILE", exhausted, Err(Errno::EMFILE));
    c.eq("  open a pipe and an eventfd", opens, (Ok(()), Ok(())));
    c.eq("  wake", wake, Ok(()));
    c.eq(
        "  poll(-1) -> 2 (pipe readable, eventfd writable)",
        polled,
        Ok(2),
    );
    c.eq("  exactly those", seen, (1, 1));
    c.eq("  poll(0) -> 0", quiet, Ok(0));
    c.eq("  close both", closes, (Ok(()), Ok(())));
    drop(np);
    for fd in [r, w, efd] {
        let _ = close(fd);
    }
    c.eq(
        "open fds before, after",
        (before, open_fds()),
        (before, before),
    );
    c.eq(
        "RLIMIT_NOFILE restored",
        prlimit(None).map(|l| l.cur),
        Ok(saved.cur),
    );
}

/// A poll bounded to 10 s that must have been ended by the pending wake. The wake eventfd is
/// edge-triggered and never read by polls, so the proof is the wake flag: a poll that consumed
/// the wake reset it, and then (and only then) the next `wake` writes again. The count is zeroed
/// first (no wake is pending then, so the read takes nothing a poll needs); the check's own wake
/// is consumed by a second bounded poll after its edge is written back.
fn bounded_wake_poll(c: &mut Checker, name: &str, np: &Netpoll) {
    let fd = np.wake_fd();
    c.eq(name, np.poll(BOUNDED_NS, |_, _| {}), Ok(0));
    let _ = eventfd_read(fd);
    let _ = np.wake();
    c.eq(
        "  that poll consumed the wake: the next wake wrote once",
        eventfd_read(fd),
        Ok(1),
    );
    let _ = eventfd_write(fd, 1);
    c.eq(
        "  and the poll after it consumed that one",
        np.poll(BOUNDED_NS, |_, _| {}),
        Ok(0),
    );
}

fn saturation(c: &mut Checker) {
    let np = Netpoll::new();
    let _ = np.init();
    let fd = np.wake_fd();
    c.eq(
        "fill the wake counter to 0xfffffffffffffffe",
        eventfd_write(fd, MAX_COUNT),
        Ok(()),
    );
    c.eq(
        "  it is full: a write of 1 -> EAGAIN",
        eventfd_write(fd, 1),
        Err(Errno::EAGAIN),
    );
    c.eq("  wake on the full counter -> Ok", np.wake(), Ok(()));
    bounded_wake_poll(c, "  the next poll wakes", &np);
    c.eq("  the next wake", np.wake(), Ok(()));
    bounded_wake_poll(c, "  wakes the poll after it", &np);

    let _ = eventfd_read(fd); // no wake pending: zero the count of earlier writes
    c.eq(
        "wake pending, then the counter filled",
        (np.wake(), eventfd_write(fd, MAX_COUNT - 1)),
        (Ok(()), Ok(())),
    );
    let ok = (0..1000).filter(|_| np.wake() == Ok(())).count();
    c.eq("  1000 more wakes -> all Ok", ok, 1000);
    c.eq(
        "  poll(0) -> 0, leaves it full",
        (np.poll(0, |_, _| {}), eventfd_write(fd, 1)),
        (Ok(0), Err(Errno::EAGAIN)),
    );
    bounded_wake_poll(c, "  a poll wakes", &np);

    let rounds = 1000;
    let mut good = 0;
    for _ in 0..rounds {
        // No wake is pending at the top of a round: zero the count, fill it, wake (which must
        // read it back to zero and write once), and poll.
        let _ = eventfd_read(fd);
        let ok = eventfd_write(fd, MAX_COUNT) == Ok(())
            && np.wake() == Ok(())
            && np.poll(BOUNDED_NS, |_, _| {}) == Ok(0)
            && eventfd_read(fd) == Ok(1);
        good += ok as u32;
    }
    c.eq(
        "fill, wake (reset + one write), poll rounds (of 1000)",
        good,
        rounds,
    );
}

fn fork_storm(c: &mut Checker) {
    const CHILDREN: u32 = 8;
    const WAKES: u32 = 10_000;
    const ROUNDS: u32 = 8;
    let np = Netpoll::new();
    let _ = np.init();
    let fd = np.wake_fd();

    // Each child's copy of the poller has no wake pending: its first wake writes 1, the other
    // 9,999 coalesce into it. The parent does not poll: the counter holds exactly one per child.
    let mut exits = 0;
    let mut pids = [0i32; CHILDREN as usize];
    for pid in pids.iter_mut() {
        match fork() {
            Ok(0) => {
                let ok = (0..WAKES).all(|_| np.wake() == Ok(()));
                exit(if ok { 0 } else { 1 })
            }
            Ok(p) => *pid = p,
            Err(_) => *pid = -1,
        }
    }
    for pid in pids {
        if pid > 0 && wait(pid).map(exit_code) == Ok(Some(0)) {
            exits += 1;
        }
    }
    print("fork storm: ");
    print_u64(CHILDREN as u64);
    print(" children x ");
    print_u64(WAKES as u64);
    print(" wakes\n");
    c.eq("  children that exited 0 (every wake Ok)", exits, CHILDREN);
    c.eq(
        "  eventfd writes seen (counter)",
        eventfd_read(fd),
        Ok(CHILDREN as u64),
    );

    // A parent blocked in poll is woken by a child's storm, round after round.
    let own = epoll_create1(EPOLL_CLOEXEC).unwrap_or(-1);
    let mut woken = 0;
    for _ in 0..ROUNDS {
        match fork() {
            Ok(0) => {
                let mut ev = [EpollEvent::zeroed(); 1];
                let _ = epoll_pwait(own, &mut ev, 10);
                let ok = (0..WAKES).all(|_| np.wake() == Ok(()));
                exit(if ok { 0 } else { 1 })
            }
            Ok(pid) => {
                // Blocking: only the child's wake can end it (a lost wake is a hang, which the
                // matrix's time limit turns into a failure).
                let polled = np.poll(-1, |_, _| {});
                let status = wait(pid).map(exit_code);
                // The child's 10,000 wakes made exactly one write; read it back to zero.
                if polled == Ok(0) && status == Ok(Some(0)) && eventfd_read(fd) == Ok(1) {
                    woken += 1;
                }
            }
            Err(_) => {}
        }
    }
    let _ = close(own);
    c.eq(
        "  rounds where a child's wake storm woke the parent's poll (of 8)",
        woken,
        ROUNDS,
    );
    c.eq("  the parent's own wake still works", np.wake(), Ok(()));
    bounded_wake_poll(c, "  and wakes its poll", &np);
}

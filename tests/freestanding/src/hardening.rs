//! The hardening tests that need no std, run on every target under qemu-user, so that every
//! target's stubs and poller fail cleanly where the host tests check only the host's:
//!
//! - descriptor exhaustion: `RLIMIT_NOFILE` lowered (raw `prlimit64`) so that each of `init`'s descriptor
//!   steps fails in turn: `EMFILE`, the number of open descriptors unchanged, and the paths that
//!   open nothing still work at a limit with no room left;
//! - saturation: the wake eventfd's counter at `0xfffffffffffffffe`: a `wake` with nobody asleep
//!   leaves it alone, a `wake` for a sleeper reads it back to zero and writes one edge, and the
//!   sleeper returns;
//! - raw errors: the raw layer given bad pointers (`EFAULT`), unknown numbers (`ENOSYS`) and
//!   invalid descriptors (`EBADF`), beyond what the conformance runner checks;
//! - fork-based wake storms on one poller in shared memory (`rawpoll_freestanding::share`):
//!   children share its atomics and descriptors as threads would; with nobody asleep their wakes
//!   write nothing, and with the parent asleep exactly one of them writes.
//!
//! A wake that is lost shows as a `poll(-1)` that never returns, which the matrix's time limit
//! turns into a failure; every count asserted is exact.
//!
//! One line per case, then `N passed, N failed`.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};
use rawpoll::netpoll::{Netpoll, PollDesc};
use rawpoll::raw::{self, syscall6};
use rawpoll::*;
use rawpoll_freestanding::check::Checker;
use rawpoll_freestanding::{
    counter_read, counter_write, entry, exit, exit_code, fd_is_open, fork, print, print_u64, share,
    wait, wait_until, woken_by_a_child,
};

entry!(main);

/// A descriptor number nothing here opens.
const CLOSED: usize = 900;
/// How far the descriptor table is probed.
const PROBE: i32 = 1024;
const MAX_COUNT: u64 = 0xffff_ffff_ffff_fffe;

static PIPE: PollDesc = PollDesc::new();
static EVENT: PollDesc = PollDesc::new();

fn main() -> i32 {
    let mut c = Checker::new();
    print("rawpoll hardening (freestanding)\n");
    raw_errors(&mut c);
    exhaustion(&mut c);
    saturation(&mut c);
    fork_storm(&mut c);
    c.finish()
}

/// The raw layer's error cases, one table with the host test `tests/raw/errors.rs`.
#[path = "../../common/raw_cases.rs"]
mod raw_cases;

fn raw_errors(c: &mut Checker) {
    let Some((efd, ep)) = c.need("eventfd and epoll", raw_cases::open()) else {
        return;
    };
    let mut scratch = raw_cases::Scratch::new();
    let inputs = scratch.inputs(&efd, &ep, CLOSED);
    for case in &raw_cases::cases(&inputs) {
        // SAFETY: the inputs are what `Inputs` asks for, and `scratch` outlives the loop.
        let r = unsafe { case.call() };
        c.eq(case.name, r, case.expected());
    }
    // `epoll_pwait2` is missing under qemu-user: either answer is right, the exact one per
    // platform is asserted by the conformance runner.
    // SAFETY: the kernel refuses the timeout at page 0 before it writes into `scratch`.
    let r = unsafe {
        syscall6(
            raw::SYS_EPOLL_PWAIT2,
            inputs.ep,
            inputs.events,
            1,
            raw_cases::BAD,
            0,
            0,
        )
    };
    let err = |e: Errno| (usize::MAX, e.raw() as usize);
    c.that(
        "epoll_pwait2, timeout at page 0 -> EFAULT (ENOSYS where not provided)",
        r == err(Errno::EFAULT) || r == err(Errno::ENOSYS),
        r,
    );
    let np = Netpoll::new();
    for (name, got) in raw_cases::uninitialised(&np, &efd, &EVENT) {
        c.eq(name, got, Err(Errno::EBADF));
    }
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
    let (Some((r, w)), Some(efd)) = (
        c.need("pipe2", pipe2(EFD_CLOEXEC)),
        c.need("eventfd", eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
    ) else {
        return;
    };
    let free: [i32; 3] = free_numbers();
    let set = set_soft(saved, free[2] as u64);
    let np = Netpoll::new();
    let init = np.init();
    let exhausted = eventfd(0, EFD_CLOEXEC).map(|fd| fd.as_raw_fd());
    let opens = (np.open(&r, &PIPE), np.open(&efd, &EVENT));
    let _ = write(&w, b"x");
    // Nobody sleeps: the wake makes no system call, and the blocking poll, finding it pending,
    // polls with timeout 0 (so nothing here needs a descriptor more).
    let wake = np.wake();
    let mut seen = (0usize, 0usize);
    let polled = np.poll(-1, |pd, ready, _| {
        if core::ptr::eq(pd, &PIPE) && ready.readable && !ready.writable {
            seen.0 += 1;
        }
        if core::ptr::eq(pd, &EVENT) && ready.writable && !ready.readable {
            seen.1 += 1;
        }
    });
    let quiet = np.poll(0, |_, _, _| {});
    let closes = (np.close(&r), np.close(&efd));
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
    drop((r, w, efd));
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

/// A poller in memory shared with the children forked after it, and a word they coordinate by.
struct Shared {
    np: Netpoll,
    go: AtomicU32,
}

/// A shared, initialised poller; `None` (after a failed case) if it cannot be had.
fn shared_poller(c: &mut Checker) -> Option<&'static Shared> {
    let shared = c.need(
        "a poller in shared memory",
        share(Shared {
            np: Netpoll::new(),
            go: AtomicU32::new(0),
        }),
    )?;
    c.need("  init", shared.np.init())?;
    Some(shared)
}

/// A child that waits for `ready` and then makes `wakes` wakes on `np`: its exit code, 0 if it
/// saw `ready` and every wake returned Ok.
fn waker(np: &Netpoll, ready: impl Fn() -> bool, wakes: u32) -> i32 {
    let saw = wait_until(ready);
    let woke = (0..wakes).all(|_| np.wake() == Ok(()));
    if saw && woke {
        0
    } else {
        1
    }
}

fn saturation(c: &mut Checker) {
    let Some(shared) = shared_poller(c) else {
        return;
    };
    let np = &shared.np;
    let fd = np.raw_wake_fd();
    let poll = |delay| np.poll(delay, |_, _, _| {});
    c.eq(
        "fill the wake counter to 0xfffffffffffffffe",
        counter_write(fd, MAX_COUNT),
        Ok(()),
    );
    c.eq(
        "  it is full: a write of 1 -> EAGAIN",
        counter_write(fd, 1),
        Err(Errno::EAGAIN),
    );
    c.eq(
        "  wake with nobody asleep -> Ok, and no write: still full",
        (np.wake(), counter_write(fd, 1)),
        (Ok(()), Err(Errno::EAGAIN)),
    );
    c.eq("  the next poll(-1) returns at once -> 0", poll(-1), Ok(0));
    // The parent sleeps; a child wakes it on the full counter.
    woken_by_a_child(
        c,
        np,
        [
            "  a child's wake on the full counter ends the parent's poll(-1) -> 0",
            "  child saw the sleeper, its wake Ok -> exit 0",
            "  that wake read the counter back to 0 and wrote 1",
        ],
    );
    c.eq("  has_sleeper() after it -> false", np.has_sleeper(), false);

    c.eq(
        "the next wake, nobody asleep -> Ok, no write (counter 0 -> EAGAIN)",
        (np.wake(), counter_read(fd)),
        (Ok(()), Err(Errno::EAGAIN)),
    );
    c.eq(
        "  the poll(-1) after it returns at once -> 0",
        poll(-1),
        Ok(0),
    );

    c.eq(
        "wake pending (nobody asleep), then the counter filled",
        (np.wake(), counter_write(fd, MAX_COUNT)),
        (Ok(()), Ok(())),
    );
    let ok = (0..1000).filter(|_| np.wake() == Ok(())).count();
    c.eq("  1000 more wakes -> all Ok", ok, 1000);
    c.eq(
        "  poll(0) -> 0, leaves it full",
        (poll(0), counter_write(fd, 1)),
        (Ok(0), Err(Errno::EAGAIN)),
    );
    c.eq("  a poll(-1) returns at once -> 0", poll(-1), Ok(0));
    let _ = counter_read(fd);

    // Round after round: the parent fills the counter, takes the fill's own edge with poll(0),
    // lets the child go and sleeps; the child waits for that sleep and wakes it.
    const ROUNDS: u32 = 1000;
    match fork() {
        Ok(0) => {
            let all = (1..=ROUNDS).all(|round| {
                wait_until(|| shared.go.load(Ordering::SeqCst) == round && np.has_sleeper())
                    && np.wake() == Ok(())
            });
            exit(if all { 0 } else { 1 })
        }
        Ok(pid) => {
            let mut good = 0;
            // What the first round that went wrong saw, to tell a lost or spurious wake from
            // a failed fill: (round, (fill, poll(0)), (poll(-1), the counter read after it)).
            let mut first_bad = None;
            for round in 1..=ROUNDS {
                let _ = counter_read(fd);
                let filled = (counter_write(fd, MAX_COUNT), poll(0));
                shared.go.store(round, Ordering::SeqCst);
                let woken = (poll(-1), counter_read(fd));
                if filled == (Ok(()), Ok(0)) && woken == (Ok(0), Ok(1)) {
                    good += 1;
                } else if first_bad.is_none() {
                    first_bad = Some((round, filled, woken));
                }
            }
            c.eq(
                "fill, sleep, a child's wake (reset + one write), wake-up: rounds (of 1000), \
                 and the first that failed (round, (fill, poll(0)), (poll(-1), counter))",
                (good, first_bad),
                (ROUNDS, None),
            );
            c.eq(
                "  child saw every sleep, every wake Ok -> exit 0",
                wait(pid).map(exit_code),
                Ok(Some(0)),
            );
        }
        Err(e) => {
            c.eq("fork", Err(e), Ok(0));
        }
    }
}

/// Forks `CHILDREN` children that each run `child`; returns their pids (-1: fork failed).
fn spawn(child: impl Fn() -> i32) -> [i32; CHILDREN as usize] {
    let mut pids = [-1i32; CHILDREN as usize];
    for pid in pids.iter_mut() {
        match fork() {
            Ok(0) => exit(child()),
            Ok(p) => *pid = p,
            Err(_) => {}
        }
    }
    pids
}

/// Waits for the children `spawn` made; returns how many exited 0.
fn reap(pids: [i32; CHILDREN as usize]) -> u32 {
    pids.iter()
        .filter(|&&pid| pid > 0 && wait(pid).map(exit_code) == Ok(Some(0)))
        .count() as u32
}

const CHILDREN: u32 = 8;
const WAKES: u32 = 10_000;

fn fork_storm(c: &mut Checker) {
    const ROUNDS: u32 = 8;
    let Some(shared) = shared_poller(c) else {
        return;
    };
    let np = &shared.np;
    let fd = np.raw_wake_fd();
    let poll = |delay| np.poll(delay, |_, _, _| {});

    // Nobody asleep: 8 children's 80,000 wakes contend on the one wake flag and write nothing.
    let exits = reap(spawn(|| waker(np, || true, WAKES)));
    print("fork storm: ");
    print_u64(CHILDREN as u64);
    print(" children x ");
    print_u64(WAKES as u64);
    print(" wakes, on one shared poller\n");
    c.eq("  children that exited 0 (every wake Ok)", exits, CHILDREN);
    c.eq(
        "  nobody asleep: eventfd writes 0 (counter -> EAGAIN)",
        counter_read(fd),
        Err(Errno::EAGAIN),
    );
    c.eq(
        "  one wake pending: poll(-1) returns at once -> 0",
        poll(-1),
        Ok(0),
    );

    // The parent asleep: the children start when they see it sleep (or a sibling started), and
    // exactly one of their wakes writes: the flag stays pending until the woken poll clears it,
    // after it stopped counting as a sleeper. A lost wake is a hang.
    let (mut woken, mut all_exits) = (0, 0);
    for round in 1..=ROUNDS {
        let go = &shared.go;
        let pids = spawn(|| {
            let started = || {
                let now = np.has_sleeper() || go.load(Ordering::SeqCst) == round;
                if now {
                    go.store(round, Ordering::SeqCst);
                }
                now
            };
            waker(np, started, WAKES)
        });
        let polled = poll(-1);
        let exits = reap(pids);
        all_exits += exits;
        // Whether a late wake is still pending depends on timing: one more wake and a blocking
        // poll leave none either way (and write nothing: nobody sleeps then).
        let drained = (np.wake(), poll(-1));
        if polled == Ok(0) && exits == CHILDREN && drained == (Ok(()), Ok(0)) {
            woken += (counter_read(fd) == Ok(1)) as u32;
        }
    }
    c.eq(
        "  rounds where 8 children's wakes woke the sleeping parent with exactly 1 write (of 8)",
        woken,
        ROUNDS,
    );
    c.eq(
        "  children of all rounds that exited 0 (of 64)",
        all_exits,
        ROUNDS * CHILDREN,
    );
    c.eq("  the parent's own wake still works", np.wake(), Ok(()));
    c.eq(
        "  and writes nothing (nobody asleep): counter -> EAGAIN",
        counter_read(fd),
        Err(Errno::EAGAIN),
    );
    c.eq("  and its poll(-1) returns at once -> 0", poll(-1), Ok(0));
}

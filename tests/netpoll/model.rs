//! Model-based fuzzing of [`Netpoll`]: random sequences of operations checked against a model,
//! to find the sequences no hand-written test thought of.
//!
//! proptest generates sequences of operations (init, reset, open, close, reuse a descriptor by
//! bumping its sequence, reuse an fd number while the old file stays registered, write to or
//! close the peer end, wake, poll with delays -1, 0 and small positive values) over pipes, Unix
//! socket pairs and eventfds. Each sequence runs against the real poller and against a model of
//! edge-triggered epoll; after every operation the two must agree exactly:
//!
//! - every descriptor the model says is ready is reported, once, with the model's readiness;
//! - nothing else is reported: no event from a registration whose sequence moved on (a bumped
//!   descriptor, or a file that still sits in the epoll set under a reused fd number);
//! - no wake is lost: a blocking poll with a wake pending returns on its own;
//! - every call returns the exact result (or errno) the model predicts, and nothing panics.
//!
//! `RAWPOLL_FUZZ_CASES` sets the number of sequences (default 2000, the bounded `cargo test`
//! run; `ci/fuzz` runs 100,000), `RAWPOLL_FUZZ_WORKERS` the number of threads that run them
//! (default 4, each with its own poller and descriptors), `RAWPOLL_FUZZ_SEED` the seed.
//!
//! A test binary of its own: the run compares the process's open descriptors before and after,
//! so no other test may open or close one meanwhile.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use rawpoll::netpoll::{Netpoll, PollDesc, Ready};
use rawpoll::{AsRawFd, Errno, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Poll descriptors (and so registered objects) per sequence.
const SLOTS: usize = 4;
/// Files kept registered behind a reused fd number at most, per sequence.
const MAX_ZOMBIES: usize = 6;
/// How long a blocking poll that must return on its own may take before it counts as a lost wake.
const LOST_WAKE_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A pipe: the read end is registered, the write end is the peer.
    Pipe,
    /// A Unix stream socket pair: one end registered, the other the peer.
    Socket,
    /// An eventfd: registered, and written to directly.
    Event,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Init { pwait2: bool },
    Reset,
    Open { slot: usize, kind: Kind },
    Close { slot: usize },
    Bump { slot: usize },
    ReuseDesc { slot: usize, kind: Kind },
    ReuseFdNumber { slot: usize, kind: Kind },
    WritePeer { slot: usize },
    ClosePeer { slot: usize },
    PokeZombie { index: usize },
    CloseZombie { index: usize },
    Wake,
    Poll { delay: i64 },
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Pipe), Just(Kind::Socket), Just(Kind::Event)]
}

fn op() -> impl Strategy<Value = Op> {
    let slot = 0..SLOTS;
    prop_oneof![
        1 => any::<bool>().prop_map(|pwait2| Op::Init { pwait2 }),
        1 => Just(Op::Reset),
        6 => (slot.clone(), kind()).prop_map(|(slot, kind)| Op::Open { slot, kind }),
        2 => slot.clone().prop_map(|slot| Op::Close { slot }),
        2 => slot.clone().prop_map(|slot| Op::Bump { slot }),
        3 => (slot.clone(), kind()).prop_map(|(slot, kind)| Op::ReuseDesc { slot, kind }),
        3 => (slot.clone(), kind()).prop_map(|(slot, kind)| Op::ReuseFdNumber { slot, kind }),
        6 => slot.clone().prop_map(|slot| Op::WritePeer { slot }),
        2 => slot.prop_map(|slot| Op::ClosePeer { slot }),
        3 => (0..MAX_ZOMBIES).prop_map(|index| Op::PokeZombie { index }),
        1 => (0..MAX_ZOMBIES).prop_map(|index| Op::CloseZombie { index }),
        4 => Just(Op::Wake),
        8 => prop_oneof![
            3 => Just(-1i64),
            3 => Just(0i64),
            2 => Just(1_000i64),
            1 => Just(100_000i64),
            1 => Just(1_000_000i64),
        ]
        .prop_map(|delay| Op::Poll { delay }),
    ]
}

/// A sequence: usually starting with `init` (with or without epoll_pwait2), then up to 48 ops.
fn sequence() -> impl Strategy<Value = (Option<bool>, Vec<Op>)> {
    (
        prop::option::weighted(0.9, any::<bool>()),
        prop::collection::vec(op(), 1..48),
    )
}

/// Figures over all sequences of a run (usize: 32-bit targets such as mips have no 64-bit
/// atomics).
#[derive(Default)]
struct Stats {
    sequences: AtomicUsize,
    ops: AtomicUsize,
    polls: AtomicUsize,
    blocking_polls: AtomicUsize,
    reports: AtomicUsize,
    stale_filtered: AtomicUsize,
    wakes: AtomicUsize,
    helper_wakes: AtomicUsize,
    fd_number_reuses: AtomicUsize,
    sequence_bumps: AtomicUsize,
    errno_checks: AtomicUsize,
}

fn add(counter: &AtomicUsize, n: usize) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// A file (or pair) the model tracks; dropping it closes its descriptors.
#[derive(Debug)]
struct Object {
    kind: Kind,
    /// The registered descriptor.
    fd: OwnedFd,
    /// The other end (pipe write end, socket peer); `None` for an eventfd or once closed.
    peer: Option<OwnedFd>,
    /// Bytes are waiting (pipe, socket) or the counter is non-zero (eventfd).
    data: bool,
    /// The peer is closed.
    hup: bool,
}

impl Object {
    fn create(kind: Kind) -> Result<Object, TestCaseError> {
        let (fd, peer) = match kind {
            Kind::Pipe => {
                // O_NONBLOCK | O_CLOEXEC with rawpoll's per-architecture values (the libc
                // crate's are the generic ones on mips64 glibc, 0.2.190 and 0.2.191).
                let (r, w) = rawpoll::pipe2(rawpoll::EFD_NONBLOCK | rawpoll::EPOLL_CLOEXEC)
                    .map_err(|e| fail(format!("pipe2: {e:?}")))?;
                (r, Some(w))
            }
            Kind::Socket => {
                // std's socketpair (SOCK_STREAM | SOCK_CLOEXEC), not the libc crate's constants:
                // libc 0.2.190 and 0.2.191 give mips64 glibc the generic values, and SOCK_STREAM
                // is 2 on MIPS.
                let (a, b) = std::os::unix::net::UnixStream::pair()
                    .map_err(|e| fail(format!("socketpair: {e}")))?;
                for end in [&a, &b] {
                    end.set_nonblocking(true)
                        .map_err(|e| fail(format!("O_NONBLOCK: {e}")))?;
                }
                let own = |end: std::os::unix::net::UnixStream| {
                    // SAFETY: the stream gives its descriptor up; the object owns it from here.
                    unsafe { OwnedFd::from_raw_fd(std::os::fd::IntoRawFd::into_raw_fd(end)) }
                };
                (own(a), Some(own(b)))
            }
            Kind::Event => {
                let fd = rawpoll::eventfd(0, rawpoll::EFD_CLOEXEC | rawpoll::EFD_NONBLOCK)
                    .map_err(|e| fail(format!("eventfd: {e:?}")))?;
                (fd, None)
            }
        };
        Ok(Object {
            kind,
            fd,
            peer,
            data: false,
            hup: false,
        })
    }

    /// What epoll reports for the registered end right now (the exact event bits, which
    /// `Ready` keeps), as `Netpoll` maps it.
    fn level(&self) -> Ready {
        use rawpoll::{EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP};
        let when = |cond: bool, bits: u32| if cond { bits } else { 0 };
        Ready::from_events(match self.kind {
            // EPOLLIN with bytes, EPOLLHUP (readable and writable) once the writer is gone.
            Kind::Pipe => when(self.data, EPOLLIN) | when(self.hup, EPOLLHUP),
            // Always EPOLLOUT; EPOLLIN with bytes; EPOLLIN|EPOLLRDHUP|EPOLLHUP once the peer is gone.
            Kind::Socket => {
                EPOLLOUT
                    | when(self.data, EPOLLIN)
                    | when(self.hup, EPOLLIN | EPOLLRDHUP | EPOLLHUP)
            }
            // EPOLLOUT while the counter is below its maximum; EPOLLIN when non-zero.
            Kind::Event => EPOLLOUT | when(self.data, EPOLLIN),
        })
    }

    /// Writes one byte (or adds 1) from the peer side; returns whether the registered file got a
    /// wake-up (and so is queued again, edge-triggered).
    fn poke(&mut self) -> Result<bool, TestCaseError> {
        match (self.kind, &self.peer) {
            (Kind::Event, _) => {
                rawpoll::eventfd_write(&self.fd, 1)
                    .map_err(|e| fail(format!("eventfd write: {e:?}")))?;
            }
            (_, Some(peer)) => {
                let n = rawpoll::write(peer, b"x").map_err(|e| fail(format!("write: {e:?}")))?;
                if n != 1 {
                    return Err(fail(format!("short write {n}")));
                }
            }
            (_, None) => return Ok(false),
        }
        self.data = true;
        Ok(true)
    }

    /// Closes the peer end; returns whether the registered file got a wake-up.
    fn close_peer(&mut self) -> bool {
        match self.peer.take() {
            Some(peer) => {
                drop(peer);
                self.hup = true;
                true
            }
            None => false,
        }
    }

    fn close(self) {
        drop(self);
    }
}

/// A slot: one poll descriptor and the object currently registered with it.
#[derive(Debug, Default)]
struct Slot {
    obj: Option<Object>,
    /// The descriptor's sequence when the object was registered.
    reg_seq: usize,
    /// The registration sits in epoll's ready list (edge seen, not yet collected).
    queued: bool,
}

/// A file that stays registered under an old sequence after its fd number was reused: it is
/// kept alive by a duplicate, so epoll keeps it (and its old event data) in the set.
#[derive(Debug)]
struct Zombie {
    obj: Object,
    queued: bool,
}

fn fail(msg: String) -> TestCaseError {
    TestCaseError::fail(msg)
}

fn check_eq<T: PartialEq + std::fmt::Debug>(
    what: &str,
    got: T,
    want: T,
    stats: &Stats,
) -> Result<(), TestCaseError> {
    add(&stats.errno_checks, 1);
    if got == want {
        Ok(())
    } else {
        Err(fail(format!("{what}: got {got:?}, want {want:?}")))
    }
}

/// One run of one sequence: the poller, the model, and every descriptor opened (closed on drop,
/// whether the sequence passes or not).
struct World<'a> {
    np: Netpoll,
    pds: &'static [PollDesc],
    stats: &'a Stats,
    initialized: bool,
    wake_pending: bool,
    slots: Vec<Slot>,
    zombies: Vec<Zombie>,
}

impl Drop for World<'_> {
    fn drop(&mut self) {
        for slot in &mut self.slots {
            if let Some(obj) = slot.obj.take() {
                let _ = self.np.close(&obj.fd);
                obj.close();
            }
        }
        for z in self.zombies.drain(..) {
            z.obj.close();
        }
    }
}

impl<'a> World<'a> {
    fn new(pds: &'static [PollDesc], stats: &'a Stats) -> World<'a> {
        World {
            np: Netpoll::new(),
            pds,
            stats,
            initialized: false,
            wake_pending: false,
            slots: (0..SLOTS).map(|_| Slot::default()).collect(),
            zombies: Vec::new(),
        }
    }

    fn pd(&self, slot: usize) -> &'static PollDesc {
        let pds = self.pds;
        &pds[slot]
    }

    fn not_init_or(&self, ok: Result<(), Errno>) -> Result<(), Errno> {
        if self.initialized {
            ok
        } else {
            Err(Errno::EBADF)
        }
    }

    fn run(&mut self, op: Op) -> Result<(), TestCaseError> {
        add(&self.stats.ops, 1);
        match op {
            Op::Init { pwait2 } => {
                let want = if self.initialized {
                    Err(Errno::EBUSY)
                } else {
                    Ok(())
                };
                check_eq("init", self.np.init(), want, self.stats)?;
                if !self.initialized {
                    self.initialized = true;
                    self.wake_pending = false;
                    self.np.use_epoll_pwait2(pwait2);
                }
            }
            Op::Reset => {
                for slot in 0..SLOTS {
                    self.close_slot(slot)?;
                }
                for z in self.zombies.drain(..) {
                    z.obj.close();
                }
                self.np = Netpoll::new();
                self.initialized = false;
                self.wake_pending = false;
            }
            Op::Open { slot, kind } => self.open(slot, kind)?,
            Op::Close { slot } => self.close_slot(slot)?,
            Op::Bump { slot } => self.bump(slot)?,
            Op::ReuseDesc { slot, kind } => {
                self.close_slot(slot)?;
                self.bump(slot)?;
                self.open(slot, kind)?;
            }
            Op::ReuseFdNumber { slot, kind } => self.reuse_fd_number(slot, kind)?,
            Op::WritePeer { slot } => {
                if let Some(s) = self.slots.get_mut(slot) {
                    if let Some(obj) = s.obj.as_mut() {
                        if obj.poke()? {
                            s.queued = true;
                        }
                    }
                }
            }
            Op::ClosePeer { slot } => {
                if let Some(s) = self.slots.get_mut(slot) {
                    if let Some(obj) = s.obj.as_mut() {
                        if obj.close_peer() {
                            s.queued = true;
                        }
                    }
                }
            }
            Op::PokeZombie { index } => {
                if !self.zombies.is_empty() {
                    let n = self.zombies.len();
                    let z = &mut self.zombies[index % n];
                    if z.obj.poke()? {
                        z.queued = true;
                    }
                }
            }
            Op::CloseZombie { index } => {
                if !self.zombies.is_empty() {
                    let n = self.zombies.len();
                    self.zombies.remove(index % n).obj.close();
                }
            }
            Op::Wake => {
                add(&self.stats.wakes, 1);
                let want = self.not_init_or(Ok(()));
                check_eq("wake", self.np.wake(), want, self.stats)?;
                if self.initialized {
                    self.wake_pending = true;
                }
            }
            Op::Poll { delay } => self.poll(delay)?,
        }
        Ok(())
    }

    fn open(&mut self, slot: usize, kind: Kind) -> Result<(), TestCaseError> {
        let pd = self.pd(slot);
        if let Some(obj) = &self.slots[slot].obj {
            // Registered already: the kernel refuses a second registration.
            let want = self.not_init_or(Err(Errno::EEXIST));
            return check_eq("open twice", self.np.open(&obj.fd, pd), want, self.stats);
        }
        let obj = Object::create(kind)?;
        let got = self.np.open(&obj.fd, pd);
        let want = self.not_init_or(Ok(()));
        if got.is_err() {
            obj.close();
            return check_eq("open", got, want, self.stats);
        }
        check_eq("open", got, want, self.stats)?;
        let s = &mut self.slots[slot];
        s.queued = !obj.level().is_empty();
        s.reg_seq = pd.sequence();
        s.obj = Some(obj);
        Ok(())
    }

    fn close_slot(&mut self, slot: usize) -> Result<(), TestCaseError> {
        if let Some(obj) = self.slots[slot].obj.take() {
            let got = self.np.close(&obj.fd);
            obj.close();
            self.slots[slot].queued = false;
            check_eq("close", got, Ok(()), self.stats)?;
        }
        Ok(())
    }

    fn bump(&mut self, slot: usize) -> Result<(), TestCaseError> {
        add(&self.stats.sequence_bumps, 1);
        let pd = self.pd(slot);
        let before = pd.sequence();
        check_eq(
            "bump_sequence",
            pd.bump_sequence(),
            before.wrapping_add(1),
            self.stats,
        )
    }

    /// The registered file stays open through a duplicate (so epoll keeps its registration and
    /// its old event data), a new file takes its fd number, the descriptor's sequence is bumped
    /// and the new file registered: from now on the old file's events are stale.
    fn reuse_fd_number(&mut self, slot: usize, kind: Kind) -> Result<(), TestCaseError> {
        let Some(mut old) = self.slots[slot].obj.take() else {
            return Ok(());
        };
        let queued = self.slots[slot].queued;
        if self.zombies.len() >= MAX_ZOMBIES {
            self.zombies.remove(0).obj.close();
        }
        add(&self.stats.fd_number_reuses, 1);
        let number = old.fd.as_raw_fd();
        // SAFETY: F_DUPFD_CLOEXEC duplicates a descriptor this sequence owns.
        let spare = unsafe { libc::fcntl(number, libc::F_DUPFD_CLOEXEC, 0) };
        if spare < 0 {
            old.close();
            return Err(fail("fcntl(F_DUPFD_CLOEXEC) failed".into()));
        }
        // SAFETY: fcntl just created `spare`; the zombie owns it from here.
        let spare = unsafe { OwnedFd::from_raw_fd(spare) };
        // `number` stays open (owned by `reused`) until dup3 replaces what it refers to.
        let mut reused = std::mem::replace(&mut old.fd, spare);
        self.zombies.push(Zombie { obj: old, queued });
        let mut new = Object::create(kind)?;
        // dup3 replaces the number atomically: no other thread can grab it in between.
        let moved = rawpoll::dup3(&new.fd, &mut reused, rawpoll::EPOLL_CLOEXEC);
        // The new file now lives at `number`; its first number is closed.
        let first = std::mem::replace(&mut new.fd, reused);
        drop(first);
        if moved != Ok(()) || new.fd.as_raw_fd() != number {
            new.close();
            return Err(fail(format!("dup3: {moved:?}")));
        }
        self.bump(slot)?;
        let pd = self.pd(slot);
        let got = self.np.open(&new.fd, pd);
        let s = &mut self.slots[slot];
        s.queued = !new.level().is_empty();
        s.reg_seq = pd.sequence();
        s.obj = Some(new);
        check_eq("open on a reused fd number", got, Ok(()), self.stats)
    }

    /// What the next poll must report, and the model's state after it.
    fn expected(&mut self, consume: bool) -> Vec<(usize, Ready)> {
        let mut want = Vec::new();
        for (i, s) in self.slots.iter_mut().enumerate() {
            let Some(obj) = &s.obj else { continue };
            let level = obj.level();
            if !s.queued || level.is_empty() {
                continue;
            }
            if consume {
                s.queued = false;
            }
            if s.reg_seq == self.pds[i].sequence() {
                want.push((i, level));
            } else if consume {
                add(&self.stats.stale_filtered, 1);
            }
        }
        for z in &mut self.zombies {
            if z.queued && !z.obj.level().is_empty() && consume {
                z.queued = false;
                add(&self.stats.stale_filtered, 1);
            }
        }
        want
    }

    fn poll(&mut self, delay: i64) -> Result<(), TestCaseError> {
        add(&self.stats.polls, 1);
        if !self.initialized {
            let got = self.np.poll(delay, |_, _, _| {});
            return check_eq("poll before init", got, Err(Errno::EBADF), self.stats);
        }
        let want = self.expected(true);
        let mut got: Vec<(usize, Ready)> = Vec::new();
        let mut stray = 0usize;
        let result;
        if delay < 0 {
            add(&self.stats.blocking_polls, 1);
            // Returns by itself if something is ready or a wake is pending; otherwise another
            // thread wakes it. A poll that should return and does not is a lost wake.
            let returns_alone = !want.is_empty() || self.wake_pending;
            let np = &self.np;
            let pds = self.pds;
            let (tx, rx) = mpsc::channel::<()>();
            let (r, lost, helper_err) = std::thread::scope(|s| {
                let helper = s.spawn(move || {
                    if returns_alone {
                        match rx.recv_timeout(LOST_WAKE_DEADLINE) {
                            Ok(()) => (false, Ok(())),
                            Err(_) => (true, np.wake()),
                        }
                    } else {
                        std::thread::sleep(Duration::from_micros(30));
                        (false, np.wake())
                    }
                });
                let r = np.poll(-1, |pd, ready, tag| {
                    // A report's tag is its descriptor's current one (stale ones are dropped).
                    match pds.iter().position(|p| std::ptr::eq(p, pd)) {
                        Some(i) if tag == pd.tag() => got.push((i, ready)),
                        _ => stray += 1,
                    }
                });
                let _ = tx.send(());
                let (lost, helper_err) = helper.join().unwrap_or((true, Err(Errno::EIO)));
                (r, lost, helper_err)
            });
            if !returns_alone {
                add(&self.stats.helper_wakes, 1);
            }
            if lost {
                return Err(fail(format!(
                    "lost wake: poll(-1) did not return within {LOST_WAKE_DEADLINE:?} (wake pending: {}, expected {want:?})",
                    self.wake_pending
                )));
            }
            check_eq("helper wake", helper_err, Ok(()), self.stats)?;
            result = r;
        } else {
            let pds = self.pds;
            let start = Instant::now();
            result = self.np.poll(delay, |pd, ready, tag| {
                // A report's tag is its descriptor's current one (stale ones are dropped).
                match pds.iter().position(|p| std::ptr::eq(p, pd)) {
                    Some(i) if tag == pd.tag() => got.push((i, ready)),
                    _ => stray += 1,
                }
            });
            let took = start.elapsed();
            if took > Duration::from_secs(5) {
                return Err(fail(format!("poll({delay}) took {took:?}")));
            }
        }
        if delay != 0 {
            self.wake_pending = false;
        }
        add(&self.stats.reports, got.len());
        check_eq(
            "reports outside the pool or with a stale tag",
            stray,
            0,
            self.stats,
        )?;
        got.sort_by_key(|&(i, _)| i);
        check_eq(
            &format!("reports of poll({delay})"),
            &got,
            &want,
            self.stats,
        )?;
        check_eq(
            &format!("poll({delay})"),
            result,
            Ok(want.len()),
            self.stats,
        )?;
        Ok(())
    }
}

fn run_sequence(
    init: Option<bool>,
    ops: &[Op],
    pds: &'static [PollDesc],
    stats: &Stats,
) -> Result<(), TestCaseError> {
    add(&stats.sequences, 1);
    let mut world = World::new(pds, stats);
    if let Some(pwait2) = init {
        world.run(Op::Init { pwait2 })?;
    }
    for (i, &op) in ops.iter().enumerate() {
        world
            .run(op)
            .map_err(|e| fail(format!("op {i} {op:?}: {e}")))?;
    }
    // Closing: a blocking poll must still return (a wake pending is not lost, anything queued
    // is reported), then every registration is removed.
    if world.initialized {
        world.run(Op::Poll { delay: -1 })?;
        for slot in 0..SLOTS {
            world.close_slot(slot)?;
        }
    }
    Ok(())
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn model_based_operation_sequences() {
    let cases = env_u64("RAWPOLL_FUZZ_CASES", 2000);
    let workers = env_u64("RAWPOLL_FUZZ_WORKERS", 4).max(1);
    let seed = env_u64(
        "RAWPOLL_FUZZ_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    );
    let stats = Stats::default();
    let fds_before = open_fds();
    let start = Instant::now();
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let stats = &stats;
                s.spawn(move || {
                    let pds: &'static [PollDesc] =
                        Box::leak((0..SLOTS).map(|_| PollDesc::new()).collect());
                    let mut bytes = [0u8; 32];
                    bytes[..8].copy_from_slice(&seed.to_le_bytes());
                    bytes[8..16].copy_from_slice(&w.to_le_bytes());
                    let config = Config {
                        cases: (cases / workers + u64::from(w < cases % workers)) as u32,
                        failure_persistence: None,
                        max_shrink_iters: 4096,
                        ..Config::default()
                    };
                    let mut runner = TestRunner::new_with_rng(
                        config,
                        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
                    );
                    match runner.run(&sequence(), |(init, ops)| {
                        run_sequence(init, &ops, pds, stats)
                    }) {
                        Ok(()) => None,
                        Err(TestError::Fail(why, (init, ops))) => Some(format!(
                            "worker {w}: {why}\n  minimal sequence: init {init:?}, ops {ops:?}"
                        )),
                        Err(e) => Some(format!("worker {w}: {e}")),
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap_or(Some("worker panicked".into())))
            .collect()
    });
    let took = start.elapsed();
    let fds_after = open_fds();
    let f = |c: &AtomicUsize| c.load(Ordering::Relaxed);
    println!(
        "model: seed {seed}, {workers} workers, {cases} sequences asked, {} sequences run (with shrinking), {} operations",
        f(&stats.sequences),
        f(&stats.ops)
    );
    println!(
        "model: {} polls ({} blocking, {} woken by another thread), {} descriptors reported, {} stale events filtered, {} wakes, {} fd-number reuses, {} sequence bumps, {} exact result checks",
        f(&stats.polls),
        f(&stats.blocking_polls),
        f(&stats.helper_wakes),
        f(&stats.reports),
        f(&stats.stale_filtered),
        f(&stats.wakes),
        f(&stats.fd_number_reuses),
        f(&stats.sequence_bumps),
        f(&stats.errno_checks)
    );
    println!(
        "model: open fds before {fds_before}, after {fds_after}; {} failures; {:.1} s",
        failures.len(),
        took.as_secs_f64()
    );
    for failure in &failures {
        println!("{failure}");
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(fds_after, fds_before, "fds leaked");
}

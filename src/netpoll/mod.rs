//! The Go runtime's epoll netpoller (`runtime/netpoll_epoll.go`), without std and without
//! allocation.
//!
//! A runtime keeps one [`Netpoll`] (it can live in a `static`), registers each descriptor it
//! cares about once, edge-triggered, together with a [`PollDesc`] it owns, and calls
//! [`Netpoll::poll`] from its scheduler: with a delay of 0 to look, or with a delay (or -1) to
//! sleep until something is ready, a timer is due, or another thread calls [`Netpoll::wake`].
//!
//! | Go (`runtime`) | rawpoll |
//! |---|---|
//! | `epfd = -1`, `netpollEventFd`, `netpollWakeSig` globals | [`Netpoll::new`] (`const`) |
//! | `netpollinit` | [`Netpoll::init`] |
//! | `netpollIsPollDescriptor` | [`Netpoll::is_poll_descriptor`] |
//! | `netpollopen` | [`Netpoll::open`] (and [`Netpoll::open_with`], [`Netpoll::modify`]) |
//! | `netpollclose` | [`Netpoll::close`] |
//! | `netpollBreak` | [`Netpoll::wake`] |
//! | `netpoll(delay)` | [`Netpoll::poll`] |
//! | `sched.lastpoll == 0` (a thread is blocked in `netpoll`) | [`Netpoll::has_sleeper`] |
//! | `pollDesc`, `pollCache` | [`PollDesc`] (`const fn new`, for a static pool) |
//! | `pollDesc.fdseq` | [`PollDesc::sequence`], [`PollDesc::bump_sequence`] |
//! | `taggedPointerPack` | the event data packing, see [`PollDesc`] and [`Tag`] |
//! | mode `'r'`, `'w'`, `setEventErr` | [`Ready`] |
//! | `netpollarm` | none: epoll needs no arming (Go throws if it is called) |
//!
//! And the half of Go's netpoller that lives in `runtime/netpoll.go`, the readiness of each
//! descriptor (see "Readiness" below):
//!
//! | Go (`runtime`) | rawpoll |
//! |---|---|
//! | `pollDesc.rg`, `pollDesc.wg` (`pdNil`, `pdReady`, `pdWait`, a parked goroutine) | a readiness word and a [`Waker`](core::task::Waker) cell per [`Direction`] in [`PollDesc`] |
//! | mode `'r'`, `'w'` | [`Direction::Read`], [`Direction::Write`] |
//! | `poll_runtime_pollWait`, `netpollblock` | [`PollDesc::poll_ready`] |
//! | `poll_runtime_pollReset` | [`PollDesc::clear_ready`] |
//! | `poll_runtime_pollUnblock` (`errClosing`) | [`PollDesc::unblock`] (`ECANCELED`) |
//! | `netpolldeadlineimpl` (`errTimeout`) | [`PollDesc::expire`] (`ETIMEDOUT`), [`PollDesc::clear_expired`] |
//! | `netpollready` | [`PollDesc::set_ready`]; [`Netpoll::poll_wake`] for a whole poll |
//! | `fdseq` checked at delivery | the generation in each readiness word, reset by [`PollDesc::bump_sequence`] |
//!
//! Where Go throws, rawpoll returns an [`Errno`]: a failed [`Netpoll::init`] closes what it
//! opened, a failed `epoll_pwait` is returned to the caller.
//!
//! Beyond Go: [`Netpoll::use_epoll_pwait2`] makes delays below a millisecond real (Go rounds
//! them up to 1 ms); it is off unless asked for, since some seccomp policies kill a process on a
//! system call they do not know, and falls back for good to Go's rule on `ENOSYS`.
//!
//! # Soundness: the poller owns its descriptors
//!
//! [`Netpoll::poll`] turns each event's data word back into the `&'static PollDesc` that
//! [`Netpoll::open`] packed into it. That is sound only if nothing but this poller registers on
//! its epoll instance, and the types guarantee it: the epoll instance and the wake eventfd are
//! created by [`Netpoll::init`], closed only by `Drop` (which needs `&mut self`, so no other
//! thread is polling), and no safe function hands out a [`BorrowedFd`] or
//! [`OwnedFd`](crate::OwnedFd) of either. Their numbers are visible
//! ([`Netpoll::is_poll_descriptor`], [`Netpoll::raw_epoll_fd`]), but a number grants nothing:
//! making a borrow or an owner of it is `unsafe`, and the contract of
//! [`BorrowedFd::borrow_raw`] rules out a descriptor that other
//! code owns privately.
//!
//! For the same reason there is no safe `shutdown(&self)`: closing the epoll instance while
//! another thread polls would let the number be reused, for an epoll set that someone else
//! fills with data words of their own, and the poller would follow them. Drop the poller instead.
//!
//! `fork` (always `unsafe` in Rust) shares the epoll instance between parent and child: a child
//! must not register descriptors on an inherited poller with a `PollDesc` the parent does not
//! have at the same address (one allocated after the fork, say).
//!
//! # Wakes: no system call unless a thread sleeps, and no wake lost
//!
//! Go's `netpollBreak` writes its eventfd on every first wake, and a woken `netpoll` reads it
//! back: three system calls per wake cycle (`write`, `epoll_pwait`, `read`). rawpoll makes fewer,
//! and keeps every promise Go makes:
//!
//! - The poller counts the threads inside, or about to enter, a blocking wait (the sleepers;
//!   [`Netpoll::has_sleeper`]). [`Netpoll::wake`] marks a wake pending and writes the eventfd
//!   only when a thread sleeps; otherwise it makes no system call at all, and the next blocking
//!   poll sees the pending wake before it sleeps, polls with timeout 0 instead, and consumes it.
//!   A same-thread wake cycle (`wake`, then `poll(delay)`) is one system call.
//! - The pending flag and the sleeper count form a Dekker pair: `wake` stores the flag, then
//!   reads the count; a poller stores the count, then reads the flag (all sequentially
//!   consistent). Whatever the interleaving, one of the two sees the other: either the waker
//!   writes the eventfd, or the poller does not sleep. An exhaustive check drives this module's
//!   own code through every interleaving of these steps over a model of the kernel (see the
//!   README's "Guarantees").
//! - The wake eventfd is registered edge-triggered (`EPOLLET`), so the woken poll never reads
//!   it: every `write` is a new edge. Its counter therefore counts the wakes that had to reach a
//!   sleeper; should it saturate (2^64 - 2 of them), `wake` reads it back to zero and writes again.
//! - At most one wake is pending, exactly as Go's `netpollWakeSig`; a non-blocking poll
//!   (`delay == 0`) never consumes it.
//! - A non-blocking poll that overlaps a sleeper can take the wake's edge; it then puts it back
//!   (`EPOLL_CTL_MOD`, which re-queues the still readable eventfd and wakes the sleeper), or, if
//!   that fails, writes a fresh edge, before any of its callbacks runs. That costs the
//!   non-blocking poll one more system call, and the sleeper's wake waits for that thread to make
//!   it (two system calls after its wait, however long its callbacks run), which is why Go's
//!   scheduler calls `netpoll(0)` only while no thread is blocked in `netpoll`: check
//!   [`Netpoll::has_sleeper`] first and follow the same rule.
//!
//! The guarantee, under any single failure of any system call on the wake path, and whatever
//! the callbacks of a poll do (return, panic, block or run long: a poll settles the wake before
//! its first callback runs): a [`Netpoll::wake`] that returns `Ok` makes the thread blocked in
//! [`Netpoll::poll`], or the next one to block, return. A call that meets a failure it cannot repair returns that error, and the
//! wake stays pending, so the next blocking poll still returns at once; no other `wake` returns
//! `Ok` for a wake that is then dropped (a wake that finds another one's write in flight relies on
//! it, and that writer tries a failed write once more before it gives up).
//!
//! # Readiness: parking tasks on `core::task::Waker`, without allocation
//!
//! A runtime that is an async executor registers each descriptor once with [`Netpoll::open`] and
//! a `'static` [`PollDesc`] (a `static` pool of them needs no allocator: [`PollDesc::new`] is
//! `const`), polls with [`Netpoll::poll_wake`] instead of [`Netpoll::poll`], and its tasks do what
//! a goroutine does in Go's `internal/poll`:
//!
//! ```text
//! loop {
//!     match pd.poll_ready(Direction::Read, cx) {      // pollWait
//!         Poll::Pending => return Poll::Pending,      // woken by the next edge
//!         Poll::Ready(Err(e)) => return Poll::Ready(Err(e)), // ECANCELED, ETIMEDOUT
//!         Poll::Ready(Ok(())) => match read(fd, buf) {
//!             Err(EAGAIN) => pd.clear_ready(Direction::Read), // pollReset
//!             done => return Poll::Ready(done),
//!         },
//!     }
//! }
//! ```
//!
//! Each direction of a [`PollDesc`] holds one atomic word (the registration's generation, and
//! whether an edge is latched, whether the task has seen it, closing, the deadline, and who owns
//! the waker cell) and one waker cell. Every change is one compare-exchange of the word; the
//! waker cell belongs to whoever took it in such an exchange, and nobody waits for it: a
//! delivery, an `unblock` or an `expire` that finds it taken raises its flag and leaves the wake
//! to the owner, who sees the flag when it lets go. No user code (a waker's `clone`, `wake` or
//! `drop`) runs while a cell is owned.
//!
//! The guarantees, each proven by the exhaustive check of the shipped code
//! (`model_check_ready.rs`, see the README's "Guarantees"):
//!
//! - No edge is lost: an edge delivered for the current registration is latched, and either the
//!   next [`PollDesc::poll_ready`] of its direction returns `Ready`, or it wakes the waker that
//!   `poll_ready` registered, whatever the interleaving of the delivery with the registration,
//!   and with a [`PollDesc::clear_ready`] after `EAGAIN` (which keeps an edge that arrived after
//!   the `Ready` it answers).
//! - A reused descriptor ([`PollDesc::bump_sequence`], [`PollDesc::set_sequence`]) never sees its
//!   predecessor's readiness, closing or deadline, and its task is never woken or made ready by
//!   its predecessor's edge, even one whose tag was checked before the reuse and delivered
//!   after it (the generation is compared in the same exchange that latches).
//! - [`PollDesc::unblock`] wakes the waiters of both directions, [`PollDesc::expire`] the waiter
//!   of its direction.
//!
//! What a runtime keeps to: one task per direction at a time, as in Go (a second one is not
//! unsound, but each `poll_ready` replaces the registered waker); reuse while no task polls the
//! descriptor (after `unblock`, as Go's close does); timers of its own, calling `expire`. A waker
//! may be woken spuriously. A waker that panics unwinds out of the call that woke it with the
//! state already updated; in [`Netpoll::poll_wake`], every edge of the batch is latched before
//! the first waker runs, and the wakers after a panicking one are left registered, not woken:
//! a runtime that catches the panic polls its waiting tasks again.
//!
//! The generation has 13 bits on 64-bit targets (the tag's) and 26 on 32-bit ones (the word's
//! room beside six flags): a delivery whose tag was checked before a reuse and that latches after
//! it is told apart unless the sequence moved on by a non-zero multiple of 2^13 (2^26) in that
//! window of a few instructions. On 64-bit that is [`Tag`]'s limit for stale events; on 32-bit
//! the stale events themselves are still told apart by all 32 bits of the tag.

mod desc;
mod interest;
#[cfg(test)]
mod model_check;
#[cfg(test)]
mod model_check_ready;
#[cfg(test)]
mod model_explorer;
mod ready;
mod wake;

pub use desc::{PollDesc, Tag, TAG_BITS};
pub use interest::{Interest, Ready};
pub use ready::Direction;

use crate::errno::Errno;
use crate::event::{
    EpollEvent, Timespec, EFD_CLOEXEC, EFD_NONBLOCK, EPOLLET, EPOLLIN, EPOLL_CLOEXEC,
    EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD,
};
use crate::fd::{close_number, AsFd, BorrowedFd, IntoRawFd, RawFd};
use crate::wrappers::{
    epoll_create1, epoll_ctl, epoll_pwait2_uninit, epoll_pwait_uninit, eventfd, eventfd_read,
    eventfd_write,
};
use core::mem::MaybeUninit;
use core::slice;
use core::sync::atomic::{AtomicI32, AtomicU8, Ordering};
use wake::{WakePath, WakeWords, WAKE_DATA};

/// How many events one `epoll_pwait` collects, as Go's `netpoll`.
pub const EVENTS_PER_POLL: usize = 128;

/// The wake eventfd's registration: edge-triggered, see the module documentation.
const WAKE_EVENT: EpollEvent = EpollEvent::new(EPOLLIN | EPOLLET, WAKE_DATA);

const STATE_UNINIT: u8 = 0;
const STATE_INITIALIZING: u8 = 1;
const STATE_READY: u8 = 2;

const PWAIT2_OFF: u8 = 0;
const PWAIT2_ON: u8 = 1;
const PWAIT2_UNAVAILABLE: u8 = 2;

/// The netpoller: an epoll instance, an eventfd to wake it, the wake flag that keeps at most one
/// wake pending, and the count of threads that sleep in it. `Sync`: every field is atomic.
#[derive(Debug)]
pub struct Netpoll {
    state: AtomicU8,
    epoll_fd: AtomicI32,
    wake_fd: AtomicI32,
    wake: WakeWords,
    pwait2: AtomicU8,
}

impl Default for Netpoll {
    fn default() -> Self {
        Self::new()
    }
}

/// Go's timeout rule: `delay` nanoseconds to an `epoll_pwait` timeout in milliseconds.
///
/// < 0 blocks (-1); 0 does not block; below 1 ms waits 1 ms; below 10^15 ns waits `delay / 10^6`
/// ms; longer delays are capped at 10^9 ms (about 11.5 days).
pub const fn delay_to_timeout_ms(delay_ns: i64) -> i32 {
    if delay_ns < 0 {
        -1
    } else if delay_ns == 0 {
        0
    } else if delay_ns < 1_000_000 {
        1
    } else if delay_ns < 1_000_000_000_000_000 {
        (delay_ns / 1_000_000) as i32
    } else {
        1_000_000_000
    }
}

impl Netpoll {
    /// An uninitialised poller (Go's `epfd = -1`): every call but [`Netpoll::init`] fails with
    /// `EBADF` until it is initialised. `const`, so it can be a `static`.
    pub const fn new() -> Netpoll {
        Netpoll {
            state: AtomicU8::new(STATE_UNINIT),
            epoll_fd: AtomicI32::new(-1),
            wake_fd: AtomicI32::new(-1),
            wake: WakeWords::new(),
            pwait2: AtomicU8::new(PWAIT2_OFF),
        }
    }

    /// Go's `netpollinit`: `epoll_create1(EPOLL_CLOEXEC)`, `eventfd(0, EFD_CLOEXEC|EFD_NONBLOCK)`,
    /// and the eventfd registered for `EPOLLIN` (edge-triggered here, unlike Go: see the module
    /// documentation).
    ///
    /// On failure at any step, closes what it opened and returns the error, leaving the poller
    /// uninitialised (so `init` may be tried again). A poller that is initialised, or being
    /// initialised by another thread, gives `EBUSY`.
    #[doc(alias = "netpollinit")]
    pub fn init(&self) -> Result<(), Errno> {
        if self
            .state
            .compare_exchange(
                STATE_UNINIT,
                STATE_INITIALIZING,
                Ordering::Acquire,
                Ordering::Acquire,
            )
            .is_err()
        {
            return Err(Errno::EBUSY);
        }
        match Netpoll::open_fds() {
            Ok((epoll_fd, wake_fd)) => {
                self.epoll_fd.store(epoll_fd, Ordering::Release);
                self.wake_fd.store(wake_fd, Ordering::Release);
                // The wake words are at rest: nothing changes them before STATE_READY.
                self.state.store(STATE_READY, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                self.state.store(STATE_UNINIT, Ordering::Release);
                Err(e)
            }
        }
    }

    /// The three steps of `init`; what was opened is closed (dropped) if a later step fails.
    fn open_fds() -> Result<(RawFd, RawFd), Errno> {
        let epoll_fd = epoll_create1(EPOLL_CLOEXEC)?;
        let wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)?;
        epoll_ctl(&epoll_fd, EPOLL_CTL_ADD, &wake_fd, Some(&WAKE_EVENT))?;
        // The poller owns both from here on; `Drop` closes them.
        Ok((epoll_fd.into_raw_fd(), wake_fd.into_raw_fd()))
    }

    /// Whether [`Netpoll::init`] has completed.
    pub fn is_initialized(&self) -> bool {
        self.state.load(Ordering::Acquire) == STATE_READY
    }

    /// Go's `netpollIsPollDescriptor`: whether `fd` is one of the poller's own descriptors (the
    /// epoll instance or the wake eventfd), which a runtime must not close or hand out.
    #[doc(alias = "netpollIsPollDescriptor")]
    pub fn is_poll_descriptor(&self, fd: RawFd) -> bool {
        fd >= 0
            && (fd == self.epoll_fd.load(Ordering::Acquire)
                || fd == self.wake_fd.load(Ordering::Acquire))
    }

    /// The poller's descriptors and wake words as the protocol's [`WakePath`]; `EBADF` before
    /// `init`.
    fn kernel(&self) -> Result<Kernel<'_>, Errno> {
        if self.state.load(Ordering::Acquire) != STATE_READY {
            return Err(Errno::EBADF);
        }
        Ok(Kernel { poller: self })
    }

    /// Go's `netpollopen`: registers `fd` edge-triggered for
    /// `EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET` ([`Interest::GO`]), with `pd` and its current
    /// sequence as event data.
    ///
    /// Errors are the kernel's (`EEXIST` if `fd` is registered already, `EPERM` for a regular
    /// file), `EBADF` for an uninitialised poller, or `EINVAL` if `pd`'s address cannot be packed
    /// (never on Linux, see [`PollDesc`]).
    #[doc(alias = "netpollopen")]
    pub fn open(&self, fd: impl AsFd, pd: &'static PollDesc) -> Result<(), Errno> {
        self.open_with(fd, pd, Interest::GO)
    }

    /// [`Netpoll::open`] with another [`Interest`]: read-only, write-only, oneshot or
    /// level-triggered registrations, for runtimes that do not want Go's fixed one.
    pub fn open_with(
        &self,
        fd: impl AsFd,
        pd: &'static PollDesc,
        interest: Interest,
    ) -> Result<(), Errno> {
        self.register(EPOLL_CTL_ADD, fd.as_fd(), pd, interest)
    }

    /// Changes the registration of `fd` (`EPOLL_CTL_MOD`): a new [`Interest`], a re-arm of a
    /// oneshot registration, or a new `pd` or sequence (the event data is packed anew from `pd`
    /// and its current sequence). `ENOENT` if `fd` is not registered.
    pub fn modify(
        &self,
        fd: impl AsFd,
        pd: &'static PollDesc,
        interest: Interest,
    ) -> Result<(), Errno> {
        self.register(EPOLL_CTL_MOD, fd.as_fd(), pd, interest)
    }

    fn register(
        &self,
        op: u32,
        fd: BorrowedFd<'_>,
        pd: &'static PollDesc,
        interest: Interest,
    ) -> Result<(), Errno> {
        let kernel = self.kernel()?;
        let data = desc::pack(pd, pd.sequence()).ok_or(Errno::EINVAL)?;
        epoll_ctl(
            kernel.epoll_fd(),
            op,
            fd,
            Some(&EpollEvent::new(interest.bits(), data)),
        )
    }

    /// Go's `netpollclose`: removes `fd` from the epoll set (`ENOENT` if it is not in it).
    #[doc(alias = "netpollclose")]
    pub fn close(&self, fd: impl AsFd) -> Result<(), Errno> {
        epoll_ctl(self.kernel()?.epoll_fd(), EPOLL_CTL_DEL, fd, None)
    }

    /// Go's `netpollBreak`: makes the thread blocked in [`Netpoll::poll`] return, or the next
    /// one to block return at once.
    ///
    /// At most one wake is pending at a time (the others return `Ok` at once). The eventfd is
    /// written only if a thread sleeps in the poller: otherwise no system call is made and the
    /// next blocking poll finds the wake pending before it sleeps. See the module documentation
    /// for the guarantee this keeps under failures: an `Ok` is never a wake that is dropped.
    ///
    /// The write retries `EINTR`; `EAGAIN` means the counter is saturated, so it is read back to
    /// zero and written again (a failed write makes no edge). Any other failure is tried once
    /// more, then returned; the wake then stays pending, so a blocking poll that comes later
    /// still returns at once, and the next `wake` writes again. `EBADF` before `init`.
    #[doc(alias = "netpollBreak")]
    pub fn wake(&self) -> Result<(), Errno> {
        wake::wake(&self.kernel()?)
    }

    /// Opts in to `epoll_pwait2` for delays that are not whole milliseconds, so that a 100 µs
    /// delay sleeps 100 µs rather than Go's 1 ms. Nothing is probed here: the first poll with a
    /// positive delay tries it, and on `ENOSYS` the poller returns for good to Go's rule.
    pub fn use_epoll_pwait2(&self, enable: bool) {
        let _ = self
            .pwait2
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                match (now, enable) {
                    (PWAIT2_UNAVAILABLE, _) => None,
                    (_, true) => Some(PWAIT2_ON),
                    (_, false) => Some(PWAIT2_OFF),
                }
            });
    }

    /// Whether polls use `epoll_pwait2`: opted in and not found missing.
    pub fn uses_epoll_pwait2(&self) -> bool {
        self.pwait2.load(Ordering::Acquire) == PWAIT2_ON
    }

    /// Whether a thread is inside, or about to enter, a blocking [`Netpoll::poll`]: Go's
    /// `sched.lastpoll == 0`.
    ///
    /// Go's scheduler calls `netpoll(0)` only while this is false, and `netpollBreak` only while
    /// it is true. A runtime can follow the same rule: a `poll(0)` that overlaps a sleeper may
    /// take the wake's edge and pay a re-arm (see the module documentation). `wake` needs no
    /// such check: it already makes no system call while nobody sleeps.
    #[doc(alias = "lastpoll")]
    pub fn has_sleeper(&self) -> bool {
        self.wake.sleepers() != 0
    }

    /// Go's `netpoll(delay)`: waits up to `delay_ns` nanoseconds (< 0: until something happens;
    /// 0: not at all) and calls `ready(pd, readiness, tag)` once for each ready descriptor whose
    /// event is current. Returns how many descriptors were reported.
    ///
    /// - Timeouts follow [`delay_to_timeout_ms`] unless [`Netpoll::use_epoll_pwait2`] is on.
    /// - At most [`EVENTS_PER_POLL`] events are collected per call, in a buffer on the stack.
    /// - `EINTR`: a positive delay returns `Ok(0)` so the caller recomputes it; otherwise the
    ///   wait is retried.
    /// - A blocking poll (`delay_ns != 0`) that finds a wake pending does not sleep: it polls
    ///   with timeout 0 and consumes the wake. A wake is consumed only by a blocking poll; one
    ///   that fails leaves it pending.
    /// - A non-blocking poll that takes the wake's edge while a thread sleeps puts it back
    ///   (`EPOLL_CTL_MOD`, or a fresh write if that fails); if both fail it returns the error,
    ///   after reporting the descriptors it collected, and the wake stays pending.
    /// - Events whose tag no longer matches the descriptor's sequence are dropped; `tag` is the
    ///   one the reported event carried (see [`Tag`]).
    /// - All of the wake's bookkeeping (consuming it, or giving back its edge) is done before
    ///   the first callback runs, so a callback that is slow, blocks, or panics does not hold
    ///   back a wake meant for another thread. A panic in `ready` leaves the poller exactly as a
    ///   normal return would; the events of that batch not yet delivered are dropped, and an
    ///   edge-triggered registration reports them again only on its next edge, so a runtime that
    ///   catches a callback's panic must treat its descriptors as possibly ready (retry their
    ///   I/O) as after any event it did not handle.
    /// - A blocking poll may return early with nothing to report, as Go's may: a wake that found
    ///   a thread about to sleep writes an edge, and if that thread saw the flag first and did
    ///   not sleep, the edge ends the next blocking poll. No wake is lost either way; a runtime
    ///   loops on its own conditions, as Go's scheduler does.
    #[doc(alias = "netpoll")]
    pub fn poll<F>(&self, delay_ns: i64, ready: F) -> Result<usize, Errno>
    where
        F: FnMut(&'static PollDesc, Ready, Tag),
    {
        poll_on(&self.kernel()?, delay_ns, ready)
    }

    /// Go's `netpoll` followed by its `netpollready`: waits exactly as [`Netpoll::poll`] does
    /// (the same delay rules, the same wake protocol and guarantees: the wake is settled before
    /// any waker runs), then delivers each current event into its [`PollDesc`]'s readiness
    /// ([`PollDesc::set_ready`]) and wakes the wakers registered for it. Returns how many
    /// descriptors it delivered to.
    ///
    /// Delivery is two passes over the batch: every event is latched first, then the wakers are
    /// woken, with nothing held. A waker that panics unwinds out of this call with every edge
    /// of the batch latched (each task that polls sees it); the wakers after it in the batch are
    /// still registered and not woken, so a runtime that catches the panic polls its waiting
    /// tasks again, as after a panicking callback of `poll`. The poller itself is left exactly
    /// as a normal return would leave it. An event whose descriptor is reused between its tag
    /// check and its delivery latches nothing and wakes nobody (see [`PollDesc::set_ready`]).
    #[doc(alias = "netpollready")]
    pub fn poll_wake(&self, delay_ns: i64) -> Result<usize, Errno> {
        // What the second pass needs of each latched event (the event bits, not the decoded
        // `Ready`, keep the array small: it is on the stack, beside the poll's own buffer).
        let mut batch: [Option<(&'static PollDesc, u32, Tag)>; EVENTS_PER_POLL] =
            [None; EVENTS_PER_POLL];
        let mut latched = 0;
        let polled = poll_on(&self.kernel()?, delay_ns, |pd, readiness, tag| {
            if ready::latch_on(pd, &readiness, tag) {
                // A poll reports at most EVENTS_PER_POLL descriptors, so there is always a slot.
                if let Some(slot) = batch.get_mut(latched) {
                    *slot = Some((pd, readiness.events, tag));
                    latched += 1;
                }
            }
        });
        // Woken whatever `poll_on` returned: a failed give-back of the wake edge is returned
        // after the batch was delivered.
        for &(pd, events, tag) in batch.iter().flatten() {
            ready::wake_on(pd, &Ready::from_events(events), tag);
        }
        polled.map(|_| latched)
    }

    /// The epoll instance's number, for diagnostics (`-1` before `init`). A number grants
    /// nothing: borrowing it is `unsafe`, and its contract rules this one out.
    pub fn raw_epoll_fd(&self) -> RawFd {
        self.epoll_fd.load(Ordering::Acquire)
    }

    /// The wake eventfd's number, for tests and diagnostics (`-1` before `init`); the same
    /// rule as [`Netpoll::raw_epoll_fd`].
    pub fn raw_wake_fd(&self) -> RawFd {
        self.wake_fd.load(Ordering::Acquire)
    }
}

/// [`Netpoll::poll`] on any [`WakePath`]: the poller's own, or the exhaustive check's.
fn poll_on<F>(path: &impl WakePath, delay_ns: i64, ready: F) -> Result<usize, Errno>
where
    F: FnMut(&'static PollDesc, Ready, Tag),
{
    // Not zeroed: the kernel initialises the entries it reports, and only those are read.
    let mut buffer = [MaybeUninit::<EpollEvent>::uninit(); EVENTS_PER_POLL];
    let sleep = wake::before_wait(path, delay_ns);
    let delay_ns = sleep.delay_ns(delay_ns);
    let waited = loop {
        match path.wait(&mut buffer, delay_ns) {
            // EINTR: a positive delay returns Ok(0) below, so that the caller recomputes it;
            // otherwise the wait is retried (still counted a sleeper).
            Err(e) if e == Errno::EINTR && delay_ns <= 0 => continue,
            // SAFETY: the successful wait initialised the first `count` entries, and `count`
            // is at most the buffer's length (`WakePath::wait`).
            Ok(count) => break Ok(unsafe { initialised(&buffer, count) }),
            Err(e) => break Err(e),
        }
    };
    // Every way out of the wait settles the wake before any event is delivered.
    let settled = wake::after_wait(path, sleep, waited);
    let events = match waited {
        Err(e) if e == Errno::EINTR => return Ok(0),
        other => other?,
    };
    let reported = deliver(events, ready);
    settled.map(|()| reported)
}

/// The first `count` entries of `buffer`.
///
/// # Safety
///
/// They are initialised, and `count <= buffer.len()`.
unsafe fn initialised(buffer: &[MaybeUninit<EpollEvent>], count: usize) -> &[EpollEvent] {
    // SAFETY: the caller's promise; `MaybeUninit<T>` has `T`'s layout.
    unsafe { slice::from_raw_parts(buffer.as_ptr().cast::<EpollEvent>(), count) }
}

/// Calls `ready` for each event of a current registration, skipping the wake eventfd's, empty
/// ones and stale ones (tag no longer the descriptor's sequence); returns how many it reported.
fn deliver<F>(events: &[EpollEvent], mut ready: F) -> usize
where
    F: FnMut(&'static PollDesc, Ready, Tag),
{
    let mut reported = 0;
    for event in events {
        let data = event.data();
        if data == WAKE_DATA {
            continue;
        }
        let readiness = Ready::from_events(event.events());
        if readiness.is_empty() {
            continue;
        }
        let (address, tag) = desc::unpack(data);
        // SAFETY: the poller owns its epoll instance and no safe function hands out a borrow of
        // it (see "Soundness" in the module documentation), so every registration in it was
        // made by `init` (data WAKE_DATA, skipped above) or by `Netpoll::register`, which packed
        // the data from a `&'static PollDesc`; `unpack` recovers that address exactly, and a
        // `'static` descriptor is never freed.
        let pd: &'static PollDesc = unsafe { &*(address as *const PollDesc) };
        if !tag.matches(pd.sequence()) {
            continue;
        }
        ready(pd, readiness, tag);
        reported += 1;
    }
    reported
}

/// The shipped [`WakePath`]: the poller's wake words and the real system calls, on a poller
/// known to be initialised.
struct Kernel<'a> {
    poller: &'a Netpoll,
}

impl Kernel<'_> {
    fn epoll_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: a `Kernel` exists only for a poller in STATE_READY (`Netpoll::kernel`), whose
        // `epoll_fd` is then an open descriptor it owns; only `Drop`, which needs `&mut` and so
        // waits for this borrow of the poller to end, closes it.
        unsafe { BorrowedFd::borrow_raw(self.poller.epoll_fd.load(Ordering::Acquire)) }
    }

    fn wake_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: as in `epoll_fd`, for the poller's `wake_fd`.
        unsafe { BorrowedFd::borrow_raw(self.poller.wake_fd.load(Ordering::Acquire)) }
    }
}

impl WakePath for Kernel<'_> {
    #[inline(always)]
    fn load_flag(&self) -> u8 {
        self.poller.wake.load_flag()
    }

    #[inline(always)]
    fn swap_flag(&self, current: u8, new: u8) -> Result<u8, u8> {
        self.poller.wake.swap_flag(current, new)
    }

    #[inline(always)]
    fn store_flag(&self, new: u8) {
        self.poller.wake.store_flag(new)
    }

    #[inline(always)]
    fn add_sleeper(&self) {
        self.poller.wake.add_sleeper()
    }

    #[inline(always)]
    fn remove_sleeper(&self) {
        self.poller.wake.remove_sleeper()
    }

    #[inline(always)]
    fn sleepers(&self) -> u32 {
        self.poller.wake.sleepers()
    }

    #[inline(always)]
    fn write_eventfd(&self) -> Result<(), Errno> {
        eventfd_write(self.wake_fd(), 1)
    }

    #[inline(always)]
    fn read_eventfd(&self) -> Result<u64, Errno> {
        eventfd_read(self.wake_fd())
    }

    #[inline(always)]
    fn rearm_eventfd(&self) -> Result<(), Errno> {
        epoll_ctl(
            self.epoll_fd(),
            EPOLL_CTL_MOD,
            self.wake_fd(),
            Some(&WAKE_EVENT),
        )
    }

    /// `epoll_pwait2` for a positive delay if opted in (falling back for good on `ENOSYS`),
    /// else `epoll_pwait` with Go's timeout rule.
    #[inline(always)]
    fn wait(
        &self,
        buffer: &mut [MaybeUninit<EpollEvent>; EVENTS_PER_POLL],
        delay_ns: i64,
    ) -> Result<usize, Errno> {
        let epoll_fd = self.epoll_fd();
        if delay_ns > 0 && self.poller.uses_epoll_pwait2() {
            let capped = delay_ns.min(1_000_000_000 * 1_000_000);
            let timeout = Timespec::from_nanos(capped);
            match epoll_pwait2_uninit(epoll_fd, buffer, Some(&timeout), None) {
                Err(e) if e == Errno::ENOSYS => {
                    self.poller
                        .pwait2
                        .store(PWAIT2_UNAVAILABLE, Ordering::Release);
                }
                other => return other.map(|events| events.len()),
            }
        }
        epoll_pwait_uninit(epoll_fd, buffer, delay_to_timeout_ms(delay_ns))
            .map(|events| events.len())
    }
}

impl Drop for Netpoll {
    /// Closes the epoll instance and the eventfd of an initialised poller.
    fn drop(&mut self) {
        if *self.state.get_mut() == STATE_READY {
            let _ = close_number(*self.epoll_fd.get_mut());
            let _ = close_number(*self.wake_fd.get_mut());
        }
    }
}

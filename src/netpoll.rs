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
//!   writes the eventfd, or the poller does not sleep. `tests/wake_protocol.rs` checks this
//!   exhaustively on a model of the protocol and of the kernel.
//! - The wake eventfd is registered edge-triggered (`EPOLLET`), so the woken poll never reads
//!   it: every `write` is a new edge. Its counter therefore counts the wakes that had to reach a
//!   sleeper; should it saturate (2^64 - 2 of them), `wake` reads it back to zero and writes again.
//! - At most one wake is pending, exactly as Go's `netpollWakeSig`; a non-blocking poll
//!   (`delay == 0`) never consumes it.
//! - A non-blocking poll that overlaps a sleeper can take the wake's edge; it then puts it back
//!   (`EPOLL_CTL_MOD`, which re-queues the still readable eventfd and wakes the sleeper), or, if
//!   that fails, writes a fresh edge. That costs the non-blocking poll one more system call, which
//!   is why Go's scheduler calls `netpoll(0)` only while no thread is blocked in `netpoll`: check
//!   [`Netpoll::has_sleeper`] first and follow the same rule.
//!
//! The guarantee, under any single failure of any system call on the wake path: a
//! [`Netpoll::wake`] that returns `Ok` makes the thread blocked in [`Netpoll::poll`], or the next
//! one to block, return. A call that meets a failure it cannot repair returns that error, and the
//! wake stays pending, so the next blocking poll still returns at once; no other `wake` returns
//! `Ok` for a wake that is then dropped (a wake that finds another one's write in flight relies on
//! it, and that writer tries a failed write once more before it gives up).

use crate::fd::{AsFd, BorrowedFd, RawFd};
use crate::wrappers::close_number;
use crate::{
    epoll_create1, epoll_ctl, epoll_pwait2_uninit, epoll_pwait_uninit, eventfd, eventfd_read,
    eventfd_write, EpollEvent, Errno, IntoRawFd, Timespec, EFD_CLOEXEC, EFD_NONBLOCK, EPOLLERR,
    EPOLLET, EPOLLHUP, EPOLLIN, EPOLLONESHOT, EPOLLOUT, EPOLLRDHUP, EPOLL_CLOEXEC, EPOLL_CTL_ADD,
    EPOLL_CTL_DEL, EPOLL_CTL_MOD,
};
use core::mem::MaybeUninit;
use core::slice;
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU8, AtomicUsize, Ordering};

/// How many events one `epoll_pwait` collects, as Go's `netpoll`.
pub const EVENTS_PER_POLL: usize = 128;

/// The event data of the wake eventfd. A descriptor's data always carries a non-null address in
/// its upper bits, so no descriptor, whatever its sequence, can produce this value; the whole
/// 64-bit word is compared (Go bug #72900 compared one pointer-sized half of it on 32-bit
/// little-endian targets, the half that holds the tag).
const WAKE_DATA: u64 = 0;

/// The wake eventfd's registration: edge-triggered, see the module documentation.
const WAKE_EVENT: EpollEvent = EpollEvent::new(EPOLLIN | EPOLLET, WAKE_DATA);

/// What a registration asks to be told about: the event bits [`Netpoll::open_with`] and
/// [`Netpoll::modify`] register, always edge-triggered unless [`Interest::level_triggered`] says
/// otherwise.
///
/// Errors and hang-ups are reported whatever the interest (the kernel always reports
/// `EPOLLERR` and `EPOLLHUP`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Interest(u32);

impl Interest {
    /// Readable, and the peer's shutdown of its writing half: `EPOLLIN | EPOLLRDHUP | EPOLLET`.
    pub const READABLE: Interest = Interest(EPOLLIN | EPOLLRDHUP | EPOLLET);
    /// Writable: `EPOLLOUT | EPOLLET`.
    pub const WRITABLE: Interest = Interest(EPOLLOUT | EPOLLET);
    /// Go's `netpollopen` registration, what [`Netpoll::open`] uses:
    /// `EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET`.
    #[doc(alias = "netpollopen")]
    pub const GO: Interest = Interest::READABLE.and(Interest::WRITABLE);

    /// Both interests.
    pub const fn and(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// The same interest, reported once and then disabled until [`Netpoll::modify`] re-arms it
    /// (`EPOLLONESHOT`).
    pub const fn oneshot(self) -> Interest {
        Interest(self.0 | EPOLLONESHOT)
    }

    /// The same interest, level-triggered: reported by every poll while it holds (no `EPOLLET`).
    pub const fn level_triggered(self) -> Interest {
        Interest(self.0 & !EPOLLET)
    }

    /// The epoll event bits.
    pub const fn bits(self) -> u32 {
        self.0
    }
}

impl core::ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, other: Interest) -> Interest {
        self.and(other)
    }
}

/// Ready reported for a descriptor: Go's two modes, plus what a runtime that is not Go's wants
/// to know (the same questions as mio's `Event`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Ready {
    /// Go's mode `'r'`: `EPOLLIN`, `EPOLLRDHUP`, `EPOLLHUP` or `EPOLLERR`.
    pub readable: bool,
    /// Go's mode `'w'`: `EPOLLOUT`, `EPOLLHUP` or `EPOLLERR`.
    pub writable: bool,
    /// `EPOLLERR` and nothing else: Go's `pd.setEventErr(true)`, an error the next read or
    /// write will report.
    pub error: bool,
    /// The reading half is closed: `EPOLLRDHUP` (the peer shut down its writing half) or
    /// `EPOLLHUP` (mio's `is_read_closed`).
    pub read_closed: bool,
    /// Hang-up, both halves: `EPOLLHUP` (mio's `is_write_closed` also counts an error).
    pub hang_up: bool,
    /// The raw epoll event bits.
    pub events: u32,
}

impl Ready {
    /// Maps epoll event bits as Go's `netpoll` does, and keeps them.
    #[doc(alias = "netpollready")]
    pub const fn from_events(events: u32) -> Ready {
        Ready {
            readable: events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR) != 0,
            writable: events & (EPOLLOUT | EPOLLHUP | EPOLLERR) != 0,
            error: events == EPOLLERR,
            read_closed: events & (EPOLLRDHUP | EPOLLHUP) != 0,
            hang_up: events & EPOLLHUP != 0,
            events,
        }
    }

    /// Neither readable nor writable: nothing to report.
    pub const fn is_empty(&self) -> bool {
        !self.readable && !self.writable
    }
}

/// The sequence tag an event carried: the low [`TAG_BITS`] bits of the [`PollDesc`] sequence at
/// the time of the registration it came from.
///
/// [`Netpoll::poll`] reports an event only if its tag matches the descriptor's sequence at that
/// moment; a runtime that takes its own lock afterwards can check again with
/// [`Tag::matches`], to detect a reuse that landed in between.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Tag(u64);

impl Tag {
    /// The tag of `sequence`.
    pub const fn of(sequence: usize) -> Tag {
        Tag(sequence as u64 & tag::TAG_MASK)
    }

    /// Whether `sequence` has this tag.
    pub const fn matches(self, sequence: usize) -> bool {
        Tag::of(sequence).0 == self.0
    }

    /// The tag bits.
    pub const fn bits(self) -> u64 {
        self.0
    }
}

/// A poll descriptor: what the netpoller hands back when a registered descriptor is ready.
///
/// It must be `'static` (Go's `pollCache` never frees descriptors either); a runtime keeps a
/// static pool of them and reuses them. When one is reused for another descriptor, the owner
/// calls [`PollDesc::bump_sequence`] first: events still queued for the old registration then
/// carry the old sequence and are dropped (Go's `fdseq`, bug #59545).
///
/// The epoll data word packs the descriptor's address with the low bits of its sequence (the
/// tag). On 32-bit targets: address in the upper 32 bits, a full 32-bit tag in the lower. On
/// 64-bit targets the address must lie below 2^57 (every Linux user address does, 5-level paging
/// included; [`Netpoll::open`] checks) and the descriptor is 64-byte aligned, which leaves a
/// 13-bit tag: a stale event is taken for current only if the descriptor was reused a multiple
/// of 8192 times between the kernel queueing it and `poll` reading it.
#[doc(alias = "pollDesc")]
#[repr(align(64))]
#[derive(Debug)]
pub struct PollDesc {
    sequence: AtomicUsize,
    user_data: AtomicUsize,
}

impl Default for PollDesc {
    fn default() -> Self {
        Self::new()
    }
}

impl PollDesc {
    /// A fresh descriptor: sequence 0, user data 0.
    pub const fn new() -> PollDesc {
        PollDesc {
            sequence: AtomicUsize::new(0),
            user_data: AtomicUsize::new(0),
        }
    }

    /// The current sequence.
    #[doc(alias = "fdseq")]
    pub fn sequence(&self) -> usize {
        self.sequence.load(Ordering::Acquire)
    }

    /// Moves to the next sequence (wrapping) and returns it: call this when the descriptor is
    /// reused for another file descriptor, before registering it again.
    pub fn bump_sequence(&self) -> usize {
        self.sequence.fetch_add(1, Ordering::AcqRel).wrapping_add(1)
    }

    /// Sets the sequence outright (for runtimes that keep their own counter).
    pub fn set_sequence(&self, sequence: usize) {
        self.sequence.store(sequence, Ordering::Release);
    }

    /// The tag of the current sequence, as the events of a registration made now will carry it.
    pub fn tag(&self) -> Tag {
        Tag::of(self.sequence())
    }

    /// The user data word: whatever the owner uses to find its task.
    pub fn user_data(&self) -> usize {
        self.user_data.load(Ordering::Acquire)
    }

    /// Sets the user data word.
    pub fn set_user_data(&self, data: usize) {
        self.user_data.store(data, Ordering::Release);
    }
}

/// Packing of `(descriptor address, sequence tag)` into epoll's 64-bit data word.
mod tag {
    use super::PollDesc;

    #[cfg(target_pointer_width = "32")]
    mod layout {
        pub const TAG_BITS: u32 = 32;
        pub const ADDRESS_SHIFT: u32 = 32;
        pub const ADDRESS_LIMIT_BITS: u32 = 32;
    }
    #[cfg(target_pointer_width = "64")]
    mod layout {
        /// Addresses below 2^57; shifting left by 7 keeps them, and 64-byte alignment leaves
        /// their 6 low bits zero, so the low 7 + 6 bits are free for the tag.
        pub const ADDRESS_LIMIT_BITS: u32 = 57;
        pub const ADDRESS_SHIFT: u32 = 64 - ADDRESS_LIMIT_BITS;
        pub const TAG_BITS: u32 = ADDRESS_SHIFT + super::ALIGN_BITS;
    }

    /// log2 of `PollDesc`'s alignment.
    #[cfg_attr(target_pointer_width = "32", allow(dead_code))]
    const ALIGN_BITS: u32 = core::mem::align_of::<PollDesc>().trailing_zeros();
    pub(super) use layout::*;

    /// The tag bits of a sequence.
    pub const TAG_MASK: u64 = if TAG_BITS >= 64 {
        u64::MAX
    } else {
        (1u64 << TAG_BITS) - 1
    };

    /// The data word for `pd` at `sequence`; `None` if the address does not fit.
    pub fn pack(pd: &'static PollDesc, sequence: usize) -> Option<u64> {
        let address = pd as *const PollDesc as usize as u64;
        if ADDRESS_LIMIT_BITS < 64 && address >> ADDRESS_LIMIT_BITS != 0 {
            return None;
        }
        Some((address << ADDRESS_SHIFT) | (sequence as u64 & TAG_MASK))
    }

    /// The address and tag carried by a data word.
    pub fn unpack(data: u64) -> (usize, u64) {
        let address = (data >> ADDRESS_SHIFT) & !(core::mem::align_of::<PollDesc>() as u64 - 1);
        (address as usize, data & TAG_MASK)
    }
}

/// Bits of the sequence that travel with each event: 32 on 32-bit targets, 13 on 64-bit ones.
pub const TAG_BITS: u32 = tag::TAG_BITS;

const STATE_UNINIT: u8 = 0;
const STATE_INITIALIZING: u8 = 1;
const STATE_READY: u8 = 2;

const PWAIT2_OFF: u8 = 0;
const PWAIT2_ON: u8 = 1;
const PWAIT2_UNAVAILABLE: u8 = 2;

/// The wake flag (Go's `netpollWakeSig`), with what is known of its delivery.
mod wake_state {
    /// No wake pending.
    pub const IDLE: u8 = 0;
    /// A wake is pending and its waker is deciding whether to write, or writing, the eventfd.
    /// Other wakes rely on it: it tries a failed write once more before it gives up.
    pub const WRITING: u8 = 1;
    /// A wake is pending and delivered: its edge is written, or no thread slept when it came
    /// (a thread about to sleep sees the flag first).
    pub const DELIVERED: u8 = 2;
    /// A wake is pending but its edge could not be written: the next blocking poll still
    /// returns at once, and the next `wake` writes again.
    pub const UNDELIVERED: u8 = 3;
}
use wake_state::{DELIVERED, IDLE, UNDELIVERED, WRITING};

/// The netpoller: an epoll instance, an eventfd to wake it, the wake flag that keeps at most one
/// wake pending, and the count of threads that sleep in it. `Sync`: every field is atomic.
#[derive(Debug)]
pub struct Netpoll {
    state: AtomicU8,
    epoll_fd: AtomicI32,
    wake_fd: AtomicI32,
    wake: AtomicU8,
    sleepers: AtomicU32,
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
            wake: AtomicU8::new(IDLE),
            sleepers: AtomicU32::new(0),
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
                // The wake flag is IDLE: nothing changes it before STATE_READY.
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

    /// One of the poller's own descriptors (`self.epoll_fd` or `self.wake_fd`), borrowed for as
    /// long as `self` is; `EBADF` before `init`. Private: handing them out would let safe code
    /// register on the epoll set.
    fn borrow<'a>(&'a self, fd: &AtomicI32) -> Result<BorrowedFd<'a>, Errno> {
        if self.state.load(Ordering::Acquire) != STATE_READY {
            return Err(Errno::EBADF);
        }
        let fd = fd.load(Ordering::Acquire);
        // SAFETY: in STATE_READY both numbers are open descriptors this poller owns, and only
        // `Drop`, which needs `&mut self` and so waits for this borrow to end, closes them.
        Ok(unsafe { BorrowedFd::borrow_raw(fd) })
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
        let epoll_fd = self.borrow(&self.epoll_fd)?;
        let data = tag::pack(pd, pd.sequence()).ok_or(Errno::EINVAL)?;
        epoll_ctl(
            epoll_fd,
            op,
            fd,
            Some(&EpollEvent::new(interest.bits(), data)),
        )
    }

    /// Go's `netpollclose`: removes `fd` from the epoll set (`ENOENT` if it is not in it).
    #[doc(alias = "netpollclose")]
    pub fn close(&self, fd: impl AsFd) -> Result<(), Errno> {
        let epoll_fd = self.borrow(&self.epoll_fd)?;
        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, None)
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
        let wake_fd = self.borrow(&self.wake_fd)?;
        let mut seen = self.wake.load(Ordering::Acquire);
        loop {
            match seen {
                // Pending and delivered, or being delivered by a waker who repairs what it can.
                DELIVERED | WRITING => return Ok(()),
                _ => {}
            }
            // IDLE or UNDELIVERED: this wake takes the write over. Dekker, the waker's half:
            // this store comes before the waker reads the sleeper count.
            match self
                .wake
                .compare_exchange(seen, WRITING, Ordering::SeqCst, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(now) => seen = now,
            }
        }
        // Nobody sleeps: whoever blocks next sees the flag before it sleeps, so no write.
        // Otherwise write the edge (a failure is tried once more, for the wakes relying on it).
        let written = if self.sleepers.load(Ordering::SeqCst) == 0 {
            Ok(())
        } else {
            write_edge(wake_fd, 2)
        };
        let next = if written.is_ok() {
            DELIVERED
        } else {
            UNDELIVERED
        };
        // Publish what became of it (if a poller consumed the wake meanwhile, the flag is IDLE
        // and stays so).
        let _ = self
            .wake
            .compare_exchange(WRITING, next, Ordering::AcqRel, Ordering::Relaxed);
        written
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
        self.sleepers.load(Ordering::SeqCst) != 0
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
    pub fn poll<F>(&self, delay_ns: i64, mut ready: F) -> Result<usize, Errno>
    where
        F: FnMut(&'static PollDesc, Ready, Tag),
    {
        let (epoll_fd, wake_fd) = (self.borrow(&self.epoll_fd)?, self.borrow(&self.wake_fd)?);
        // Not zeroed: the kernel initialises the entries it reports, and only those are read.
        let mut buffer = [MaybeUninit::<EpollEvent>::uninit(); EVENTS_PER_POLL];
        // A blocking poll counts itself a sleeper for the length of its wait (every way out of
        // the wait passes the decrement below: nothing in between returns or panics).
        let blocking = delay_ns != 0;
        if blocking {
            // Dekker, the poller's half: store the count, then read the flag.
            self.sleepers.fetch_add(1, Ordering::SeqCst);
        }
        // A wake pending: do not sleep, look (timeout 0) and consume it.
        let consumed = blocking && self.wake.load(Ordering::SeqCst) != IDLE;
        let waited = self.wait_retrying(epoll_fd, &mut buffer, if consumed { 0 } else { delay_ns });
        if blocking {
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
        let count = match waited {
            // Only a positive delay returns EINTR: the caller recomputes it.
            Err(e) if e == Errno::EINTR => return Ok(0),
            other => other?,
        };
        // SAFETY: the successful wait initialised the first `count <= EVENTS_PER_POLL` entries.
        let events = unsafe { slice::from_raw_parts(buffer.as_ptr().cast::<EpollEvent>(), count) };
        // The wake bookkeeping comes before the first callback: a callback that panics, blocks
        // or runs long must not hold back a wake meant for a sleeper, nor leave the flag set.
        let took_wake_edge = events.iter().any(|event| event.data() == WAKE_DATA);
        let gave_back = if consumed || (took_wake_edge && blocking) {
            self.wake.store(IDLE, Ordering::SeqCst);
            Ok(())
        } else if took_wake_edge
            && self.sleepers.load(Ordering::SeqCst) != 0
            && self.wake.load(Ordering::SeqCst) != IDLE
        {
            // A non-blocking poll took the edge of a pending wake that a sleeper may be waiting
            // for: put it back. (With no sleeper, the next one sees the flag before it sleeps;
            // with the flag IDLE, the edge was stale: its wake has been consumed.)
            self.give_back_wake_edge(epoll_fd, wake_fd)
        } else {
            Ok(())
        };
        let mut reported = 0;
        for event in events.iter() {
            let data = event.data();
            if data == WAKE_DATA {
                continue;
            }
            let readiness = Ready::from_events(event.events());
            if readiness.is_empty() {
                continue;
            }
            let (address, tag) = tag::unpack(data);
            // SAFETY: `fds` shows that this poller owns the epoll instance, and no safe function
            // hands out a borrow of it (see "Soundness" in the module documentation), so every
            // registration in it was made by `init` (data WAKE_DATA, skipped above) or by
            // `register`, which packed the data from a `&'static PollDesc`; `unpack` recovers
            // that address exactly, and a `'static` descriptor is never freed.
            let pd: &'static PollDesc = unsafe { &*(address as *const PollDesc) };
            let tag = Tag(tag);
            if !tag.matches(pd.sequence()) {
                continue;
            }
            ready(pd, readiness, tag);
            reported += 1;
        }
        gave_back.map(|()| reported)
    }

    /// Puts back the wake edge a non-blocking poll took: `EPOLL_CTL_MOD` re-queues the still
    /// readable eventfd; if that fails, a fresh write makes a new edge. If both fail, the wake
    /// is marked undelivered (still pending, written again by the next `wake`) and the error of
    /// the write is returned.
    fn give_back_wake_edge(
        &self,
        epoll_fd: BorrowedFd<'_>,
        wake_fd: BorrowedFd<'_>,
    ) -> Result<(), Errno> {
        if epoll_ctl(epoll_fd, EPOLL_CTL_MOD, wake_fd, Some(&WAKE_EVENT)).is_ok() {
            return Ok(());
        }
        write_edge(wake_fd, 1).inspect_err(|_| {
            let _ = self.wake.compare_exchange(
                DELIVERED,
                UNDELIVERED,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        })
    }

    /// Waits as `delay_ns` asks, retrying `EINTR` unless the delay is positive (then the
    /// caller returns `Ok(0)` so that its own caller recomputes the delay).
    fn wait_retrying(
        &self,
        epoll_fd: BorrowedFd<'_>,
        buffer: &mut [MaybeUninit<EpollEvent>],
        delay_ns: i64,
    ) -> Result<usize, Errno> {
        loop {
            match self.wait(epoll_fd, buffer, delay_ns) {
                Err(e) if e == Errno::EINTR && delay_ns <= 0 => continue,
                other => return other,
            }
        }
    }

    /// One `epoll_pwait` (or `epoll_pwait2`) with the timeout `delay_ns` asks for; returns how
    /// many entries of `buffer` the kernel filled.
    fn wait(
        &self,
        epoll_fd: BorrowedFd<'_>,
        buffer: &mut [MaybeUninit<EpollEvent>],
        delay_ns: i64,
    ) -> Result<usize, Errno> {
        if delay_ns > 0 && self.uses_epoll_pwait2() {
            let capped = delay_ns.min(1_000_000_000 * 1_000_000);
            let timeout = Timespec::from_nanos(capped);
            match epoll_pwait2_uninit(epoll_fd, buffer, Some(&timeout), None) {
                Err(e) if e == Errno::ENOSYS => {
                    self.pwait2.store(PWAIT2_UNAVAILABLE, Ordering::Release);
                }
                other => return other.map(|events| events.len()),
            }
        }
        epoll_pwait_uninit(epoll_fd, buffer, delay_to_timeout_ms(delay_ns))
            .map(|events| events.len())
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

/// Writes one edge to the wake eventfd: an 8-byte 1, retrying `EINTR`; on `EAGAIN` (the counter
/// is saturated, and a failed write makes no edge) reads the counter back to zero and writes
/// again. Any other failure is tried again until `attempts` have failed, and the last returned.
fn write_edge(wake_fd: BorrowedFd<'_>, mut attempts: u32) -> Result<(), Errno> {
    loop {
        let failure = match eventfd_write(wake_fd, 1) {
            Ok(()) => return Ok(()),
            Err(e) if e == Errno::EINTR => continue,
            Err(e) if e == Errno::EAGAIN => match eventfd_read(wake_fd) {
                // Cleared (by us, or by someone else just before): write again.
                Ok(_) => continue,
                Err(e) if e == Errno::EAGAIN || e == Errno::EINTR => continue,
                Err(e) => e,
            },
            Err(e) => e,
        };
        attempts = attempts.saturating_sub(1);
        if attempts == 0 {
            return Err(failure);
        }
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

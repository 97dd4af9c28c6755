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
//! | `netpollopen` | [`Netpoll::open`] |
//! | `netpollclose` | [`Netpoll::close`] |
//! | `netpollBreak` | [`Netpoll::wake`] |
//! | `netpoll(delay)` | [`Netpoll::poll`] |
//! | `pollDesc`, `pollCache` | [`PollDesc`] (`const fn new`, for a static pool) |
//! | `pollDesc.fdseq` | [`PollDesc::sequence`], [`PollDesc::bump_sequence`] |
//! | `taggedPointerPack` | the event data packing, see [`PollDesc`] |
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
//! # The wake eventfd is edge-triggered (a departure from Go)
//!
//! Go registers its wake eventfd level-triggered, so a blocking `netpoll` that is woken must
//! `read` the eventfd to clear it: a wake cycle (wake, the blocked poll returns, ready to block
//! again) costs three system calls, `write`, `epoll_pwait`, `read`. rawpoll registers it with
//! `EPOLLET`: every `write` to an eventfd is a new edge, so the woken poll only resets the wake
//! flag and the cycle costs two, `write` and `epoll_pwait`. Measured by `ci/bench` (`strace -c`
//! and an interleaved wall clock, same run): 2 system calls per cycle against 3 for Go's scheme
//! written with the libc crate, and a same-thread wake cycle of 828 ns against 1,108 ns (mio,
//! also edge-triggered: 811 ns). Go's guarantees are kept, and the tests check each of them:
//!
//! - a non-blocking poll never swallows a wake meant for a blocked poller: when `poll(0)` takes
//!   the wake's edge it re-arms the registration (`EPOLL_CTL_MOD`, which re-queues the still
//!   readable eventfd and wakes a thread already blocked in `epoll_pwait`), an extra system call
//!   only on that path;
//! - at most one wake is pending: the wake flag, exactly as in Go;
//! - the counter is no longer cleared by polls, so it counts wakes; should it ever saturate
//!   (2^64 - 2 of them), `wake` reads it back to zero and writes again, making a fresh edge.

use crate::{
    epoll_create1, epoll_ctl, epoll_pwait2_uninit, epoll_pwait_uninit, eventfd, eventfd_read,
    eventfd_write, EpollEvent, Errno, RawFd, Timespec, EFD_CLOEXEC, EFD_NONBLOCK, EPOLLERR,
    EPOLLET, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL,
    EPOLL_CTL_MOD,
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

/// Ready reported for a descriptor, as Go's netpoll reports it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Ready {
    /// Go's mode `'r'`: `EPOLLIN`, `EPOLLRDHUP`, `EPOLLHUP` or `EPOLLERR`.
    pub readable: bool,
    /// Go's mode `'w'`: `EPOLLOUT`, `EPOLLHUP` or `EPOLLERR`.
    pub writable: bool,
    /// `EPOLLERR` and nothing else: Go's `pd.setEventErr(true)`, an error the next read or
    /// write will report.
    pub error: bool,
}

impl Ready {
    /// Maps epoll event bits as Go's `netpoll` does.
    #[doc(alias = "netpollready")]
    pub const fn from_events(events: u32) -> Ready {
        Ready {
            readable: events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR) != 0,
            writable: events & (EPOLLOUT | EPOLLHUP | EPOLLERR) != 0,
            error: events == EPOLLERR,
        }
    }

    /// Neither readable nor writable: nothing to report.
    pub const fn is_empty(&self) -> bool {
        !self.readable && !self.writable
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

/// The netpoller: an epoll instance, an eventfd to wake it, and the flag that keeps at most one
/// wake pending. `Sync`: every field is atomic.
#[derive(Debug)]
pub struct Netpoll {
    state: AtomicU8,
    epoll_fd: AtomicI32,
    wake_fd: AtomicI32,
    wake_pending: AtomicU32,
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
            wake_pending: AtomicU32::new(0),
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
                self.wake_pending.store(0, Ordering::Release);
                self.state.store(STATE_READY, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                self.state.store(STATE_UNINIT, Ordering::Release);
                Err(e)
            }
        }
    }

    /// The three steps of `init`, closing what was opened if a later one fails.
    fn open_fds() -> Result<(RawFd, RawFd), Errno> {
        let epoll_fd = epoll_create1(EPOLL_CLOEXEC)?;
        let wake_fd = match eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) {
            Ok(fd) => fd,
            Err(e) => {
                let _ = crate::close(epoll_fd);
                return Err(e);
            }
        };
        if let Err(e) = epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, Some(&WAKE_EVENT)) {
            let _ = crate::close(wake_fd);
            let _ = crate::close(epoll_fd);
            return Err(e);
        }
        Ok((epoll_fd, wake_fd))
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

    /// Go's `netpollopen`: registers `fd` edge-triggered for
    /// `EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET`, with `pd` and its current sequence as event data.
    ///
    /// Errors are the kernel's (`EBADF` for a closed `fd` or an uninitialised poller, `EEXIST`
    /// if `fd` is registered already, `EPERM` for a regular file), or `EINVAL` if `pd`'s address
    /// cannot be packed (never on Linux, see [`PollDesc`]).
    #[doc(alias = "netpollopen")]
    pub fn open(&self, fd: RawFd, pd: &'static PollDesc) -> Result<(), Errno> {
        let data = tag::pack(pd, pd.sequence()).ok_or(Errno::EINVAL)?;
        let event = EpollEvent::new(EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, data);
        epoll_ctl(self.epoll_fd(), EPOLL_CTL_ADD, fd, Some(&event))
    }

    /// Go's `netpollclose`: removes `fd` from the epoll set (`ENOENT` if it is not in it).
    #[doc(alias = "netpollclose")]
    pub fn close(&self, fd: RawFd) -> Result<(), Errno> {
        epoll_ctl(self.epoll_fd(), EPOLL_CTL_DEL, fd, None)
    }

    /// Go's `netpollBreak`: wakes a thread blocked in [`Netpoll::poll`], or makes the next
    /// blocking poll return at once.
    ///
    /// At most one wake is pending at a time: the first caller to flip the wake flag writes an
    /// 8-byte 1 to the eventfd, the others return at once. `EINTR` is retried. `EAGAIN` means
    /// the counter is saturated; since a failed write makes no edge, the counter is read back to
    /// zero and the write made again.
    #[doc(alias = "netpollBreak")]
    pub fn wake(&self) -> Result<(), Errno> {
        if self
            .wake_pending
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Ok(());
        }
        let fd = self.wake_fd.load(Ordering::Acquire);
        let result = loop {
            match eventfd_write(fd, 1) {
                Ok(()) => break Ok(()),
                Err(e) if e == Errno::EINTR => continue,
                Err(e) if e == Errno::EAGAIN => match eventfd_read(fd) {
                    // Cleared (by us, or by someone else just before): write again.
                    Ok(_) => continue,
                    Err(e) if e == Errno::EAGAIN || e == Errno::EINTR => continue,
                    Err(e) => break Err(e),
                },
                Err(e) => break Err(e),
            }
        };
        if result.is_err() {
            self.wake_pending.store(0, Ordering::Release);
        }
        result
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

    /// Go's `netpoll(delay)`: waits up to `delay_ns` nanoseconds (< 0: until something happens;
    /// 0: not at all) and calls `ready` once for each ready descriptor whose event is current.
    /// Returns how many descriptors were reported.
    ///
    /// - Timeouts follow [`delay_to_timeout_ms`] unless [`Netpoll::use_epoll_pwait2`] is on.
    /// - At most [`EVENTS_PER_POLL`] events are collected per call, in a buffer on the stack.
    /// - `EINTR`: a positive delay returns `Ok(0)` so the caller recomputes it; otherwise the
    ///   wait is retried.
    /// - A wake is consumed (wake flag reset) only when `delay_ns != 0`; a non-blocking poll
    ///   that takes the wake's edge puts it back (`EPOLL_CTL_MOD`), so it never swallows a wake
    ///   meant for a thread that blocks.
    /// - Events whose tag no longer matches the descriptor's sequence are dropped.
    #[doc(alias = "netpoll")]
    pub fn poll<F>(&self, delay_ns: i64, mut ready: F) -> Result<usize, Errno>
    where
        F: FnMut(&'static PollDesc, Ready),
    {
        // Not zeroed: the kernel initialises the entries it reports, and only those are read.
        let mut buffer = [MaybeUninit::<EpollEvent>::uninit(); EVENTS_PER_POLL];
        let count = loop {
            match self.wait(&mut buffer, delay_ns) {
                Ok(n) => break n,
                Err(e) if e == Errno::EINTR && delay_ns > 0 => return Ok(0),
                Err(e) if e == Errno::EINTR => continue,
                Err(e) => return Err(e),
            }
        };
        // SAFETY: the successful wait initialised the first `count <= EVENTS_PER_POLL` entries.
        let events = unsafe { slice::from_raw_parts(buffer.as_ptr().cast::<EpollEvent>(), count) };
        let mut reported = 0;
        for event in events.iter() {
            let bits = event.events();
            if bits == 0 {
                continue;
            }
            let data = event.data();
            if data == WAKE_DATA {
                if delay_ns != 0 {
                    self.wake_pending.store(0, Ordering::Release);
                } else if epoll_ctl(
                    self.epoll_fd(),
                    EPOLL_CTL_MOD,
                    self.wake_fd(),
                    Some(&WAKE_EVENT),
                )
                .is_err()
                {
                    // The edge could not be put back: let the next wake() write a new one.
                    self.wake_pending.store(0, Ordering::Release);
                }
                continue;
            }
            let readiness = Ready::from_events(bits);
            if readiness.is_empty() {
                continue;
            }
            let (address, tag) = tag::unpack(data);
            // SAFETY: every data word other than WAKE_DATA in this epoll set was written by
            // `open` from a `&'static PollDesc`, whose address `unpack` recovers exactly; the
            // epoll descriptor is private to this poller (I/O safety: nobody else registers on
            // it), and a 'static descriptor is never freed.
            let pd: &'static PollDesc = unsafe { &*(address as *const PollDesc) };
            if pd.sequence() as u64 & tag::TAG_MASK != tag {
                continue;
            }
            ready(pd, readiness);
            reported += 1;
        }
        Ok(reported)
    }

    /// One `epoll_pwait` (or `epoll_pwait2`) with the timeout `delay_ns` asks for; returns how
    /// many entries of `buffer` the kernel filled.
    fn wait(&self, buffer: &mut [MaybeUninit<EpollEvent>], delay_ns: i64) -> Result<usize, Errno> {
        let epoll_fd = self.epoll_fd();
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

    fn epoll_fd(&self) -> RawFd {
        self.epoll_fd.load(Ordering::Acquire)
    }

    /// The wake eventfd, for tests and diagnostics (`-1` before `init`).
    pub fn wake_fd(&self) -> RawFd {
        self.wake_fd.load(Ordering::Acquire)
    }
}

impl Drop for Netpoll {
    /// Closes the epoll instance and the eventfd of an initialised poller.
    fn drop(&mut self) {
        if *self.state.get_mut() == STATE_READY {
            let _ = crate::close(*self.epoll_fd.get_mut());
            let _ = crate::close(*self.wake_fd.get_mut());
        }
    }
}

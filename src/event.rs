//! Flags and structures of the epoll and eventfd interfaces.

use crate::arch;
use crate::errno::Errno;
use crate::raw::KERNEL_SIGSET_SIZE;

/// `eventfd2` flag: close on exec (`O_CLOEXEC`): 0x80000, or 0x400000 on SPARC.
pub const EFD_CLOEXEC: u32 = arch::O_CLOEXEC;
/// `eventfd2` flag: non-blocking (`O_NONBLOCK`): 0x800, or 0x80 on MIPS, 0x4000 on SPARC.
pub const EFD_NONBLOCK: u32 = arch::EFD_NONBLOCK;
/// `eventfd2` flag: reads return 1 and decrement the counter by one.
pub const EFD_SEMAPHORE: u32 = 1;
/// `epoll_create1` flag: close on exec (`O_CLOEXEC`): 0x80000, or 0x400000 on SPARC.
pub const EPOLL_CLOEXEC: u32 = arch::O_CLOEXEC;

/// `epoll_ctl` operation: register a descriptor.
pub const EPOLL_CTL_ADD: u32 = 1;
/// `epoll_ctl` operation: deregister a descriptor.
pub const EPOLL_CTL_DEL: u32 = 2;
/// `epoll_ctl` operation: change a registration.
pub const EPOLL_CTL_MOD: u32 = 3;

/// Readable.
pub const EPOLLIN: u32 = 0x1;
/// Urgent data readable.
pub const EPOLLPRI: u32 = 0x2;
/// Writable.
pub const EPOLLOUT: u32 = 0x4;
/// Error condition (always reported).
pub const EPOLLERR: u32 = 0x8;
/// Hang-up (always reported).
pub const EPOLLHUP: u32 = 0x10;
/// The peer shut down its writing half.
pub const EPOLLRDHUP: u32 = 0x2000;
/// Wake only one of several epoll instances waiting on the same descriptor.
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
/// Report an event once, then disable the registration.
pub const EPOLLONESHOT: u32 = 1 << 30;
/// Edge-triggered.
pub const EPOLLET: u32 = 1 << 31;

/// The kernel's `struct epoll_event` (include/uapi/linux/eventpoll.h): 16 bytes with `data`
/// aligned to 8 (32-bit Arm EABI and MIPS o32 align `u64` to 8), but 12 bytes on x86_64, where the
/// kernel declares it packed (`EPOLL_PACKED`), and on i386, which aligns `u64` to 4.
#[repr(C)]
#[cfg_attr(target_arch = "x86_64", repr(packed))]
#[derive(Clone, Copy)]
pub struct EpollEvent {
    events: u32,
    data: u64,
}

impl EpollEvent {
    /// An event with `events` bits and a 64-bit user `data` word.
    pub const fn new(events: u32, data: u64) -> EpollEvent {
        EpollEvent { events, data }
    }

    /// An all-zero event, to fill a buffer that `epoll_pwait` writes into.
    pub const fn zeroed() -> EpollEvent {
        EpollEvent::new(0, 0)
    }

    /// The event bits.
    pub const fn events(&self) -> u32 {
        self.events
    }

    /// The full 64-bit user data word, as registered.
    pub const fn data(&self) -> u64 {
        self.data
    }

    /// Replaces the event bits.
    pub fn set_events(&mut self, events: u32) {
        self.events = events;
    }

    /// Replaces the user data word.
    pub fn set_data(&mut self, data: u64) {
        self.data = data;
    }
}

impl Default for EpollEvent {
    fn default() -> EpollEvent {
        EpollEvent::zeroed()
    }
}

impl core::fmt::Debug for EpollEvent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EpollEvent")
            .field("events", &format_args!("{:#x}", self.events()))
            .field("data", &format_args!("{:#x}", self.data()))
            .finish()
    }
}

impl PartialEq for EpollEvent {
    fn eq(&self, other: &EpollEvent) -> bool {
        self.events() == other.events() && self.data() == other.data()
    }
}

impl Eq for EpollEvent {}

/// A kernel signal set (`sigset_t` as the kernel sees it), room for 128 signals.
///
/// The kernel reads [`crate::raw::KERNEL_SIGSET_SIZE`] bytes of it. Bits are kept in native
/// `usize` words as the kernel's `unsigned long sig[]`, so the layout is right on 32-bit
/// big-endian targets too.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[repr(C)]
pub struct SigSet {
    words: [usize; SigSet::WORDS],
}

impl SigSet {
    const WORDS: usize = 128 / usize::BITS as usize;

    /// The empty set.
    pub const fn empty() -> SigSet {
        SigSet {
            words: [0; SigSet::WORDS],
        }
    }

    fn position(signal: u32) -> Result<(usize, usize), Errno> {
        let index = signal.checked_sub(1).ok_or(Errno::EINVAL)? as usize;
        let word = index / usize::BITS as usize;
        if word >= SigSet::WORDS || index >= KERNEL_SIGSET_SIZE * 8 {
            return Err(Errno::EINVAL);
        }
        Ok((word, index % usize::BITS as usize))
    }

    /// Adds `signal` (1-based); `EINVAL` if the kernel has no such signal.
    pub fn add(&mut self, signal: u32) -> Result<(), Errno> {
        let (word, bit) = SigSet::position(signal)?;
        if let Some(w) = self.words.get_mut(word) {
            *w |= 1 << bit;
        }
        Ok(())
    }

    /// Whether `signal` is in the set (false for a signal the kernel does not have).
    pub fn contains(&self, signal: u32) -> bool {
        match SigSet::position(signal) {
            Ok((word, bit)) => self.words.get(word).is_some_and(|w| w & (1 << bit) != 0),
            Err(_) => false,
        }
    }
}

/// The kernel's `struct __kernel_timespec`: 64-bit seconds and nanoseconds on every target,
/// 32-bit ones included.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[repr(C)]
pub struct Timespec {
    /// Seconds.
    pub tv_sec: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub tv_nsec: i64,
}

impl Timespec {
    /// The duration of `nanos` nanoseconds (negative values give zero).
    pub const fn from_nanos(nanos: i64) -> Timespec {
        if nanos <= 0 {
            return Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
        }
        Timespec {
            tv_sec: nanos / 1_000_000_000,
            tv_nsec: nanos % 1_000_000_000,
        }
    }
}

//! Typed wrappers over the raw layer, mirroring Go's `internal/runtime/syscall`.
//!
//! Each returns `Result<_, Errno>`. Descriptors come in as [`AsFd`] and new ones go out as
//! [`OwnedFd`] (see [`crate::fd`]). Slices are passed with their own length, never more; a length
//! the kernel cannot take is clamped, never widened.

use crate::errno::Errno;
use crate::event::{EpollEvent, SigSet, Timespec};
use crate::fd::{close_number, AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use crate::raw::{self, syscall6};
use core::mem::{size_of, MaybeUninit};
use core::ptr;
use core::slice;

/// Converts a kernel result that is a new file descriptor.
#[inline]
fn owned_fd_result(r: (usize, usize)) -> Result<OwnedFd, Errno> {
    // The kernel returns descriptors as non-negative ints; the truncation is the kernel's type.
    let fd = Errno::result(r)? as RawFd;
    // SAFETY: the system call has just created `fd`, and nothing else knows it yet.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The number of a borrowed descriptor, as the kernel takes it in an argument register.
#[inline(always)]
fn arg(fd: BorrowedFd<'_>) -> usize {
    fd.as_raw_fd() as usize
}

/// The most events one `epoll_pwait` may ask for: the kernel rejects more than
/// `INT_MAX / sizeof(struct epoll_event)` with `EINVAL`.
const MAX_EVENTS: usize = i32::MAX as usize / size_of::<EpollEvent>();

/// `eventfd2(initval, flags)`: a new eventfd with counter `initval`.
///
/// `flags` is a combination of [`crate::EFD_CLOEXEC`], [`crate::EFD_NONBLOCK`] and
/// [`crate::EFD_SEMAPHORE`]; anything else gives `EINVAL`.
#[doc(alias = "Eventfd")]
#[doc(alias = "eventfd2")]
#[inline]
pub fn eventfd(initval: u32, flags: u32) -> Result<OwnedFd, Errno> {
    // SAFETY: eventfd2 takes two integers and touches no memory.
    owned_fd_result(unsafe {
        syscall6(
            raw::SYS_EVENTFD2,
            initval as usize,
            flags as usize,
            0,
            0,
            0,
            0,
        )
    })
}

/// Adds `value` to an eventfd's counter (an 8-byte `write`). `EAGAIN` on a non-blocking eventfd
/// whose counter would pass `0xffff_ffff_ffff_fffe`; `EINVAL` for `u64::MAX`.
#[inline]
pub fn eventfd_write(fd: impl AsFd, value: u64) -> Result<(), Errno> {
    write(fd, &value.to_ne_bytes()).map(|_| ())
}

/// Reads and resets an eventfd's counter (an 8-byte `read`); with `EFD_SEMAPHORE`, returns 1
/// and decrements it. `EAGAIN` when the counter is zero on a non-blocking eventfd.
#[inline]
pub fn eventfd_read(fd: impl AsFd) -> Result<u64, Errno> {
    let mut buf = [0u8; 8];
    read(fd, &mut buf)?;
    Ok(u64::from_ne_bytes(buf))
}

/// `epoll_create1(flags)`: a new epoll instance; `flags` is 0 or [`crate::EPOLL_CLOEXEC`].
#[doc(alias = "EpollCreate1")]
#[inline]
pub fn epoll_create1(flags: u32) -> Result<OwnedFd, Errno> {
    // SAFETY: epoll_create1 takes one integer and touches no memory.
    owned_fd_result(unsafe { syscall6(raw::SYS_EPOLL_CREATE1, flags as usize, 0, 0, 0, 0, 0) })
}

/// `epoll_ctl(epfd, op, fd, event)`: adds, changes or removes `fd` in the epoll set `epfd`.
///
/// `event` may be `None` for [`crate::EPOLL_CTL_DEL`]; the kernel answers `EFAULT` to a missing
/// event for the other operations.
#[doc(alias = "EpollCtl")]
#[inline]
pub fn epoll_ctl(
    epfd: impl AsFd,
    op: u32,
    fd: impl AsFd,
    event: Option<&EpollEvent>,
) -> Result<(), Errno> {
    let event = event.map_or(ptr::null(), |e| e as *const EpollEvent);
    // SAFETY: `event` is null or points to a live EpollEvent the kernel only reads.
    Errno::result(unsafe {
        syscall6(
            raw::SYS_EPOLL_CTL,
            arg(epfd.as_fd()),
            op as usize,
            arg(fd.as_fd()),
            event as usize,
            0,
            0,
        )
    })
    .map(|_| ())
}

/// `epoll_pwait(epfd, events, timeout_ms, NULL)`: waits for events, as Go's `EpollWait`.
///
/// `timeout_ms` < 0 blocks, 0 returns at once. Returns how many entries of `events` the kernel
/// filled. An empty slice gives `EINVAL`, as the kernel says.
#[doc(alias = "EpollWait")]
#[doc(alias = "epoll_wait")]
#[inline]
pub fn epoll_pwait(
    epfd: impl AsFd,
    events: &mut [EpollEvent],
    timeout_ms: i32,
) -> Result<usize, Errno> {
    wait_into(epfd.as_fd(), events, WaitTimeout::Millis(timeout_ms), None)
}

/// [`epoll_pwait`] into a buffer that need not be initialised (so a large stack buffer costs
/// nothing to set up); returns the filled prefix.
#[inline]
pub fn epoll_pwait_uninit(
    epfd: impl AsFd,
    events: &mut [MaybeUninit<EpollEvent>],
    timeout_ms: i32,
) -> Result<&mut [EpollEvent], Errno> {
    wait_into_uninit(epfd.as_fd(), events, WaitTimeout::Millis(timeout_ms), None)
}

/// `epoll_pwait` with a signal mask installed for the duration of the wait.
#[inline]
pub fn epoll_pwait_sigmask(
    epfd: impl AsFd,
    events: &mut [EpollEvent],
    timeout_ms: i32,
    sigmask: &SigSet,
) -> Result<usize, Errno> {
    wait_into(
        epfd.as_fd(),
        events,
        WaitTimeout::Millis(timeout_ms),
        Some(sigmask),
    )
}

/// `epoll_pwait2(epfd, events, timeout, sigmask)` (Linux 5.11): `epoll_pwait` with a nanosecond
/// timeout; `None` blocks. `ENOSYS` on older kernels (and under qemu-user).
#[inline]
pub fn epoll_pwait2(
    epfd: impl AsFd,
    events: &mut [EpollEvent],
    timeout: Option<&Timespec>,
    sigmask: Option<&SigSet>,
) -> Result<usize, Errno> {
    wait_into(epfd.as_fd(), events, WaitTimeout::Precise(timeout), sigmask)
}

/// [`epoll_pwait2`] into a buffer that need not be initialised; returns the filled prefix.
#[inline]
pub fn epoll_pwait2_uninit<'a>(
    epfd: impl AsFd,
    events: &'a mut [MaybeUninit<EpollEvent>],
    timeout: Option<&Timespec>,
    sigmask: Option<&SigSet>,
) -> Result<&'a mut [EpollEvent], Errno> {
    wait_into_uninit(epfd.as_fd(), events, WaitTimeout::Precise(timeout), sigmask)
}

/// The fourth argument of the `epoll_pwait` family, which also picks the call.
enum WaitTimeout<'a> {
    /// `epoll_pwait`: milliseconds, < 0 blocks.
    Millis(i32),
    /// `epoll_pwait2`: a timespec, `None` blocks.
    Precise(Option<&'a Timespec>),
}

#[inline]
fn wait_into(
    epfd: BorrowedFd<'_>,
    events: &mut [EpollEvent],
    timeout: WaitTimeout<'_>,
    sigmask: Option<&SigSet>,
) -> Result<usize, Errno> {
    // SAFETY: the slice is valid for writes of its length.
    unsafe { wait_raw(epfd, events.as_mut_ptr(), events.len(), timeout, sigmask) }
}

#[inline]
fn wait_into_uninit<'a>(
    epfd: BorrowedFd<'_>,
    events: &'a mut [MaybeUninit<EpollEvent>],
    timeout: WaitTimeout<'_>,
    sigmask: Option<&SigSet>,
) -> Result<&'a mut [EpollEvent], Errno> {
    let buf = events.as_mut_ptr().cast::<EpollEvent>();
    // SAFETY: the slice is valid for writes of its length (MaybeUninit<T> has T's layout).
    let n = unsafe { wait_raw(epfd, buf, events.len(), timeout, sigmask)? };
    // SAFETY: the kernel initialised the first `n` entries, and `n <= events.len()`.
    Ok(unsafe { slice::from_raw_parts_mut(buf, n) })
}

/// The one system call behind the `epoll_pwait` family.
///
/// # Safety
///
/// `events` must be valid for writes of `len` entries.
#[inline]
unsafe fn wait_raw(
    epfd: BorrowedFd<'_>,
    events: *mut EpollEvent,
    len: usize,
    timeout: WaitTimeout<'_>,
    sigmask: Option<&SigSet>,
) -> Result<usize, Errno> {
    let max_events = len.min(MAX_EVENTS);
    let (num, timeout) = match timeout {
        WaitTimeout::Millis(ms) => (raw::SYS_EPOLL_PWAIT, ms as usize),
        WaitTimeout::Precise(t) => (
            raw::SYS_EPOLL_PWAIT2,
            t.map_or(ptr::null(), |t| t as *const Timespec) as usize,
        ),
    };
    let (mask, mask_size) = match sigmask {
        Some(set) => (set as *const SigSet as usize, raw::KERNEL_SIGSET_SIZE),
        None => (0, 0),
    };
    // SAFETY: the kernel writes at most `max_events <= len` entries at `events`, which the
    // caller vouches for; the timespec and the mask are null or live values it only reads.
    Errno::result(unsafe {
        syscall6(
            num,
            arg(epfd),
            events as usize,
            max_events,
            timeout,
            mask,
            mask_size,
        )
    })
}

/// `read(fd, buf)`: returns how many bytes were read.
#[doc(alias = "Read")]
#[inline]
pub fn read(fd: impl AsFd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    Errno::result(unsafe {
        syscall6(
            raw::SYS_READ,
            arg(fd.as_fd()),
            buf.as_mut_ptr() as usize,
            buf.len(),
            0,
            0,
            0,
        )
    })
}

/// `write(fd, buf)`: returns how many bytes were written.
#[doc(alias = "Write")]
#[inline]
pub fn write(fd: impl AsFd, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel reads at most `buf.len()` bytes from `buf`.
    Errno::result(unsafe {
        syscall6(
            raw::SYS_WRITE,
            arg(fd.as_fd()),
            buf.as_ptr() as usize,
            buf.len(),
            0,
            0,
            0,
        )
    })
}

/// `close(fd)`: closes a descriptor the caller owns and reports what `close` said.
///
/// Dropping an [`OwnedFd`] closes it too, ignoring the result. On Linux the descriptor is
/// released even when `close` fails (`EINTR`, `EIO`), so the number is never closed twice.
#[doc(alias = "Close")]
#[inline]
pub fn close(fd: OwnedFd) -> Result<(), Errno> {
    close_number(fd.into_raw_fd())
}

/// `pipe2(flags)`: returns `(read_end, write_end)`.
#[inline]
pub fn pipe2(flags: u32) -> Result<(OwnedFd, OwnedFd), Errno> {
    let mut fds: [i32; 2] = [-1, -1];
    // SAFETY: the kernel writes two ints into `fds`.
    Errno::result(unsafe {
        syscall6(
            raw::SYS_PIPE2,
            fds.as_mut_ptr() as usize,
            flags as usize,
            0,
            0,
            0,
            0,
        )
    })?;
    let [read_end, write_end] = fds;
    // SAFETY: pipe2 succeeded, so both numbers are new descriptors nothing else knows yet.
    Ok(unsafe {
        (
            OwnedFd::from_raw_fd(read_end),
            OwnedFd::from_raw_fd(write_end),
        )
    })
}

/// `dup3(old, new, flags)`: makes the descriptor `new` owns a copy of `old` (closing what it was
/// before), keeping its number. `flags` is 0 or `O_CLOEXEC` ([`crate::EPOLL_CLOEXEC`] has its
/// value); `EINVAL` if both are the same descriptor.
///
/// Only a descriptor the caller owns can be replaced, so safe code cannot swap another part of
/// the program's descriptor (a poller's epoll instance, say) for one of its own.
#[inline]
pub fn dup3(old: impl AsFd, new: &mut OwnedFd, flags: u32) -> Result<(), Errno> {
    // SAFETY: dup3 takes three integers and touches no memory; `new` is exclusively borrowed, so
    // nothing else uses its number while the kernel replaces what it refers to.
    Errno::result(unsafe {
        syscall6(
            raw::SYS_DUP3,
            arg(old.as_fd()),
            new.as_raw_fd() as usize,
            flags as usize,
            0,
            0,
            0,
        )
    })
    .map(|_| ())
}

//! Helpers shared by the host test files (each file uses some of them).
#![allow(dead_code)]

/// What an outside user of the public API needs to attack it (the `adversary/` tests): safe
/// code only.
#[deny(unsafe_code)]
pub mod adversary;
/// Fault injection into real system calls through seccomp user notification.
pub mod seccomp;

use rawpoll::{epoll_create1, epoll_pwait2, BorrowedFd, EpollEvent, Errno, RawFd, Timespec};
use std::sync::OnceLock;

/// An eventfd's counter, read without consuming it (`/proc/self/fdinfo` prints it in hex).
pub fn eventfd_count(fd: RawFd) -> u64 {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
    let line = info
        .lines()
        .find(|l| l.starts_with("eventfd-count:"))
        .unwrap();
    u64::from_str_radix(line["eventfd-count:".len()..].trim(), 16).unwrap()
}

/// Borrows a std descriptor (a `UnixStream`, a `File`, ...) as rawpoll's [`BorrowedFd`], which
/// without the `std` feature is rawpoll's own type (with it, std's: then this is `as_fd`).
pub fn fd_of<T: std::os::fd::AsRawFd>(owner: &T) -> BorrowedFd<'_> {
    // SAFETY: `owner` keeps the descriptor open for as long as it is borrowed, and the test that
    // owns it is entitled to use it.
    unsafe { BorrowedFd::borrow_raw(owner.as_raw_fd()) }
}

/// What `epoll_pwait2` answers on this kernel (or emulator), probed once: `Ok(0)` where it
/// exists, `Err(ENOSYS)` on kernels before 5.11 and under qemu-user (which does not implement
/// it). Any other answer fails the probe's caller.
pub fn epoll_pwait2_probe() -> Result<usize, Errno> {
    static PROBE: OnceLock<Result<usize, Errno>> = OnceLock::new();
    *PROBE.get_or_init(|| {
        let ep = epoll_create1(rawpoll::EPOLL_CLOEXEC).expect("epoll_create1");
        let mut events = [EpollEvent::zeroed(); 1];
        let r = epoll_pwait2(&ep, &mut events, Some(&Timespec::from_nanos(0)), None);
        assert!(
            r == Ok(0) || r == Err(Errno::ENOSYS),
            "epoll_pwait2 probe on an empty set: {r:?}"
        );
        r
    })
}

/// Whether this kernel (or emulator) has `epoll_pwait2`.
pub fn has_epoll_pwait2() -> bool {
    epoll_pwait2_probe().is_ok()
}

/// Whether the tests run under an emulator (`Cross.toml` sets `RAWPOLL_EMULATED=1`), where what
/// the kernel offers is what qemu-user implements, not what its version says.
pub fn emulated() -> bool {
    std::env::var_os("RAWPOLL_EMULATED").is_some()
}

/// Scales an iteration count down under emulation (qemu-user runs ~10-50x slower), by the factor
/// `RAWPOLL_EMULATED_SCALE` (default 10); unchanged on the host.
pub fn scaled(n: u64) -> u64 {
    if !emulated() {
        return n;
    }
    let factor = std::env::var("RAWPOLL_EMULATED_SCALE")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(10)
        .max(1);
    (n / factor).max(1)
}

/// An 8-byte write of `value` to eventfd number `fd` through the raw layer, for the tests that
/// act on a poller's own wake eventfd from outside (a poller's descriptors cannot be borrowed).
pub fn raw_eventfd_write(fd: RawFd, value: u64) -> Result<(), Errno> {
    let bytes = value.to_ne_bytes();
    // SAFETY: the kernel reads 8 bytes from `bytes`; `fd` is a number, and a closed one gives
    // EBADF.
    let r = unsafe {
        rawpoll::raw::syscall6(
            rawpoll::raw::SYS_WRITE,
            fd as usize,
            bytes.as_ptr() as usize,
            8,
            0,
            0,
            0,
        )
    };
    Errno::result(r).map(|_| ())
}

/// An 8-byte read of eventfd number `fd` through the raw layer (see [`raw_eventfd_write`]).
pub fn raw_eventfd_read(fd: RawFd) -> Result<u64, Errno> {
    let mut bytes = [0u8; 8];
    // SAFETY: the kernel writes at most 8 bytes into `bytes`.
    let r = unsafe {
        rawpoll::raw::syscall6(
            rawpoll::raw::SYS_READ,
            fd as usize,
            bytes.as_mut_ptr() as usize,
            8,
            0,
            0,
            0,
        )
    };
    Errno::result(r).map(|_| u64::from_ne_bytes(bytes))
}

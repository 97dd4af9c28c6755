//! `Errno`: the error every fallible call returns.

use crate::arch;
use core::fmt;

/// A Linux error number, as the kernel returned it (always positive, below 4096).
///
/// Values 1 to 34 are the same on every Linux architecture; the rest differ (MIPS and SPARC number
/// them their own way), and the constants here carry the value of the architecture being built.
/// `Debug` and `Display` both print the name and the number, e.g. `EBADF (9)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Errno(u16);

impl Errno {
    /// Operation not permitted.
    pub const EPERM: Errno = Errno(1);
    /// No such file or directory.
    pub const ENOENT: Errno = Errno(2);
    /// No such process.
    pub const ESRCH: Errno = Errno(3);
    /// Interrupted system call.
    pub const EINTR: Errno = Errno(4);
    /// Input/output error.
    pub const EIO: Errno = Errno(5);
    /// Bad file descriptor.
    pub const EBADF: Errno = Errno(9);
    /// No child processes.
    pub const ECHILD: Errno = Errno(10);
    /// Try again (also `EWOULDBLOCK`).
    pub const EAGAIN: Errno = Errno(11);
    /// Out of memory.
    pub const ENOMEM: Errno = Errno(12);
    /// Permission denied.
    pub const EACCES: Errno = Errno(13);
    /// Bad address.
    pub const EFAULT: Errno = Errno(14);
    /// Device or resource busy.
    pub const EBUSY: Errno = Errno(16);
    /// File exists.
    pub const EEXIST: Errno = Errno(17);
    /// Invalid argument.
    pub const EINVAL: Errno = Errno(22);
    /// Too many open files in the system.
    pub const ENFILE: Errno = Errno(23);
    /// Too many open files in this process.
    pub const EMFILE: Errno = Errno(24);
    /// No space left (also: an epoll watch limit reached).
    pub const ENOSPC: Errno = Errno(28);
    /// Broken pipe.
    pub const EPIPE: Errno = Errno(32);
    /// Function not implemented: 38, or 89 on MIPS, 90 on SPARC.
    pub const ENOSYS: Errno = Errno(arch::ENOSYS);
    /// Too many symbolic links: 40, or 90 on MIPS, 62 on SPARC.
    pub const ELOOP: Errno = Errno(arch::ELOOP);
    /// Timed out: 110, or 145 on MIPS, 60 on SPARC.
    pub const ETIMEDOUT: Errno = Errno(arch::ETIMEDOUT);
    /// Operation canceled: 125, or 158 on MIPS, 127 on SPARC.
    pub const ECANCELED: Errno = Errno(arch::ECANCELED);

    /// The errors this crate names, with their names.
    const NAMES: [(Errno, &'static str); 22] = [
        (Errno::EPERM, "EPERM"),
        (Errno::ENOENT, "ENOENT"),
        (Errno::ESRCH, "ESRCH"),
        (Errno::EINTR, "EINTR"),
        (Errno::EIO, "EIO"),
        (Errno::EBADF, "EBADF"),
        (Errno::ECHILD, "ECHILD"),
        (Errno::EAGAIN, "EAGAIN"),
        (Errno::ENOMEM, "ENOMEM"),
        (Errno::EACCES, "EACCES"),
        (Errno::EFAULT, "EFAULT"),
        (Errno::EBUSY, "EBUSY"),
        (Errno::EEXIST, "EEXIST"),
        (Errno::EINVAL, "EINVAL"),
        (Errno::ENFILE, "ENFILE"),
        (Errno::EMFILE, "EMFILE"),
        (Errno::ENOSPC, "ENOSPC"),
        (Errno::EPIPE, "EPIPE"),
        (Errno::ENOSYS, "ENOSYS"),
        (Errno::ELOOP, "ELOOP"),
        (Errno::ETIMEDOUT, "ETIMEDOUT"),
        (Errno::ECANCELED, "ECANCELED"),
    ];

    /// The error with number `raw`, as returned by the kernel or by [`crate::raw::syscall6`].
    pub const fn from_raw(raw: u16) -> Errno {
        Errno(raw)
    }

    /// The error number.
    pub const fn raw(self) -> u16 {
        self.0
    }

    /// The symbolic name, for the errors this crate names; `None` for the others.
    pub fn name(self) -> Option<&'static str> {
        Errno::NAMES
            .iter()
            .find(|(errno, _)| *errno == self)
            .map(|(_, name)| *name)
    }

    /// Turns a [`crate::raw::syscall6`] pair `(r1, errno)` into a `Result`: `Ok(r1)` when
    /// `errno` is 0.
    #[inline(always)]
    pub fn result((r1, errno): (usize, usize)) -> Result<usize, Errno> {
        if errno == 0 {
            Ok(r1)
        } else {
            // Kernel errors are below 4096, so the conversion never truncates.
            Err(Errno(errno as u16))
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({})", name, self.0),
            None => write!(f, "errno {}", self.0),
        }
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl core::error::Error for Errno {}

/// With the `std` feature: an [`Errno`] as the `std::io::Error` of the same number, so `?` works
/// in std code and `raw_os_error()` gives the number back (MIPS numbers included: std reads them
/// with the target's own libc).
#[cfg(feature = "std")]
impl From<Errno> for std::io::Error {
    fn from(errno: Errno) -> std::io::Error {
        std::io::Error::from_raw_os_error(i32::from(errno.raw()))
    }
}

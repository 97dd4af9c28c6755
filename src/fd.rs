//! File descriptors that own or borrow what they name (Rust's I/O safety, RFC 3128).
//!
//! Every safe function of rawpoll that acts on a descriptor takes it as [`AsFd`] (a
//! [`BorrowedFd`] for the length of the call) and every one that creates a descriptor returns an
//! [`OwnedFd`], which closes it when dropped. Turning a bare number into either is `unsafe`
//! ([`BorrowedFd::borrow_raw`], [`FromRawFd::from_raw_fd`]): that is where a program promises
//! that the number is open and that it may use it. Safe code therefore cannot close, replace or
//! register a descriptor it was not given, the netpoller's own ones included.
//!
//! With the `std` feature these are `std::os::fd`'s own types and traits, re-exported, so a
//! `UnixStream`, `TcpListener`, `File` or an `OwnedFd` from any other crate can be passed
//! straight in. Without it rawpoll defines them itself, with the same names, shapes and rules
//! (`#[repr(transparent)]` over the descriptor number); only std's niche for `-1` is missing, so
//! `Option<OwnedFd>` is 8 bytes rather than 4 there.

use crate::errno::Errno;
use crate::raw::{self, syscall6};

/// A file descriptor number, as the kernel and Go's runtime (`int32`) see it. Holding one
/// grants nothing: see [`BorrowedFd`] and [`OwnedFd`].
pub type RawFd = i32;

/// The `close` system call on a number whose ownership the caller has given up: for
/// [`crate::close`], for [`OwnedFd`]'s `Drop` (without the `std` feature), and for descriptors
/// kept as bare numbers.
#[inline]
pub(crate) fn close_number(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: close takes one integer and touches no memory; the callers own `fd` and give it up.
    Errno::result(unsafe { syscall6(raw::SYS_CLOSE, fd as usize, 0, 0, 0, 0, 0) }).map(|_| ())
}

#[cfg(feature = "std")]
pub use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};

#[cfg(not(feature = "std"))]
pub use own::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};

#[cfg(not(feature = "std"))]
mod own {
    use super::{close_number, RawFd};
    use core::fmt;
    use core::marker::PhantomData;
    use core::mem::ManuallyDrop;

    /// An open file descriptor that this value owns: it is closed when the value is dropped.
    ///
    /// The same shape and guarantees as `std::os::fd::OwnedFd` (which it is, with the `std`
    /// feature): while an `OwnedFd` lives, nothing else closes its descriptor.
    #[repr(transparent)]
    pub struct OwnedFd {
        fd: RawFd,
    }

    /// A borrowed file descriptor: open for at least the lifetime `'fd`, and not closed by
    /// whoever holds the borrow.
    ///
    /// The same shape and guarantees as `std::os::fd::BorrowedFd` (which it is, with the `std`
    /// feature).
    #[derive(Clone, Copy)]
    #[repr(transparent)]
    pub struct BorrowedFd<'fd> {
        fd: RawFd,
        _borrows: PhantomData<&'fd OwnedFd>,
    }

    impl BorrowedFd<'_> {
        /// Borrows descriptor `fd` for `'fd`.
        ///
        /// # Safety
        ///
        /// `fd` must be open, and stay open (not closed, not replaced with `dup3`) for the
        /// whole lifetime of the result, and the caller must be entitled to use it: it must not
        /// be a descriptor some other code owns privately (a poller's epoll instance, say).
        /// `-1` is never valid.
        #[inline]
        pub const unsafe fn borrow_raw(fd: RawFd) -> Self {
            BorrowedFd {
                fd,
                _borrows: PhantomData,
            }
        }
    }

    impl Drop for OwnedFd {
        /// Closes the descriptor; an error from `close` is ignored (use [`crate::close`] to
        /// see it).
        #[inline]
        fn drop(&mut self) {
            let _ = close_number(self.fd);
        }
    }

    /// Borrows a descriptor, as `std::os::fd::AsFd`.
    pub trait AsFd {
        /// Borrows the descriptor for as long as `self` is borrowed.
        fn as_fd(&self) -> BorrowedFd<'_>;
    }

    /// The number of a descriptor, as `std::os::fd::AsRawFd`. Knowing it grants nothing.
    pub trait AsRawFd {
        /// The descriptor number.
        fn as_raw_fd(&self) -> RawFd;
    }

    /// Takes ownership of a descriptor number, as `std::os::fd::FromRawFd`.
    pub trait FromRawFd {
        /// Wraps `fd`, which the result then owns and closes.
        ///
        /// # Safety
        ///
        /// `fd` must be open and owned by the caller, who gives that ownership up: nothing else
        /// may close it or use it after the result is dropped.
        unsafe fn from_raw_fd(fd: RawFd) -> Self;
    }

    /// Gives up ownership of a descriptor, as `std::os::fd::IntoRawFd`.
    pub trait IntoRawFd {
        /// Returns the number without closing it; the caller now owns the descriptor.
        fn into_raw_fd(self) -> RawFd;
    }

    impl AsFd for OwnedFd {
        #[inline]
        fn as_fd(&self) -> BorrowedFd<'_> {
            // SAFETY: the descriptor is open and owned by `self`, which the borrow outlives not.
            unsafe { BorrowedFd::borrow_raw(self.fd) }
        }
    }

    impl AsFd for BorrowedFd<'_> {
        #[inline]
        fn as_fd(&self) -> BorrowedFd<'_> {
            *self
        }
    }

    impl<T: AsFd + ?Sized> AsFd for &T {
        #[inline]
        fn as_fd(&self) -> BorrowedFd<'_> {
            T::as_fd(self)
        }
    }

    impl<T: AsFd + ?Sized> AsFd for &mut T {
        #[inline]
        fn as_fd(&self) -> BorrowedFd<'_> {
            T::as_fd(self)
        }
    }

    impl AsRawFd for OwnedFd {
        #[inline]
        fn as_raw_fd(&self) -> RawFd {
            self.fd
        }
    }

    impl AsRawFd for BorrowedFd<'_> {
        #[inline]
        fn as_raw_fd(&self) -> RawFd {
            self.fd
        }
    }

    impl FromRawFd for OwnedFd {
        #[inline]
        unsafe fn from_raw_fd(fd: RawFd) -> Self {
            OwnedFd { fd }
        }
    }

    impl IntoRawFd for OwnedFd {
        #[inline]
        fn into_raw_fd(self) -> RawFd {
            ManuallyDrop::new(self).fd
        }
    }

    impl fmt::Debug for OwnedFd {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("OwnedFd").field("fd", &self.fd).finish()
        }
    }

    impl fmt::Debug for BorrowedFd<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("BorrowedFd").field("fd", &self.fd).finish()
        }
    }
}

//! The raw layer's error cases, as one table: bad pointers (`EFAULT`), unassigned system-call
//! numbers (`ENOSYS`) and invalid descriptors (`EBADF`), each with the error it must give, so
//! that bad input to a stub is an errno on every target, never a crash.
//!
//! Shared by the host test (`tests/raw/errors.rs`, with std) and the freestanding `hardening`
//! runner (`tests/freestanding/src/hardening.rs`, no std, on every target), which include this
//! file by `#[path]`: it uses `core` and `rawpoll` only and allocates nothing. Each side keeps
//! only its runner: make the calls in order, compare with [`RawCase::want`].

use rawpoll::netpoll::{Netpoll, PollDesc};
use rawpoll::raw;
use rawpoll::{
    epoll_create1, epoll_ctl, eventfd, AsFd, AsRawFd, EpollEvent, Errno, OwnedFd, EFD_CLOEXEC,
    EFD_NONBLOCK, EPOLLIN, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL,
};

/// Page 0 is never mapped for user code.
pub const BAD: usize = 8;

/// What the calls are made on ([`Scratch::inputs`]); the runner keeps the descriptors open and
/// the scratch memory alive while the cases run.
pub struct Inputs {
    /// An eventfd holding a non-zero count, registered for `EPOLLIN` (level-triggered) on `ep`:
    /// `epoll_pwait` has an event to copy out, and `read` gets past its `EAGAIN` to the copy.
    pub efd: usize,
    /// An epoll descriptor.
    pub ep: usize,
    /// A descriptor number that is not open.
    pub closed: usize,
    /// The address of 8 writable bytes.
    pub buf: usize,
    /// The address of one writable `EpollEvent`.
    pub events: usize,
    /// The address of one valid `EpollEvent`.
    pub event: usize,
}

/// The descriptors the cases run on, `(eventfd, epoll)`: the eventfd holds 1 and is registered
/// for `EPOLLIN` (level-triggered) on the epoll descriptor.
pub fn open() -> Result<(OwnedFd, OwnedFd), Errno> {
    let efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK)?;
    let ep = epoll_create1(EPOLL_CLOEXEC)?;
    epoll_ctl(&ep, EPOLL_CTL_ADD, &efd, Some(&EpollEvent::new(EPOLLIN, 1)))?;
    Ok((efd, ep))
}

/// The memory the cases read from and write into; it must outlive the [`Inputs`] it gives.
pub struct Scratch {
    buf: [u8; 8],
    events: [EpollEvent; 1],
    event: EpollEvent,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            buf: [0; 8],
            events: [EpollEvent::zeroed(); 1],
            event: EpollEvent::new(EPOLLIN, 0),
        }
    }

    /// The inputs for descriptors from [`open`] and a number `closed` that is not open.
    pub fn inputs(&mut self, efd: &OwnedFd, ep: &OwnedFd, closed: usize) -> Inputs {
        Inputs {
            efd: efd.as_raw_fd() as usize,
            ep: ep.as_raw_fd() as usize,
            closed,
            buf: self.buf.as_mut_ptr() as usize,
            events: self.events.as_mut_ptr() as usize,
            event: &self.event as *const EpollEvent as usize,
        }
    }
}

/// One raw call and the error it must give.
pub struct RawCase {
    pub name: &'static str,
    /// The system-call number, then its six arguments.
    pub call: [usize; 7],
    pub want: Errno,
}

impl RawCase {
    /// Makes the call: `(usize::MAX, errno)` on an error, as `syscall6` returns it.
    ///
    /// # Safety
    ///
    /// `self` comes from [`cases`] with inputs that are what [`Inputs`] says.
    pub unsafe fn call(&self) -> (usize, usize) {
        let [num, a1, a2, a3, a4, a5, a6] = self.call;
        // SAFETY: every call in [`cases`] gets a bad address the kernel checks and refuses, an
        // invalid descriptor, or an unassigned number; none writes memory of this process except
        // into `buf` and `events`, which are large enough (the caller's promise).
        unsafe { raw::syscall6(num, a1, a2, a3, a4, a5, a6) }
    }

    /// What [`RawCase::call`] must return.
    pub fn expected(&self) -> (usize, usize) {
        (usize::MAX, self.want.raw() as usize)
    }
}

/// How many cases [`cases`] returns.
pub const CASES: usize = 20;

/// The cases, in the order they must run: the read into page 0 consumes the eventfd's count
/// (the kernel resets it before the copy fails), so it comes after the calls that need the
/// eventfd readable.
#[rustfmt::skip]
pub fn cases(i: &Inputs) -> [RawCase; CASES] {
    let (efd, ep, closed, buf, events, event) = (i.efd, i.ep, i.closed, i.buf, i.events, i.event);
    let (add, del) = (EPOLL_CTL_ADD as usize, EPOLL_CTL_DEL as usize);
    let nofile = raw::RLIMIT_NOFILE as usize;
    let unknown = raw::SYS_EPOLL_PWAIT2;
    [
        // + 150, not + 100: x32's 441 + 100 is its own setsockopt (541).
        RawCase { name: "unknown number (epoll_pwait2 + 150) -> ENOSYS",
                  call: [unknown + 150, 0, 0, 0, 0, 0, 0], want: Errno::ENOSYS },
        RawCase { name: "unknown number (epoll_pwait2 + 300), junk args -> ENOSYS",
                  call: [unknown + 300, 1, 2, 3, 4, 5, 6], want: Errno::ENOSYS },
        RawCase { name: "unknown number (epoll_pwait2 + 500) -> ENOSYS",
                  call: [unknown + 500, 0, 0, 0, 0, 0, 0], want: Errno::ENOSYS },
        RawCase { name: "write from page 0 -> EFAULT",
                  call: [raw::SYS_WRITE, efd, BAD, 8, 0, 0, 0], want: Errno::EFAULT },
        RawCase { name: "pipe2 into page 0 -> EFAULT",
                  call: [raw::SYS_PIPE2, BAD, 0, 0, 0, 0, 0], want: Errno::EFAULT },
        RawCase { name: "epoll_ctl ADD, event at page 0 -> EFAULT",
                  call: [raw::SYS_EPOLL_CTL, ep, add, 0, BAD, 0, 0], want: Errno::EFAULT },
        RawCase { name: "epoll_pwait, events at page 0, one ready -> EFAULT",
                  call: [raw::SYS_EPOLL_PWAIT, ep, BAD, 1, 0, 0, 0], want: Errno::EFAULT },
        RawCase { name: "read into page 0 -> EFAULT",
                  call: [raw::SYS_READ, efd, BAD, 8, 0, 0, 0], want: Errno::EFAULT },
        RawCase { name: "prlimit64 RLIMIT_NOFILE, old limit into page 0 -> EFAULT",
                  call: [raw::SYS_PRLIMIT64, 0, nofile, 0, BAD, 0, 0], want: Errno::EFAULT },
        RawCase { name: "prlimit64 RLIMIT_NOFILE, new limit from page 0 -> EFAULT",
                  call: [raw::SYS_PRLIMIT64, 0, nofile, BAD, 0, 0, 0], want: Errno::EFAULT },
        RawCase { name: "read(-1) -> EBADF",
                  call: [raw::SYS_READ, usize::MAX, buf, 8, 0, 0, 0], want: Errno::EBADF },
        RawCase { name: "read(closed) -> EBADF",
                  call: [raw::SYS_READ, closed, buf, 8, 0, 0, 0], want: Errno::EBADF },
        RawCase { name: "write(-1) -> EBADF",
                  call: [raw::SYS_WRITE, usize::MAX, buf, 8, 0, 0, 0], want: Errno::EBADF },
        RawCase { name: "write(closed) -> EBADF",
                  call: [raw::SYS_WRITE, closed, buf, 8, 0, 0, 0], want: Errno::EBADF },
        RawCase { name: "close(closed) -> EBADF",
                  call: [raw::SYS_CLOSE, closed, 0, 0, 0, 0, 0], want: Errno::EBADF },
        RawCase { name: "dup3(closed, 50) -> EBADF",
                  call: [raw::SYS_DUP3, closed, 50, 0, 0, 0, 0], want: Errno::EBADF },
        RawCase { name: "fcntl(closed, F_GETFD) -> EBADF",
                  call: [raw::SYS_FCNTL, closed, 1, 0, 0, 0, 0], want: Errno::EBADF },
        RawCase { name: "epoll_ctl on a closed epfd -> EBADF",
                  call: [raw::SYS_EPOLL_CTL, closed, del, efd, 0, 0, 0], want: Errno::EBADF },
        RawCase { name: "epoll_ctl ADD of a closed fd -> EBADF",
                  call: [raw::SYS_EPOLL_CTL, ep, add, closed, event, 0, 0], want: Errno::EBADF },
        RawCase { name: "epoll_pwait on a closed epfd -> EBADF",
                  call: [raw::SYS_EPOLL_PWAIT, closed, events, 1, 0, 0, 0], want: Errno::EBADF },
    ]
}

/// An uninitialised (or torn-down) poller's answers, each of which must be `EBADF`: its calls
/// fail cleanly, never touching a descriptor number it does not hold.
pub fn uninitialised(
    np: &Netpoll,
    fd: impl AsFd + Copy,
    pd: &'static PollDesc,
) -> [(&'static str, Result<usize, Errno>); 6] {
    [
        (
            "uninitialised Netpoll: open -> EBADF",
            np.open(fd, pd).map(|_| 0),
        ),
        (
            "uninitialised Netpoll: close -> EBADF",
            np.close(fd).map(|_| 0),
        ),
        ("uninitialised Netpoll: wake -> EBADF", np.wake().map(|_| 0)),
        (
            "uninitialised Netpoll: poll(0) -> EBADF",
            np.poll(0, |_, _, _| {}),
        ),
        (
            "uninitialised Netpoll: poll(-1) -> EBADF",
            np.poll(-1, |_, _, _| {}),
        ),
        (
            "uninitialised Netpoll: poll(1 ms) -> EBADF",
            np.poll(1_000_000, |_, _, _| {}),
        ),
    ]
}

//! Go's netpoller wake scheme (`runtime/netpoll_epoll.go`), written with the libc crate: the
//! peer that rawpoll's sleeper-aware wake is measured against.
//!
//! - The eventfd is registered level-triggered (`EPOLLIN`), so it stays ready until it is read.
//! - `netpollBreak` ([`GoNetpoll::wake`]): only the wake that swaps the flag from 0 to 1
//!   writes; `EINTR` is retried and `EAGAIN` (the counter is full) means a wake is pending.
//! - `netpoll(delay)` ([`GoNetpoll::poll`]): on the eventfd's event, a blocking poll reads the
//!   counter back and clears the flag; a non-blocking poll leaves both, so that the blocking
//!   poll still sees the level-triggered event.
//!
//! So a delivered wake costs three system calls: `write`, the `epoll_wait` it ends, and `read`.
//! [`GoNetpoll::has_sleeper`] is the scheduler's `sched.lastpoll == 0`, kept here around the
//! blocking wait.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};

/// The event data of the eventfd; descriptors use their index + 1.
const WAKE_DATA: u64 = 0;

/// Events per `epoll_wait`, as Go.
const EVENTS: usize = 128;

/// An epoll set with Go's wake eventfd.
pub struct GoNetpoll {
    epfd: OwnedFd,
    efd: OwnedFd,
    /// Go's `netpollWakeSig`.
    wake_sig: AtomicU32,
    /// Threads in a blocking wait (Go's `sched.lastpoll == 0`).
    sleepers: AtomicU32,
}

impl GoNetpoll {
    /// Go's `netpollinit`.
    pub fn new() -> GoNetpoll {
        // SAFETY: plain FFI calls; each result is checked before it is owned.
        unsafe {
            let epfd = libc::epoll_create1(libc::EPOLL_CLOEXEC);
            let efd = libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK);
            assert!(epfd >= 0 && efd >= 0, "epoll_create1/eventfd");
            let poller = GoNetpoll {
                epfd: OwnedFd::from_raw_fd(epfd),
                efd: OwnedFd::from_raw_fd(efd),
                wake_sig: AtomicU32::new(0),
                sleepers: AtomicU32::new(0),
            };
            poller.ctl(efd, libc::EPOLLIN as u32, WAKE_DATA);
            poller
        }
    }

    fn ctl(&self, fd: RawFd, events: u32, data: u64) {
        let mut event = libc::epoll_event { events, u64: data };
        // SAFETY: plain FFI call; the kernel reads `event`.
        let r =
            unsafe { libc::epoll_ctl(self.epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) };
        assert_eq!(r, 0, "epoll_ctl ADD");
    }

    /// Registers `fd` edge-triggered for reading (`EPOLLIN | EPOLLRDHUP | EPOLLET`); its
    /// events are reported as `index`.
    pub fn open_readable(&self, fd: RawFd, index: usize) {
        let events = libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLET;
        self.ctl(fd, events as u32, index as u64 + 1);
    }

    /// Go's `netpollBreak`.
    pub fn wake(&self) {
        if self
            .wake_sig
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return;
        }
        let one = 1u64.to_ne_bytes();
        loop {
            // SAFETY: the kernel reads 8 bytes from `one`.
            let n = unsafe { libc::write(self.efd.as_raw_fd(), one.as_ptr().cast(), 8) };
            if n == 8 {
                return;
            }
            match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => return,
                e => panic!("netpollBreak: write failed: {e:?}"),
            }
        }
    }

    /// Whether a thread is in a blocking [`GoNetpoll::poll`] (Go's `sched.lastpoll == 0`).
    pub fn has_sleeper(&self) -> bool {
        self.sleepers.load(Ordering::SeqCst) != 0
    }

    /// Go's `netpoll(delay)`: calls `ready(index, events)` for each descriptor event and
    /// returns how many there were.
    pub fn poll(&self, delay_ns: i64, mut ready: impl FnMut(usize, u32)) -> usize {
        let timeout = rawpoll::netpoll::delay_to_timeout_ms(delay_ns);
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; EVENTS];
        if delay_ns != 0 {
            self.sleepers.fetch_add(1, Ordering::SeqCst);
        }
        let n = loop {
            // SAFETY: the kernel writes at most EVENTS entries into `events`.
            let n = unsafe {
                libc::epoll_wait(
                    self.epfd.as_raw_fd(),
                    events.as_mut_ptr(),
                    EVENTS as i32,
                    timeout,
                )
            };
            if n >= 0 {
                break n as usize;
            }
            let e = std::io::Error::last_os_error().raw_os_error();
            assert_eq!(e, Some(libc::EINTR), "epoll_wait");
            if timeout > 0 {
                break 0;
            }
        };
        if delay_ns != 0 {
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
        let mut reported = 0;
        for event in &events[..n] {
            let (bits, data) = (event.events, event.u64);
            if bits == 0 {
                continue;
            }
            if data == WAKE_DATA {
                if delay_ns != 0 {
                    let mut value = [0u8; 8];
                    // SAFETY: the kernel writes 8 bytes into `value`.
                    unsafe { libc::read(self.efd.as_raw_fd(), value.as_mut_ptr().cast(), 8) };
                    self.wake_sig.store(0, Ordering::SeqCst);
                }
                continue;
            }
            ready(data as usize - 1, bits);
            reported += 1;
        }
        reported
    }
}

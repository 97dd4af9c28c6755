//! Same-thread wake cycles (metrics 3 and 5): wake the poller, then a blocking poll returns the
//! wake and leaves the poller ready to block again. One constructor per peer, each returning a
//! closure that runs one cycle.

use rawpoll::netpoll::Netpoll;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Peers of the wake cycle, in table order.
pub const PEERS: [&str; 4] = ["rawpoll", "glibc", "mio", "polling"];

/// One wake cycle through `peer`, as a closure.
pub fn cycle(peer: &str) -> Box<dyn FnMut()> {
    match peer {
        "rawpoll" => {
            let np = Netpoll::new();
            np.init().expect("init");
            Box::new(move || {
                np.wake().expect("wake");
                np.poll(-1, |_, _, _| {}).expect("poll");
            })
        }
        "glibc" => {
            let bare = LibcWake::new();
            Box::new(move || {
                bare.wake();
                bare.wait();
            })
        }
        "mio" => {
            let mut poll = mio::Poll::new().expect("Poll");
            let waker = mio::Waker::new(poll.registry(), mio::Token(1)).expect("Waker");
            let mut events = mio::Events::with_capacity(128);
            Box::new(move || {
                waker.wake().expect("wake");
                poll.poll(&mut events, None).expect("poll");
                assert!(!events.is_empty());
            })
        }
        "polling" => {
            let poller = polling::Poller::new().expect("Poller");
            let mut events = polling::Events::with_capacity(128.try_into().expect("128"));
            Box::new(move || {
                poller.notify().expect("notify");
                events.clear();
                poller.wait(&mut events, None).expect("wait");
            })
        }
        _ => panic!("unknown wake peer {peer}"),
    }
}

/// Go's wake written directly with the libc crate: an eventfd registered level-triggered in an
/// epoll set; wake writes 1, the waiter waits then reads the counter back to 0.
pub struct LibcWake {
    epfd: OwnedFd,
    efd: OwnedFd,
}

impl LibcWake {
    /// A new epoll set with its eventfd.
    pub fn new() -> LibcWake {
        // SAFETY: plain FFI calls; each result is checked before it is owned.
        unsafe {
            let epfd = libc::epoll_create1(libc::EPOLL_CLOEXEC);
            let efd = libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK);
            assert!(epfd >= 0 && efd >= 0);
            let mut event = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: 0,
            };
            assert_eq!(
                libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, efd, &mut event),
                0
            );
            LibcWake {
                epfd: OwnedFd::from_raw_fd(epfd),
                efd: OwnedFd::from_raw_fd(efd),
            }
        }
    }

    /// Writes 1 to the eventfd.
    pub fn wake(&self) {
        // SAFETY: plain FFI call on an open eventfd.
        let r = unsafe { libc::eventfd_write(self.efd.as_raw_fd(), 1) };
        assert_eq!(r, 0);
    }

    /// Blocks until the eventfd is readable, then drains it.
    pub fn wait(&self) {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 128];
        loop {
            // SAFETY: the kernel writes at most 128 entries into `events`.
            let n =
                unsafe { libc::epoll_wait(self.epfd.as_raw_fd(), events.as_mut_ptr(), 128, -1) };
            if n > 0 {
                break;
            }
        }
        let mut value = 0;
        // SAFETY: glibc writes 8 bytes into `value`.
        unsafe { libc::eventfd_read(self.efd.as_raw_fd(), &mut value) };
    }
}

/// `wake PEER N`: N cycles, for `strace -c -f` (ci/bench runs N and 2N and takes the
/// difference, so set-up system calls cancel).
pub fn run_cycles(peer: &str, n: &str) -> i32 {
    let Ok(n) = n.parse::<u64>() else {
        eprintln!("wake: bad count {n}");
        return 2;
    };
    if !PEERS.contains(&peer) {
        eprintln!("wake: unknown peer {peer} (one of {PEERS:?})");
        return 2;
    }
    let mut one = cycle(peer);
    for _ in 0..n {
        one();
    }
    0
}

//! Same-thread wake cycles (metrics 3 and 5): wake the poller, then a blocking poll returns the
//! wake and leaves the poller ready to block again. One constructor per peer, each returning a
//! closure that runs one cycle.

use crate::netpoll_go::GoNetpoll;
use rawpoll::netpoll::Netpoll;

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

/// Go's wake scheme written with the libc crate ([`GoNetpoll`]): `netpollBreak` writes the
/// level-triggered eventfd, the blocking `netpoll` it ends reads it back.
pub struct LibcWake(GoNetpoll);

impl LibcWake {
    /// A new epoll set with its eventfd.
    pub fn new() -> LibcWake {
        LibcWake(GoNetpoll::new())
    }

    /// Go's `netpollBreak`.
    pub fn wake(&self) {
        self.0.wake();
    }

    /// Blocks until a wake arrives (Go's `netpoll(-1)`, which reads the eventfd back).
    pub fn wait(&self) {
        self.0.poll(-1, |_, _| {});
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

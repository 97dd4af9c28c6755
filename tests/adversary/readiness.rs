//! What a task and its waker can do to the readiness layer (`PollDesc::poll_ready` and the
//! deliveries of `Netpoll::poll_wake` / `PollDesc::set_ready`), seen from outside.
//!
//! A test binary of its own, as every file of `adversary/`; its cases could share a process.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
#[path = "../common/mod.rs"]
mod common;

use adversary::{leak_pd, poller, Pipe};
use common::adversary;
use rawpoll::netpoll::{Direction, PollDesc, Ready};
use rawpoll::{Errno, EPOLLIN};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A waker that counts its wakes.
#[derive(Default)]
struct Counter {
    wakes: AtomicUsize,
}

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> (Arc<Counter>, Waker) {
    let c = Arc::new(Counter::default());
    (c.clone(), Waker::from(c))
}

fn poll(pd: &PollDesc, dir: Direction, waker: &Waker) -> Poll<Result<(), Errno>> {
    pd.poll_ready(dir, &mut Context::from_waker(waker))
}

#[test]
fn an_edge_from_poll_wake_wakes_the_registered_task_once_and_stays_latched() {
    let np = poller();
    let pd = leak_pd(1);
    let pipe = Pipe::new();
    np.open(&pipe.r, pd).unwrap();
    // The registration's first edge (the pipe is writable but this is its read end: none).
    assert_eq!(np.poll_wake(0), Ok(0));
    let (count, waker) = counter();
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Pending);
    pipe.fill();
    assert_eq!(np.poll_wake(-1), Ok(1));
    assert_eq!(count.wakes.load(Ordering::SeqCst), 1);
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Ready(Ok(())));
    assert_eq!(pipe.drain(), 1);
    pd.clear_ready(Direction::Read);
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Pending);
    pd.unblock();
    assert_eq!(count.wakes.load(Ordering::SeqCst), 2);
    assert_eq!(
        poll(pd, Direction::Read, &waker),
        Poll::Ready(Err(Errno::ECANCELED))
    );
    let tag = pd.tag();
    pd.bump_sequence();
    assert!(!pd.set_ready(Ready::from_events(EPOLLIN), tag));
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Pending);
}

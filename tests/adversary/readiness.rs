//! What a task and its waker can do to the readiness layer (`PollDesc::poll_ready`,
//! `clear_ready`, `unblock`, `expire`, and the deliveries of `Netpoll::poll_wake` and
//! `PollDesc::set_ready`), seen from outside.
//!
//! The promises under test: an edge delivered for the current registration is never lost (it is
//! latched and the next `poll_ready` sees it, or it woke the registered task); a reused
//! descriptor never sees its predecessor's readiness, closing or deadline, and its task is never
//! woken by its predecessor's edge; `unblock` and `expire` wake every waiter of their
//! directions; and a waker that panics, calls back into the descriptor or takes its time leaves
//! the descriptor as a normal wake would, holding nobody up.
//!
//! The test bodies use the public API only and no `unsafe`. No time is asserted: a return that
//! must come is given [`DEADLINE`], and order is checked with flags. The racing cases' counts
//! are divided by `RAWPOLL_EMULATED_SCALE` (default 10) under emulation.
//!
//! A test binary of its own, as every file of `adversary/`; its cases could share a process.
#![deny(unsafe_code)]

#[allow(unsafe_code)]
#[path = "../common/mod.rs"]
mod common;

use adversary::{leak_pd, poller, Pipe, DEADLINE};
use common::{adversary, scaled};
use rawpoll::netpoll::{Direction, Netpoll, PollDesc, Ready};
use rawpoll::{Errno, OwnedFd, EFD_CLOEXEC, EFD_NONBLOCK, EPOLLIN, EPOLLOUT};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Instant;

/// What the panicking wakers panic with.
const BOOM: &str = "waker panics on purpose";

/// A waker that counts its wakes, and panics in them if asked to.
#[derive(Default)]
struct Counter {
    wakes: AtomicUsize,
    panics: AtomicBool,
}

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        if self.panics.load(Ordering::SeqCst) {
            panic!("{BOOM}");
        }
    }
}

impl Counter {
    fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

fn counter() -> (Arc<Counter>, Waker) {
    let c = Arc::new(Counter::default());
    (c.clone(), Waker::from(c))
}

fn poll(pd: &PollDesc, dir: Direction, waker: &Waker) -> Poll<Result<(), Errno>> {
    pd.poll_ready(dir, &mut Context::from_waker(waker))
}

const READABLE: Ready = Ready::from_events(EPOLLIN);
const WRITABLE: Ready = Ready::from_events(EPOLLOUT);

/// A non-blocking eventfd: its counter sums every write, so a reader counts exactly.
fn eventfd() -> OwnedFd {
    rawpoll::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).expect("eventfd")
}

/// A waker that unparks a thread.
struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Go's read loop on an eventfd, as a task on its own thread: reads until the counter sums to
/// `total`, parking on `Pending`; returns how many times it parked and the sum. Fails the test if
/// `DEADLINE` passes (a lost edge).
fn read_all(pd: &PollDesc, fd: &OwnedFd, total: u64) -> (usize, u64) {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let start = Instant::now();
    let (mut parks, mut sum) = (0, 0);
    while sum < total {
        match poll(pd, Direction::Read, &waker) {
            Poll::Ready(Ok(())) => match rawpoll::eventfd_read(fd) {
                Ok(n) => sum += n,
                Err(e) if e == Errno::EAGAIN => pd.clear_ready(Direction::Read),
                Err(e) => panic!("eventfd read: {e:?}"),
            },
            Poll::Ready(Err(e)) => panic!("poll_ready: {e:?}"),
            Poll::Pending => {
                parks += 1;
                assert!(
                    start.elapsed() < DEADLINE,
                    "lost edge: {sum} of {total} read"
                );
                thread::park_timeout(DEADLINE);
            }
        }
    }
    (parks, sum)
}

/// Runs `poll_wake(-1)` on `np` until `stop` is set (and a `wake` makes it return).
fn poll_until(np: &Netpoll, stop: &AtomicBool) -> usize {
    let mut delivered = 0;
    while !stop.load(Ordering::SeqCst) {
        delivered += np.poll_wake(-1).expect("poll_wake");
    }
    delivered
}

#[test]
fn an_edge_from_poll_wake_wakes_the_registered_task_once_and_stays_latched() {
    let np = poller();
    let pd = leak_pd(1);
    let pipe = Pipe::new();
    np.open(&pipe.r, pd).unwrap();
    assert_eq!(np.poll_wake(0), Ok(0));
    let (count, waker) = counter();
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Pending);
    pipe.fill();
    assert_eq!(np.poll_wake(-1), Ok(1));
    assert_eq!(count.wakes(), 1);
    // Latched until cleared: polled twice, Ready twice.
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Ready(Ok(())));
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Ready(Ok(())));
    assert_eq!(pipe.drain(), 1);
    pd.clear_ready(Direction::Read);
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Pending);
    assert_eq!(count.wakes(), 1);
}

#[test]
fn clear_ready_keeps_an_edge_that_arrived_after_the_ready_it_answers() {
    let np = poller();
    let pd = leak_pd(2);
    let pipe = Pipe::new();
    np.open(&pipe.r, pd).unwrap();
    let (count, waker) = counter();
    pipe.fill();
    assert_eq!(np.poll_wake(-1), Ok(1));
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Ready(Ok(())));
    assert_eq!(pipe.drain(), 1);
    // The read drained the pipe; another edge arrives before the task's `EAGAIN` is handled.
    pipe.fill();
    assert_eq!(np.poll_wake(-1), Ok(1));
    pd.clear_ready(Direction::Read);
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Ready(Ok(())));
    assert_eq!(pipe.drain(), 1);
    pd.clear_ready(Direction::Read);
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Pending);
    // A clear with no `Ready` before it (I/O tried first) keeps an unseen edge too.
    pipe.fill();
    assert_eq!(np.poll_wake(-1), Ok(1));
    assert_eq!(count.wakes(), 1);
    pd.clear_ready(Direction::Read);
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Ready(Ok(())));
}

#[test]
fn a_panicking_waker_unwinds_out_of_poll_wake_with_the_whole_batch_latched() {
    let np = poller();
    let (a, b) = (leak_pd(3), leak_pd(4));
    let (pa, pb) = (Pipe::new(), Pipe::new());
    np.open(&pa.r, a).unwrap();
    np.open(&pb.r, b).unwrap();
    let (bad, bad_waker) = counter();
    bad.panics.store(true, Ordering::SeqCst);
    let (good, good_waker) = counter();
    assert_eq!(poll(a, Direction::Read, &bad_waker), Poll::Pending);
    assert_eq!(poll(b, Direction::Read, &good_waker), Poll::Pending);
    pa.fill();
    pb.fill();
    let caught = catch_unwind(AssertUnwindSafe(|| np.poll_wake(-1)));
    let payload = caught.expect_err("the waker's panic unwinds out of poll_wake");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some(BOOM)
    );
    assert_eq!(bad.wakes(), 1);
    // Both edges are latched whatever the batch's order.
    let (fresh, fresh_waker) = counter();
    assert_eq!(poll(a, Direction::Read, &fresh_waker), Poll::Ready(Ok(())));
    assert_eq!(poll(b, Direction::Read, &fresh_waker), Poll::Ready(Ok(())));
    // The good waker was woken if it came first in the batch, else it is still registered: an
    // unblock wakes it. Exactly once either way.
    b.unblock();
    assert_eq!(good.wakes(), 1);
    // The panicking descriptor is left consistent: cleared, registered again, woken by the
    // next edge (the new waker does not panic).
    assert_eq!(pa.drain(), 1);
    a.clear_ready(Direction::Read);
    assert_eq!(poll(a, Direction::Read, &fresh_waker), Poll::Pending);
    pa.fill();
    assert_eq!(np.poll_wake(-1), Ok(1));
    assert_eq!(fresh.wakes(), 1);
    // And the poller polls on: the wake protocol was settled before the wakers ran.
    assert_eq!(np.wake(), Ok(()));
    assert_eq!(np.poll_wake(-1), Ok(0));
}

#[test]
fn a_panicking_waker_in_unblock_and_expire_leaves_the_state_raised() {
    let pd = leak_pd(5);
    let (bad, bad_waker) = counter();
    bad.panics.store(true, Ordering::SeqCst);
    assert_eq!(poll(pd, Direction::Read, &bad_waker), Poll::Pending);
    assert!(catch_unwind(AssertUnwindSafe(|| pd.expire(Direction::Read))).is_err());
    assert_eq!(
        poll(pd, Direction::Read, &bad_waker),
        Poll::Ready(Err(Errno::ETIMEDOUT))
    );
    pd.clear_expired(Direction::Read);
    assert_eq!(poll(pd, Direction::Read, &bad_waker), Poll::Pending);
    assert!(catch_unwind(AssertUnwindSafe(|| pd.unblock())).is_err());
    assert_eq!(bad.wakes(), 2);
    assert_eq!(
        poll(pd, Direction::Read, &bad_waker),
        Poll::Ready(Err(Errno::ECANCELED))
    );
    assert_eq!(
        poll(pd, Direction::Write, &bad_waker),
        Poll::Ready(Err(Errno::ECANCELED))
    );
}

/// A waker whose last drop panics.
struct PanicsOnDrop;

impl Wake for PanicsOnDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        if !thread::panicking() {
            panic!("{BOOM}");
        }
    }
}

#[test]
fn a_waker_whose_drop_panics_unwinds_out_of_poll_ready_with_the_new_waker_registered() {
    let pd = leak_pd(11);
    // The cell holds the last reference: replacing it drops it, and its drop panics.
    assert_eq!(
        poll(pd, Direction::Read, &Waker::from(Arc::new(PanicsOnDrop))),
        Poll::Pending
    );
    let (count, waker) = counter();
    let caught = catch_unwind(AssertUnwindSafe(|| poll(pd, Direction::Read, &waker)));
    assert!(
        caught.is_err(),
        "the drop's panic unwinds out of poll_ready"
    );
    assert!(pd.set_ready(READABLE, pd.tag()));
    assert_eq!(count.wakes(), 1);
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Ready(Ok(())));
    pd.clear_ready(Direction::Read);
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Pending);
    pd.unblock();
    assert_eq!(count.wakes(), 2);
}

/// A waker whose wake calls back into its descriptor: it registers itself for writing, then
/// delivers a write edge, which wakes it again, `depth` times in all.
struct Reentrant {
    pd: &'static PollDesc,
    wakes: AtomicUsize,
    depth: usize,
    answers: std::sync::Mutex<Vec<Poll<Result<(), Errno>>>>,
}

impl Wake for Reentrant {
    fn wake(self: Arc<Self>) {
        let n = self.wakes.fetch_add(1, Ordering::SeqCst) + 1;
        if n >= self.depth {
            return;
        }
        let waker = Waker::from(self.clone());
        let answer = poll(self.pd, Direction::Write, &waker);
        self.answers.lock().unwrap().push(answer);
        self.pd.clear_ready(Direction::Write);
        self.answers
            .lock()
            .unwrap()
            .push(poll(self.pd, Direction::Write, &waker));
        assert!(self.pd.set_ready(WRITABLE, self.pd.tag()));
    }
}

#[test]
fn a_waker_that_calls_back_into_its_descriptor_finds_it_consistent() {
    let pd = leak_pd(6);
    let reentrant = Arc::new(Reentrant {
        pd,
        wakes: AtomicUsize::new(0),
        depth: 4,
        answers: std::sync::Mutex::new(Vec::new()),
    });
    let waker = Waker::from(reentrant.clone());
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Pending);
    assert!(pd.set_ready(READABLE, pd.tag()));
    // The read edge's wake, then one wake per write edge its wakes delivered.
    assert_eq!(reentrant.wakes.load(Ordering::SeqCst), 4);
    use Poll::{Pending, Ready};
    assert_eq!(
        *reentrant.answers.lock().unwrap(),
        // First wake: nothing written yet (Pending twice); then each wake finds the edge its
        // caller latched (Ready), clears it (it has seen it) and registers again.
        vec![
            Pending,
            Pending,
            Ready(Ok(())),
            Pending,
            Ready(Ok(())),
            Pending
        ]
    );
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Ready(Ok(())));
    assert_eq!(poll(pd, Direction::Write, &waker), Poll::Ready(Ok(())));
}

/// A waker that blocks in its wake until released.
struct Slow {
    inside: AtomicBool,
    release: Barrier,
}

impl Wake for Slow {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.inside.store(true, Ordering::SeqCst);
        self.release.wait();
    }
}

#[test]
fn a_slow_waker_holds_up_nobody_else_on_its_descriptor() {
    let np = poller();
    let pd = leak_pd(7);
    let pipe = Pipe::new();
    np.open(&pipe.r, pd).unwrap();
    let slow = Arc::new(Slow {
        inside: AtomicBool::new(false),
        release: Barrier::new(2),
    });
    assert_eq!(
        poll(pd, Direction::Read, &Waker::from(slow.clone())),
        Poll::Pending
    );
    pipe.fill();
    thread::scope(|s| {
        let poller = s.spawn(|| np.poll_wake(-1));
        let start = Instant::now();
        while !slow.inside.load(Ordering::SeqCst) {
            assert!(start.elapsed() < DEADLINE, "the slow wake never began");
            thread::yield_now();
        }
        // The poller thread is inside the slow wake: every operation on the descriptor goes on.
        let (count, waker) = counter();
        assert_eq!(poll(pd, Direction::Read, &waker), Poll::Ready(Ok(())));
        assert_eq!(poll(pd, Direction::Write, &waker), Poll::Pending);
        assert!(pd.set_ready(WRITABLE, pd.tag()));
        assert_eq!(count.wakes(), 1);
        pd.expire(Direction::Write);
        pd.unblock();
        assert_eq!(
            poll(pd, Direction::Read, &waker),
            Poll::Ready(Err(Errno::ECANCELED))
        );
        // And another poll of the same poller (a wake makes it return).
        assert_eq!(np.wake(), Ok(()));
        assert_eq!(np.poll_wake(-1), Ok(0));
        assert!(slow.inside.load(Ordering::SeqCst));
        slow.release.wait();
        assert_eq!(poller.join().unwrap(), Ok(1));
    });
}

#[test]
fn threads_racing_edges_against_registration_lose_none_on_eventfds() {
    const TASKS: usize = 2;
    let writes = scaled(20_000);
    let np = poller();
    let stop = AtomicBool::new(false);
    let fds: Vec<OwnedFd> = (0..TASKS).map(|_| eventfd()).collect();
    let pds: Vec<&'static PollDesc> = (0..TASKS).map(|i| leak_pd(100 + i)).collect();
    for (fd, pd) in fds.iter().zip(&pds) {
        np.open(fd, pd).unwrap();
    }
    thread::scope(|s| {
        let poller = s.spawn(|| poll_until(&np, &stop));
        let tasks: Vec<_> = fds
            .iter()
            .zip(&pds)
            .map(|(fd, pd)| s.spawn(move || read_all(pd, fd, writes)))
            .collect();
        for fd in &fds {
            s.spawn(move || {
                for _ in 0..writes {
                    rawpoll::eventfd_write(fd, 1).unwrap();
                    thread::yield_now();
                }
            });
        }
        for task in tasks {
            let (parks, sum) = task.join().unwrap();
            assert_eq!(sum, writes);
            println!("a task read {sum} in {parks} parks");
        }
        stop.store(true, Ordering::SeqCst);
        np.wake().unwrap();
        let delivered = poller.join().unwrap();
        assert!(delivered >= 1, "{delivered} deliveries");
    });
}

#[test]
fn threads_racing_edges_against_registration_lose_none_on_pipes() {
    let bytes = scaled(5_000) as usize;
    let np = poller();
    let pd = leak_pd(8);
    let pipe = Pipe::new();
    np.open(&pipe.r, pd).unwrap();
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        let poller = s.spawn(|| poll_until(&np, &stop));
        let reader = s.spawn(|| {
            let waker = Waker::from(Arc::new(Unpark(thread::current())));
            let start = Instant::now();
            let mut read = 0;
            while read < bytes {
                match poll(pd, Direction::Read, &waker) {
                    Poll::Ready(Ok(())) => match pipe.drain() {
                        0 => pd.clear_ready(Direction::Read),
                        n => read += n,
                    },
                    Poll::Ready(Err(e)) => panic!("{e:?}"),
                    Poll::Pending => {
                        assert!(start.elapsed() < DEADLINE, "lost edge: {read} of {bytes}");
                        thread::park_timeout(DEADLINE);
                    }
                }
            }
            read
        });
        for _ in 0..bytes {
            pipe.fill();
            thread::yield_now();
        }
        assert_eq!(reader.join().unwrap(), bytes);
        stop.store(true, Ordering::SeqCst);
        np.wake().unwrap();
        poller.join().unwrap();
    });
}

#[test]
fn a_reused_descriptor_never_sees_its_predecessors_event_readiness_closing_or_deadline() {
    let np = poller();
    let pd = leak_pd(9);
    let (old, new) = (Pipe::new(), Pipe::new());
    np.open(&old.r, pd).unwrap();
    let (count, waker) = counter();
    // The old registration: readable, unblocked, expired, then reused without polling its event.
    old.fill();
    let old_tag = pd.tag();
    assert!(pd.set_ready(READABLE, old_tag));
    pd.unblock();
    pd.expire(Direction::Read);
    pd.expire(Direction::Write);
    pd.bump_sequence();
    // Its event is still queued (the old pipe is still in the epoll set, with the old tag).
    np.open(&new.r, pd).unwrap();
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Pending);
    assert_eq!(poll(pd, Direction::Write, &waker), Poll::Pending);
    assert_eq!(np.poll_wake(0), Ok(0), "the stale event is dropped");
    assert!(
        !pd.set_ready(READABLE, old_tag),
        "a late delivery of the old tag"
    );
    assert_eq!(count.wakes(), 0);
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Pending);
    new.fill();
    assert_eq!(np.poll_wake(-1), Ok(1));
    assert_eq!(count.wakes(), 1);
    assert_eq!(poll(pd, Direction::Read, &waker), Poll::Ready(Ok(())));
}

#[test]
fn a_late_delivery_racing_a_reuse_never_wakes_or_readies_the_new_registration() {
    let rounds = scaled(2_000) as usize;
    let pd = leak_pd(10);
    let mut stale_delivered = 0;
    for _ in 0..rounds {
        let old_tag = pd.tag();
        let (count, waker) = counter();
        let go = Barrier::new(2);
        let delivered = thread::scope(|s| {
            let late = s.spawn(|| {
                go.wait();
                pd.set_ready(READABLE, old_tag)
            });
            go.wait();
            pd.bump_sequence();
            // The new registration's task, while the old tag may still be in flight.
            let answer = poll(pd, Direction::Read, &waker);
            let delivered = late.join().unwrap();
            assert_eq!(answer, Poll::Pending);
            delivered
        });
        stale_delivered += usize::from(delivered);
        assert_eq!(count.wakes(), 0, "the new task woken by the old tag");
        assert_eq!(poll(pd, Direction::Read, &waker), Poll::Pending);
        pd.unblock();
        assert_eq!(count.wakes(), 1);
    }
    println!("{stale_delivered} of {rounds} late deliveries landed before their reuse");
}

#[test]
fn unblock_and_expire_wake_every_waiter_of_their_directions() {
    const DESCRIPTORS: usize = 16;
    let pool: Vec<&'static PollDesc> = (0..DESCRIPTORS).map(|i| leak_pd(200 + i)).collect();
    let go = Barrier::new(2 * DESCRIPTORS + 1);
    thread::scope(|s| {
        let waiters: Vec<_> = pool
            .iter()
            .flat_map(|pd| Direction::BOTH.map(|dir| (*pd, dir)))
            .map(|(pd, dir)| {
                let go = &go;
                s.spawn(move || {
                    let waker = Waker::from(Arc::new(Unpark(thread::current())));
                    assert_eq!(poll(pd, dir, &waker), Poll::Pending);
                    go.wait();
                    let start = Instant::now();
                    loop {
                        match poll(pd, dir, &waker) {
                            Poll::Pending => {
                                assert!(start.elapsed() < DEADLINE, "a waiter never woken");
                                thread::park_timeout(DEADLINE);
                            }
                            Poll::Ready(answer) => return (dir, answer),
                        }
                    }
                })
            })
            .collect();
        go.wait();
        for (i, pd) in pool.iter().enumerate() {
            if i % 2 == 0 {
                pd.unblock();
            } else {
                pd.expire(Direction::Read);
                pd.expire(Direction::Write);
            }
        }
        let answers: Vec<_> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
        for (i, (dir, answer)) in answers.iter().enumerate() {
            let expected = if (i / 2) % 2 == 0 {
                Errno::ECANCELED
            } else {
                Errno::ETIMEDOUT
            };
            assert_eq!(*answer, Err(expected), "descriptor {} {dir:?}", i / 2);
        }
    });
    // Expiring one direction wakes that direction's waiter only.
    let pd = leak_pd(300);
    let (reader, read_waker) = counter();
    let (writer, write_waker) = counter();
    assert_eq!(poll(pd, Direction::Read, &read_waker), Poll::Pending);
    assert_eq!(poll(pd, Direction::Write, &write_waker), Poll::Pending);
    pd.expire(Direction::Read);
    assert_eq!((reader.wakes(), writer.wakes()), (1, 0));
    assert_eq!(
        poll(pd, Direction::Read, &read_waker),
        Poll::Ready(Err(Errno::ETIMEDOUT))
    );
    assert_eq!(poll(pd, Direction::Write, &write_waker), Poll::Pending);
    pd.clear_expired(Direction::Read);
    assert_eq!(poll(pd, Direction::Read, &read_waker), Poll::Pending);
    // Closing comes before the deadline.
    pd.unblock();
    assert_eq!((reader.wakes(), writer.wakes()), (2, 1));
    pd.expire(Direction::Read);
    assert_eq!(
        poll(pd, Direction::Read, &read_waker),
        Poll::Ready(Err(Errno::ECANCELED))
    );
}

/// A static pool, as a runtime without an allocator keeps one.
static POOL: [PollDesc; 3 * rawpoll::netpoll::EVENTS_PER_POLL] =
    [const { PollDesc::new() }; 3 * rawpoll::netpoll::EVENTS_PER_POLL];

#[test]
fn more_ready_descriptors_than_one_poll_holds_are_each_woken_exactly_once() {
    let np = poller();
    let fds: Vec<OwnedFd> = POOL.iter().map(|_| eventfd()).collect();
    let counters: Vec<(Arc<Counter>, Waker)> = POOL.iter().map(|_| counter()).collect();
    for ((fd, pd), (_, waker)) in fds.iter().zip(&POOL).zip(&counters) {
        np.open(fd, pd).unwrap();
        assert_eq!(poll(pd, Direction::Read, waker), Poll::Pending);
    }
    for fd in &fds {
        rawpoll::eventfd_write(fd, 1).unwrap();
    }
    let mut delivered = Vec::new();
    let mut total = 0;
    while total < POOL.len() {
        let n = np.poll_wake(0).unwrap();
        assert!(n > 0, "{total} of {} delivered, then none", POOL.len());
        delivered.push(n);
        total += n;
    }
    assert_eq!(total, POOL.len());
    assert!(delivered
        .iter()
        .all(|&n| n <= rawpoll::netpoll::EVENTS_PER_POLL));
    assert_eq!(np.poll_wake(0), Ok(0));
    for ((pd, (count, waker)), fd) in POOL.iter().zip(&counters).zip(&fds) {
        assert_eq!(count.wakes(), 1);
        assert_eq!(poll(pd, Direction::Read, waker), Poll::Ready(Ok(())));
        assert_eq!(rawpoll::eventfd_read(fd), Ok(1));
    }
}

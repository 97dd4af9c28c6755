//! A multi-threaded async executor with std on rawpoll's readiness layer (the example
//! examples/multi_thread.rs serves async TCP echo on it; tests/examples runs that).
//!
//! N worker threads share one run queue and one `Netpoll`. An idle worker sleeps in
//! `poll_wake(-1)` if no other worker does (it delivers readiness and wakes the tasks), else on a
//! condition variable; a waker queues its task and wakes an idle worker, or, if none is idle, the
//! one in `poll_wake` (`Netpoll::wake`, only then). A task woken on one worker runs on whichever
//! is free. [`Conn`] is a non-blocking socket registered edge-triggered with a `PollDesc` from a
//! pool (a reused one gets `bump_sequence` first), with the readiness loop of its I/O.

use rawpoll::netpoll::{Direction, Netpoll, PollDesc};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

#[derive(Default)]
struct Queue {
    tasks: VecDeque<Arc<Task>>,
    idle: usize,
    polling: bool,
    live: usize,
    failed: Option<io::Error>,
}

/// The executor: the run queue, and the poller its workers share.
pub struct Runtime {
    poller: &'static Netpoll,
    queue: Mutex<Queue>,
    wakeup: Condvar,
}

struct Task {
    future: Mutex<Option<BoxFuture>>,
    queued: AtomicBool,
    runtime: Arc<Runtime>,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, AcqRel) {
            return; // queued already
        }
        let rt = &self.runtime;
        let mut q = rt.queue.lock().unwrap();
        q.tasks.push_back(self.clone());
        if q.idle > 0 {
            rt.wakeup.notify_one();
        } else if q.polling {
            drop(q);
            let _ = rt.poller.wake(); // a failed wake stays pending: the poll returns at once
        }
    }
}

impl Runtime {
    /// Queues `future` as a new task.
    pub fn spawn(self: &Arc<Self>, future: impl Future<Output = ()> + Send + 'static) {
        let future = Mutex::new(Some(Box::pin(future) as BoxFuture));
        let task = Task {
            future,
            queued: AtomicBool::new(false),
            runtime: self.clone(),
        };
        self.queue.lock().unwrap().live += 1;
        Arc::new(task).wake_by_ref();
    }

    /// Runs the task `first` makes, and every task spawned, on `workers` threads until all have
    /// completed.
    pub fn block_on<F>(
        poller: &'static Netpoll,
        workers: usize,
        first: impl FnOnce(&Arc<Runtime>) -> F,
    ) -> io::Result<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let rt = Arc::new(Runtime {
            poller,
            queue: Mutex::default(),
            wakeup: Condvar::new(),
        });
        rt.spawn(first(&rt));
        std::thread::scope(|s| (0..workers).for_each(|_| drop(s.spawn(|| rt.worker()))));
        let failed = rt.queue.lock().unwrap().failed.take();
        failed.map_or(Ok(()), Err)
    }

    fn worker(&self) {
        let mut q = self.queue.lock().unwrap();
        loop {
            if let Some(task) = q.tasks.pop_front() {
                drop(q);
                task.queued.store(false, Release);
                let waker = Waker::from(task.clone());
                let mut future = task.future.lock().unwrap();
                // A task that panics is done: dropped, and the others run on.
                let done = future.as_mut().is_some_and(|f| {
                    let mut cx = Context::from_waker(&waker);
                    catch_unwind(AssertUnwindSafe(|| f.as_mut().poll(&mut cx)))
                        .map_or(true, |p| p.is_ready())
                });
                if done {
                    *future = None;
                }
                drop(future);
                q = self.queue.lock().unwrap();
                q.live -= usize::from(done);
            } else if q.live == 0 || q.failed.is_some() {
                self.wakeup.notify_all();
                if q.polling {
                    let _ = self.poller.wake();
                }
                return;
            } else if !q.polling {
                q.polling = true;
                drop(q);
                let slept = self.poller.poll_wake(-1);
                q = self.queue.lock().unwrap();
                q.polling = false;
                if let Err(e) = slept {
                    q.failed = Some(e.into());
                }
            } else {
                q.idle += 1;
                q = self.wakeup.wait(q).unwrap();
                q.idle -= 1;
            }
        }
    }
}

static FREE_DESCS: Mutex<Vec<&'static PollDesc>> = Mutex::new(Vec::new());

/// A non-blocking socket registered with the poller; deregistered, and its `PollDesc` back in
/// the pool, when dropped.
pub struct Conn<S: std::os::fd::AsFd> {
    socket: S,
    pd: &'static PollDesc,
    poller: &'static Netpoll,
}

impl<S: std::os::fd::AsFd> Conn<S> {
    /// Registers `socket` (non-blocking already) with `poller`.
    pub fn new(poller: &'static Netpoll, socket: S) -> io::Result<Conn<S>> {
        let free = FREE_DESCS.lock().unwrap().pop();
        let pd = free.unwrap_or_else(|| Box::leak(Box::new(PollDesc::new())));
        pd.bump_sequence(); // a reused one must not see its predecessor's readiness
        if let Err(e) = poller.open(&socket, pd) {
            FREE_DESCS.lock().unwrap().push(pd);
            return Err(e.into());
        }
        Ok(Conn { socket, pd, poller })
    }

    /// Runs `op` until it does not fail with `WouldBlock`, waiting for `dir`'s readiness between.
    pub async fn io<T>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&S) -> io::Result<T>,
    ) -> io::Result<T> {
        poll_fn(|cx| loop {
            match op(&self.socket) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.pd.clear_ready(dir);
                    match self.pd.poll_ready(dir, cx) {
                        Poll::Ready(Ok(())) => continue,
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                other => return Poll::Ready(other),
            }
        })
        .await
    }
}

impl<S: std::os::fd::AsFd> Drop for Conn<S> {
    fn drop(&mut self) {
        let _ = self.poller.close(&self.socket);
        FREE_DESCS.lock().unwrap().push(self.pd);
    }
}

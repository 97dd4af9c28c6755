//! A multi-threaded async executor with std on rawpoll's readiness layer (the example
//! examples/multi_thread.rs serves async TCP echo on it; tests/examples runs that).
//!
//! N worker threads share one run queue and one `Netpoll`. An idle worker sleeps in `poll(-1)`
//! if no other worker does (it delivers readiness with `set_ready`, which wakes the tasks), else
//! on a condition variable; a waker queues its task and wakes an idle worker that no one is
//! waking yet (one notification per idle worker, not one per task), or, if there is none, the
//! one in the poll (`Netpoll::wake`, only then). A task woken on one worker runs on whichever is
//! free. [`Conn`] is a non-blocking socket registered edge-triggered with a `PollDesc` from a
//! pool (a reused one gets `bump_sequence` first), with the readiness loop of its I/O.

use rawpoll::netpoll::{Direction, Netpoll, PollDesc};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::io::{self, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

#[derive(Default)]
struct Queue {
    tasks: VecDeque<Arc<Task>>,
    /// Workers waiting on the condition variable.
    idle: usize,
    /// Notifications sent to idle workers and not yet taken (never more than `idle`): a waker
    /// notifies only while `idle > notified`, so a burst of wakes costs one notification per
    /// idle worker, not one per task (a notified worker runs every queued task before it waits).
    notified: usize,
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
        if q.idle > q.notified {
            q.notified += 1;
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
                // `polling` is cleared by the first event delivered, before its waker runs: the
                // wakers that `set_ready` runs here then make no `Netpoll::wake` (which, with
                // nobody asleep, would stay pending and end the next poll at once). A waker on
                // another thread during delivery needs none: this worker takes its task after
                // the poll. One before or during the wait saw `polling` and woke the poller.
                let mut delivering = false;
                let slept = self.poller.poll(-1, |pd, ready, tag| {
                    if !delivering {
                        delivering = true;
                        self.queue.lock().unwrap().polling = false;
                    }
                    pd.set_ready(ready, tag);
                });
                q = self.queue.lock().unwrap();
                if !delivering {
                    q.polling = false; // else another worker may be polling already
                }
                if let Err(e) = slept {
                    q.failed = Some(e.into());
                }
            } else {
                q.idle += 1;
                q = self.wakeup.wait(q).unwrap();
                q.idle -= 1;
                // Woken by a notification, or spuriously: either way one fewer is pending (a
                // count below the truth costs a spare notification, never a missed one).
                q.notified = q.notified.saturating_sub(1);
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

    /// The readiness loop: waits until `dir` is ready (`poll_ready`), then runs `op`; after
    /// `WouldBlock` clears the edge (`clear_ready`) and waits again. For I/O that cannot tell
    /// whether it drained the socket (`accept`, `connect`); see [`Conn::io_until`].
    pub async fn io<T>(
        &self,
        dir: Direction,
        op: impl FnMut(&S) -> io::Result<T>,
    ) -> io::Result<T> {
        self.io_until(dir, op, |_| false).await
    }

    /// [`Conn::io`], where `drained(&result)` says that `op` emptied the socket's buffer (a read
    /// or write that moved fewer bytes than it asked): the edge is cleared at once, which saves
    /// the call that would return `WouldBlock`. That is safe: an edge that arrived after the
    /// `poll_ready` that returned `Ready` stays latched (`clear_ready` keeps it), so data that
    /// came after the drain is never left waiting for another edge. Asking `poll_ready` first
    /// uses the edge that woke the task (trying the I/O first would leave it latched and cost
    /// one more `WouldBlock` per message); a freshly registered socket reports its readiness at
    /// registration, so the first wait ends at once if it is ready already. A non-blocking
    /// connect must be started before this waits for writability.
    pub async fn io_until<T>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&S) -> io::Result<T>,
        drained: impl Fn(&T) -> bool,
    ) -> io::Result<T> {
        poll_fn(|cx| loop {
            match self.pd.poll_ready(dir, cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Pending => return Poll::Pending,
            }
            match op(&self.socket) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.pd.clear_ready(dir),
                Ok(done) => {
                    if drained(&done) {
                        self.pd.clear_ready(dir);
                    }
                    return Poll::Ready(Ok(done));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        })
        .await
    }

    /// Reads into `buf` once data is there; a read shorter than `buf` drained the socket.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize>
    where
        for<'a> &'a S: Read,
    {
        let asked = buf.len();
        self.io_until(Direction::Read, |mut s| s.read(buf), |&n| n < asked)
            .await
    }

    /// Writes all of `bytes`; a write shorter than asked filled the socket's send buffer.
    pub async fn write_all(&self, mut bytes: &[u8]) -> io::Result<()>
    where
        for<'a> &'a S: Write,
    {
        while !bytes.is_empty() {
            let asked = bytes.len();
            let write = |mut s: &S| s.write(bytes);
            let n = self
                .io_until(Direction::Write, write, |&n| n < asked)
                .await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            bytes = &bytes[n..];
        }
        Ok(())
    }
}

impl<S: std::os::fd::AsFd> Drop for Conn<S> {
    fn drop(&mut self) {
        let _ = self.poller.close(&self.socket);
        FREE_DESCS.lock().unwrap().push(self.pd);
    }
}

//! A multi-threaded async executor with std on rawpoll's readiness layer (the example
//! examples/multi_thread.rs serves async TCP echo on it; tests/examples runs that).
//!
//! N worker threads share one run queue and one `Netpoll`. An idle worker sleeps in `poll(-1)`
//! if no other worker does (it delivers readiness with `set_ready`, which wakes the tasks), else
//! on a condition variable; a waker queues its task and wakes an idle worker that no one is
//! waking yet (one notification per idle worker, not one per task), or, if there is none, the
//! one in the poll (`Netpoll::wake`, only then). A task woken on one worker runs on whichever is
//! free. The sockets its tasks wait on are conn.rs's `Conn`.

use rawpoll::netpoll::Netpoll;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Wake, Waker};

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

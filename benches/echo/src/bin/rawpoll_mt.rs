//! The echo server on rawpoll's readiness layer and a multi-threaded executor with 2 workers:
//! the tasks (task 0 accepts, task `i` serves the `i`th connection) are made once; a shared run
//! queue (a mutex over a ring sized for every task, so it never grows) holds the scheduled ones;
//! a worker with nothing to run becomes the poller (`Netpoll::poll_wake(-1)`) if no other worker
//! is, and otherwise parks on a condition variable. Wakers are a task's index (no allocation).
//! A wake from inside `poll_wake` leaves the waking to the poller, which lends the other worker
//! a hand (one notify) when it brought back more than one task.
//! Shared code: `src/lib.rs` (listener, control thread, counting allocator, the echo loop).

use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::Poll;
use rawpoll::netpoll::{Direction, Netpoll, PollDesc};
use rawpoll_echo_bench::{listen, rawpoll_io};
use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Worker threads (the main thread is one of them).
const WORKERS: usize = 2;
/// Tasks: the acceptor and one per connection.
const TASKS: usize = 1024;
const CONNECTIONS: usize = TASKS - 1;

static POLLER: Netpoll = Netpoll::new();
/// Descriptor 0 is the listener's, `i` the `i`th connection's.
static DESCS: [PollDesc; TASKS] = [const { PollDesc::new() }; TASKS];

struct Shared {
    listener: TcpListener,
    accepted: Vec<Mutex<Option<TcpStream>>>,
    next: AtomicUsize,
}

fn main() {
    let listener = listen();
    POLLER.init().expect("netpoll init");
    POLLER
        .open(&listener, &DESCS[0])
        .expect("register the listener");
    let shared: &'static Shared = Box::leak(Box::new(Shared {
        listener,
        accepted: (0..CONNECTIONS).map(|_| Mutex::new(None)).collect(),
        next: AtomicUsize::new(0),
    }));
    // The futures are made once, on the heap; nothing allocates after this.
    let tasks = (0..TASKS).map(|i| task(shared, i)).collect();
    let executor = executor::Executor::new(&POLLER, tasks);
    let result = executor.run(WORKERS);
    eprintln!("rawpoll_mt: the executor stopped: {result:?}");
    std::process::exit(1);
}

async fn task(shared: &'static Shared, i: usize) {
    if i == 0 {
        return accept(shared).await;
    }
    // Wait to be handed a connection (the acceptor schedules this task by its index).
    let stream = poll_fn(
        |_| match shared.accepted[i - 1].lock().map(|mut s| s.take()) {
            Ok(Some(s)) => Poll::Ready(s),
            _ => Poll::Pending,
        },
    )
    .await;
    rawpoll_io::echo(&stream, &DESCS[i]).await;
    let _ = POLLER.close(&stream);
}

async fn accept(shared: &'static Shared) {
    loop {
        if rawpoll_io::ready(&DESCS[0], Direction::Read).await.is_err() {
            return;
        }
        loop {
            match shared.listener.accept() {
                Ok((stream, _)) => {
                    let k = shared.next.load(Ordering::Relaxed);
                    if k >= CONNECTIONS {
                        continue; // no task left: closed
                    }
                    let _ = stream.set_nodelay(true);
                    if stream.set_nonblocking(true).is_err()
                        || POLLER.open(&stream, &DESCS[k + 1]).is_err()
                    {
                        continue;
                    }
                    if let Ok(mut slot) = shared.accepted[k].lock() {
                        *slot = Some(stream);
                    }
                    shared.next.store(k + 1, Ordering::Relaxed);
                    executor::schedule(k + 1);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    DESCS[0].clear_ready(Direction::Read);
                    break;
                }
                Err(_) => break,
            }
        }
    }
}

/// The multi-threaded executor.
mod executor {
    use super::{Future, Pin};
    use rawpoll::netpoll::Netpoll;
    use rawpoll::Errno;
    use std::cell::{Cell, UnsafeCell};
    use std::collections::VecDeque;
    use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};
    use std::sync::atomic::{AtomicBool, AtomicU8};
    use std::sync::{Condvar, Mutex, OnceLock};
    use std::task::{Context, RawWaker, RawWakerVTable, Waker};

    /// A task's states: idle (waiting for a wake), queued, being polled, woken while being
    /// polled (the worker queues it again), completed.
    const IDLE: u8 = 0;
    const QUEUED: u8 = 1;
    const RUNNING: u8 = 2;
    const RUNNING_WOKEN: u8 = 3;
    const DONE: u8 = 4;

    type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

    struct Slot {
        state: AtomicU8,
        /// Polled only by the worker that moved `state` from QUEUED to RUNNING.
        future: UnsafeCell<Option<Task>>,
    }

    // SAFETY: `future` is touched only by the one worker that owns the slot's RUNNING state.
    unsafe impl Sync for Slot {}

    struct Queue {
        ready: VecDeque<usize>,
        parked: usize,
    }

    pub struct Executor {
        poller: &'static Netpoll,
        slots: Box<[Slot]>,
        queue: Mutex<Queue>,
        unpark: Condvar,
        /// A worker is in `poll_wake`.
        polling: AtomicBool,
    }

    static EXECUTOR: OnceLock<&'static Executor> = OnceLock::new();

    thread_local! {
        /// Set while this thread runs `poll_wake`: its wakes are handed out after it returns.
        static IN_POLL: Cell<bool> = const { Cell::new(false) };
    }

    /// Schedules task `index`: what a waker does.
    pub fn schedule(index: usize) {
        if let Some(ex) = EXECUTOR.get() {
            ex.schedule(index);
        }
    }

    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);
    fn clone(index: *const ()) -> RawWaker {
        RawWaker::new(index, &VTABLE)
    }
    fn wake(index: *const ()) {
        schedule(index as usize);
    }
    fn drop(_: *const ()) {}

    impl Executor {
        /// Leaks the executor (its wakers refer to it for the life of the process).
        pub fn new<F>(poller: &'static Netpoll, tasks: Vec<F>) -> &'static Executor
        where
            F: Future<Output = ()> + Send + 'static,
        {
            let n = tasks.len();
            let slots = tasks
                .into_iter()
                .map(|f| Slot {
                    state: AtomicU8::new(IDLE),
                    future: UnsafeCell::new(Some(Box::pin(f) as Task)),
                })
                .collect();
            Box::leak(Box::new(Executor {
                poller,
                slots,
                queue: Mutex::new(Queue {
                    ready: VecDeque::with_capacity(n),
                    parked: 0,
                }),
                unpark: Condvar::new(),
                polling: AtomicBool::new(false),
            }))
        }

        fn schedule(&self, index: usize) {
            let Some(slot) = self.slots.get(index) else {
                return;
            };
            let mut state = slot.state.load(Acquire);
            loop {
                let next = match state {
                    IDLE => QUEUED,
                    RUNNING => RUNNING_WOKEN,
                    _ => return, // queued, woken already, or done
                };
                match slot.state.compare_exchange(state, next, AcqRel, Acquire) {
                    Ok(_) if next == QUEUED => break,
                    Ok(_) => return, // its worker queues it again
                    Err(now) => state = now,
                }
            }
            let Ok(mut q) = self.queue.lock() else {
                return;
            };
            q.ready.push_back(index);
            if IN_POLL.with(Cell::get) {
                return; // the poller hands the work out after poll_wake
            }
            if q.parked > 0 {
                self.unpark.notify_one();
            } else if self.polling.load(Acquire) {
                // A failed wake stays pending in Netpoll: the next blocking poll returns.
                let _ = self.poller.wake();
            }
        }

        /// Runs the tasks on `workers` threads (this one among them) until one fails to poll.
        pub fn run(&'static self, workers: usize) -> Result<(), Errno> {
            if EXECUTOR.set(self).is_err() {
                return Err(Errno::EBUSY);
            }
            for i in 0..self.slots.len() {
                self.schedule(i);
            }
            for _ in 1..workers {
                std::thread::spawn(move || self.worker());
            }
            self.worker()
        }

        fn worker(&self) -> Result<(), Errno> {
            loop {
                let next = self.queue.lock().map_err(|_| Errno::EIO)?.ready.pop_front();
                if let Some(i) = next {
                    self.poll_task(i);
                    continue;
                }
                if !self.polling.swap(true, AcqRel) {
                    IN_POLL.with(|f| f.set(true));
                    let polled = self.poller.poll_wake(-1);
                    IN_POLL.with(|f| f.set(false));
                    self.polling.store(false, Release);
                    polled?;
                    let q = self.queue.lock().map_err(|_| Errno::EIO)?;
                    if q.ready.len() > 1 && q.parked > 0 {
                        self.unpark.notify_one();
                    }
                    continue;
                }
                // Another worker polls: park until there is work (or polling is free again).
                let mut q = self.queue.lock().map_err(|_| Errno::EIO)?;
                while q.ready.is_empty() && self.polling.load(Acquire) {
                    q.parked += 1;
                    q = self.unpark.wait(q).map_err(|_| Errno::EIO)?;
                    q.parked -= 1;
                }
            }
        }

        fn poll_task(&self, index: usize) {
            let slot = &self.slots[index];
            if slot
                .state
                .compare_exchange(QUEUED, RUNNING, AcqRel, Acquire)
                .is_err()
            {
                return;
            }
            // SAFETY: this worker moved the state to RUNNING: no other touches the future
            // until it leaves RUNNING below.
            let future = unsafe { &mut *slot.future.get() };
            let Some(f) = future.as_mut() else {
                slot.state.store(DONE, Release);
                return;
            };
            // SAFETY: the waker's data is an index, which is all VTABLE's functions use.
            let waker = unsafe { Waker::from_raw(RawWaker::new(index as *const (), &VTABLE)) };
            if f.as_mut().poll(&mut Context::from_waker(&waker)).is_ready() {
                *future = None;
                slot.state.store(DONE, Release);
                return;
            }
            if slot
                .state
                .compare_exchange(RUNNING, IDLE, AcqRel, Acquire)
                .is_err()
            {
                // Woken while it ran: queue it again.
                slot.state.store(QUEUED, Release);
                if let Ok(mut q) = self.queue.lock() {
                    q.ready.push_back(index);
                    if q.parked > 0 {
                        self.unpark.notify_one();
                    }
                }
            }
        }
    }
}

//! The echo server on rawpoll's readiness layer and a single-threaded executor: a fixed array of
//! tasks (task 0 accepts, task `i` serves the `i`th connection), a ready set of one bit per task,
//! wakers that are a task's index (no allocation), and `Netpoll::poll_wake(-1)` when no task can
//! run. Shared code: `src/lib.rs` (listener, control thread, counting allocator, the echo loop).

use core::future::{poll_fn, Future};
use core::pin::Pin;
use core::task::Poll;
use rawpoll::netpoll::{Direction, Netpoll, PollDesc};
use rawpoll_echo_bench::{listen, rawpoll_io};
use std::cell::Cell;
use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};

/// Connections served (one task each, plus the acceptor).
const CONNECTIONS: usize = executor::MAX_TASKS - 1;

static POLLER: Netpoll = Netpoll::new();
/// Descriptor 0 is the listener's, `i` the `i`th connection's.
static DESCS: [PollDesc; executor::MAX_TASKS] = [const { PollDesc::new() }; executor::MAX_TASKS];

struct Shared {
    listener: TcpListener,
    accepted: Vec<Cell<Option<TcpStream>>>,
    next: Cell<usize>,
}

fn main() {
    let listener = listen();
    POLLER.init().expect("netpoll init");
    POLLER
        .open(&listener, &DESCS[0])
        .expect("register the listener");
    let shared = Shared {
        listener,
        accepted: (0..CONNECTIONS).map(|_| Cell::new(None)).collect(),
        next: Cell::new(0),
    };
    // The futures are made once, on the heap (a few KiB each); nothing allocates after this.
    let tasks: Box<[_]> = (0..executor::MAX_TASKS).map(|i| task(&shared, i)).collect();
    let mut tasks = Box::into_pin(tasks);
    let result = executor::run(&POLLER, tasks.as_mut());
    eprintln!("rawpoll_st: the executor stopped: {result:?}");
    std::process::exit(1);
}

async fn task(shared: &Shared, i: usize) {
    if i == 0 {
        return accept(shared).await;
    }
    // Wait to be handed a connection (the acceptor schedules this task by its index).
    let stream = poll_fn(|_| match shared.accepted[i - 1].take() {
        Some(s) => Poll::Ready(s),
        None => Poll::Pending,
    })
    .await;
    rawpoll_io::echo(&stream, &DESCS[i]).await;
    let _ = POLLER.close(&stream);
}

async fn accept(shared: &Shared) {
    loop {
        if rawpoll_io::ready(&DESCS[0], Direction::Read).await.is_err() {
            return;
        }
        loop {
            match shared.listener.accept() {
                Ok((stream, _)) => {
                    let k = shared.next.get();
                    if k >= CONNECTIONS {
                        continue; // no task left: closed
                    }
                    let _ = stream.set_nodelay(true);
                    if stream.set_nonblocking(true).is_err()
                        || POLLER.open(&stream, &DESCS[k + 1]).is_err()
                    {
                        continue;
                    }
                    shared.accepted[k].set(Some(stream));
                    shared.next.set(k + 1);
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

/// The single-threaded executor.
mod executor {
    use super::{Future, Pin};
    use core::sync::atomic::Ordering::{AcqRel, Relaxed, SeqCst};
    use core::sync::atomic::{AtomicBool, AtomicUsize};
    use core::task::{Context, RawWaker, RawWakerVTable, Waker};
    use rawpoll::netpoll::Netpoll;
    use rawpoll::Errno;
    use std::cell::Cell;

    /// Tasks one run holds: one bit of the ready set each.
    pub const MAX_TASKS: usize = 1024;
    const WORD: usize = usize::BITS as usize;
    const WORDS: usize = MAX_TASKS / WORD;

    static READY: [AtomicUsize; WORDS] = [const { AtomicUsize::new(0) }; WORDS];
    /// Set while the executor sleeps, or is about to, in `poll_wake`.
    static SLEEPING: AtomicBool = AtomicBool::new(false);
    static POLLER: std::sync::OnceLock<&'static Netpoll> = std::sync::OnceLock::new();

    thread_local! {
        /// Set on the executor's thread: a wake from there (a task's, or one `poll_wake`
        /// delivers) is seen by the executor's next scan and needs no `Netpoll::wake`.
        static ON_EXECUTOR: Cell<bool> = const { Cell::new(false) };
    }

    /// Marks task `index` to be polled; wakes the executor if it sleeps and this is another
    /// thread.
    pub fn schedule(index: usize) {
        let Some(word) = READY.get(index / WORD) else {
            return;
        };
        let bit = 1 << (index % WORD);
        if word.fetch_or(bit, SeqCst) & bit == 0
            && !ON_EXECUTOR.with(Cell::get)
            && SLEEPING.swap(false, SeqCst)
        {
            if let Some(poller) = POLLER.get() {
                // A failed wake stays pending in Netpoll: the next blocking poll returns.
                let _ = poller.wake();
            }
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

    /// Runs `tasks` (task `i` has waker `i`) until all have completed, sleeping in `poller`
    /// when none can run.
    pub fn run<F: Future<Output = ()>>(
        poller: &'static Netpoll,
        mut tasks: Pin<&mut [F]>,
    ) -> Result<(), Errno> {
        if tasks.len() > MAX_TASKS || POLLER.set(poller).is_err() {
            return Err(Errno::EINVAL);
        }
        ON_EXECUTOR.with(|f| f.set(true));
        let mut done = vec![false; tasks.len()];
        let mut left = tasks.len();
        for i in 0..tasks.len() {
            schedule(i);
        }
        while left > 0 {
            let mut ran = false;
            for (w, word) in READY.iter().enumerate() {
                let mut bits = word.swap(0, AcqRel);
                while bits != 0 {
                    let i = w * WORD + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    if i >= done.len() || done[i] {
                        continue;
                    }
                    ran = true;
                    // SAFETY: the waker's data is an index, which is all VTABLE's functions use.
                    let waker = unsafe { Waker::from_raw(RawWaker::new(i as *const (), &VTABLE)) };
                    // SAFETY: the slice is pinned, so are its elements; none is moved here.
                    let task = unsafe { tasks.as_mut().get_unchecked_mut().get_unchecked_mut(i) };
                    // SAFETY: as above.
                    let task = unsafe { Pin::new_unchecked(task) };
                    if task.poll(&mut Context::from_waker(&waker)).is_ready() {
                        done[i] = true;
                        left -= 1;
                    }
                }
            }
            if ran {
                continue;
            }
            // Nothing to run: sleep unless a waker set a bit since the scan (a Dekker pair with
            // `schedule`: either this sees the bit, or that waker sees the flag and wakes).
            SLEEPING.store(true, SeqCst);
            let idle = READY.iter().all(|w| w.load(SeqCst) == 0);
            let slept = if idle {
                poller.poll_wake(-1).map(|_| ())
            } else {
                Ok(())
            };
            SLEEPING.store(false, Relaxed);
            slept?;
        }
        Ok(())
    }
}

//! The examples a user copies, run as they ship (their own files, included by `#[path]`): the
//! single-threaded executor without std and the multi-threaded one with std, each serving async
//! TCP echo on 127.0.0.1 with every byte counted and checked.

#[path = "../../examples/single_thread/echo.rs"]
mod echo;
#[path = "../../examples/single_thread/executor.rs"]
mod executor;
#[cfg(feature = "std")]
#[path = "../../examples/multi_thread.rs"]
#[allow(dead_code)] // its `main`
mod multi_thread;

use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::Poll;
use rawpoll::netpoll::Netpoll;
use rawpoll::raw::{syscall6, SYS_READ};
use rawpoll::Errno;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Reads the wake eventfd's counter of `poller` (non-blocking): how many times `Netpoll::wake`
/// wrote it since the last read, `EAGAIN` for none.
fn wake_writes(poller: &Netpoll) -> Result<u64, Errno> {
    let mut count = [0u8; 8];
    let (fd, buf) = (poller.raw_wake_fd() as usize, count.as_mut_ptr() as usize);
    // SAFETY: a read of 8 bytes into `count`; the number is the poller's own eventfd, only read.
    Errno::result(unsafe { syscall6(SYS_READ, fd, buf, 8, 0, 0, 0) })?;
    Ok(u64::from_ne_bytes(count))
}

/// A task that, polled the first time, starts a thread that waits until `poller` has a sleeper,
/// then 20 ms more (well inside `epoll_pwait`), and wakes the task's waker; ready once woken.
fn woken_from_another_thread(poller: &'static Netpoll) -> impl Future<Output = ()> + Send {
    let flag = Arc::new(AtomicBool::new(false));
    let mut started = false;
    poll_fn(move |cx| {
        if flag.load(SeqCst) {
            return Poll::Ready(());
        }
        if !started {
            started = true;
            let (flag, waker) = (flag.clone(), cx.waker().clone());
            std::thread::spawn(move || {
                while !poller.has_sleeper() {
                    std::thread::sleep(Duration::from_millis(1));
                }
                std::thread::sleep(Duration::from_millis(20));
                flag.store(true, SeqCst);
                waker.wake();
            });
        }
        Poll::Pending
    })
}

/// 64 connections of 16 messages of 512 bytes on the no_std executor, then 3 more on the same
/// executor, poller and descriptor slots (reused: a stale edge or waker of the first run must not
/// disturb the second): every count exact, and no `Netpoll::wake` at all, written or left
/// pending (every waker ran on the executor's own thread, while the poll delivered or a task ran,
/// where no wake is needed; a pending one would make the next `poll(-1)` a poll with timeout 0).
#[test]
fn single_thread_echo_counts_every_byte() {
    static POLLER: Netpoll = Netpoll::new();
    static EXECUTOR: executor::Executor = executor::Executor::new();
    POLLER.init().unwrap();
    for (connections, rounds) in [(echo::MAX_CONNECTIONS, 16), (3, 5)] {
        let t = echo::run(&POLLER, &EXECUTOR, connections, rounds).unwrap();
        let bytes = (connections * rounds * echo::MESSAGE) as u64;
        let want = echo::Totals {
            accepted: connections as u64,
            sent: bytes,
            echoed: bytes,
            received: bytes,
            mismatched: 0,
        };
        assert_eq!(t, want);
    }
    assert_eq!(
        echo::run(&POLLER, &EXECUTOR, echo::MAX_CONNECTIONS + 1, 1),
        Err(Errno::EINVAL)
    );
    assert_eq!(wake_writes(&POLLER), Err(Errno::EAGAIN));
    assert_eq!(EXECUTOR.wakes(), 0);
}

/// A waker woken on another thread while the executor sleeps in the kernel wakes it, with
/// exactly one write of the wake eventfd; a lost wake would hang the run (the test then fails
/// after 10 s).
#[test]
fn a_waker_on_another_thread_wakes_the_sleeping_executor() {
    static POLLER: Netpoll = Netpoll::new();
    static EXECUTOR: executor::Executor = executor::Executor::new();
    POLLER.init().unwrap();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let task = woken_from_another_thread(&POLLER);
        done.send(EXECUTOR.run(&POLLER, pin!([task]))).unwrap();
    });
    let ran = finished.recv_timeout(Duration::from_secs(10));
    assert_eq!(ran, Ok(Ok(())), "the executor was not woken");
    assert_eq!(wake_writes(&POLLER), Ok(1));
    assert_eq!(EXECUTOR.wakes(), 1);
}

/// A task that panics unwinds out of `run` and leaves the executor usable; a task that runs the
/// executor from inside it gets `EBUSY`; more tasks than slots get `EINVAL`.
#[test]
fn the_executor_survives_a_panicking_task_and_refuses_reentry() {
    static POLLER: Netpoll = Netpoll::new();
    static EXECUTOR: executor::Executor = executor::Executor::new();
    POLLER.init().unwrap();
    let panicked = std::panic::catch_unwind(|| {
        EXECUTOR.run(
            &POLLER,
            pin!([0, 1].map(|i| async move { assert_eq!(i, 0) })),
        )
    });
    assert!(panicked.is_err());
    let inner = std::cell::Cell::new(None);
    let tasks = [0, 1].map(|_| async {
        inner.set(Some(EXECUTOR.run(&POLLER, pin!([async {}]))));
    });
    assert_eq!(EXECUTOR.run(&POLLER, pin!(tasks)), Ok(()));
    assert_eq!(inner.get(), Some(Err(Errno::EBUSY)));
    let too_many: [_; executor::MAX_TASKS + 1] = std::array::from_fn(|_| async {});
    assert_eq!(EXECUTOR.run(&POLLER, pin!(too_many)), Err(Errno::EINVAL));
}

/// 64 connections of 16 messages of 512 bytes on 4 workers, every count exact.
#[cfg(feature = "std")]
#[test]
fn multi_thread_echo_counts_every_byte() {
    static POLLER: Netpoll = Netpoll::new();
    POLLER.init().unwrap();
    let (connections, rounds, message) = (64, 16, 512);
    let t = multi_thread::echo::run(&POLLER, 4, connections, rounds, message).unwrap();
    let bytes = (connections * rounds * message) as u64;
    assert_eq!(t.counts(), [connections as u64, bytes, bytes, bytes, 0, 0]);
}

/// The multi-threaded executor with one worker, asleep in `poll_wake`: a waker woken on another
/// thread must wake it through `Netpoll::wake` (one eventfd write); a lost wake hangs the run
/// (the test then fails after 10 s).
#[cfg(feature = "std")]
#[test]
fn a_waker_on_another_thread_wakes_the_polling_worker() {
    static POLLER: Netpoll = Netpoll::new();
    POLLER.init().unwrap();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let task = woken_from_another_thread(&POLLER);
        let ran = multi_thread::executor::Runtime::block_on(&POLLER, 1, |_| task);
        done.send(ran.map_err(|e| e.kind())).unwrap();
    });
    let ran = finished.recv_timeout(Duration::from_secs(10));
    assert_eq!(ran, Ok(Ok(())), "the worker was not woken");
    assert_eq!(wake_writes(&POLLER), Ok(1));
}

/// A task that panics on the multi-threaded executor is dropped and the others run to the end:
/// `block_on` returns, with 1 and with 3 workers (a hang fails the test after 10 s).
#[cfg(feature = "std")]
#[test]
fn the_multi_threaded_executor_survives_a_panicking_task() {
    use std::sync::atomic::AtomicUsize;
    static POLLER: Netpoll = Netpoll::new();
    POLLER.init().unwrap();
    for workers in [1, 3] {
        let finished = Arc::new(AtomicUsize::new(0));
        let counted = finished.clone();
        let (done, ended) = mpsc::channel();
        std::thread::spawn(move || {
            let ran = multi_thread::executor::Runtime::block_on(&POLLER, workers, move |rt| {
                let rt = rt.clone();
                async move {
                    for i in 0..8 {
                        let counted = counted.clone();
                        rt.spawn(async move {
                            assert_ne!(i, 3, "task 3 panics");
                            counted.fetch_add(1, SeqCst);
                        });
                    }
                }
            });
            done.send(ran.map_err(|e| e.kind())).unwrap();
        });
        assert_eq!(ended.recv_timeout(Duration::from_secs(10)), Ok(Ok(())));
        assert_eq!(finished.load(SeqCst), 7);
    }
}

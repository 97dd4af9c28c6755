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

use rawpoll::netpoll::Netpoll;

/// 64 connections of 16 messages of 512 bytes on the no_std executor, then 3 more on the same
/// executor, poller and descriptor slots (reused: a stale edge or waker of the first run must not
/// disturb the second): every count exact.
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
        Err(rawpoll::Errno::EINVAL)
    );
}

/// 64 connections of 16 messages of 512 bytes on 4 workers, every count exact.
#[cfg(feature = "std")]
#[test]
fn multi_thread_echo_counts_every_byte() {
    use std::sync::atomic::Ordering::Relaxed;
    static POLLER: Netpoll = Netpoll::new();
    POLLER.init().unwrap();
    let (connections, rounds, message) = (64, 16, 512);
    let t = multi_thread::echo::run(&POLLER, 4, connections, rounds, message).unwrap();
    let bytes = (connections * rounds * message) as u64;
    let counts = [
        &t.accepted,
        &t.sent,
        &t.echoed,
        &t.received,
        &t.mismatched,
        &t.failed_tasks,
    ]
    .map(|c| c.load(Relaxed));
    assert_eq!(counts, [connections as u64, bytes, bytes, bytes, 0, 0]);
}

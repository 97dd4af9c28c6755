//! What a small runtime does with rawpoll: one poller in a `static`, descriptors registered with
//! static `PollDesc`s, readiness reported to the thread that polls, and wakes from other threads.

use rawpoll::netpoll::{Netpoll, PollDesc};
use rawpoll::{pipe2, read, write, Errno};
use std::thread;
use std::time::Duration;

/// Sends `msg` through a pipe from another thread, waits with `poller` until the reading end is
/// readable, and reads it into `buf`. `pd` is the reading end's descriptor record.
pub fn pipe_round_trip(
    poller: &Netpoll,
    pd: &'static PollDesc,
    msg: &'static [u8],
    buf: &mut [u8],
) -> Result<usize, Errno> {
    let (reader, writer) = pipe2(0)?;
    poller.open(&reader, pd)?;
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        write(&writer, msg)
    });
    let mut readable = false;
    while !readable {
        poller.poll(-1, |got, ready, _tag| {
            if core::ptr::eq(got, pd) && ready.readable {
                readable = true;
            }
        })?;
    }
    assert_eq!(sender.join().expect("the writer panicked")?, msg.len());
    let n = read(&reader, buf)?;
    poller.close(&reader)?;
    Ok(n)
}

/// Blocks in `poller.poll(-1)` until another thread's `wake` ends the wait; returns how many
/// descriptors the woken poll reported (none: nothing else is registered).
pub fn wait_for_wake(poller: &'static Netpoll) -> Result<usize, Errno> {
    let waker = thread::spawn(move || {
        // Wake only once the poller sleeps, so the wake has to reach a sleeping thread.
        while !poller.has_sleeper() {
            thread::yield_now();
        }
        poller.wake()
    });
    let reported = poller.poll(-1, |_, _, _| {})?;
    waker.join().expect("the waker panicked")?;
    Ok(reported)
}

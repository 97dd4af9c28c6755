//! Metric 3's stretch goal: the wake eventfd registered edge-triggered, so that a blocking poll
//! need not read it (2 system calls per wake cycle instead of Go's 3).
//!
//! [`EtNetpoll`] is the wake path of `rawpoll::netpoll::Netpoll` with exactly these changes:
//!
//! - the eventfd is registered `EPOLLIN | EPOLLET`; every write makes a new edge, so a poll sees
//!   one event per wake without draining the counter;
//! - a blocking poll that sees the wake resets the wake flag and reads nothing;
//! - a non-blocking poll that sees the wake re-arms it with `EPOLL_CTL_MOD` (the counter is
//!   still non-zero, so the kernel queues the event again): it must not swallow a wake meant
//!   for a poller about to block. This costs a system call only on that rare path;
//! - `wake` on `EAGAIN` (counter saturated after 2^64 - 2 undrained wakes: no new edge) drains
//!   the counter and writes again, where Go's level-triggered design may treat it as success.
//!
//! [`check`] tests the netpoll wake guarantees on it; `ci/bench` runs it.

use rawpoll::*;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

/// The event data of the wake eventfd, as in `Netpoll`.
const WAKE_DATA: u64 = 0;

/// The edge-triggered wake prototype: an epoll set, its eventfd and the wake flag.
pub struct EtNetpoll {
    epfd: RawFd,
    efd: RawFd,
    pending: AtomicU32,
}

impl EtNetpoll {
    /// `epoll_create1`, `eventfd`, and the eventfd registered `EPOLLIN | EPOLLET`.
    pub fn new() -> Result<EtNetpoll, Errno> {
        let epfd = epoll_create1(EPOLL_CLOEXEC)?;
        let efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)?;
        epoll_ctl(
            epfd,
            EPOLL_CTL_ADD,
            efd,
            Some(&EpollEvent::new(EPOLLIN | EPOLLET, WAKE_DATA)),
        )?;
        Ok(EtNetpoll {
            epfd,
            efd,
            pending: AtomicU32::new(0),
        })
    }

    /// `Netpoll::wake`, with `EAGAIN` handled by draining and writing again.
    pub fn wake(&self) -> Result<(), Errno> {
        if self
            .pending
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Ok(());
        }
        loop {
            match eventfd_write(self.efd, 1) {
                Ok(()) => return Ok(()),
                Err(e) if e == Errno::EINTR => continue,
                Err(e) if e == Errno::EAGAIN => {
                    // Saturated: the write made no edge. Drain, then write again.
                    let _ = eventfd_read(self.efd);
                }
                Err(e) => {
                    self.pending.store(0, Ordering::Release);
                    return Err(e);
                }
            }
        }
    }

    /// One `Netpoll::poll`, reduced to the wake: waits up to `timeout_ms` and returns whether a
    /// wake was consumed (only a blocking poll consumes one).
    pub fn poll_wake(&self, timeout_ms: i32) -> Result<bool, Errno> {
        let mut events = [EpollEvent::zeroed(); 128];
        let n = loop {
            match epoll_pwait(self.epfd, &mut events, timeout_ms) {
                Err(e) if e == Errno::EINTR => continue,
                other => break other?,
            }
        };
        let mut consumed = false;
        for event in events.iter().take(n) {
            if event.data() != WAKE_DATA {
                continue;
            }
            if timeout_ms != 0 {
                self.pending.store(0, Ordering::Release);
                consumed = true;
            } else {
                let rearm = EpollEvent::new(EPOLLIN | EPOLLET, WAKE_DATA);
                epoll_ctl(self.epfd, EPOLL_CTL_MOD, self.efd, Some(&rearm))?;
            }
        }
        Ok(consumed)
    }

    /// The eventfd counter, read from `/proc/self/fdinfo` without consuming it.
    fn counter(&self) -> u64 {
        let info =
            std::fs::read_to_string(format!("/proc/self/fdinfo/{}", self.efd)).expect("fdinfo");
        let line = info
            .lines()
            .find(|l| l.starts_with("eventfd-count:"))
            .expect("count");
        u64::from_str_radix(line["eventfd-count:".len()..].trim(), 16).expect("hex")
    }
}

impl Drop for EtNetpoll {
    fn drop(&mut self) {
        let _ = close(self.efd);
        let _ = close(self.epfd);
    }
}

/// A timeout that turns a lost wake into a failure rather than a hang (never a time assertion:
/// a wake that works returns at once).
const LOST_MS: i32 = 10_000;

type Case = (&'static str, fn() -> Result<(), String>);

/// Runs the guarantee checks; one line per case.
pub fn check() -> i32 {
    let cases: [Case; 5] = [
        (
            "non-blocking poll never swallows a pending wake",
            nonblocking_poll_keeps_wake,
        ),
        (
            "a spinning poll(0) never swallows a blocked poller's wake",
            spinning_poll_keeps_wake,
        ),
        (
            "at most one pending wake (8 racing wakers)",
            one_pending_wake,
        ),
        ("a saturated counter still wakes", saturated_counter_wakes),
        (
            "cross-thread wake of a blocked poller, 2000 cycles",
            cross_thread_wakes,
        ),
    ];
    let mut failed = 0;
    for (name, case) in cases {
        match case() {
            Ok(()) => println!("ok   et: {name}"),
            Err(why) => {
                failed += 1;
                println!("FAIL et: {name}: {why}");
            }
        }
    }
    println!("et-check: {} passed, {failed} failed", cases.len() - failed);
    i32::from(failed != 0)
}

fn expect(cond: bool, what: &str) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what.to_string())
    }
}

fn nonblocking_poll_keeps_wake() -> Result<(), String> {
    let np = EtNetpoll::new().map_err(|e| format!("{e:?}"))?;
    np.wake().map_err(|e| format!("{e:?}"))?;
    for _ in 0..3 {
        expect(
            !np.poll_wake(0).map_err(|e| format!("{e:?}"))?,
            "poll(0) consumed the wake",
        )?;
    }
    np.wake().map_err(|e| format!("{e:?}"))?;
    expect(np.counter() == 1, "a second wake wrote again")?;
    expect(
        np.poll_wake(LOST_MS).map_err(|e| format!("{e:?}"))?,
        "blocking poll lost the wake",
    )?;
    np.wake().map_err(|e| format!("{e:?}"))?;
    expect(np.counter() == 2, "the flag was not reset")?;
    expect(
        np.poll_wake(LOST_MS).map_err(|e| format!("{e:?}"))?,
        "second wake lost",
    )?;
    // Nothing is left over: a short poll now sees no wake.
    expect(
        !np.poll_wake(1).map_err(|e| format!("{e:?}"))?,
        "a stale wake was reported",
    )
}

fn spinning_poll_keeps_wake() -> Result<(), String> {
    let np = Arc::new(EtNetpoll::new().map_err(|e| format!("{e:?}"))?);
    let stop = Arc::new(AtomicBool::new(false));
    let spins = Arc::new(AtomicU64::new(0));
    let spinner = {
        let (np, stop, spins) = (Arc::clone(&np), Arc::clone(&stop), Arc::clone(&spins));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = np.poll_wake(0);
                spins.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let mut lost = 0;
    for _ in 0..2000 {
        np.wake().map_err(|e| format!("{e:?}"))?;
        if !np.poll_wake(LOST_MS).map_err(|e| format!("{e:?}"))? {
            lost += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    spinner.join().map_err(|_| "spinner panicked".to_string())?;
    expect(lost == 0, &format!("{lost} of 2000 wakes lost"))
}

fn one_pending_wake() -> Result<(), String> {
    let np = Arc::new(EtNetpoll::new().map_err(|e| format!("{e:?}"))?);
    for cycle in 0..200u64 {
        let barrier = Arc::new(Barrier::new(8));
        let wakers: Vec<_> = (0..8)
            .map(|_| {
                let (np, barrier) = (Arc::clone(&np), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    np.wake()
                })
            })
            .collect();
        for w in wakers {
            w.join()
                .map_err(|_| "waker panicked".to_string())?
                .map_err(|e| format!("{e:?}"))?;
        }
        // The counter is never drained: one write per cycle adds exactly one.
        expect(np.counter() == cycle + 1, "more than one write in a cycle")?;
        expect(
            np.poll_wake(LOST_MS).map_err(|e| format!("{e:?}"))?,
            "wake lost",
        )?;
    }
    Ok(())
}

fn saturated_counter_wakes() -> Result<(), String> {
    let np = EtNetpoll::new().map_err(|e| format!("{e:?}"))?;
    // Fill the counter to its maximum, as 2^64 - 2 undrained wakes would, and take that edge.
    eventfd_write(np.efd, u64::MAX - 1).map_err(|e| format!("{e:?}"))?;
    np.poll_wake(LOST_MS).map_err(|e| format!("{e:?}"))?;
    expect(np.counter() == u64::MAX - 1, "counter not saturated")?;
    np.wake().map_err(|e| format!("{e:?}"))?;
    expect(np.counter() == 1, "wake did not drain a saturated counter")?;
    expect(
        np.poll_wake(LOST_MS).map_err(|e| format!("{e:?}"))?,
        "wake lost at saturation",
    )
}

fn cross_thread_wakes() -> Result<(), String> {
    let np = Arc::new(EtNetpoll::new().map_err(|e| format!("{e:?}"))?);
    let (tx, rx) = mpsc::channel();
    let poller = {
        let np = Arc::clone(&np);
        std::thread::spawn(move || {
            for _ in 0..2000 {
                let woke = np.poll_wake(LOST_MS);
                if tx.send(woke).is_err() {
                    return;
                }
            }
        })
    };
    let mut lost = 0;
    for _ in 0..2000 {
        np.wake().map_err(|e| format!("{e:?}"))?;
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(true)) => {}
            _ => lost += 1,
        }
    }
    poller.join().map_err(|_| "poller panicked".to_string())?;
    expect(lost == 0, &format!("{lost} of 2000 wakes lost"))
}

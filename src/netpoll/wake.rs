//! The wake protocol: how [`Netpoll::wake`] reaches a thread asleep in [`Netpoll::poll`], with
//! no system call unless a thread sleeps, and without losing a wake.
//!
//! Two shared words ([`WakeWords`]): the wake flag (Go's `netpollWakeSig`, with what is known
//! of its delivery) and the count of sleepers (threads inside, or about to enter, a blocking
//! wait). They form a Dekker pair, every access sequentially consistent: the waker stores the
//! flag, then reads the count; a blocking poller stores the count, then reads the flag. Whatever
//! the interleaving, one of the two sees the other: either the waker writes the eventfd, or the
//! poller does not sleep.
//!
//! The protocol is three functions: [`wake`] (the waker's half), and the poller's half as the
//! pair [`before_wait`] and [`after_wait`], which `poll` calls around its wait. Every access to
//! a shared word and every system call they make goes through a [`WakePath`]. The poller's
//! implementation is its atomics and the real system calls, each method inlined to the direct
//! call; the exhaustive check (`model_check.rs`) implements it with a scheduler that stops the
//! real code at each of these steps and explores every interleaving of them.

#[cfg(doc)]
use super::Netpoll;
use super::EVENTS_PER_POLL;
use crate::errno::Errno;
use crate::event::EpollEvent;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};

/// The event data of the wake eventfd. A descriptor's data always carries a non-null address in
/// its upper bits, so no descriptor, whatever its sequence, can produce this value; the whole
/// 64-bit word is compared (Go bug #72900 compared one pointer-sized half of it on 32-bit
/// little-endian targets, the half that holds the tag).
pub(crate) const WAKE_DATA: u64 = 0;

/// No wake pending.
pub(crate) const IDLE: u8 = 0;
/// A wake is pending and its waker is deciding whether to write, or writing, the eventfd. Other
/// wakes rely on it: it tries a failed write once more before it gives up.
pub(crate) const WRITING: u8 = 1;
/// A wake is pending and delivered: its edge is written, or no thread slept when it came (a
/// thread about to sleep sees the flag first).
pub(crate) const DELIVERED: u8 = 2;
/// A wake is pending but its edge could not be written: the next blocking poll still returns at
/// once, and the next `wake` writes again.
pub(crate) const UNDELIVERED: u8 = 3;

/// The protocol's two shared words.
#[derive(Debug)]
pub(crate) struct WakeWords {
    flag: AtomicU8,
    sleepers: AtomicU32,
}

impl WakeWords {
    pub(crate) const fn new() -> WakeWords {
        WakeWords {
            flag: AtomicU8::new(IDLE),
            sleepers: AtomicU32::new(0),
        }
    }

    pub(crate) fn load_flag(&self) -> u8 {
        self.flag.load(Ordering::SeqCst)
    }

    pub(crate) fn swap_flag(&self, current: u8, new: u8) -> Result<u8, u8> {
        self.flag
            .compare_exchange(current, new, Ordering::SeqCst, Ordering::SeqCst)
    }

    pub(crate) fn store_flag(&self, new: u8) {
        self.flag.store(new, Ordering::SeqCst);
    }

    pub(crate) fn add_sleeper(&self) {
        self.sleepers.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn remove_sleeper(&self) {
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    pub(crate) fn sleepers(&self) -> u32 {
        self.sleepers.load(Ordering::SeqCst)
    }
}

/// Every step of the protocol that another thread or the kernel can observe: the accesses to
/// [`WakeWords`] and the system calls on the wake eventfd and the epoll instance.
pub(crate) trait WakePath {
    /// The wake flag.
    fn load_flag(&self) -> u8;
    /// Compare-and-swap of the wake flag: `Ok(current)` if it held `current` and now holds
    /// `new`, else `Err(what it holds)`.
    fn swap_flag(&self, current: u8, new: u8) -> Result<u8, u8>;
    fn store_flag(&self, new: u8);
    fn add_sleeper(&self);
    fn remove_sleeper(&self);
    fn sleepers(&self) -> u32;
    /// Adds 1 to the wake eventfd's counter: a new edge for the epoll set.
    fn write_eventfd(&self) -> Result<(), Errno>;
    /// Reads the wake eventfd's counter back to zero.
    fn read_eventfd(&self) -> Result<u64, Errno>;
    /// `EPOLL_CTL_MOD` of the wake eventfd: queues it again if it is readable.
    fn rearm_eventfd(&self) -> Result<(), Errno>;
    /// One wait of the epoll set, `delay_ns` as [`Netpoll::poll`] takes it; how many entries of
    /// `buffer` it filled.
    fn wait(
        &self,
        buffer: &mut [MaybeUninit<EpollEvent>; EVENTS_PER_POLL],
        delay_ns: i64,
    ) -> Result<usize, Errno>;
}

/// The waker's half ([`Netpoll::wake`]): marks a wake pending and writes the eventfd only if a
/// thread sleeps.
pub(crate) fn wake(path: &impl WakePath) -> Result<(), Errno> {
    let mut seen = path.load_flag();
    loop {
        // Pending and delivered, or being delivered by a waker who repairs what it can.
        if seen == DELIVERED || seen == WRITING {
            return Ok(());
        }
        // IDLE or UNDELIVERED: this wake takes the write over. Dekker, the waker's half: this
        // store comes before the waker reads the sleeper count.
        match path.swap_flag(seen, WRITING) {
            Ok(_) => break,
            Err(now) => seen = now,
        }
    }
    // Nobody sleeps: whoever blocks next sees the flag before it sleeps, so no write.
    // Otherwise write the edge (a failure is tried once more, for the wakes relying on it).
    let written = if path.sleepers() == 0 {
        Ok(())
    } else {
        write_edge(path, 2)
    };
    let next = if written.is_ok() {
        DELIVERED
    } else {
        UNDELIVERED
    };
    // Publish what became of it (if a poller consumed the wake meanwhile, the flag is IDLE and
    // stays so).
    let _ = path.swap_flag(WRITING, next);
    written
}

/// What a poll decided before its wait.
#[derive(Clone, Copy)]
pub(crate) struct Sleep {
    /// The poll blocks (`delay_ns != 0`): it counts itself a sleeper until [`after_wait`].
    blocking: bool,
    /// A wake was pending when the blocking poll looked: it waits with timeout 0 and consumes it.
    pending: bool,
}

impl Sleep {
    /// The delay the wait uses: 0 if a wake is pending, else the caller's.
    pub(crate) fn delay_ns(self, delay_ns: i64) -> i64 {
        if self.pending {
            0
        } else {
            delay_ns
        }
    }
}

/// The poller's half, before its wait: a blocking poll counts itself a sleeper, then looks for
/// a pending wake (Dekker, the poller's half: store the count, then read the flag).
pub(crate) fn before_wait(path: &impl WakePath, delay_ns: i64) -> Sleep {
    let blocking = delay_ns != 0;
    if blocking {
        path.add_sleeper();
    }
    Sleep {
        blocking,
        pending: blocking && path.load_flag() != IDLE,
    }
}

/// The poller's half, after its wait and before any event is delivered: leaves the sleeper
/// count, then settles the wake. A blocking poll that found a wake pending, or took the wake's
/// edge, consumes it; a non-blocking poll that took the edge of a wake a sleeper may be waiting
/// for puts it back. Runs on every way out of the wait, and before the first callback, so that
/// no callback can hold a wake back.
///
/// `events` is what the wait collected, or its error (then nothing is consumed). The error
/// returned is the failed give-back's (see [`give_back_edge`]).
pub(crate) fn after_wait(
    path: &impl WakePath,
    sleep: Sleep,
    events: Result<&[EpollEvent], Errno>,
) -> Result<(), Errno> {
    if sleep.blocking {
        path.remove_sleeper();
    }
    // A failed wait consumed nothing: a pending wake stays pending for the next poll.
    let Ok(events) = events else { return Ok(()) };
    let took_edge = events.iter().any(|event| event.data() == WAKE_DATA);
    if sleep.pending || (took_edge && sleep.blocking) {
        path.store_flag(IDLE);
    } else if took_edge && path.sleepers() != 0 && path.load_flag() != IDLE {
        // A non-blocking poll took the edge of a pending wake that a sleeper may be waiting
        // for: put it back. (With no sleeper, the next one sees the flag before it sleeps; with
        // the flag IDLE, the edge was stale: its wake has been consumed.)
        return give_back_edge(path);
    }
    Ok(())
}

/// Puts back the wake edge a non-blocking poll took: `EPOLL_CTL_MOD` re-queues the still
/// readable eventfd; if that fails, a fresh write makes a new edge. If both fail, the wake is
/// marked undelivered (still pending, written again by the next `wake`) and the write's error
/// is returned.
fn give_back_edge(path: &impl WakePath) -> Result<(), Errno> {
    if path.rearm_eventfd().is_ok() {
        return Ok(());
    }
    write_edge(path, 1).inspect_err(|_| {
        let _ = path.swap_flag(DELIVERED, UNDELIVERED);
    })
}

/// Writes one edge to the wake eventfd, retrying `EINTR`; on `EAGAIN` (the counter is
/// saturated, and a failed write makes no edge) reads the counter back to zero and writes
/// again. Any other failure is tried again until `attempts` have failed, and the last returned.
fn write_edge(path: &impl WakePath, mut attempts: u32) -> Result<(), Errno> {
    loop {
        let failure = match path.write_eventfd() {
            Ok(()) => return Ok(()),
            Err(e) if e == Errno::EINTR => continue,
            Err(e) if e == Errno::EAGAIN => match path.read_eventfd() {
                // Cleared (by us, or by someone else just before): write again.
                Ok(_) => continue,
                Err(e) if e == Errno::EAGAIN || e == Errno::EINTR => continue,
                Err(e) => e,
            },
            Err(e) => e,
        };
        attempts = attempts.saturating_sub(1);
        if attempts == 0 {
            return Err(failure);
        }
    }
}

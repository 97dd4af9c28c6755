//! Readiness: the other half of Go's netpoller (`runtime/netpoll.go`), where each poll
//! descriptor latches readiness per [`Direction`] and parks the task waiting for it, on
//! [`core::task::Waker`], without allocation and without a lock a wake can wait on.
//!
//! | Go (`runtime/netpoll.go`) | rawpoll |
//! |---|---|
//! | `pollDesc.rg`, `pollDesc.wg` (`pdNil`, `pdReady`, `pdWait`, a goroutine) | one readiness word and one waker cell per [`Direction`] in [`PollDesc`] |
//! | mode `'r'`, `'w'` | [`Direction::Read`], [`Direction::Write`] |
//! | `poll_runtime_pollWait`, `netpollblock` | [`PollDesc::poll_ready`] |
//! | `poll_runtime_pollReset` | [`PollDesc::clear_ready`] |
//! | `poll_runtime_pollUnblock` (`closing`, `errClosing`) | [`PollDesc::unblock`] (`ECANCELED`) |
//! | `netpolldeadlineimpl` (`errTimeout`) | [`PollDesc::expire`] (`ETIMEDOUT`), [`PollDesc::clear_expired`] |
//! | `netpollready`, `netpollunblock` | [`PollDesc::set_ready`], [`Netpoll::poll_wake`] |
//! | `pollDesc.fdseq` checked against the event's tag | the generation in each readiness word |
//!
//! # The readiness word
//!
//! Each direction has one atomic word: the generation (the low bits of the descriptor's
//! sequence, so a reuse moves it on), and the flags `READY` (an edge is latched), `FRESH` (an
//! edge no `poll_ready` that returned `Ready` has seen yet), `CLOSED`, `EXPIRED`, `WAITING` (the
//! waker cell holds a waker) and `LOCKED` (someone owns the waker cell). Every change is one
//! compare-exchange of the whole word, so a delivery for an old generation can never latch into a
//! new one: [`PollDesc::set_ready`] compares the generation in the same exchange that sets
//! `READY`.
//!
//! The waker cell is owned by whoever set `LOCKED` (the pattern of `futures`' `AtomicWaker`):
//! nobody waits for it. A delivery, an `unblock` or an `expire` that finds it owned sets its flag
//! and leaves the wake to the owner, who sees the flag when it lets go: a registering task then
//! returns `Ready` (or the error) instead of `Pending`, and a deliverer takes the waker anyway. A
//! task that finds the cell owned by something that raised no flag (a reuse resetting the word,
//! or a second task breaking the one-task rule) wakes itself and returns `Pending`: it is polled
//! again, nothing waits. No user code (a waker's `clone`, `wake` or `drop`) runs while the cell is
//! owned, so a waker that panics, blocks or calls back into the descriptor leaves the word as a
//! normal return would.
//!
//! `clear_ready` clears `READY` only if `FRESH` is clear: an edge that arrived after the last
//! `poll_ready` that returned `Ready` (whatever the order of the task's I/O, its `EAGAIN` and the
//! edge) is never erased, and one bit does it, with no counter to wrap.
//!
//! # The rules a runtime keeps
//!
//! - One task per direction at a time polls it (`poll_ready`, `clear_ready`), as in Go, where
//!   one goroutine per mode waits (it throws on a second). A second task is not unsound: each
//!   `poll_ready` replaces the registered waker, so the first may then wait for an edge that
//!   wakes only the second.
//! - Reuse ([`PollDesc::bump_sequence`], [`PollDesc::set_sequence`]) happens while no task polls
//!   the descriptor (after `unblock`, as Go's close calls `pollUnblock` before `pollClose`). It
//!   resets both directions to the new generation (no readiness, no closing, no deadline) and
//!   wakes a waker still registered, so that the last registration's task is never left parked.
//! - Timers are the runtime's: it calls `expire` when a deadline passes and `clear_expired` when
//!   it sets a new one.
//!
//! # The seam
//!
//! The functions below do every access to the word and to the waker cell through a
//! [`ReadyPath`]. The shipped implementation is [`PollDesc`]'s own atomics and cells, every
//! atomic access sequentially consistent (as the wake protocol's), so that the interleavings of
//! these steps cover every execution; the exhaustive check (`model_check_ready.rs`) implements
//! it with its scheduler and explores every interleaving of the shipped functions.

use super::desc::{PollDesc, Tag, TAG_BITS};
use super::interest::Ready;
#[cfg(doc)]
use super::Netpoll;
use crate::errno::Errno;
use core::sync::atomic::Ordering::SeqCst;
use core::task::{Context, Poll, Waker};

/// A direction of readiness: Go's mode `'r'` or `'w'`.
#[doc(alias = "mode")]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Direction {
    /// Readable (Go's `'r'`): [`Ready::readable`].
    Read,
    /// Writable (Go's `'w'`): [`Ready::writable`].
    Write,
}

impl Direction {
    /// Both directions, reading first.
    pub const BOTH: [Direction; 2] = [Direction::Read, Direction::Write];

    /// Whether `ready` names this direction.
    pub const fn is_in(self, ready: &Ready) -> bool {
        match self {
            Direction::Read => ready.readable,
            Direction::Write => ready.writable,
        }
    }
}

/// An edge is latched.
pub(crate) const READY: usize = 1;
/// An edge that no `poll_ready` returning `Ready` has seen: `clear_ready` leaves `READY` alone.
pub(crate) const FRESH: usize = 1 << 1;
/// Unblocked: `poll_ready` fails with `ECANCELED`.
pub(crate) const CLOSED: usize = 1 << 2;
/// The deadline passed: `poll_ready` fails with `ETIMEDOUT`.
pub(crate) const EXPIRED: usize = 1 << 3;
/// The waker cell holds a waker.
pub(crate) const WAITING: usize = 1 << 4;
/// Someone owns the waker cell.
pub(crate) const LOCKED: usize = 1 << 5;
/// The flags below the generation.
const FLAG_BITS: u32 = 6;
/// What a reuse keeps: the waker cell's ownership and content.
const CELL: usize = WAITING | LOCKED;

/// Bits of the sequence the word carries: the tag's (13 on 64-bit targets), or all the word has
/// room for (26 on 32-bit ones).
pub(crate) const GENERATION_BITS: u32 = if TAG_BITS < usize::BITS - FLAG_BITS {
    TAG_BITS
} else {
    usize::BITS - FLAG_BITS
};
const GENERATION_MASK: usize = (1 << GENERATION_BITS) - 1;
/// The generation field of a word.
pub(crate) const GENERATION: usize = GENERATION_MASK << FLAG_BITS;

/// The generation field for `sequence`: what a fresh word of that registration holds.
pub(crate) const fn generation(sequence: usize) -> usize {
    (sequence & GENERATION_MASK) << FLAG_BITS
}

/// The generation field for the registration an event tagged `tag` came from.
pub(crate) const fn tag_generation(tag: Tag) -> usize {
    // The tag has at least GENERATION_BITS bits; the cast keeps them.
    generation(tag.bits() as usize)
}

/// Every access of the readiness layer to shared state: a descriptor's sequence, its readiness
/// words and its waker cells, and the wakes.
pub(crate) trait ReadyPath {
    /// What wakes a task.
    type Waker: Clone;
    /// The descriptor's sequence.
    fn sequence(&self) -> usize;
    /// Moves the sequence on by one (wrapping); returns the new one.
    fn bump_sequence(&self) -> usize;
    /// Sets the sequence.
    fn store_sequence(&self, sequence: usize);
    /// `dir`'s readiness word.
    fn load(&self, dir: Direction) -> usize;
    /// Compare-exchange of `dir`'s word: `Ok(current)` if it held `current` and now holds
    /// `new`, else `Err(what it holds)`.
    fn swap(&self, dir: Direction, current: usize, new: usize) -> Result<usize, usize>;
    /// Replaces the waker in `dir`'s cell and returns the one it held.
    ///
    /// # Safety
    ///
    /// The caller owns the cell: it set `LOCKED` in `dir`'s word and has not cleared it.
    unsafe fn swap_waker(&self, dir: Direction, waker: Option<Self::Waker>) -> Option<Self::Waker>;
    /// Wakes the task of `waker`.
    fn wake(&self, waker: Self::Waker);
}

/// What `poll_ready` answers for word `*word` without waiting: the closing error, the deadline's,
/// or `Ready` (clearing `FRESH`: this `Ready` has seen every edge so far); `None` if it must
/// wait. `*word` is updated to what the word held last.
fn settled(path: &impl ReadyPath, dir: Direction, word: &mut usize) -> Option<Result<(), Errno>> {
    loop {
        let w = *word;
        if w & CLOSED != 0 {
            return Some(Err(Errno::ECANCELED));
        }
        if w & EXPIRED != 0 {
            return Some(Err(Errno::ETIMEDOUT));
        }
        if w & READY == 0 {
            return None;
        }
        if w & FRESH == 0 {
            return Some(Ok(()));
        }
        match path.swap(dir, w, w & !FRESH) {
            Ok(_) => return Some(Ok(())),
            Err(now) => *word = now,
        }
    }
}

/// [`PollDesc::poll_ready`] on any [`ReadyPath`].
pub(crate) fn poll_ready_on<P: ReadyPath>(
    path: &P,
    dir: Direction,
    waker: &P::Waker,
) -> Poll<Result<(), Errno>> {
    let mut word = path.load(dir);
    if let Some(answer) = settled(path, dir, &mut word) {
        return Poll::Ready(answer);
    }
    // Cloned before the cell is taken: a clone that panics owns nothing.
    let mine = waker.clone();
    loop {
        if word & LOCKED != 0 {
            // Owned by a reuse or by another task (a deliverer raises a flag in the same
            // exchange that takes the cell, and `settled` saw none): waiting for it could wait
            // for ever, so be polled again.
            path.wake(mine);
            return Poll::Pending;
        }
        match path.swap(dir, word, word | LOCKED) {
            Ok(_) => break,
            Err(now) => {
                word = now;
                if let Some(answer) = settled(path, dir, &mut word) {
                    return Poll::Ready(answer);
                }
            }
        }
    }
    // SAFETY: the exchange above set LOCKED; only the unlock below clears it.
    let previous = unsafe { path.swap_waker(dir, Some(mine)) };
    let mut word = word | LOCKED;
    loop {
        match path.swap(dir, word, (word & !LOCKED) | WAITING) {
            Ok(_) => break,
            Err(now) => word = now,
        }
    }
    // Dropped with the cell let go: a waker's drop is user code.
    drop(previous);
    // A flag raised while the cell was ours: its raiser left the wake to us, and we are awake.
    let mut word = (word & !LOCKED) | WAITING;
    match settled(path, dir, &mut word) {
        Some(answer) => Poll::Ready(answer),
        None => Poll::Pending,
    }
}

/// [`PollDesc::clear_ready`] on any [`ReadyPath`].
pub(crate) fn clear_ready_on(path: &impl ReadyPath, dir: Direction) {
    let mut word = path.load(dir);
    // An edge the task has not seen (FRESH) stays latched.
    while word & READY != 0 && word & FRESH == 0 {
        match path.swap(dir, word, word & !READY) {
            Ok(_) => return,
            Err(now) => word = now,
        }
    }
}

/// [`PollDesc::clear_expired`] on any [`ReadyPath`].
pub(crate) fn clear_expired_on(path: &impl ReadyPath, dir: Direction) {
    let mut word = path.load(dir);
    while word & EXPIRED != 0 {
        match path.swap(dir, word, word & !EXPIRED) {
            Ok(_) => return,
            Err(now) => word = now,
        }
    }
}

/// Raises `flags` in `dir`'s word if its generation is `generation` (any generation if `None`),
/// and if `take_cell`, takes the waker cell in the same exchange if it holds a waker and nobody
/// owns it. Returns whether the generation matched, and the word as locked if the cell was taken.
fn raise(
    path: &impl ReadyPath,
    dir: Direction,
    flags: usize,
    generation: Option<usize>,
    take_cell: bool,
) -> (bool, Option<usize>) {
    let mut word = path.load(dir);
    loop {
        if generation.is_some_and(|g| word & GENERATION != g) {
            return (false, None);
        }
        let take = take_cell && word & WAITING != 0 && word & LOCKED == 0;
        let new = word | flags | if take { LOCKED } else { 0 };
        if new == word {
            // Raised already, and the cell is empty or owned by someone who will see it.
            return (true, None);
        }
        match path.swap(dir, word, new) {
            Ok(_) => return (true, take.then_some(new)),
            Err(now) => word = now,
        }
    }
}

/// Takes the waker out of `dir`'s cell, owned since the exchange that left `locked` in the word,
/// lets the cell go, then wakes the waker.
fn take_and_wake(path: &impl ReadyPath, dir: Direction, locked: usize) {
    // SAFETY: `locked` is the word as this thread's exchange left it, with LOCKED set by it.
    let waker = unsafe { path.swap_waker(dir, None) };
    let mut word = locked;
    loop {
        match path.swap(dir, word, word & !(LOCKED | WAITING)) {
            Ok(_) => break,
            Err(now) => word = now,
        }
    }
    // Woken with the cell let go: a wake is user code.
    if let Some(waker) = waker {
        path.wake(waker);
    }
}

/// Raises `flags` in `dir`'s word (if its generation is `generation`) and wakes the waiter.
fn raise_and_wake(
    path: &impl ReadyPath,
    dir: Direction,
    flags: usize,
    generation: Option<usize>,
) -> bool {
    let (matched, locked) = raise(path, dir, flags, generation, true);
    if let Some(locked) = locked {
        take_and_wake(path, dir, locked);
    }
    matched
}

/// The first half of a delivery: latches `ready` in each direction it names, if `tag` is the
/// registration's (its sequence, and the generation in the word at the exchange). Wakes nobody.
/// Returns whether anything was latched.
pub(crate) fn latch_on(path: &impl ReadyPath, ready: &Ready, tag: Tag) -> bool {
    if !tag.matches(path.sequence()) {
        return false;
    }
    let generation = tag_generation(tag);
    let mut latched = false;
    for dir in Direction::BOTH {
        if dir.is_in(ready) {
            let mut word = path.load(dir);
            loop {
                if word & GENERATION != generation {
                    break;
                }
                let new = word | READY | FRESH;
                if new == word {
                    latched = true;
                    break;
                }
                match path.swap(dir, word, new) {
                    Ok(_) => {
                        latched = true;
                        break;
                    }
                    Err(now) => word = now,
                }
            }
        }
    }
    latched
}

/// The second half of a delivery: wakes the waiter of each direction `ready` names whose word is
/// still of `tag`'s generation and latched.
pub(crate) fn wake_on(path: &impl ReadyPath, ready: &Ready, tag: Tag) {
    let generation = tag_generation(tag);
    for dir in Direction::BOTH {
        if dir.is_in(ready) {
            // READY is latched already (or cleared since by a task that saw it): raise nothing,
            // take the cell if a waker waits.
            raise_and_wake(path, dir, 0, Some(generation));
        }
    }
}

/// [`PollDesc::set_ready`] on any [`ReadyPath`]: [`latch_on`], then [`wake_on`].
pub(crate) fn set_ready_on(path: &impl ReadyPath, ready: &Ready, tag: Tag) -> bool {
    let latched = latch_on(path, ready, tag);
    if latched {
        wake_on(path, ready, tag);
    }
    latched
}

/// [`PollDesc::unblock`] on any [`ReadyPath`]: both directions closed first, then their waiters
/// woken, so that a waker that panics leaves both closed.
pub(crate) fn unblock_on(path: &impl ReadyPath) {
    for dir in Direction::BOTH {
        raise(path, dir, CLOSED, None, false);
    }
    for dir in Direction::BOTH {
        raise_and_wake(path, dir, 0, None);
    }
}

/// [`PollDesc::expire`] on any [`ReadyPath`].
pub(crate) fn expire_on(path: &impl ReadyPath, dir: Direction) {
    raise_and_wake(path, dir, EXPIRED, None);
}

/// Resets both words to `sequence`'s generation, keeping the waker cells (their ownership and
/// content), then wakes a waker still registered (the last registration's task), so that a
/// waker that panics leaves both reset.
pub(crate) fn reset_on(path: &impl ReadyPath, sequence: usize) {
    let generation = generation(sequence);
    for dir in Direction::BOTH {
        let mut word = path.load(dir);
        while let Err(now) = path.swap(dir, word, generation | (word & CELL)) {
            word = now;
        }
    }
    for dir in Direction::BOTH {
        raise_and_wake(path, dir, 0, Some(generation));
    }
}

/// [`PollDesc::bump_sequence`] on any [`ReadyPath`].
pub(crate) fn bump_on(path: &impl ReadyPath) -> usize {
    let sequence = path.bump_sequence();
    reset_on(path, sequence);
    sequence
}

/// [`PollDesc::set_sequence`] on any [`ReadyPath`].
pub(crate) fn set_sequence_on(path: &impl ReadyPath, sequence: usize) {
    path.store_sequence(sequence);
    reset_on(path, sequence);
}

impl PollDesc {
    /// Go's `pollWait` (`netpollblock`): whether `dir` is ready for I/O.
    ///
    /// - `Ready(Err(ECANCELED))` after [`PollDesc::unblock`] (Go's `errClosing`), until the
    ///   descriptor is reused; `Ready(Err(ETIMEDOUT))` after [`PollDesc::expire`]`(dir)` (Go's
    ///   `errTimeout`), until [`PollDesc::clear_expired`]`(dir)` or a reuse. Closing comes first.
    /// - `Ready(Ok(()))` if an edge is latched for `dir`: try the I/O, and after it returns
    ///   `EAGAIN` call [`PollDesc::clear_ready`].
    /// - Otherwise `cx`'s waker is registered for `dir` (replacing the one registered before)
    ///   and `Pending` is returned: the next edge, `unblock` or `expire` of `dir` wakes it. An
    ///   edge that arrives while the waker is being registered is seen: this call returns
    ///   `Ready` instead, or the edge wakes the waker (the exhaustive check proves it).
    ///
    /// One task per direction at a time (see the module documentation). A waker may be woken
    /// spuriously (a task polls again and may get `Pending`); it is never woken for another
    /// registration's edge.
    #[doc(
        alias = "pollWait",
        alias = "netpollblock",
        alias = "poll_runtime_pollWait"
    )]
    pub fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<Result<(), Errno>> {
        poll_ready_on(self, dir, cx.waker())
    }

    /// Go's `pollReset`: call after the I/O returned `EAGAIN`. Clears the latched edge of `dir`
    /// unless an edge arrived after the last `poll_ready` of `dir` that returned `Ready`, in any
    /// order of that edge, the I/O and this call: such an edge stays latched and the next
    /// `poll_ready` returns `Ready`. Clears neither closing nor the deadline.
    #[doc(alias = "pollReset", alias = "poll_runtime_pollReset")]
    pub fn clear_ready(&self, dir: Direction) {
        clear_ready_on(self, dir)
    }

    /// Go's `pollUnblock`: marks both directions closing and wakes their waiters; every later
    /// `poll_ready` returns `Err(ECANCELED)` until the descriptor is reused.
    #[doc(alias = "pollUnblock", alias = "poll_runtime_pollUnblock")]
    pub fn unblock(&self) {
        unblock_on(self)
    }

    /// Go's `netpolldeadlineimpl` for one direction: the deadline of `dir` passed. Wakes its
    /// waiter; `poll_ready(dir)` returns `Err(ETIMEDOUT)` until [`PollDesc::clear_expired`] or
    /// a reuse. The timers are the runtime's.
    #[doc(alias = "netpolldeadlineimpl")]
    pub fn expire(&self, dir: Direction) {
        expire_on(self, dir)
    }

    /// Clears the expiry of `dir` (a runtime that sets a new deadline calls this first).
    pub fn clear_expired(&self, dir: Direction) {
        clear_expired_on(self, dir)
    }

    /// Go's `netpollready` for one descriptor: latches `ready` (each direction it names) and
    /// wakes the waker registered for each, if `tag` is still the descriptor's current
    /// registration. Returns whether it was delivered: `false` for a stale tag (a reuse since;
    /// nothing latched, nobody woken, even if the reuse lands while this call runs) or a `ready`
    /// naming no direction.
    ///
    /// Wakers are woken after the state is updated and with nothing held, so a waker that
    /// panics unwinds out of this call with the edge latched, and one that calls back into this
    /// descriptor finds it consistent.
    #[doc(alias = "netpollready", alias = "netpollunblock")]
    pub fn set_ready(&self, ready: Ready, tag: Tag) -> bool {
        set_ready_on(self, &ready, tag)
    }
}

impl ReadyPath for PollDesc {
    type Waker = Waker;

    #[inline(always)]
    fn sequence(&self) -> usize {
        self.sequence_word().load(SeqCst)
    }

    #[inline(always)]
    fn bump_sequence(&self) -> usize {
        self.sequence_word().fetch_add(1, SeqCst).wrapping_add(1)
    }

    #[inline(always)]
    fn store_sequence(&self, sequence: usize) {
        self.sequence_word().store(sequence, SeqCst)
    }

    #[inline(always)]
    fn load(&self, dir: Direction) -> usize {
        self.readiness_word(dir).load(SeqCst)
    }

    #[inline(always)]
    fn swap(&self, dir: Direction, current: usize, new: usize) -> Result<usize, usize> {
        self.readiness_word(dir)
            .compare_exchange(current, new, SeqCst, SeqCst)
    }

    #[inline(always)]
    unsafe fn swap_waker(&self, dir: Direction, waker: Option<Waker>) -> Option<Waker> {
        // SAFETY: the caller owns the cell (LOCKED, set by its acquiring exchange and cleared
        // only by its releasing one), so no other thread reads or writes it meanwhile.
        unsafe { core::mem::replace(&mut *self.waker_cell(dir).get(), waker) }
    }

    #[inline(always)]
    fn wake(&self, waker: Waker) {
        waker.wake()
    }
}

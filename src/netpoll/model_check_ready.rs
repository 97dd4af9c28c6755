//! The exhaustive check of the readiness layer (`ready.rs`), on the code that ships.
//!
//! The same method as the wake protocol's check (`model_check.rs`): the threads of a scenario
//! run the real functions of `ready.rs` ([`ready::poll_ready_on`], [`ready::clear_ready_on`],
//! [`ready::set_ready_on`], [`ready::unblock_on`], [`ready::expire_on`],
//! [`ready::clear_expired_on`], [`ready::bump_on`]) over a [`ReadyPath`] of this file's own,
//! [`Replay`]: each access to the descriptor's sequence, to a readiness word or to a waker cell,
//! and each wake, is one step that the explorer interleaves with every other thread's. A thread
//! is moved one step by running its call again on its log and stopping it (by unwinding) at the
//! first step not logged; the explored states (the shared words, the cells, the model's kernel
//! and every thread's phase and log) merge, and their count is asserted exactly.
//!
//! The wakers are task numbers, and a wake is a step that marks the task woken. Around the
//! shipped calls, each thread runs the program a user of the layer runs:
//!
//! - a task: `poll_ready`; on `Ready(Ok)` it does its I/O (a model step: it reads every byte the
//!   descriptor has, and on none it gets `EAGAIN` and calls `clear_ready`, then polls again)
//!   until it has read the bytes it wants; on `Pending` it parks until woken, then polls again;
//!   on `ETIMEDOUT` it ends, or clears the expiry and polls on (a runtime setting a new deadline);
//!   on `ECANCELED` it ends;
//! - a deliverer: for each edge, the kernel makes a byte readable, then `Netpoll::poll_wake`
//!   delivers it (`set_ready` with the registration's tag); a stale deliverer delivers the tag
//!   of the registration before a reuse, read before it (it makes no byte: its descriptor is
//!   gone);
//! - an unblocker (`unblock`), an expirer (`expire`), a reuser (`bump_sequence`), which starts
//!   only once the old registration's task and unblocker have ended (the runtime's rule); the
//!   new registration's task and deliverer start once the reuse has returned.
//!
//! Checked at every step: a waker cell is read or written only by the thread that owns it
//! (took `LOCKED` by its own exchange), and only its owner lets it go (the soundness of the
//! `UnsafeCell`); a stale delivery never wakes the new registration's task; the new
//! registration's task never gets `Ready` before an edge of its own, nor its predecessor's
//! closing. Checked in every final state (no thread can move): no edge lost (every task that
//! must end has ended: it read every byte delivered to it, or was unblocked or expired; none
//! is parked for good), and every cell let go.
//!
//! `ci/mutants` puts known defects back into `ready.rs` one at a time and checks that this
//! check fails on each (the README lists them).

#![allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]

use super::desc::Tag;
use super::interest::Ready;
use super::model_explorer::{self, check, Found};
use super::ready::{self, Direction, ReadyPath, LOCKED};
use crate::errno::Errno;
use crate::event::{EPOLLIN, EPOLLOUT};
use core::task::Poll;
use std::prelude::v1::*;
use std::{format, vec};

/// One step of a shipped call, as the explorer sees it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Step {
    Sequence,
    BumpSequence,
    StoreSequence(usize),
    Load(Direction),
    Swap(Direction, usize, usize),
    SwapWaker(Direction, Option<u8>),
    Wake(u8),
}

/// What a step returned.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Answer {
    Done,
    Word(usize),
    Swapped(Result<usize, usize>),
    Waker(Option<u8>),
}

/// A thread's [`ReadyPath`]: answers the logged steps, and stops the thread at the first other.
type Replay<'a> = model_explorer::Replay<'a, Step, Answer>;

impl Replay<'_> {
    fn word(&self, step: Step) -> usize {
        match self.step(step) {
            Answer::Word(word) => word,
            other => core::panic!("{step:?} answered {other:?}"),
        }
    }
}

impl ReadyPath for Replay<'_> {
    type Waker = u8;

    fn sequence(&self) -> usize {
        self.word(Step::Sequence)
    }

    fn bump_sequence(&self) -> usize {
        self.word(Step::BumpSequence)
    }

    fn store_sequence(&self, sequence: usize) {
        self.step(Step::StoreSequence(sequence));
    }

    fn load(&self, dir: Direction) -> usize {
        self.word(Step::Load(dir))
    }

    fn swap(&self, dir: Direction, current: usize, new: usize) -> Result<usize, usize> {
        match self.step(Step::Swap(dir, current, new)) {
            Answer::Swapped(result) => result,
            other => core::panic!("swap answered {other:?}"),
        }
    }

    unsafe fn swap_waker(&self, dir: Direction, waker: Option<u8>) -> Option<u8> {
        match self.step(Step::SwapWaker(dir, waker)) {
            Answer::Waker(previous) => previous,
            other => core::panic!("swap_waker answered {other:?}"),
        }
    }

    fn wake(&self, waker: u8) {
        self.step(Step::Wake(waker));
    }
}

/// What a task does on `ETIMEDOUT`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum OnTimeout {
    /// It ends.
    Ends,
    /// It clears the expiry and polls on (a new deadline).
    WaitsOn,
}

/// What a thread does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Role {
    /// A task that wants `bytes` bytes from `dir`. `new`: it belongs to the registration after
    /// the reuse. `may_wait`: nothing is owed to it, it may stay parked.
    Task {
        dir: Direction,
        bytes: u8,
        on_timeout: OnTimeout,
        new: bool,
        may_wait: bool,
    },
    /// Delivers `edges` edges for `dir` (both if `None`) with the tag of `sequence`. `stale`:
    /// the tag of the registration before the reuse, read before it; no byte is made.
    Deliverer {
        dir: Option<Direction>,
        sequence: usize,
        stale: bool,
    },
    Unblocker,
    Expirer(Direction),
    Reuser,
}

/// Where a thread is in its program.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Phase {
    /// A task's `poll_ready`.
    Poll,
    /// A task's I/O (a model step).
    Io,
    /// A task's `clear_ready` after `EAGAIN`.
    Clear,
    /// A task's `clear_expired`.
    ClearExpired,
    /// A task parked until woken.
    Parked,
    /// The kernel makes a byte readable for a deliverer's next edge (a model step).
    MakeByte,
    /// A deliverer's `set_ready`.
    Deliver,
    /// The one call of an unblocker, an expirer or a reuser.
    Call,
    Ended(End),
}

impl Phase {
    fn in_call(self) -> bool {
        matches!(
            self,
            Phase::Poll | Phase::Clear | Phase::ClearExpired | Phase::Deliver | Phase::Call
        )
    }
}

/// How a thread ended.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum End {
    /// A task read every byte it wanted.
    Read,
    Cancelled,
    TimedOut,
    Returned,
}

/// What a shipped call returned.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Returned {
    Polled(Poll<Result<(), Errno>>),
    Delivered(bool),
    Nothing,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct Thread {
    id: u8,
    role: Role,
    phase: Phase,
    /// A task: bytes read; a deliverer: edges still to deliver.
    count: u8,
    /// The threads that must have ended before this one starts (a bit each).
    after: u16,
    /// The current call's steps and answers.
    log: Vec<(Step, Answer)>,
    /// The current call's next step.
    next: Option<Step>,
}

/// The call of `t`'s phase, on `path`.
fn run(t: &Thread, path: &Replay<'_>) -> Returned {
    match (t.role, t.phase) {
        (Role::Task { dir, .. }, Phase::Poll) => {
            Returned::Polled(ready::poll_ready_on(path, dir, &t.id))
        }
        (Role::Task { dir, .. }, Phase::Clear) => {
            ready::clear_ready_on(path, dir);
            Returned::Nothing
        }
        (Role::Task { dir, .. }, Phase::ClearExpired) => {
            ready::clear_expired_on(path, dir);
            Returned::Nothing
        }
        (Role::Deliverer { dir, sequence, .. }, Phase::Deliver) => {
            let events = match dir {
                Some(Direction::Read) => EPOLLIN,
                Some(Direction::Write) => EPOLLOUT,
                None => EPOLLIN | EPOLLOUT,
            };
            Returned::Delivered(ready::set_ready_on(
                path,
                &Ready::from_events(events),
                Tag::of(sequence),
            ))
        }
        (Role::Unblocker, Phase::Call) => {
            ready::unblock_on(path);
            Returned::Nothing
        }
        (Role::Expirer(dir), Phase::Call) => {
            ready::expire_on(path, dir);
            Returned::Nothing
        }
        (Role::Reuser, Phase::Call) => {
            ready::bump_on(path);
            Returned::Nothing
        }
        (role, phase) => core::panic!("no call for {role:?} in {phase:?}"),
    }
}

/// Runs `t`'s call on its log, to its next step (`Ok`) or to its return (`Err`).
fn advance(t: &Thread) -> Result<Step, Returned> {
    model_explorer::advance(&t.log, |path| run(t, path))
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct World {
    sequence: usize,
    words: [usize; 2],
    cells: [Option<u8>; 2],
    /// Ghost: the thread that owns each cell (set `LOCKED` by its own exchange).
    owners: [Option<u8>; 2],
    /// The model's kernel: the bytes readable in each direction.
    bytes: [u8; 2],
    /// The tasks woken since they last polled (a bit each).
    woken: u16,
    /// Ghost: an edge of the registration after the reuse has been made.
    new_edge: bool,
    threads: Vec<Thread>,
}

fn index(dir: Direction) -> usize {
    match dir {
        Direction::Read => 0,
        Direction::Write => 1,
    }
}

/// Enters `phase`: starts its call if it is one.
fn enter(t: &mut Thread, phase: Phase) {
    t.phase = phase;
    t.log.clear();
    t.next = None;
    if phase.in_call() {
        match advance(t) {
            Ok(step) => t.next = Some(step),
            Err(returned) => core::panic!("{phase:?} returned {returned:?} with no step"),
        }
    }
}

/// The phase after thread `t`'s call returned `returned`; `Err` for a violation.
fn after_call(w: &World, t: &Thread, returned: Returned) -> Result<Phase, String> {
    Ok(match (t.role, t.phase, returned) {
        (
            Role::Task {
                new, on_timeout, ..
            },
            Phase::Poll,
            Returned::Polled(polled),
        ) => match polled {
            Poll::Ready(Ok(())) => {
                if new && !w.new_edge {
                    return Err(format!(
                        "task {} of the new registration made ready by its predecessor's edge",
                        t.id
                    ));
                }
                Phase::Io
            }
            Poll::Pending => Phase::Parked,
            Poll::Ready(Err(e)) if e == Errno::ECANCELED => {
                if new {
                    return Err(format!(
                        "task {} of the new registration sees its predecessor's closing",
                        t.id
                    ));
                }
                Phase::Ended(End::Cancelled)
            }
            Poll::Ready(Err(e)) if e == Errno::ETIMEDOUT => match on_timeout {
                OnTimeout::Ends => Phase::Ended(End::TimedOut),
                OnTimeout::WaitsOn => Phase::ClearExpired,
            },
            Poll::Ready(Err(e)) => return Err(format!("poll_ready returned {e:?}")),
        },
        (Role::Task { .. }, Phase::Clear | Phase::ClearExpired, _) => Phase::Poll,
        (Role::Deliverer { stale, .. }, Phase::Deliver, Returned::Delivered(_)) => {
            if t.count > 1 {
                if stale {
                    Phase::Deliver
                } else {
                    Phase::MakeByte
                }
            } else {
                Phase::Ended(End::Returned)
            }
        }
        (_, Phase::Call, _) => Phase::Ended(End::Returned),
        (role, phase, returned) => core::panic!("{role:?} in {phase:?} returned {returned:?}"),
    })
}

/// The world after thread `i` takes `step` of its call; `Err` for a violation.
fn take(w: &World, i: usize, step: Step) -> Result<World, String> {
    let mut n = w.clone();
    let me = w.threads[i].id;
    let answer = match step {
        Step::Sequence => Answer::Word(w.sequence),
        Step::BumpSequence => {
            n.sequence = w.sequence.wrapping_add(1);
            Answer::Word(n.sequence)
        }
        Step::StoreSequence(sequence) => {
            n.sequence = sequence;
            Answer::Done
        }
        Step::Load(dir) => Answer::Word(w.words[index(dir)]),
        Step::Swap(dir, current, new) => {
            let d = index(dir);
            if w.words[d] != current {
                Answer::Swapped(Err(w.words[d]))
            } else {
                n.words[d] = new;
                match (current & LOCKED != 0, new & LOCKED != 0) {
                    (false, true) => {
                        if w.owners[d].is_some() {
                            return Err(format!("{me} took cell {d} owned by another"));
                        }
                        n.owners[d] = Some(me);
                    }
                    (true, false) => {
                        if w.owners[d] != Some(me) {
                            return Err(format!("{me} let go of cell {d}, not its own"));
                        }
                        n.owners[d] = None;
                    }
                    _ => {}
                }
                Answer::Swapped(Ok(current))
            }
        }
        Step::SwapWaker(dir, waker) => {
            let d = index(dir);
            if w.owners[d] != Some(me) {
                return Err(format!(
                    "{me} touched waker cell {d} owned by {:?}",
                    w.owners[d]
                ));
            }
            n.cells[d] = waker;
            Answer::Waker(w.cells[d])
        }
        Step::Wake(task) => {
            let target = w.threads.iter().find(|t| t.id == task).unwrap();
            if let (Role::Deliverer { stale: true, .. }, Role::Task { new: true, .. }) =
                (w.threads[i].role, target.role)
            {
                return Err(format!(
                    "a stale delivery woke task {task} of the new registration"
                ));
            }
            n.woken |= 1 << task;
            Answer::Done
        }
    };
    let t = &mut n.threads[i];
    t.log.push((step, answer));
    match advance(t) {
        Ok(next) => t.next = Some(next),
        Err(returned) => {
            let phase = after_call(&n, &n.threads[i], returned)?;
            let t = &mut n.threads[i];
            if let (Role::Deliverer { .. }, Phase::Deliver) = (t.role, t.phase) {
                t.count -= 1;
            }
            enter(t, phase);
        }
    }
    Ok(n)
}

/// The world after thread `i` takes its model step (not a shipped call's), if it can move.
fn model_step(w: &World, i: usize) -> Option<World> {
    let t = &w.threads[i];
    let mut n = w.clone();
    match (t.role, t.phase) {
        (Role::Task { dir, bytes, .. }, Phase::Io) => {
            let d = index(dir);
            let t = &mut n.threads[i];
            if w.bytes[d] == 0 {
                enter(t, Phase::Clear);
            } else {
                t.count += w.bytes[d];
                n.bytes[d] = 0;
                if t.count >= bytes {
                    enter(t, Phase::Ended(End::Read));
                }
            }
        }
        (Role::Task { .. }, Phase::Parked) => {
            if w.woken & (1 << t.id) == 0 {
                return None;
            }
            n.woken &= !(1 << t.id);
            enter(&mut n.threads[i], Phase::Poll);
        }
        (Role::Deliverer { .. }, Phase::MakeByte) => {
            for dir in Direction::BOTH {
                if dir_matches(dir, &t.role) {
                    n.bytes[index(dir)] += 1;
                }
            }
            n.new_edge |= w.sequence != 0;
            enter(&mut n.threads[i], Phase::Deliver);
        }
        _ => return None,
    }
    Some(n)
}

fn dir_matches(dir: Direction, role: &Role) -> bool {
    match role {
        Role::Deliverer { dir: None, .. } => true,
        Role::Deliverer { dir: Some(d), .. } => *d == dir,
        _ => false,
    }
}

/// Checks a final state.
fn check_final(w: &World) -> Option<String> {
    for t in &w.threads {
        if let Role::Task {
            may_wait: false, ..
        } = t.role
        {
            if !matches!(t.phase, Phase::Ended(_)) {
                return Some(format!(
                    "lost edge: task {} is {:?} for good, {} of its bytes read",
                    t.id, t.phase, t.count
                ));
            }
        }
    }
    if w.owners != [None, None] || w.words.iter().any(|word| word & LOCKED != 0) {
        return Some("a waker cell is still owned".into());
    }
    None
}

/// Explores every interleaving from `start`.
fn explore(start: World) -> Found {
    let moves = |w: &World, next: &mut Vec<Result<World, String>>| {
        for i in 0..w.threads.len() {
            let t = &w.threads[i];
            let waiting = w
                .threads
                .iter()
                .any(|o| t.after & (1 << o.id) != 0 && !matches!(o.phase, Phase::Ended(_)));
            if waiting {
                continue;
            }
            if let Some(step) = t.next {
                next.push(take(w, i, step));
            } else if let Some(n) = model_step(w, i) {
                next.push(Ok(n));
            }
        }
    };
    model_explorer::explore(start, moves, check_final)
}

/// A scenario's threads, numbered in order.
fn world(threads: Vec<(Role, u16)>) -> World {
    let threads = threads
        .into_iter()
        .enumerate()
        .map(|(id, (role, after))| {
            let (phase, count) = match role {
                Role::Task { .. } => (Phase::Poll, 0),
                Role::Deliverer { stale: true, .. } => (Phase::Deliver, 1),
                Role::Deliverer { .. } => (Phase::MakeByte, 0),
                _ => (Phase::Call, 0),
            };
            let mut t = Thread {
                id: id as u8,
                role,
                phase,
                count,
                after,
                log: Vec::new(),
                next: None,
            };
            enter(&mut t, phase);
            t
        })
        .collect();
    World {
        sequence: 0,
        words: [ready::generation(0); 2],
        cells: [None, None],
        owners: [None, None],
        bytes: [0, 0],
        woken: 0,
        new_edge: false,
        threads,
    }
}

fn task(dir: Direction, bytes: u8, on_timeout: OnTimeout) -> Role {
    Role::Task {
        dir,
        bytes,
        on_timeout,
        new: false,
        may_wait: false,
    }
}

fn deliverer(dir: Option<Direction>) -> Role {
    Role::Deliverer {
        dir,
        sequence: 0,
        stale: false,
    }
}

/// `edges` edges from one deliverer.
fn edges(mut world: World, thread: usize, edges: u8) -> World {
    world.threads[thread].count = edges;
    world
}

/// The scenarios; `small`: the part of them the small size explores.
fn scenarios() -> Vec<(&'static str, bool, World)> {
    use Direction::{Read, Write};
    use OnTimeout::{Ends, WaitsOn};
    let none = 0;
    vec![
        (
            "a task reading 2 bytes, 1 deliverer of 2 edges",
            true,
            edges(
                world(vec![(task(Read, 2, Ends), none), (deliverer(Some(Read)), none)]),
                1,
                2,
            ),
        ),
        (
            "a task reading 2 bytes, 2 deliverers of 1 edge",
            false,
            edges(
                edges(
                    world(vec![
                        (task(Read, 2, Ends), none),
                        (deliverer(Some(Read)), none),
                        (deliverer(Some(Read)), none),
                    ]),
                    1,
                    1,
                ),
                2,
                1,
            ),
        ),
        (
            "a reading and a writing task, 1 deliverer of an edge for both",
            true,
            edges(
                world(vec![
                    (task(Read, 1, Ends), none),
                    (task(Write, 1, Ends), none),
                    (deliverer(None), none),
                ]),
                2,
                1,
            ),
        ),
        (
            "a reading and a writing task, an unblock",
            true,
            world(vec![
                (task(Read, 1, Ends), none),
                (task(Write, 1, Ends), none),
                (Role::Unblocker, none),
            ]),
        ),
        (
            "a task, 1 deliverer, an unblock",
            true,
            edges(
                world(vec![
                    (task(Read, 1, Ends), none),
                    (deliverer(Some(Read)), none),
                    (Role::Unblocker, none),
                ]),
                1,
                1,
            ),
        ),
        (
            "a reading task ending on its deadline, a writing task, an expiry of reading, an unblock",
            true,
            world(vec![
                (task(Read, 1, Ends), none),
                (task(Write, 1, Ends), none),
                (Role::Expirer(Read), none),
                (Role::Unblocker, 1 << 2),
            ]),
        ),
        (
            "a task clearing its expiry and waiting on, 1 deliverer, an expiry",
            true,
            edges(
                world(vec![
                    (task(Read, 1, WaitsOn), none),
                    (deliverer(Some(Read)), none),
                    (Role::Expirer(Read), none),
                ]),
                1,
                1,
            ),
        ),
        (
            "an old edge and an unblock, a reuse, the new task and an edge of its own; a stale edge at any time",
            true,
            reuse(true),
        ),
        (
            "an old edge and an unblock, a reuse, the new task and no edge; a stale edge at any time",
            true,
            reuse(false),
        ),
    ]
}

/// The reuse scenario: 0 an edge of the old registration and 1 its unblock, both before the
/// reuse; 2 another edge of the old registration, its tag read before the reuse and delivered at
/// any time; 3 the reuse (once 0 and 1 have returned); 4 the new registration's task (once the
/// reuse has returned) and 5, if `edge`, an edge of the new registration (likewise). The old
/// registration's task and its race with the unblock are another scenario's.
fn reuse(edge: bool) -> World {
    use Direction::Read;
    let old = Role::Deliverer {
        dir: Some(Read),
        sequence: 0,
        stale: true,
    };
    let mut threads = vec![
        (old, 0),
        (Role::Unblocker, 0),
        (old, 0),
        (Role::Reuser, 0b11),
        (
            Role::Task {
                dir: Read,
                bytes: 1,
                on_timeout: OnTimeout::Ends,
                new: true,
                may_wait: !edge,
            },
            1 << 3,
        ),
    ];
    if edge {
        threads.push((
            Role::Deliverer {
                dir: Some(Read),
                sequence: 1,
                stale: false,
            },
            1 << 3,
        ));
    }
    let mut w = world(threads);
    if edge {
        w.threads[5].count = 1;
    }
    w
}

/// The number of distinct states the test explores at the full size and at the small one (see
/// [`model_explorer::check`]): they change only with the code of `ready.rs` or with the
/// scenarios.
const EXPECTED_STATES: usize = 268_264;
const EXPECTED_STATES_SMALL: usize = 95_313;

#[test]
fn the_shipped_readiness_layer_loses_no_edge_in_any_interleaving() {
    check(
        "readiness",
        scenarios(),
        |name, _| name.into(),
        explore,
        (EXPECTED_STATES, EXPECTED_STATES_SMALL),
    );
}

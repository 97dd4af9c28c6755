//! The exhaustive check of the wake protocol, on the code that ships.
//!
//! The threads of a scenario run the real [`wake::wake`] and the real [`poll_on`] (the body of
//! `Netpoll::poll`: [`wake::before_wait`], the wait, [`wake::after_wait`], the callbacks) over a
//! [`WakePath`] of this file's own, [`Replay`]. Each call on it is one step that another thread
//! or the kernel can observe: an access to a shared word (all `SeqCst` in the poller, so
//! sequential consistency covers every execution) or a system call. The explorer keeps, for each
//! thread, the log of the steps it took and what each returned; to move a thread one step, it
//! runs the thread's code again from the start, answering the logged steps from the log, and
//! stops it (by unwinding, caught here) at the first step that is not logged: that is the
//! thread's next step. The code is deterministic given the answers, so a thread's log is its
//! whole local state, and a state of the exploration is the shared words, the kernel's state and
//! every thread's log: states reached by different interleavings merge, and the exploration is
//! exhaustive and finite. Its count of distinct states is asserted exactly.
//!
//! The kernel is the small state machine that matters here: the wake eventfd's registration is
//! edge-triggered, so its edge is queued on the epoll ready list or not; a write makes the counter
//! readable and queues the edge; a read empties the counter; `EPOLL_CTL_MOD` queues the edge if
//! the counter is readable; a wait returns what is queued and takes it off the list (a blocking
//! wait returns only when something is queued, or when a signal interrupts it). One more
//! registration, a descriptor with one edge queued from the start, gives the callbacks
//! something to report.
//!
//! Moves: wakers (`wake`), sleepers (`poll(-1)`), non-blocking pollers (`poll(0)`), callbacks
//! that return, panic or block until every sleeper has returned, signals, and, in each scenario
//! run once with and once without, one injected failure of any one system call, with each errno
//! that takes its own path through the code.
//!
//! Checked in every final state (no thread can move):
//! - no wake lost: for every `wake` that returned `Ok` and that no blocking poll has consumed
//!   since it began (cleared the flag, on its way back to its caller), no sleeper is blocked for
//!   good and the flag is set, so that the next blocking poll does not sleep;
//! - no system call without a sleeper: a scenario without sleepers makes no eventfd write, and
//!   writes are at most one per wake plus one per failed re-arm;
//! - and at every step: a non-blocking poll never consumes a wake (never clears the flag).
//!
//! `ci/mutants` puts known defects back into `wake.rs` and `mod.rs` one at a time and checks
//! that this check fails on each (the README lists them with the check's output).

#![allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]

use super::model_explorer::{self, check, Found};
use super::wake::{self, WakePath, IDLE, WAKE_DATA};
use super::{desc, poll_on, PollDesc, EVENTS_PER_POLL};
use crate::errno::Errno;
use crate::event::{EpollEvent, EPOLLIN, EPOLLOUT};
use core::mem::MaybeUninit;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::prelude::v1::*;
use std::{format, vec};

/// One step of a thread, as the explorer sees it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Step {
    LoadFlag,
    SwapFlag(u8, u8),
    StoreFlag(u8),
    AddSleeper,
    RemoveSleeper,
    Sleepers,
    WriteEventfd,
    ReadEventfd,
    RearmEventfd,
    /// A wait; `blocks`: its delay is not 0.
    Wait {
        blocks: bool,
    },
    /// A callback that blocks until every sleeper has returned.
    CallbackBlocks,
}

/// What a step returned.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Answer {
    Done,
    Flag(u8),
    Swapped(Result<u8, u8>),
    Sleepers(u32),
    Call(Result<u64, Errno>),
    /// A successful wait: whether it took the wake's edge and the descriptor's.
    Waited {
        wake_edge: bool,
        descriptor: bool,
    },
}

/// The payload of a callback's panic.
struct CallbackPanicked;

/// The descriptor whose edge is queued at the start.
static DESCRIPTOR: PollDesc = PollDesc::new();

/// A thread's [`WakePath`]: answers the logged steps, and stops the thread at the first other.
type Replay<'a> = model_explorer::Replay<'a, Step, Answer>;

impl Replay<'_> {
    fn call(&self, step: Step) -> Result<u64, Errno> {
        match self.step(step) {
            Answer::Call(result) => result,
            other => core::panic!("{step:?} answered {other:?}"),
        }
    }
}

impl WakePath for Replay<'_> {
    fn load_flag(&self) -> u8 {
        match self.step(Step::LoadFlag) {
            Answer::Flag(flag) => flag,
            other => core::panic!("load_flag answered {other:?}"),
        }
    }

    fn swap_flag(&self, current: u8, new: u8) -> Result<u8, u8> {
        match self.step(Step::SwapFlag(current, new)) {
            Answer::Swapped(result) => result,
            other => core::panic!("swap_flag answered {other:?}"),
        }
    }

    fn store_flag(&self, new: u8) {
        self.step(Step::StoreFlag(new));
    }

    fn add_sleeper(&self) {
        self.step(Step::AddSleeper);
    }

    fn remove_sleeper(&self) {
        self.step(Step::RemoveSleeper);
    }

    fn sleepers(&self) -> u32 {
        match self.step(Step::Sleepers) {
            Answer::Sleepers(count) => count,
            other => core::panic!("sleepers answered {other:?}"),
        }
    }

    fn write_eventfd(&self) -> Result<(), Errno> {
        self.call(Step::WriteEventfd).map(|_| ())
    }

    fn read_eventfd(&self) -> Result<u64, Errno> {
        self.call(Step::ReadEventfd)
    }

    fn rearm_eventfd(&self) -> Result<(), Errno> {
        self.call(Step::RearmEventfd).map(|_| ())
    }

    fn wait(
        &self,
        buffer: &mut [MaybeUninit<EpollEvent>; EVENTS_PER_POLL],
        delay_ns: i64,
    ) -> Result<usize, Errno> {
        let (wake_edge, descriptor) = match self.step(Step::Wait {
            blocks: delay_ns != 0,
        }) {
            Answer::Waited {
                wake_edge,
                descriptor,
            } => (wake_edge, descriptor),
            Answer::Call(Err(e)) => return Err(e),
            other => core::panic!("wait answered {other:?}"),
        };
        let mut count = 0;
        if wake_edge {
            buffer[count].write(EpollEvent::new(EPOLLIN, WAKE_DATA));
            count += 1;
        }
        if descriptor {
            let data = desc::pack(&DESCRIPTOR, DESCRIPTOR.sequence()).unwrap();
            buffer[count].write(EpollEvent::new(EPOLLIN | EPOLLOUT, data));
            count += 1;
        }
        Ok(count)
    }
}

/// What a thread does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Role {
    Waker,
    /// `polls` blocking polls, `poll(-1)`, one after the other (the count still to make).
    Sleeper {
        polls: u8,
    },
    /// `polls` non-blocking polls, `poll(0)`, one after the other (the count still to make).
    Looker {
        polls: u8,
    },
}

/// What the thread's callback does when the descriptor is reported.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Callback {
    Returns,
    Panics,
    Blocks,
}

/// How a thread ended.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Ended {
    Woke(Result<(), Errno>),
    Polled,
}

/// Where a thread is: its next step, or how it ended.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Next {
    Step(Step),
    Ended(Ended),
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct Thread {
    role: Role,
    callback: Callback,
    log: Vec<(Step, Answer)>,
    next: Next,
}

/// One call of the thread's code: a wake, or one poll. A panic of a callback ends that poll
/// (caught, as a runtime would) and the thread polls on, so that a poller after a panic is
/// checked as any other.
fn run(role: Role, callback: Callback, path: &Replay<'_>) -> Ended {
    let delay_ns = match role {
        Role::Waker => return Ended::Woke(wake::wake(path)),
        Role::Sleeper { .. } => -1,
        Role::Looker { .. } => 0,
    };
    let polled = catch_unwind(AssertUnwindSafe(|| {
        poll_on(path, delay_ns, |_, _, _| match callback {
            Callback::Returns => {}
            Callback::Panics => resume_unwind(Box::new(CallbackPanicked)),
            Callback::Blocks => {
                path.step(Step::CallbackBlocks);
            }
        })
    }));
    if let Err(payload) = polled {
        if !payload.is::<CallbackPanicked>() {
            resume_unwind(payload);
        }
    }
    Ended::Polled
}

/// Moves thread `t` one step, `answer` being what its step returned. A call that ended leaves
/// nothing behind but what the checks read: the code keeps no state from one call to the next
/// but the shared words, so a poller's next poll starts from an empty log, and an ended thread's
/// log is dropped (states that differ only in a finished call's history merge).
fn take_step(t: &mut Thread, step: Step, answer: Answer) {
    t.log.push((step, answer));
    t.next = advance(t.role, t.callback, &t.log);
    if let Next::Ended(_) = t.next {
        t.log.clear();
        let more = match &mut t.role {
            Role::Sleeper { polls } | Role::Looker { polls } if *polls > 1 => {
                *polls -= 1;
                true
            }
            _ => false,
        };
        if more {
            t.next = advance(t.role, t.callback, &[]);
        }
    }
}

/// Runs the thread's code on its log, to its next step.
fn advance(role: Role, callback: Callback, log: &[(Step, Answer)]) -> Next {
    match model_explorer::advance(log, |path| run(role, callback, path)) {
        Ok(step) => Next::Step(step),
        Err(ended) => Next::Ended(ended),
    }
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct World {
    flag: u8,
    sleepers: u32,
    /// The wake eventfd's edge is on the epoll ready list.
    queued: bool,
    /// The eventfd's counter is not zero.
    readable: bool,
    /// The descriptor's edge is on the ready list.
    descriptor_queued: bool,
    /// Failures still to inject (0 or 1).
    faults: u8,
    /// Interruptions still to deliver to a blocked wait.
    signals: u8,
    writes: u8,
    rearm_failures: u8,
    /// A ghost bit per thread: this waker began, and no blocking poll has consumed a wake since.
    owed: u16,
    threads: Vec<Thread>,
}

/// The errnos a failure of each system call is injected with: each takes its own path.
fn failures(step: Step) -> &'static [Errno] {
    match step {
        Step::WriteEventfd | Step::ReadEventfd => &[Errno::EINTR, Errno::EAGAIN, Errno::EIO],
        Step::RearmEventfd => &[Errno::ENOMEM],
        Step::Wait { .. } => &[Errno::EINVAL],
        _ => &[],
    }
}

fn sleepers_done(w: &World) -> bool {
    w.threads
        .iter()
        .all(|t| !matches!(t.role, Role::Sleeper { .. }) || matches!(t.next, Next::Ended(_)))
}

/// Every (answer, next world) that thread `i` taking `step` leads to, before the thread moves;
/// `Err` for a step that must never be taken.
fn outcomes(w: &World, i: usize, step: Step) -> Result<Vec<(Answer, World)>, String> {
    if w.threads[i].log.is_empty() && w.threads[i].role == Role::Waker {
        // The waker begins: it is owed a return of a blocking wait from here on.
        let mut begun = w.clone();
        begun.owed |= 1 << i;
        return outcomes_after(&begun, i, step);
    }
    outcomes_after(w, i, step)
}

fn outcomes_after(w: &World, i: usize, step: Step) -> Result<Vec<(Answer, World)>, String> {
    let role = w.threads[i].role;
    let mut out: Vec<(Answer, World)> = Vec::new();
    let mut push = |answer: Answer, f: &dyn Fn(&mut World)| {
        let mut n = w.clone();
        f(&mut n);
        out.push((answer, n));
    };
    if let (Step::StoreFlag(IDLE), Role::Looker { .. }) = (step, role) {
        return Err("a non-blocking poll consumed a wake".into());
    }
    match step {
        Step::LoadFlag => push(Answer::Flag(w.flag), &|_| {}),
        Step::SwapFlag(current, new) => {
            if w.flag == current {
                push(Answer::Swapped(Ok(current)), &|n| n.flag = new);
            } else {
                push(Answer::Swapped(Err(w.flag)), &|_| {});
            }
        }
        Step::StoreFlag(new) => push(Answer::Done, &|n| {
            n.flag = new;
            if new == IDLE {
                // A blocking poll consumed the pending wake: it returns, for every wake since.
                n.owed = 0;
            }
        }),
        Step::AddSleeper => push(Answer::Done, &|n| n.sleepers += 1),
        Step::RemoveSleeper => push(Answer::Done, &|n| n.sleepers -= 1),
        Step::Sleepers => push(Answer::Sleepers(w.sleepers), &|_| {}),
        Step::WriteEventfd => push(Answer::Call(Ok(0)), &|n| {
            n.writes += 1;
            n.readable = true;
            n.queued = true;
        }),
        Step::ReadEventfd => {
            if w.readable {
                push(Answer::Call(Ok(1)), &|n| n.readable = false);
            } else {
                push(Answer::Call(Err(Errno::EAGAIN)), &|_| {});
            }
        }
        Step::RearmEventfd => push(Answer::Call(Ok(0)), &|n| {
            if n.readable {
                n.queued = true;
            }
        }),
        Step::Wait { blocks } => {
            let anything = w.queued || w.descriptor_queued;
            if !blocks || anything {
                let answer = Answer::Waited {
                    wake_edge: w.queued,
                    descriptor: w.descriptor_queued,
                };
                push(answer, &|n| {
                    n.queued = false;
                    n.descriptor_queued = false;
                });
            }
            if blocks && w.signals > 0 {
                push(Answer::Call(Err(Errno::EINTR)), &|n| n.signals -= 1);
            }
        }
        Step::CallbackBlocks => {
            if sleepers_done(w) {
                push(Answer::Done, &|_| {});
            }
        }
    }
    // The injected failure: the call does not happen, and returns the errno.
    if w.faults > 0 {
        for &errno in failures(step) {
            push(Answer::Call(Err(errno)), &|n| {
                n.faults -= 1;
                if step == Step::RearmEventfd {
                    n.rearm_failures += 1;
                }
            });
        }
    }
    Ok(out)
}

/// Checks a final state.
fn check_final(w: &World, has_sleepers: bool) -> Option<String> {
    let blocked = w
        .threads
        .iter()
        .filter(|t| t.next == Next::Step(Step::Wait { blocks: true }))
        .count();
    let owed_ok = w
        .threads
        .iter()
        .enumerate()
        .filter(|(i, t)| w.owed & (1 << i) != 0 && t.next == Next::Ended(Ended::Woke(Ok(()))))
        .count();
    let wakers = w.threads.iter().filter(|t| t.role == Role::Waker).count();
    if owed_ok > 0 && blocked > 0 {
        return Some(format!(
            "lost wake: {owed_ok} wake(s) returned Ok, none consumed since, and {blocked} poller(s) blocked for good"
        ));
    }
    if owed_ok > 0 && w.flag == IDLE {
        return Some(format!(
            "lost wake: {owed_ok} wake(s) returned Ok, none consumed since, and the flag is clear, so the next poller sleeps"
        ));
    }
    if !has_sleepers && w.writes > 0 {
        return Some(format!("{} eventfd write(s) with no sleeper", w.writes));
    }
    if usize::from(w.writes) > wakers + usize::from(w.rearm_failures) {
        return Some(format!(
            "{} writes for {wakers} wakes and {} failed re-arms",
            w.writes, w.rearm_failures
        ));
    }
    None
}

/// Explores every interleaving from `start`.
fn explore(start: World) -> Found {
    let has_sleepers = start
        .threads
        .iter()
        .any(|t| matches!(t.role, Role::Sleeper { .. }));
    let moves = |w: &World, next: &mut Vec<Result<World, String>>| {
        for i in 0..w.threads.len() {
            let Next::Step(step) = w.threads[i].next else {
                continue;
            };
            match outcomes(w, i, step) {
                Ok(outcomes) => {
                    for (answer, mut n) in outcomes {
                        take_step(&mut n.threads[i], step, answer);
                        next.push(Ok(n));
                    }
                }
                Err(violation) => next.push(Err(violation)),
            }
        }
    };
    model_explorer::explore(start, moves, |w| check_final(w, has_sleepers))
}

fn thread(role: Role, callback: Callback) -> Thread {
    Thread {
        role,
        callback,
        log: Vec::new(),
        next: advance(role, callback, &[]),
    }
}

fn world(faults: u8, signals: u8, threads: Vec<Thread>) -> World {
    World {
        flag: IDLE,
        sleepers: 0,
        queued: false,
        readable: false,
        descriptor_queued: true,
        faults,
        signals,
        writes: 0,
        rearm_failures: 0,
        owed: 0,
        threads,
    }
}

fn waker() -> Thread {
    thread(Role::Waker, Callback::Returns)
}

fn sleeper(polls: u8, callback: Callback) -> Thread {
    thread(Role::Sleeper { polls }, callback)
}

fn looker(polls: u8, callback: Callback) -> Thread {
    thread(Role::Looker { polls }, callback)
}

/// The scenarios, each with no failure and with one failure of any one system call; `small`:
/// the part of them the small size explores.
fn scenarios() -> Vec<(&'static str, bool, World)> {
    use Callback::{Blocks, Panics, Returns};
    let mut all = Vec::new();
    for faults in [0, 1] {
        let mut add = |name, small: bool, signals, threads| {
            all.push((name, small && faults == 0, world(faults, signals, threads)));
        };
        add(
            "2 wakers, 1 sleeper (2 polls), 1 non-blocking poller (2 polls), 1 signal",
            true,
            1,
            vec![waker(), waker(), sleeper(2, Returns), looker(2, Returns)],
        );
        add(
            "2 wakers, 2 sleepers, 1 non-blocking poller",
            false,
            0,
            vec![
                waker(),
                waker(),
                sleeper(1, Returns),
                sleeper(1, Returns),
                looker(1, Returns),
            ],
        );
        add(
            "3 wakers, 1 sleeper, 2 non-blocking pollers",
            false,
            0,
            vec![
                waker(),
                waker(),
                waker(),
                sleeper(1, Returns),
                looker(1, Returns),
                looker(1, Returns),
            ],
        );
        add(
            "2 wakers, 1 sleeper (2 polls), 1 non-blocking poller (2 polls) whose callback panics",
            true,
            0,
            vec![waker(), waker(), sleeper(2, Returns), looker(2, Panics)],
        );
        add(
            "2 wakers, 1 sleeper (2 polls) whose callback panics, 1 non-blocking poller",
            true,
            0,
            vec![waker(), waker(), sleeper(2, Panics), looker(1, Returns)],
        );
        add(
            "2 wakers, 1 sleeper, 1 non-blocking poller whose callback blocks until the sleeper returns",
            true,
            0,
            vec![waker(), waker(), sleeper(1, Returns), looker(1, Blocks)],
        );
        add(
            "2 wakers, 2 non-blocking pollers (2 polls), no sleeper",
            true,
            0,
            vec![waker(), waker(), looker(2, Returns), looker(2, Returns)],
        );
    }
    all
}

/// The number of distinct states the test explores at the full size and at the small one (see
/// [`model_explorer::check`]): they change only with the code of the wake path or with the
/// scenarios.
const EXPECTED_STATES: usize = 906_601;
const EXPECTED_STATES_SMALL: usize = 57_528;

#[test]
fn the_shipped_wake_protocol_loses_no_wake_in_any_interleaving() {
    check(
        "wake protocol",
        scenarios(),
        |name, start| format!("{name}, {} failure(s)", start.faults),
        explore,
        (EXPECTED_STATES, EXPECTED_STATES_SMALL),
    );
}

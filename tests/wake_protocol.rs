//! An exhaustive check of `Netpoll`'s wake protocol (src/netpoll.rs): every interleaving of
//! wakers, blocking pollers and non-blocking pollers, over a model of the kernel's side, with and
//! without one injected system-call failure.
//!
//! The model follows the code step by step; each step is one atomic operation of the code (a
//! load, a compare-and-swap, a store) or one system call, and every shared operation of the
//! protocol is `SeqCst` in the code, so exploring the interleavings of these steps under
//! sequential consistency covers every execution the code can have. The kernel side is the small
//! state machine that matters here: the wake eventfd's registration is edge-triggered, so it is
//! either queued on the epoll ready list (an edge nobody has collected) or not; a `write` queues it
//! (if it is not queued already) and lets one blocked waiter collect it; `EPOLL_CTL_MOD` of the
//! readable eventfd queues it again; a wait collects it if it is queued.
//!
//! What is checked, in every final state (no thread can move; blocked waiters with nothing
//! queued stay blocked):
//! - no lost wake, and no `Ok` for a dropped wake: for every wake that returned `Ok` (having set
//!   the flag, or found it set) and that no blocking poll has consumed since, no poller may be
//!   blocked for good, and the flag must still be set, so that the next poller does not sleep (a
//!   ghost bit per waker, cleared when a blocking poll consumes the flag, tracks this); a wake
//!   that met a failure it could not repair must have returned `Err`;
//! - no write without a sleeper (a scenario with no sleeper makes none), and at most one write
//!   per wake plus one fresh write per failed re-arm;
//! - a non-blocking poll never consumes a wake (it never stores IDLE: structural in the model,
//!   as in the code).
//!
//! Known-bad variants of the protocol (the defects of issue 12, and a protocol without the
//! Dekker check) are run too, and must be caught: the checker can fail.

use std::collections::HashSet;

const IDLE: u8 = 0;
const WRITING: u8 = 1;
const DELIVERED: u8 = 2;
const UNDELIVERED: u8 = 3;

/// Switches that turn the real protocol into known-bad ones.
#[derive(Clone, Copy, Debug)]
struct Protocol {
    /// A blocking poller reads the wake flag after counting itself a sleeper (the Dekker half).
    poller_checks_flag: bool,
    /// `wake` writes only when the sleeper count is non-zero (false: always writes, as before).
    waker_checks_sleepers: bool,
    /// A waker tries a failed write once more before giving up (false: issue 12's defect 2).
    writer_retries: bool,
    /// A failed write leaves the wake pending (false: it clears the flag, the old code).
    failed_write_keeps_flag: bool,
    /// A failed re-arm in a non-blocking poll falls back to a fresh write (false: defect 1).
    rearm_falls_back_to_write: bool,
}

const REAL: Protocol = Protocol {
    poller_checks_flag: true,
    waker_checks_sleepers: true,
    writer_retries: true,
    failed_write_keeps_flag: true,
    rearm_falls_back_to_write: true,
};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Thread {
    /// `Netpoll::wake`.
    Waker(WakerPc),
    /// A blocking `Netpoll::poll(-1)`, repeated `polls_left` times.
    Sleeper { pc: SleeperPc, polls_left: u8 },
    /// A non-blocking `Netpoll::poll(0)`, repeated `polls_left` times.
    Looker { pc: LookerPc, polls_left: u8 },
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum WakerPc {
    /// `seen = wake.load()`.
    Load,
    /// `wake.compare_exchange(seen, WRITING)`.
    Cas {
        seen: u8,
    },
    /// `sleepers.load()`.
    LoadSleepers,
    /// The eventfd write; `attempt` 0 or 1 (`write_edge(..).or_else(|_| write_edge(..))`).
    Write {
        attempt: u8,
    },
    /// `wake.compare_exchange(WRITING, next)`.
    Publish {
        next: u8,
        ok: bool,
    },
    Done {
        ok: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum SleeperPc {
    /// `sleepers.fetch_add(1)`.
    Enter,
    /// `wake.load() != IDLE`.
    LoadFlag,
    /// `epoll_pwait(0)` (a wake was pending) or `epoll_pwait(-1)`.
    Wait {
        pending: bool,
    },
    /// Blocked in the kernel until the edge is queued.
    Blocked,
    /// `sleepers.fetch_sub(1)` (the guard's drop), remembering what the wait brought.
    Leave {
        consume: bool,
    },
    /// `wake.store(IDLE)` if the poll consumed a wake.
    Consume {
        consume: bool,
    },
    Done,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum LookerPc {
    /// `epoll_pwait(0)`.
    Wait,
    /// `sleepers.load() != 0` after taking the edge.
    LoadSleepers,
    /// `wake.load() != IDLE`.
    LoadFlag,
    /// `EPOLL_CTL_MOD` of the wake eventfd.
    Rearm,
    /// The fresh write when the re-arm failed.
    FreshWrite,
    /// `wake.compare_exchange(DELIVERED, UNDELIVERED)` after both failed.
    MarkUndelivered,
    Done,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct State {
    wake: u8,
    sleepers: u8,
    /// The wake eventfd's edge is on the epoll ready list.
    queued: bool,
    /// The eventfd's counter is non-zero (readable), so a re-arm queues it.
    readable: bool,
    /// Failures still to inject (0 or 1).
    faults: u8,
    /// Interruptions (`EINTR`) still to deliver to a blocked poller.
    signals: u8,
    writes: u8,
    /// Failed re-arms, each of which may be repaired by one fresh write.
    rearm_failures: u8,
    /// A ghost bit per thread: waker `i` has set or joined a pending wake that no blocking poll
    /// has consumed since.
    owed: u8,
    threads: Vec<Thread>,
}

/// What the exploration found.
#[derive(Default, Debug)]
struct Outcome {
    states: usize,
    finals: usize,
    violations: Vec<String>,
}

/// One system call that may be failed by the injected fault: returns whether it succeeded,
/// branching on both outcomes while a fault is left.
fn syscall_outcomes(s: &State) -> Vec<(bool, u8)> {
    if s.faults > 0 {
        vec![(true, s.faults), (false, s.faults - 1)]
    } else {
        vec![(true, 0)]
    }
}

/// A successful eventfd write: counts it, makes the counter readable, queues an edge.
fn write_succeeds(s: &mut State) {
    s.writes += 1;
    s.readable = true;
    s.queued = true;
}

/// Waker `i` has just read `seen`: it returns `Ok` at once if a wake is pending and being (or
/// already) delivered, joining it; otherwise it goes on to take the write over with a CAS.
fn join_or_take(n: &mut State, i: usize, seen: u8) {
    n.threads[i] = if seen == DELIVERED || seen == WRITING {
        n.owed |= 1 << i;
        Thread::Waker(WakerPc::Done { ok: true })
    } else {
        Thread::Waker(WakerPc::Cas { seen })
    };
}

/// Every state one step of thread `i` leads to.
fn steps(p: Protocol, s: &State, i: usize) -> Vec<State> {
    let mut out = Vec::new();
    let mut next = |f: &dyn Fn(&mut State)| {
        let mut n = s.clone();
        f(&mut n);
        out.push(n);
    };
    match s.threads[i] {
        Thread::Waker(pc) => match pc {
            // `seen = wake.load()`, and the first decision on it: a pending wake is joined at the
            // moment it is seen.
            WakerPc::Load => next(&|n| join_or_take(n, i, n.wake)),
            // The compare-and-swap to WRITING; on failure it returns the value it found, which
            // is decided on at that same moment.
            WakerPc::Cas { seen } => {
                if s.wake == seen {
                    next(&|n| {
                        n.owed |= 1 << i;
                        n.wake = WRITING;
                        n.threads[i] = Thread::Waker(WakerPc::LoadSleepers);
                    });
                } else {
                    next(&|n| join_or_take(n, i, n.wake));
                }
            }
            WakerPc::LoadSleepers => {
                let pc = if p.waker_checks_sleepers && s.sleepers == 0 {
                    WakerPc::Publish {
                        next: DELIVERED,
                        ok: true,
                    }
                } else {
                    WakerPc::Write { attempt: 0 }
                };
                next(&|n| n.threads[i] = Thread::Waker(pc));
            }
            WakerPc::Write { attempt } => {
                for (ok, faults) in syscall_outcomes(s) {
                    let mut n = s.clone();
                    n.faults = faults;
                    let pc = if ok {
                        write_succeeds(&mut n);
                        WakerPc::Publish {
                            next: DELIVERED,
                            ok: true,
                        }
                    } else if attempt == 0 && p.writer_retries {
                        WakerPc::Write { attempt: 1 }
                    } else {
                        WakerPc::Publish {
                            next: if p.failed_write_keeps_flag {
                                UNDELIVERED
                            } else {
                                IDLE
                            },
                            ok: false,
                        }
                    };
                    n.threads[i] = Thread::Waker(pc);
                    out.push(n);
                }
            }
            WakerPc::Publish { next: to, ok } => next(&|n| {
                if n.wake == WRITING {
                    n.wake = to;
                }
                n.threads[i] = Thread::Waker(WakerPc::Done { ok });
            }),
            WakerPc::Done { .. } => {}
        },
        Thread::Sleeper { pc, polls_left } => {
            let at = |pc| Thread::Sleeper { pc, polls_left };
            match pc {
                SleeperPc::Enter => next(&|n| {
                    n.sleepers += 1;
                    n.threads[i] = at(SleeperPc::LoadFlag);
                }),
                SleeperPc::LoadFlag => {
                    let pending = p.poller_checks_flag && s.wake != IDLE;
                    next(&|n| n.threads[i] = at(SleeperPc::Wait { pending }));
                }
                SleeperPc::Wait { pending } => {
                    for (ok, faults) in syscall_outcomes(s) {
                        let mut n = s.clone();
                        n.faults = faults;
                        n.threads[i] = if !ok {
                            // The wait failed: `?` returns the error; the guard still leaves.
                            at(SleeperPc::Leave { consume: false })
                        } else if n.queued {
                            n.queued = false;
                            at(SleeperPc::Leave { consume: true })
                        } else if pending {
                            at(SleeperPc::Leave { consume: true })
                        } else {
                            at(SleeperPc::Blocked)
                        };
                        out.push(n);
                    }
                }
                SleeperPc::Blocked => {
                    if s.queued {
                        next(&|n| {
                            n.queued = false;
                            n.threads[i] = at(SleeperPc::Leave { consume: true });
                        });
                    }
                    if s.signals > 0 {
                        // EINTR with delay -1: the wait is retried, still counted a sleeper.
                        next(&|n| {
                            n.signals -= 1;
                            n.threads[i] = at(SleeperPc::Wait { pending: false });
                        });
                    }
                }
                SleeperPc::Leave { consume } => next(&|n| {
                    n.sleepers -= 1;
                    n.threads[i] = at(SleeperPc::Consume { consume });
                }),
                SleeperPc::Consume { consume } => next(&|n| {
                    if consume {
                        n.wake = IDLE;
                        n.owed = 0;
                    }
                    n.threads[i] = if polls_left > 1 {
                        Thread::Sleeper {
                            pc: SleeperPc::Enter,
                            polls_left: polls_left - 1,
                        }
                    } else {
                        at(SleeperPc::Done)
                    };
                }),
                SleeperPc::Done => {}
            }
        }
        Thread::Looker { pc, polls_left } => {
            let at = |pc| Thread::Looker { pc, polls_left };
            let finish = |n: &mut State| {
                n.threads[i] = if polls_left > 1 {
                    Thread::Looker {
                        pc: LookerPc::Wait,
                        polls_left: polls_left - 1,
                    }
                } else {
                    at(LookerPc::Done)
                };
            };
            match pc {
                LookerPc::Wait => next(&|n| {
                    if n.queued {
                        n.queued = false;
                        n.threads[i] = at(LookerPc::LoadSleepers);
                    } else {
                        finish(n);
                    }
                }),
                LookerPc::LoadSleepers => next(&|n| {
                    if n.sleepers != 0 {
                        n.threads[i] = at(LookerPc::LoadFlag);
                    } else {
                        finish(n);
                    }
                }),
                LookerPc::LoadFlag => next(&|n| {
                    if n.wake != IDLE {
                        n.threads[i] = at(LookerPc::Rearm);
                    } else {
                        finish(n);
                    }
                }),
                LookerPc::Rearm => {
                    for (ok, faults) in syscall_outcomes(s) {
                        let mut n = s.clone();
                        n.faults = faults;
                        if !ok {
                            n.rearm_failures += 1;
                        }
                        if ok {
                            if n.readable {
                                n.queued = true;
                            }
                            finish(&mut n);
                        } else if p.rearm_falls_back_to_write {
                            n.threads[i] = at(LookerPc::FreshWrite);
                        } else {
                            // The old code: let the next wake write (it cleared the flag).
                            n.wake = IDLE;
                            finish(&mut n);
                        }
                        out.push(n);
                    }
                }
                LookerPc::FreshWrite => {
                    for (ok, faults) in syscall_outcomes(s) {
                        let mut n = s.clone();
                        n.faults = faults;
                        if ok {
                            write_succeeds(&mut n);
                            finish(&mut n);
                        } else {
                            n.threads[i] = at(LookerPc::MarkUndelivered);
                        }
                        out.push(n);
                    }
                }
                LookerPc::MarkUndelivered => next(&|n| {
                    if n.wake == DELIVERED {
                        n.wake = UNDELIVERED;
                    }
                    finish(n);
                }),
                LookerPc::Done => {}
            }
        }
    }
    out
}

/// Checks a final state.
fn check_final(s: &State) -> Option<String> {
    let blocked = s
        .threads
        .iter()
        .filter(|t| {
            matches!(
                t,
                Thread::Sleeper {
                    pc: SleeperPc::Blocked,
                    ..
                }
            )
        })
        .count();
    // Wakes that returned Ok and that no blocking poll has consumed since they began.
    let owed_ok = s
        .threads
        .iter()
        .enumerate()
        .filter(|(i, t)| {
            s.owed & (1 << i) != 0 && matches!(t, Thread::Waker(WakerPc::Done { ok: true }))
        })
        .count();
    let wakers = s
        .threads
        .iter()
        .filter(|t| matches!(t, Thread::Waker(_)))
        .count();
    if owed_ok > 0 && blocked > 0 {
        return Some(format!(
            "lost wake: {owed_ok} wake(s) returned Ok, none consumed, and {blocked} poller(s) blocked for good"
        ));
    }
    if owed_ok > 0 && s.wake == IDLE {
        return Some(format!(
            "lost wake: {owed_ok} wake(s) returned Ok, none consumed, and the flag is clear, so the next poller sleeps"
        ));
    }
    if s.writes > wakers as u8 + s.rearm_failures {
        return Some(format!(
            "{} writes for {wakers} wakes and {} failed re-arms",
            s.writes, s.rearm_failures
        ));
    }
    None
}

/// Explores every interleaving from `start`.
fn explore(p: Protocol, start: State) -> Outcome {
    let mut outcome = Outcome::default();
    let mut seen = HashSet::new();
    let mut stack = vec![start];
    while let Some(s) = stack.pop() {
        if !seen.insert(s.clone()) {
            continue;
        }
        let mut moved = false;
        for i in 0..s.threads.len() {
            for n in steps(p, &s, i) {
                moved = true;
                stack.push(n);
            }
        }
        if !moved {
            outcome.finals += 1;
            if let Some(v) = check_final(&s) {
                outcome
                    .violations
                    .push(format!("{v}\n  final state: {s:?}"));
            }
        }
    }
    outcome.states = seen.len();
    outcome
}

fn state(faults: u8, signals: u8, threads: Vec<Thread>) -> State {
    State {
        wake: IDLE,
        sleepers: 0,
        queued: false,
        readable: false,
        faults,
        signals,
        writes: 0,
        rearm_failures: 0,
        owed: 0,
        threads,
    }
}

const WAKER: Thread = Thread::Waker(WakerPc::Load);

fn sleeper(polls: u8) -> Thread {
    Thread::Sleeper {
        pc: SleeperPc::Enter,
        polls_left: polls,
    }
}

fn looker(polls: u8) -> Thread {
    Thread::Looker {
        pc: LookerPc::Wait,
        polls_left: polls,
    }
}

/// The scenarios: wakers racing a poller entering and leaving its wait, non-blocking polls,
/// two concurrent sleepers, signals; each with no failure and with one failure anywhere.
fn scenarios() -> Vec<(&'static str, State)> {
    let mut all = Vec::new();
    for faults in [0, 1] {
        all.push((
            "2 wakers, 1 sleeper (2 polls), 1 non-blocking poller (2 polls), 1 signal",
            state(faults, 1, vec![WAKER, WAKER, sleeper(2), looker(2)]),
        ));
        all.push((
            "2 wakers, 2 sleepers, 1 non-blocking poller",
            state(
                faults,
                0,
                vec![WAKER, WAKER, sleeper(1), sleeper(1), looker(1)],
            ),
        ));
        all.push((
            "3 wakers, 1 sleeper, 2 non-blocking pollers",
            state(
                faults,
                0,
                vec![WAKER, WAKER, WAKER, sleeper(1), looker(1), looker(1)],
            ),
        ));
    }
    all
}

fn run_all(p: Protocol) -> (usize, Vec<String>) {
    let mut states = 0;
    let mut violations = Vec::new();
    for (name, start) in scenarios() {
        let faults = start.faults;
        let o = explore(p, start);
        println!(
            "{name}, {faults} fault(s): {} states, {} final states, {} violations",
            o.states,
            o.finals,
            o.violations.len()
        );
        states += o.states;
        violations.extend(o.violations.into_iter().map(|v| format!("{name}: {v}")));
    }
    (states, violations)
}

#[test]
fn the_wake_protocol_loses_no_wake_in_any_interleaving() {
    let (states, violations) = run_all(REAL);
    println!(
        "wake protocol: {states} states explored, {} violations",
        violations.len()
    );
    assert_eq!(violations, Vec::<String>::new());
    // Exhaustive and deterministic: the same count every run (it changes only with the model).
    assert_eq!(states, EXPECTED_STATES);
}

/// The number of distinct states `run_all(REAL)` explores.
const EXPECTED_STATES: usize = 131_530;

#[test]
fn no_write_is_made_while_nobody_sleeps() {
    for faults in [0, 1] {
        let o = explore(REAL, state(faults, 0, vec![WAKER, WAKER, looker(2)]));
        assert_eq!(o.violations, Vec::<String>::new());
        // Every final state: no sleeper ever existed, so no write.
        let mut stack = vec![state(faults, 0, vec![WAKER, WAKER, looker(2)])];
        let mut seen = HashSet::new();
        while let Some(s) = stack.pop() {
            if !seen.insert(s.clone()) {
                continue;
            }
            assert_eq!(s.writes, 0, "a write with no sleeper: {s:?}");
            for i in 0..s.threads.len() {
                stack.extend(steps(REAL, &s, i));
            }
        }
    }
}

fn violations_of(p: Protocol) -> usize {
    run_all(p).1.len()
}

#[test]
fn the_checker_catches_a_poller_that_does_not_check_the_flag() {
    let p = Protocol {
        poller_checks_flag: false,
        ..REAL
    };
    assert!(violations_of(p) > 0);
}

#[test]
fn the_checker_catches_issue_12_defect_1_a_failed_rearm() {
    let p = Protocol {
        rearm_falls_back_to_write: false,
        ..REAL
    };
    assert!(violations_of(p) > 0);
}

#[test]
fn the_checker_catches_issue_12_defect_2_a_coalesced_wake_behind_a_failed_write() {
    let p = Protocol {
        writer_retries: false,
        failed_write_keeps_flag: false,
        ..REAL
    };
    assert!(violations_of(p) > 0);
}

#[test]
fn the_old_always_writing_protocol_is_also_correct_but_writes_more() {
    let p = Protocol {
        waker_checks_sleepers: false,
        ..REAL
    };
    assert_eq!(violations_of(p), 0);
}

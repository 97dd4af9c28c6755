//! The explorer that the exhaustive checks of the shipped code (`model_check.rs`, the wake
//! protocol; `model_check_ready.rs`, the readiness layer) share: the replay that runs a thread's
//! real code on its log to its next step, the search over every interleaving, and the test's
//! run over the scenarios with its exact count of states. What a step is, what the kernel and
//! the threads do, and what is checked are each check's own.

#![allow(clippy::panic, clippy::unwrap_used)]

use core::cell::Cell;
use core::fmt::Debug;
use core::hash::Hash;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::prelude::v1::*;
use std::{format, println, vec};

/// The payload of the unwind that stops a thread at its next step.
struct Stopped;

/// A thread's path to the shared words and the kernel (each check implements its trait on it):
/// answers the logged steps, and stops the thread at the first other.
pub(super) struct Replay<'a, S, A> {
    log: &'a [(S, A)],
    cursor: Cell<usize>,
    next: Cell<Option<S>>,
}

impl<S: Copy + PartialEq + Debug, A: Copy + Debug> Replay<'_, S, A> {
    /// Answers `step` from the log, or stops the thread there (by unwinding) if it is the first
    /// step not logged.
    pub(super) fn step(&self, step: S) -> A {
        let at = self.cursor.get();
        if let Some(&(logged, answer)) = self.log.get(at) {
            assert_eq!(
                logged, step,
                "the code took another step on the same answers"
            );
            self.cursor.set(at + 1);
            return answer;
        }
        self.next.set(Some(step));
        resume_unwind(Box::new(Stopped))
    }
}

/// Runs a thread's code (`run`) on its log, to its next step (`Ok`) or to its end (`Err`, what
/// the code returned).
pub(super) fn advance<S: Copy + PartialEq + Debug, A: Copy + Debug, R>(
    log: &[(S, A)],
    run: impl FnOnce(&Replay<'_, S, A>) -> R,
) -> Result<S, R> {
    let path = Replay {
        log,
        cursor: Cell::new(0),
        next: Cell::new(None),
    };
    match catch_unwind(AssertUnwindSafe(|| run(&path))) {
        Ok(returned) => {
            assert_eq!(path.cursor.get(), log.len(), "the code ended early");
            Err(returned)
        }
        Err(payload) if payload.is::<Stopped>() => Ok(path.next.get().unwrap()),
        Err(payload) => resume_unwind(payload),
    }
}

/// A multiply-and-rotate hash (as rustc's `FxHasher`): the explored states are many and small,
/// and SipHash was most of the check's time.
#[derive(Default)]
struct StateHasher(u64);

impl Hasher for StateHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u8(&mut self, byte: u8) {
        self.write_u64(u64::from(byte));
    }

    fn write_u16(&mut self, word: u16) {
        self.write_u64(u64::from(word));
    }

    fn write_u32(&mut self, word: u32) {
        self.write_u64(u64::from(word));
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// What an exploration found.
#[derive(Default, Debug)]
pub(super) struct Found {
    states: usize,
    finals: usize,
    violations: Vec<String>,
}

/// Explores every state reachable from `start`. `moves` puts every state one step away from
/// `w` into `next` (`Err`: a step that broke a rule), nothing when no thread can move; each
/// final state (no move) is checked by `check_final`.
pub(super) fn explore<W: Clone + Eq + Hash + Debug>(
    start: W,
    mut moves: impl FnMut(&W, &mut Vec<Result<W, String>>),
    check_final: impl Fn(&W) -> Option<String>,
) -> Found {
    let mut found = Found::default();
    let mut seen: HashSet<W, BuildHasherDefault<StateHasher>> = HashSet::default();
    let mut stack = vec![start];
    let mut next = Vec::new();
    while let Some(w) = stack.pop() {
        if !seen.insert(w.clone()) {
            continue;
        }
        moves(&w, &mut next);
        if next.is_empty() {
            found.finals += 1;
            if let Some(v) = check_final(&w) {
                found.violations.push(format!("{v}\n  final state: {w:?}"));
            }
        }
        for n in next.drain(..) {
            match n {
                Ok(n) => stack.push(n),
                Err(violation) => found
                    .violations
                    .push(format!("{violation}\n  state: {w:?}")),
            }
        }
    }
    found.states = seen.len();
    found
}

/// How much to explore. The small size (the scenarios without failures, but for the two
/// largest) under emulation (`RAWPOLL_EMULATED`, set by the runs under qemu-user, where the
/// full size takes minutes and gains nothing: the code explored is the same on every
/// architecture, only the compiler's translation of it differs) and where asked for
/// (`RAWPOLL_MODEL_CHECK=small`: `ci/test`'s host tests, whose own step runs the full size in a
/// release build); the full size otherwise.
fn small() -> bool {
    std::env::var_os("RAWPOLL_EMULATED").is_some()
        || std::env::var("RAWPOLL_MODEL_CHECK").is_ok_and(|size| size == "small")
}

/// The test of a check (`what`): explores each of its `scenarios` (name, whether the small size
/// explores it, start) of the size asked for with `explore`, prints one line each (`heading`
/// names it), and asserts that there is no violation and that the states explored are exactly
/// `expected` (at the full size, at the small one).
pub(super) fn check<W>(
    what: &str,
    scenarios: Vec<(&'static str, bool, W)>,
    heading: impl Fn(&str, &W) -> String,
    explore: impl Fn(W) -> Found,
    expected: (usize, usize),
) {
    let small = small();
    let mut states = 0;
    let mut violations = Vec::new();
    for (name, _, start) in scenarios.into_iter().filter(|s| s.1 || !small) {
        let heading = heading(name, &start);
        let found = explore(start);
        println!(
            "{heading}: {} states, {} final states, {} violations",
            found.states,
            found.finals,
            found.violations.len()
        );
        states += found.states;
        violations.extend(found.violations.into_iter().map(|v| format!("{name}: {v}")));
    }
    println!(
        "{what}: {states} states explored, {} violations",
        violations.len()
    );
    if let Some(first) = violations.first() {
        println!("first violation: {first}");
    }
    assert_eq!(violations.len(), 0, "violations");
    assert_eq!(states, if small { expected.1 } else { expected.0 });
}

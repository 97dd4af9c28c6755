//! Fault injection into real system calls, through seccomp user notification.
//!
//! A [`Faults`] owns a supervisor thread and a list of [`Rule`]s. Each thread that calls
//! [`Faults::attach`] installs a seccomp filter on itself only (no `TSYNC`): the supervisor and
//! every other thread of the test process stay unfiltered. The filter sends the calls a rule
//! matches (system call number, and optionally argument values) to the supervisor, which answers
//! the n-th call a rule matched with the n-th [`Action`] of its plan, or with the rule's
//! `then` action once the plan is used up:
//!
//! - [`Action::Continue`]: the call runs for real (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`);
//! - [`Action::Fail`]: the call does not run and returns that errno;
//! - [`Action::Hold`]: the call waits, in flight, until the test hands it back to
//!   [`Faults::release`] with one of the other two actions.
//!
//! Every call a rule matched is logged, so tests can assert exact counts. Every wait has a
//! deadline. A filter cannot be removed: attach only threads that end with the test.
#![allow(dead_code)]

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `AUDIT_ARCH_*` of the host, which the filter checks before it trusts a system call number.
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: Option<u32> = Some(0xc000_003e);
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: Option<u32> = Some(0xc000_00b7);
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const AUDIT_ARCH: Option<u32> = None;

/// Offsets in `struct seccomp_data`: `nr` (int), `arch` (u32), `instruction_pointer` (u64),
/// then `args[6]` (u64 each, the low 32-bit word first on a little-endian host).
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
const DATA_ARGS: u32 = 16;

/// How a matched call is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Run the call for real.
    Continue,
    /// Do not run it; it returns this errno.
    Fail(i32),
    /// Keep it in flight until [`Faults::release`].
    Hold,
}

/// Which calls to intercept, and how to answer each.
#[derive(Clone, Debug)]
pub struct Rule {
    name: &'static str,
    nr: libc::c_long,
    args: Vec<(usize, u64)>,
    plan: Vec<Action>,
    then: Action,
}

impl Rule {
    /// Intercepts system call `nr` (`name` is for reports); answers `Continue` until told more.
    pub fn new(name: &'static str, nr: libc::c_long) -> Rule {
        Rule {
            name,
            nr,
            args: Vec::new(),
            plan: Vec::new(),
            then: Action::Continue,
        }
    }

    /// Only calls whose argument `index` (0..6) equals `value`, all 64 bits.
    pub fn arg(mut self, index: usize, value: u64) -> Rule {
        assert!(index < 6, "seccomp_data has six arguments");
        self.args.push((index, value));
        self
    }

    /// Answers the first matched calls with these actions, one each, in order.
    pub fn plan(mut self, plan: &[Action]) -> Rule {
        self.plan = plan.to_vec();
        self
    }

    /// Answers every call after the plan with `action`.
    pub fn then(mut self, action: Action) -> Rule {
        self.then = action;
        self
    }

    fn matches(&self, nr: i32, args: &[u64; 6]) -> bool {
        libc::c_long::from(nr) == self.nr && self.args.iter().all(|&(i, v)| args[i] == v)
    }

    fn action(&self, n: usize) -> Action {
        self.plan.get(n).copied().unwrap_or(self.then)
    }
}

/// One intercepted call: the rule it matched, its arguments, and how it was answered (a held
/// call is logged as `Hold`; [`Faults::release`] logs the answer it finally got).
#[derive(Clone, Copy, Debug)]
pub struct Call {
    pub rule: usize,
    pub args: [u64; 6],
    pub action: Action,
}

/// A call kept in flight by [`Action::Hold`].
#[derive(Clone, Debug)]
pub struct Held {
    taken: bool,
    listener: RawFd,
    id: u64,
    log_index: usize,
    pub rule: usize,
    pub args: [u64; 6],
}

#[derive(Default)]
struct State {
    listeners: Vec<OwnedFd>,
    log: Vec<Call>,
    held: Vec<Held>,
    stop: bool,
}

struct Shared {
    rules: Vec<Rule>,
    state: Mutex<State>,
    changed: Condvar,
    /// Rings the supervisor out of `poll` when a listener is added or it must stop.
    doorbell: OwnedFd,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ring(&self) {
        let one = 1u64.to_ne_bytes();
        // SAFETY: an 8-byte write from a live buffer to the eventfd this value owns.
        let n = unsafe { libc::write(self.doorbell.as_raw_fd(), one.as_ptr().cast(), 8) };
        assert_eq!(n, 8, "doorbell write");
    }
}

/// A set of rules, its supervisor thread, and the filters attached to it.
pub struct Faults {
    shared: Arc<Shared>,
    supervisor: Option<JoinHandle<()>>,
}

/// Why seccomp user notification cannot be used here, or `None` if it works: a probe thread
/// fails `getppid` with `EXDEV` through a filter and checks that it did.
pub fn unavailable() -> Option<String> {
    if AUDIT_ARCH.is_none() {
        return Some("no AUDIT_ARCH value for this architecture in the harness".into());
    }
    let faults = Faults::new(vec![
        Rule::new("getppid", libc::SYS_getppid).then(Action::Fail(libc::EXDEV))
    ]);
    let outcome = std::thread::scope(|s| {
        s.spawn(|| {
            faults.attach()?;
            // SAFETY: getppid takes no argument.
            let r = unsafe { libc::syscall(libc::SYS_getppid) };
            let errno = std::io::Error::last_os_error().raw_os_error();
            if r == -1 && errno == Some(libc::EXDEV) {
                Ok(())
            } else {
                Err(format!(
                    "a filtered getppid returned {r} (errno {errno:?}), not EXDEV"
                ))
            }
        })
        .join()
        .unwrap_or_else(|_| Err("the probe thread panicked".into()))
    });
    outcome.err()
}

impl Faults {
    /// Starts a supervisor for `rules`; no thread is filtered until it calls [`Faults::attach`].
    pub fn new(rules: Vec<Rule>) -> Faults {
        // SAFETY: eventfd takes two integers; the result is checked before it is owned.
        let doorbell = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        assert!(
            doorbell >= 0,
            "eventfd: {}",
            std::io::Error::last_os_error()
        );
        let shared = Arc::new(Shared {
            rules,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            // SAFETY: just created, owned by nothing else.
            doorbell: unsafe { OwnedFd::from_raw_fd(doorbell) },
        });
        let supervisor = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("seccomp-supervisor".into())
                .spawn(move || supervise(&shared))
                .expect("spawn the supervisor")
        };
        Faults {
            shared,
            supervisor: Some(supervisor),
        }
    }

    /// Installs the filter on the calling thread (and only on it).
    pub fn attach(&self) -> Result<(), String> {
        let arch = AUDIT_ARCH.ok_or("no AUDIT_ARCH for this architecture")?;
        let mut program = filter(arch, &self.shared.rules);
        let fprog = libc::sock_fprog {
            len: program.len() as libc::c_ushort,
            filter: program.as_mut_ptr(),
        };
        // SAFETY: prctl with integer arguments; seccomp reads `fprog` and the program it points
        // to, both alive for the call. Neither flag asks for TSYNC: only this thread is filtered.
        let listener = unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(format!(
                    "PR_SET_NO_NEW_PRIVS: {}",
                    std::io::Error::last_os_error()
                ));
            }
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
                &fprog as *const libc::sock_fprog,
            )
        };
        if listener < 0 {
            return Err(format!(
                "seccomp(SET_MODE_FILTER, NEW_LISTENER): {}",
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: the kernel has just created the listener for this process.
        let listener = unsafe { OwnedFd::from_raw_fd(listener as RawFd) };
        self.shared.lock().listeners.push(listener);
        self.shared.ring();
        Ok(())
    }

    /// How many calls rule `rule` has matched so far.
    pub fn count(&self, rule: usize) -> usize {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|c| c.rule == rule)
            .count()
    }

    /// The calls rule `rule` matched, in order.
    pub fn calls(&self, rule: usize) -> Vec<Call> {
        let state = self.shared.lock();
        state
            .log
            .iter()
            .filter(|c| c.rule == rule)
            .copied()
            .collect()
    }

    /// Waits until rule `rule` has matched `n` calls; panics after `deadline`.
    pub fn wait_count(&self, rule: usize, n: usize, deadline: Duration) {
        let name = self.shared.rules[rule].name;
        self.wait_until(
            deadline,
            &format!("rule {rule} ({name}) matching {n} calls"),
            |state| {
                let seen = state.log.iter().filter(|c| c.rule == rule).count();
                (seen >= n).then_some(())
            },
        )
    }

    /// The oldest call held in flight and not yet returned by this; panics if none is held
    /// within `deadline`.
    pub fn wait_held(&self, deadline: Duration) -> Held {
        self.wait_until(deadline, "a call held", |state| {
            let held = state.held.iter_mut().find(|h| !h.taken)?;
            held.taken = true;
            Some(held.clone())
        })
    }

    /// Waits until `ready` returns a value, re-checking whenever the supervisor logs a call;
    /// panics after `deadline`.
    fn wait_until<T>(
        &self,
        deadline: Duration,
        what: &str,
        mut ready: impl FnMut(&mut State) -> Option<T>,
    ) -> T {
        let end = Instant::now() + deadline;
        let mut state = self.shared.lock();
        loop {
            if let Some(value) = ready(&mut state) {
                return value;
            }
            let left = end.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no {what} within {deadline:?}");
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Answers a held call (`Continue` or `Fail`).
    pub fn release(&self, held: Held, action: Action) {
        assert_ne!(
            action,
            Action::Hold,
            "a held call is released with an answer"
        );
        {
            let mut state = self.shared.lock();
            state.held.retain(|h| h.id != held.id);
            state.log[held.log_index].action = action;
        }
        respond(held.listener, held.id, action);
    }

    /// Lets every call still held run (`Continue`): for a test that fails with calls held.
    pub fn release_all(&self) {
        let held = std::mem::take(&mut self.shared.lock().held);
        for h in held {
            respond(h.listener, h.id, Action::Continue);
        }
    }

    /// The errnos injected so far: `(rule name, errno, how many)`, in first-seen order.
    pub fn injected(&self) -> Vec<(&'static str, i32, usize)> {
        let state = self.shared.lock();
        let mut out: Vec<(&'static str, i32, usize)> = Vec::new();
        for call in &state.log {
            if let Action::Fail(e) = call.action {
                let name = self.shared.rules[call.rule].name;
                match out.iter_mut().find(|(n, x, _)| *n == name && *x == e) {
                    Some(entry) => entry.2 += 1,
                    None => out.push((name, e, 1)),
                }
            }
        }
        out
    }
}

impl Drop for Faults {
    /// Lets every held call run, stops the supervisor, and closes the listeners (a filtered
    /// thread that is still alive then gets `ENOSYS` from the calls its filter matches).
    fn drop(&mut self) {
        self.release_all();
        self.shared.lock().stop = true;
        self.shared.ring();
        if let Some(supervisor) = self.supervisor.take() {
            let _ = supervisor.join();
        }
    }
}

/// The BPF program: other architectures' calls pass; each rule is a block that loads the
/// number (and argument words) and returns `USER_NOTIF` if all match; anything else passes.
fn filter(arch: u32, rules: &[Rule]) -> Vec<libc::sock_filter> {
    let ld = |offset: u32| stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, offset);
    let ret = |value: u32| stmt(libc::BPF_RET | libc::BPF_K, value);
    // Another architecture's call (arch mismatch): allowed, its number means something else.
    let other_arch = libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt: 1,
        jf: 0,
        k: arch,
    };
    let mut program = vec![ld(DATA_ARCH), other_arch, ret(libc::SECCOMP_RET_ALLOW)];
    for rule in rules {
        // Pairs of (load offset, value to compare); a mismatch jumps past the block's end.
        let mut checks = vec![(DATA_NR, rule.nr as u32)];
        for &(index, value) in &rule.args {
            let offset = DATA_ARGS + 8 * index as u32;
            checks.push((offset, value as u32));
            checks.push((offset + 4, (value >> 32) as u32));
        }
        let block_len = 2 * checks.len() + 1;
        for (i, (offset, value)) in checks.into_iter().enumerate() {
            // The jump is instruction 2i+1 of the block; past the block is block_len.
            let skip = block_len - (2 * i + 2);
            program.push(ld(offset));
            program.push(jeq_next(value, skip as u8));
        }
        program.push(ret(libc::SECCOMP_RET_USER_NOTIF));
    }
    program.push(ret(libc::SECCOMP_RET_ALLOW));
    program
}

fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

/// `A == value`: fall through to the next instruction, else skip `skip` instructions.
fn jeq_next(value: u32, skip: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt: 0,
        jf: skip,
        k: value,
    }
}

/// The supervisor: receives each notification, logs it, and answers it (or holds it).
fn supervise(shared: &Shared) {
    let mut dead: Vec<RawFd> = Vec::new();
    loop {
        let mut fds = vec![libc::pollfd {
            fd: shared.doorbell.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        {
            let state = shared.lock();
            if state.stop {
                return;
            }
            fds.extend(
                state
                    .listeners
                    .iter()
                    .map(|l| l.as_raw_fd())
                    .filter(|fd| !dead.contains(fd))
                    .map(|fd| libc::pollfd {
                        fd,
                        events: libc::POLLIN,
                        revents: 0,
                    }),
            );
        }
        // SAFETY: `fds` is a live array of `fds.len()` pollfd entries. The timeout only bounds
        // how long a missed doorbell could delay a stop.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 1000) };
        if n <= 0 {
            continue;
        }
        if fds[0].revents != 0 {
            let mut buf = [0u8; 8];
            // SAFETY: an 8-byte read into a live buffer from the doorbell eventfd.
            let _ = unsafe { libc::read(fds[0].fd, buf.as_mut_ptr().cast(), 8) };
        }
        for pfd in &fds[1..] {
            if pfd.revents & libc::POLLIN != 0 {
                receive(shared, pfd.fd);
            } else if pfd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
                // Every filtered thread of this listener has exited.
                dead.push(pfd.fd);
            }
        }
    }
}

fn receive(shared: &Shared, listener: RawFd) {
    // SAFETY: seccomp_notif is plain data; the kernel wants it zeroed.
    let mut notif: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    // SAFETY: the ioctl fills `notif`, a live value of the type it expects.
    let r = unsafe { libc::ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_RECV, &mut notif) };
    if r != 0 {
        // ENOENT: the caller went away (killed, or interrupted by a signal) before we got it.
        return;
    }
    let args = notif.data.args;
    let found = shared
        .rules
        .iter()
        .position(|rule| rule.matches(notif.data.nr, &args));
    let Some(rule) = found else {
        respond(listener, notif.id, Action::Continue);
        return;
    };
    let action = {
        let mut state = shared.lock();
        let n = state.log.iter().filter(|c| c.rule == rule).count();
        let action = shared.rules[rule].action(n);
        state.log.push(Call { rule, args, action });
        if action == Action::Hold {
            let log_index = state.log.len() - 1;
            state.held.push(Held {
                taken: false,
                listener,
                id: notif.id,
                log_index,
                rule,
                args,
            });
        }
        shared.changed.notify_all();
        action
    };
    if action != Action::Hold {
        respond(listener, notif.id, action);
    }
}

fn respond(listener: RawFd, id: u64, action: Action) {
    let (error, flags) = match action {
        Action::Fail(errno) => (-errno, 0),
        Action::Continue | Action::Hold => (0, libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32),
    };
    let mut resp = libc::seccomp_notif_resp {
        id,
        val: 0,
        error,
        flags,
    };
    // SAFETY: the ioctl reads `resp`, a live value of the type it expects. ENOENT (the caller
    // went away) is not an error here.
    let _ = unsafe { libc::ioctl(listener, libc::SECCOMP_IOCTL_NOTIF_SEND, &mut resp) };
}

//! MIPS's restart rule, run on the stub as built (`arch/mips.rs` and `arch/mips64.rs`,
//! "restart"): a blocking `read` that handlers installed with `SA_RESTART` interrupt must come
//! back with the data, not an error. Linux restarts it by moving the program counter back by the
//! `syscall` instruction alone and reloading v0 (the number) and a3 from what it saved at entry
//! (arch/mips/kernel/signal.c, handle_signal); the stub relies on that, since the instruction
//! before its `syscall` is not the one that loads v0. Release 6 changed the branch encodings,
//! not `syscall` (one 4-byte word, never in a delay or forbidden slot here: the stub's block
//! puts a store before it), and this checks the rule there too.
//!
//! The handler counts the interruptions it can prove: the program counter the kernel saved in
//! the signal frame points at a `syscall` instruction when the kernel backed up to restart the
//! call; a signal taken between two instructions points there only if the process was about to
//! trap, which the parent, whose only call after the fork is the read, can be once at most, before
//! its first entry. So of the [`WANTED`] (two) the child waits for, one at least is a restart.

use super::{sigaction, KernelSigaction};
use crate::check::Checker;
use crate::{exit, fork, kill, share, sleep_ms, wait, wait_until};
use core::sync::atomic::{AtomicUsize, Ordering};
use linux_raw_sys::general as k;
use rawpoll::raw::{self, syscall6};
use rawpoll::{pipe2, write, AsFd, AsRawFd};

/// Where the signal frame's `ucontext` (the handler's third argument) keeps `sc_pc`, the
/// interrupted program counter, as a 64-bit word (arch/mips/include/uapi/asm/ucontext.h: uc_flags,
/// uc_link and uc_stack come before uc_mcontext, a `struct sigcontext` as
/// arch/mips/include/uapi/asm/sigcontext.h defines it per ABI). o32: 4 + 4 + 12 bytes of
/// `stack_t`, rounded up to the sigcontext's 8-byte alignment, is 24, then sc_regmask and
/// sc_status.
#[cfg(any(target_arch = "mips", target_arch = "mips32r6"))]
const SC_PC: usize = 32;
/// n64: 8 + 8 + 24 bytes of `stack_t` is 40, then sc_regs[32], sc_fpregs[32] and the eight
/// hi/lo words (sc_mdhi, sc_hi1-3, sc_mdlo, sc_lo1-3).
#[cfg(any(target_arch = "mips64", target_arch = "mips64r6"))]
const SC_PC: usize = 40 + 8 * (32 + 32 + 8);

/// `syscall` with code 0 (SPECIAL, function 0x0c): the same word on every MIPS release, stored
/// in the target's byte order, so read back as a native `u32` on either.
const SYSCALL: u32 = 0x0000_000c;

/// How many interruptions of the blocked read the child waits for before it writes.
const WANTED: usize = 2;

/// The child sends at most this many signals (10 ms apart): a bound, far above what it takes.
const ROUNDS: usize = 200;

/// What the handler saw, in memory the parent shares with the child.
struct Seen {
    signals: AtomicUsize,
    at_syscall: AtomicUsize,
}

/// The address of the shared [`Seen`], for the handler (0 while there is none).
static SEEN: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_sigusr1(_signal: i32, _info: usize, context: usize) {
    let seen = SEEN.load(Ordering::SeqCst) as *const Seen;
    if seen.is_null() || context == 0 {
        return;
    }
    // SAFETY: `context` is the `ucontext` the kernel built in this signal's frame (SA_SIGINFO),
    // live for the handler's run; `SC_PC` is where its sc_pc lies (above). The program counter
    // there is that of the instruction the kernel will resume at, which this process was running,
    // so a word-aligned one points into mapped code.
    let at_syscall = unsafe {
        let pc = ((context + SC_PC) as *const u64).read_unaligned() as usize;
        pc % 4 == 0 && pc != 0 && (pc as *const u32).read_volatile() == SYSCALL
    };
    // SAFETY: SEEN holds the address `share` returned, mapped for good.
    let seen = unsafe { &*seen };
    if at_syscall {
        seen.at_syscall.fetch_add(1, Ordering::SeqCst);
    }
    seen.signals.fetch_add(1, Ordering::SeqCst);
}

/// The restarted read: a child interrupts the parent's blocking `read` on an empty pipe with
/// SIGUSR1 (handler with `SA_RESTART`) until the handler has seen it interrupted [`WANTED`]
/// times, then writes one byte. The read returns that byte, (1, 0) from `syscall6`.
pub fn cases(c: &mut Checker) {
    let fresh = Seen {
        signals: AtomicUsize::new(0),
        at_syscall: AtomicUsize::new(0),
    };
    let Some(seen) = c.need("restart setup: shared counters", share(fresh)) else {
        return;
    };
    SEEN.store(seen as *const Seen as usize, Ordering::SeqCst);
    let Some((read_end, write_end)) = c.need(
        "restart setup: pipe",
        pipe2(linux_raw_sys::general::O_CLOEXEC),
    ) else {
        return;
    };
    let mut handler = KernelSigaction::new(on_sigusr1 as *const () as usize);
    handler.flags |= k::SA_RESTART;
    let mut old_action = KernelSigaction::new(0);
    let installed = sigaction(k::SIGUSR1, &handler, &mut old_action);
    c.eq(
        "restart setup: SIGUSR1 handler with SA_RESTART",
        installed,
        Ok(0),
    );
    // SAFETY: getpid touches no memory.
    let (parent, _) = unsafe { syscall6(raw::SYS_GETPID, 0, 0, 0, 0, 0, 0) };
    match fork() {
        Ok(0) => {
            for _ in 0..ROUNDS {
                if seen.at_syscall.load(Ordering::SeqCst) >= WANTED {
                    break;
                }
                let before = seen.signals.load(Ordering::SeqCst);
                if sleep_ms(10).is_err() || kill(parent as i32, k::SIGUSR1).is_err() {
                    exit(1);
                }
                if !wait_until(|| seen.signals.load(Ordering::SeqCst) > before) {
                    exit(2);
                }
            }
            exit(match write(&write_end, b"R") {
                Ok(1) => 0,
                _ => 3,
            })
        }
        Ok(child) => {
            let mut byte = [0u8; 1];
            // Through `syscall6` itself, to see its pair: the wrapper would hide an EINTR or a
            // wrong errno behind the same Err.
            // SAFETY: the kernel writes at most one byte into `byte`; the descriptor is the
            // pipe's read end, open and borrowed for the call.
            let r = unsafe {
                syscall6(
                    raw::SYS_READ,
                    read_end.as_fd().as_raw_fd() as usize,
                    byte.as_mut_ptr() as usize,
                    1,
                    0,
                    0,
                    0,
                )
            };
            c.eq(
                "restart: blocking read across SA_RESTART handlers -> (1, 0)",
                r,
                (1, 0),
            );
            c.eq(
                "  the byte written after the signals",
                u32::from(byte[0]),
                u32::from(b'R'),
            );
            let at_syscall = seen.at_syscall.load(Ordering::SeqCst);
            // The child stops signalling once the handler has seen WANTED, one a signal.
            c.eq(
                "  interruptions of the blocked read the handler saw (pc at `syscall`)",
                at_syscall,
                WANTED,
            );
            c.eq(
                "  the child exited 0",
                wait(child).map(crate::exit_code),
                Ok(Some(0)),
            );
        }
        Err(e) => {
            c.eq("restart setup: fork", Err(e), Ok(0));
        }
    }
    let mut ignored = KernelSigaction::new(0);
    let _ = sigaction(k::SIGUSR1, &old_action, &mut ignored);
    SEEN.store(0, Ordering::SeqCst);
}

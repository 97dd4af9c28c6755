//! Register-preservation probe: does the kernel keep every register the stub tells the compiler
//! it keeps?
//!
//! For each architecture an `asm!` block saves every general-purpose register (and the flags or
//! condition register where there is one) on the stack, loads a distinct value into each, traps
//! with the stub's instruction, stores every register to memory, and restores the originals. The
//! registers the stub declares as outputs (`out`, `lateout`, `inout`, `inlateout` with an explicit
//! register in `arch/<arch>.rs`) may change; every other one must come back with the value it had.
//!
//! qemu-user writes back only the result registers, so there a missing clobber always passes; on
//! a real kernel the probe is what catches it. The declared list is not a second hand-written copy:
//! each architecture's list (in `probe/<arch>.rs`, named as the stub's file in `arch/`) is checked
//! at compile time against the asm text of the stub (`include_str!` of its arch file), in both
//! directions.
//!
//! Four calls: `getpid`, `close(-1)` (fails with EBADF), `epoll_pwait` with a real signal mask and
//! a ready eventfd, and an `epoll_pwait` that blocks with SIGCHLD unblocked only by its mask until
//! a child's exit interrupts it (EINTR, a real handler: a process that is PID 1 on a real kernel
//! never receives a default-disposition SIGCHLD).

use crate::check::Checker;
use crate::{exit, fork, print, print_hex, print_u64, wait};
use core::sync::atomic::{AtomicUsize, Ordering};
use linux_raw_sys::general as k;
use rawpoll::raw::{self, syscall6};
use rawpoll::Errno;

/// A register as the probe stores it: `usize`, but 64 bits on x32, whose registers are x86-64's
/// while its `usize` is 32 bits (the kernel reads and may change all 64).
#[cfg(target_arch = "x86_64")]
type Word = u64;
#[cfg(not(target_arch = "x86_64"))]
type Word = usize;

/// A stored register as `print_hex` takes it.
#[allow(clippy::unnecessary_cast)] // Word is u64 on x86_64, usize elsewhere
fn wide(word: Word) -> u64 {
    word as u64
}

/// One register's value per slot, indexed as the architecture's [`arch::NAMES`]; `stack` holds
/// arguments five and six where the ABI passes them on the stack (MIPS o32).
#[repr(C)]
struct Registers {
    slots: [Word; arch::SLOTS],
    stack: [usize; 2],
}

// ---------------------------------------------------------------------------------------------
// The declared list, checked against the stub's asm text at compile time.

/// Where `needle` starts in `hay` at or after `from`, or `hay.len()`.
const fn find(hay: &[u8], needle: &[u8], from: usize) -> usize {
    let mut i = from;
    while i + needle.len() <= hay.len() {
        let mut j = 0;
        while j < needle.len() && hay[i + j] == needle[j] {
            j += 1;
        }
        if j == needle.len() {
            return i;
        }
        i += 1;
    }
    hay.len()
}

/// Does `hay[at..]` start with `name` followed by `"`?
const fn names_at(hay: &[u8], at: usize, name: &[u8]) -> bool {
    if at + name.len() >= hay.len() {
        return false;
    }
    let mut j = 0;
    while j < name.len() {
        if hay[at + j] != name[j] {
            return false;
        }
        j += 1;
    }
    hay[at + name.len()] == b'"'
}

/// Checks every `asm!(` block of `stub` (from `fn syscall6` on): each declares exactly the
/// registers of `declared` as outputs (`out("…")` in any of its spellings).
const fn stub_agrees(stub: &str, declared: &[&str]) -> bool {
    let text = stub.as_bytes();
    let mut at = find(text, b"fn syscall6", 0);
    let mut blocks = 0;
    loop {
        let start = find(text, b"asm!(", at);
        if start == text.len() {
            return blocks > 0;
        }
        // The block's operands end at its `options(`, or at its closing `);` if it has none.
        let options = find(text, b"options(", start);
        let close = find(text, b");", start);
        let end = if options < close { options } else { close };
        if end == text.len() {
            return false;
        }
        // Every explicit-register output is in `declared`...
        let mut outputs = 0;
        let mut pos = find(text, b"out(\"", start);
        while pos < end {
            let mut known = false;
            let mut d = 0;
            while d < declared.len() {
                known = known || names_at(text, pos + 5, declared[d].as_bytes());
                d += 1;
            }
            if !known {
                return false;
            }
            outputs += 1;
            pos = find(text, b"out(\"", pos + 5);
        }
        // ...and as many as `declared` lists (the names are distinct), so the sets are equal.
        if outputs != declared.len() {
            return false;
        }
        blocks += 1;
        at = end;
    }
}

const _: () = assert!(
    stub_agrees(arch::STUB, arch::DECLARED),
    "tests/freestanding/src/probe/<arch>.rs: the declared-clobber list disagrees with the stub's asm"
);

/// May the register of slot `name` change across the trap (the stub declares it)?
fn may_change(name: &str) -> bool {
    arch::DECLARED.contains(&name) || flags_not_promised(name)
}

/// On x86 the vDSO's entry does not promise eflags (the stub's block for it does not claim
/// `preserves_flags`); `int $0x80` does.
#[cfg(target_arch = "x86")]
fn flags_not_promised(name: &str) -> bool {
    name == "eflags" && raw::vsyscall_entry().is_some()
}

#[cfg(not(target_arch = "x86"))]
fn flags_not_promised(_: &str) -> bool {
    false
}

// ---------------------------------------------------------------------------------------------
// Per-architecture trap blocks. Each saves every register it loads in a stack frame of its own,
// so the compiler sees one operand (the pointer, clobbered) and no other change; flags are not
// declared preserved. The values go in from `slots` and come back into `slots`.

/// A value no register holds by chance: distinct per slot, with high bits set on 64-bit
/// targets.
fn sentinel(slot: usize) -> Word {
    (0xa5c3_0000_5e00_0000u64 | ((slot as u64) << 40) | ((slot as u64) << 8) | 0x5a) as Word
}

/// An architecture's trap block: an `unsafe fn` around the `asm!` given, which stores every
/// register it writes in a frame of its own first and reloads it last (the `// SAFETY:` comment
/// above each use says how that block does). `pub fn trap(regs)` gets the common contract; a
/// helper states its own (`# Safety` in the docs given).
macro_rules! trap {
    (pub fn trap($regs:ident) { $($asm:tt)* }) => {
        /// # Safety
        /// `regs` must make a system call the kernel may perform.
        pub unsafe fn trap($regs: *mut super::Registers) {
            // SAFETY: the block keeps every register it does not declare (see its use), and
            // `regs` is valid (the caller's promise).
            unsafe { core::arch::asm!($($asm)*) }
        }
    };
    ($(#[$doc:meta])+ fn $name:ident($regs:ident) { $($asm:tt)* }) => {
        $(#[$doc])+
        unsafe fn $name($regs: *mut super::Registers) {
            // SAFETY: as for the `pub fn trap` form.
            unsafe { core::arch::asm!($($asm)*) }
        }
    };
}

#[cfg(target_arch = "x86_64")]
#[path = "x86_64.rs"]
mod arch;

#[cfg(target_arch = "x86")]
#[path = "x86.rs"]
mod arch;

#[cfg(target_arch = "aarch64")]
#[path = "aarch64.rs"]
mod arch;

#[cfg(target_arch = "arm")]
#[path = "arm.rs"]
mod arch;

#[cfg(target_arch = "loongarch64")]
#[path = "loongarch64.rs"]
mod arch;

#[cfg(any(target_arch = "mips", target_arch = "mips32r6"))]
#[path = "mips.rs"]
mod arch;

#[cfg(any(target_arch = "mips64", target_arch = "mips64r6"))]
#[path = "mips64.rs"]
mod arch;

#[cfg(any(target_arch = "powerpc", target_arch = "powerpc64"))]
#[path = "powerpc64.rs"]
mod arch;

#[cfg(target_arch = "riscv64")]
#[path = "riscv64.rs"]
mod arch;

#[cfg(target_arch = "riscv32")]
#[path = "riscv64.rs"]
mod arch;

#[cfg(target_arch = "s390x")]
#[path = "s390x.rs"]
mod arch;

#[cfg(target_arch = "sparc64")]
#[path = "sparc64.rs"]
mod arch;

/// MIPS's restart rule, run (`restart.rs`).
#[cfg(any(
    target_arch = "mips",
    target_arch = "mips32r6",
    target_arch = "mips64",
    target_arch = "mips64r6"
))]
pub mod restart;

/// The MIPS registers by number; $zero, k0/k1 (the kernel's) and $sp are not probed, nor $1:
/// storing it after the trap is the read ci/check-mips-clobbers forbids (the kernel returns junk
/// there and the stub reloads it), and that check covers it.
#[cfg(any(
    target_arch = "mips",
    target_arch = "mips32r6",
    target_arch = "mips64",
    target_arch = "mips64r6"
))]
const MIPS_NAMES: [&str; 32] = [
    "", "", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14",
    "$15", "$16", "$17", "$18", "$19", "$20", "$21", "$22", "$23", "$24", "$25", "", "", "$28", "",
    "$30", "$31",
];

/// MIPS (o32 and n64) reports failure the same way: a3 ($7) non-zero, v0 ($2) the errno.
#[cfg(any(
    target_arch = "mips",
    target_arch = "mips32r6",
    target_arch = "mips64",
    target_arch = "mips64r6"
))]
const MIPS_ERRORS: Errors = Errors::Flagged {
    result: 2,
    flag: 7,
    mask: Word::MAX,
};

/// How an architecture reports failure, read from the registers the probe stored.
enum Errors {
    /// Slot `result` holds -errno in -4095..=-1.
    #[cfg_attr(
        any(
            target_arch = "mips",
            target_arch = "mips32r6",
            target_arch = "mips64",
            target_arch = "mips64r6",
            target_arch = "powerpc",
            target_arch = "powerpc64",
            target_arch = "sparc64"
        ),
        allow(dead_code)
    )]
    Negated { result: usize },
    /// Slot `flag` has a bit of `mask` set on failure, and slot `result` holds the errno.
    #[cfg_attr(
        not(any(
            target_arch = "mips",
            target_arch = "mips32r6",
            target_arch = "mips64",
            target_arch = "mips64r6",
            target_arch = "powerpc",
            target_arch = "powerpc64",
            target_arch = "sparc64"
        )),
        allow(dead_code)
    )]
    Flagged {
        result: usize,
        flag: usize,
        mask: Word,
    },
}

/// `(result, 0)` or `(usize::MAX, errno)`, as `syscall6` returns them.
/// (On x32 the kernel's 64-bit result is cut to 32 bits, as the stub cuts it.)
fn split(slots: &[Word; arch::SLOTS]) -> (usize, usize) {
    match arch::ERRORS {
        Errors::Negated { result } if slots[result] > Word::MAX - 4095 => {
            (usize::MAX, slots[result].wrapping_neg() as usize)
        }
        Errors::Flagged { result, flag, mask } if slots[flag] & mask != 0 => {
            (usize::MAX, slots[result] as usize)
        }
        Errors::Negated { result } | Errors::Flagged { result, .. } => (slots[result] as usize, 0),
    }
}

// ---------------------------------------------------------------------------------------------
// One probed call and its check.

/// What the probe found over all calls: the declared registers some call did change.
struct Tally {
    calls: u64,
    changed: [bool; arch::SLOTS],
}

/// Makes system call `num(args)` through the architecture's probe block and checks its result
/// against `want` and every register the stub does not declare against the value it went in
/// with.
fn probe(
    c: &mut Checker,
    tally: &mut Tally,
    name: &str,
    num: usize,
    args: [usize; 6],
    want: (usize, usize),
) {
    let mut regs = Registers {
        slots: [0; arch::SLOTS],
        stack: [0; 2],
    };
    for (i, slot) in regs.slots.iter_mut().enumerate() {
        *slot = sentinel(i);
    }
    for &(slot, value, _) in arch::FIXED {
        regs.slots[slot] = value as Word;
    }
    // Widened as the stub widens them (x32: zero-extended).
    regs.slots[arch::NUMBER] = num as Word;
    let mut stack_args = 0;
    for (&slot, &arg) in arch::ARGS.iter().zip(&args) {
        if slot == usize::MAX {
            regs.stack[stack_args] = arg;
            stack_args += 1;
        } else {
            regs.slots[slot] = arg as Word;
        }
    }
    #[cfg(target_arch = "aarch64")]
    arch::prepare(&mut regs.slots);
    let mut before = regs.slots;
    // SAFETY: the callers pass system calls whose pointers are valid for them.
    unsafe { arch::trap(&mut regs) };
    let mut after = regs.slots;
    let result = split(&after);
    for &(slot, _, mask) in arch::FIXED {
        before[slot] &= mask as Word;
        after[slot] &= mask as Word;
    }
    #[cfg(any(target_arch = "powerpc", target_arch = "powerpc64"))]
    {
        arch::fields(&mut before);
        arch::fields(&mut after);
    }
    tally.calls += 1;
    c.eq(name, result, want);
    let mut bad = 0;
    for (i, reg) in arch::NAMES.iter().enumerate() {
        if reg.is_empty() || before[i] == after[i] {
            continue;
        }
        if may_change(reg) {
            tally.changed[i] = true;
            continue;
        }
        bad += 1;
        print("    ");
        print(reg);
        print(" changed: ");
        print_hex(wide(before[i]));
        print(" -> ");
        print_hex(wide(after[i]));
        print("\n");
    }
    c.that(
        "  every undeclared register preserved",
        bad == 0,
        bad as u64,
    );
}

/// The slots the probe compares (named, not declared by the stub).
fn preserved_count() -> u64 {
    arch::NAMES
        .iter()
        .filter(|r| !r.is_empty() && !may_change(r))
        .count() as u64
}

// ---------------------------------------------------------------------------------------------
// Signals, for the interrupted call: a SIGCHLD handler and the kernel's `sigaction`.

/// The kernel's signal set as `rt_sigaction` and `epoll_pwait` read it.
type SigWords = [usize; raw::KERNEL_SIGSET_SIZE / core::mem::size_of::<usize>()];

/// The empty signal set.
const NO_SIGNALS: SigWords = [0; raw::KERNEL_SIGSET_SIZE / core::mem::size_of::<usize>()];

/// The set of `signal` alone.
fn sigset_with(signal: u32) -> SigWords {
    let mut set = NO_SIGNALS;
    let bit = signal as usize - 1;
    set[bit / usize::BITS as usize] |= 1 << (bit % usize::BITS as usize);
    set
}

/// The kernel's `struct sigaction` for `rt_sigaction` (handler, flags, restorer, mask).
#[cfg(not(any(
    target_arch = "mips",
    target_arch = "mips32r6",
    target_arch = "mips64",
    target_arch = "mips64r6"
)))]
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: usize,
    restorer: usize,
    mask: SigWords,
}

/// MIPS puts the flags first, as an `unsigned int`, and has no restorer.
#[cfg(any(
    target_arch = "mips",
    target_arch = "mips32r6",
    target_arch = "mips64",
    target_arch = "mips64r6"
))]
#[repr(C)]
struct KernelSigaction {
    flags: u32,
    handler: usize,
    mask: SigWords,
}

impl KernelSigaction {
    fn new(handler: usize) -> KernelSigaction {
        KernelSigaction {
            handler,
            #[cfg(not(any(
                target_arch = "mips",
                target_arch = "mips32r6",
                target_arch = "mips64",
                target_arch = "mips64r6"
            )))]
            flags: k::SA_SIGINFO as usize | restorer().0,
            #[cfg(not(any(
                target_arch = "mips",
                target_arch = "mips32r6",
                target_arch = "mips64",
                target_arch = "mips64r6"
            )))]
            restorer: restorer().1,
            #[cfg(any(
                target_arch = "mips",
                target_arch = "mips32r6",
                target_arch = "mips64",
                target_arch = "mips64r6"
            ))]
            flags: k::SA_SIGINFO,
            mask: NO_SIGNALS,
        }
    }
}

// The handler is installed with SA_SIGINFO, which makes every architecture build the same
// (rt) signal frame; i386 builds an older frame without it, which `rt_sigreturn` cannot undo. x86
// and x86-64 return from a handler through a restorer the program supplies (x86-64 requires one);
// everywhere else the kernel's vDSO or signal page provides it.
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".pushsection .text.rawpoll_probe_restorer, \"ax\", @progbits",
    ".globl rawpoll_probe_restorer",
    "rawpoll_probe_restorer:",
    "mov eax, {nr}",
    "syscall",
    "ud2",
    ".popsection",
    nr = const k::__NR_rt_sigreturn,
);

#[cfg(target_arch = "x86")]
core::arch::global_asm!(
    ".pushsection .text.rawpoll_probe_restorer, \"ax\", @progbits",
    ".globl rawpoll_probe_restorer",
    "rawpoll_probe_restorer:",
    "mov eax, {nr}",
    "int 0x80",
    "ud2",
    ".popsection",
    nr = const k::__NR_rt_sigreturn,
);

// SPARC64 returns from a handler to the address rt_sigaction's fourth argument gives plus 8 (the
// kernel puts the address in the handler's o7, and a function returns to o7 + 8), and has no
// SA_RESTORER flag: the program supplies the code (arch/sparc/kernel/sys_sparc_64.c,
// rt_sigaction; signal_64.c, setup_rt_frame).
#[cfg(target_arch = "sparc64")]
core::arch::global_asm!(
    ".pushsection .text.rawpoll_probe_restorer, \"ax\", @progbits",
    ".globl rawpoll_probe_restorer",
    "rawpoll_probe_restorer:",
    "mov {nr}, %g1",
    "ta 0x6d",
    "illtrap 0",
    ".popsection",
    nr = const k::__NR_rt_sigreturn,
);

#[cfg(any(target_arch = "x86", target_arch = "x86_64", target_arch = "sparc64"))]
extern "C" {
    fn rawpoll_probe_restorer();
}

/// rt_sigaction's fourth argument: the handler's return address minus 8 on SPARC64; the
/// signal-set size, the last argument, everywhere else.
#[cfg(target_arch = "sparc64")]
fn sigaction_fourth() -> [usize; 2] {
    [
        (rawpoll_probe_restorer as *const () as usize).wrapping_sub(8),
        raw::KERNEL_SIGSET_SIZE,
    ]
}

#[cfg(not(target_arch = "sparc64"))]
fn sigaction_fourth() -> [usize; 2] {
    [raw::KERNEL_SIGSET_SIZE, 0]
}

/// The SA_RESTORER flag and the `sa_restorer` to pass, where the architecture wants one.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn restorer() -> (usize, usize) {
    (
        k::SA_RESTORER as usize,
        rawpoll_probe_restorer as *const () as usize,
    )
}

#[cfg(not(any(
    target_arch = "x86",
    target_arch = "x86_64",
    target_arch = "mips",
    target_arch = "mips32r6",
    target_arch = "mips64",
    target_arch = "mips64r6"
)))]
fn restorer() -> (usize, usize) {
    (0, 0)
}

static SIGCHLD_HANDLED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_sigchld(_signal: i32) {
    SIGCHLD_HANDLED.fetch_add(1, Ordering::SeqCst);
}

/// `rt_sigaction(signal, new, old)` (on SPARC64 with the return address before the size).
fn sigaction(
    signal: u32,
    new: &KernelSigaction,
    old: &mut KernelSigaction,
) -> Result<usize, Errno> {
    // SAFETY: both point to live `struct sigaction`s of the kernel's layout and size.
    Errno::result(unsafe {
        syscall6(
            k::__NR_rt_sigaction as usize,
            signal as usize,
            new as *const KernelSigaction as usize,
            old as *mut KernelSigaction as usize,
            sigaction_fourth()[0],
            sigaction_fourth()[1],
            0,
        )
    })
}

/// `rt_sigprocmask(how, set, old)`.
fn sigprocmask(how: u32, set: &SigWords, old: &mut SigWords) -> Result<usize, Errno> {
    // SAFETY: both point to live signal sets of the kernel's size.
    Errno::result(unsafe {
        syscall6(
            k::__NR_rt_sigprocmask as usize,
            how as usize,
            set.as_ptr() as usize,
            old.as_mut_ptr() as usize,
            raw::KERNEL_SIGSET_SIZE,
            0,
            0,
        )
    })
}

/// What `syscall6` returns for a failure with `errno`.
fn failed(errno: Errno) -> (usize, usize) {
    (usize::MAX, errno.raw() as usize)
}

/// `syscall6` returning the result or the errno.
fn call(num: usize, args: [usize; 6]) -> Result<usize, Errno> {
    // SAFETY: the callers pass calls that take integers or pointers to live buffers.
    Errno::result(unsafe { syscall6(num, args[0], args[1], args[2], args[3], args[4], args[5]) })
}

/// Runs the probe's four calls, one `ok`/`FAIL` line each plus one for the registers, then the
/// summary line `probe: 4 calls x N registers preserved (...)`.
pub fn run(c: &mut Checker) {
    let mut tally = Tally {
        calls: 0,
        changed: [false; arch::SLOTS],
    };
    let pid = call(raw::SYS_GETPID, [0; 6]).unwrap_or(0);
    probe(
        c,
        &mut tally,
        "probe getpid -> own pid",
        raw::SYS_GETPID,
        [0; 6],
        (pid, 0),
    );

    probe(
        c,
        &mut tally,
        "probe close(-1) -> EBADF",
        raw::SYS_CLOSE,
        [usize::MAX, 0, 0, 0, 0, 0],
        failed(Errno::EBADF),
    );

    // A ready eventfd in an epoll set; `struct epoll_event` is `events` then `data` on every
    // architecture, and only `events` matters here.
    let cloexec = k::EPOLL_CLOEXEC as usize;
    let ep = call(raw::SYS_EPOLL_CREATE1, [cloexec, 0, 0, 0, 0, 0]).unwrap_or(usize::MAX);
    let efd =
        call(raw::SYS_EVENTFD2, [1, k::EFD_CLOEXEC as usize, 0, 0, 0, 0]).unwrap_or(usize::MAX);
    let event: [u32; 4] = [k::EPOLLIN, 0, 0, 0];
    let _ = call(
        raw::SYS_EPOLL_CTL,
        [
            ep,
            k::EPOLL_CTL_ADD as usize,
            efd,
            event.as_ptr() as usize,
            0,
            0,
        ],
    );
    let mut events = [0u64; 4];
    // Any real mask will do (signal 10 blocked, as in the conformance runner's own case).
    let mask = sigset_with(10);
    probe(
        c,
        &mut tally,
        "probe epoll_pwait(ready, sigmask) -> 1",
        raw::SYS_EPOLL_PWAIT,
        [
            ep,
            events.as_mut_ptr() as usize,
            1,
            0,
            mask.as_ptr() as usize,
            raw::KERNEL_SIGSET_SIZE,
        ],
        (1, 0),
    );
    let _ = call(raw::SYS_CLOSE, [efd, 0, 0, 0, 0, 0]);
    let _ = call(raw::SYS_CLOSE, [ep, 0, 0, 0, 0, 0]);

    interrupted(c, &mut tally);
    #[cfg(target_arch = "x86")]
    int80_too(c, &mut tally);

    print("probe: ");
    print_u64(tally.calls);
    print(" calls x ");
    print_u64(preserved_count());
    print(" registers preserved (clobbered as declared:");
    for reg in arch::NAMES
        .iter()
        .filter(|r| !r.is_empty() && may_change(r))
    {
        print(" ");
        print(reg);
    }
    print("; changed in these calls:");
    let changed = arch::NAMES.iter().zip(&tally.changed).filter(|(_, &c)| c);
    let mut none = true;
    for (reg, _) in changed {
        print(" ");
        print(reg);
        none = false;
    }
    if none {
        print(" none");
    }
    print(")\n");
}

/// On x86 with a vDSO, the calls above entered through it; the stub's other path, `int $0x80`,
/// is probed too, with the entry switched off for two calls (eflags are promised there).
#[cfg(target_arch = "x86")]
fn int80_too(c: &mut Checker, tally: &mut Tally) {
    let Some(entry) = raw::vsyscall_entry() else {
        return;
    };
    // SAFETY: `None` makes every call use `int $0x80`; `entry` is what the lookup found.
    unsafe { raw::set_vsyscall_entry(None) };
    let pid = call(raw::SYS_GETPID, [0; 6]).unwrap_or(0);
    probe(
        c,
        tally,
        "probe getpid through int $0x80 -> own pid",
        raw::SYS_GETPID,
        [0; 6],
        (pid, 0),
    );
    probe(
        c,
        tally,
        "probe close(-1) through int $0x80 -> EBADF",
        raw::SYS_CLOSE,
        [usize::MAX, 0, 0, 0, 0, 0],
        failed(Errno::EBADF),
    );
    // SAFETY: as above: the entry the lookup found.
    unsafe { raw::set_vsyscall_entry(Some(entry)) };
}

/// An `epoll_pwait` on an empty set that blocks with SIGCHLD unblocked by its mask alone, until a
/// child's exit delivers SIGCHLD to a handler: EINTR, and the handler ran once. (If SIGCHLD comes
/// before the call, it waits pending and interrupts the call at once: the same result.)
fn interrupted(c: &mut Checker, tally: &mut Tally) {
    let handler = KernelSigaction::new(on_sigchld as *const () as usize);
    let mut old_action = KernelSigaction::new(0);
    let installed = sigaction(raw::SIGCHLD, &handler, &mut old_action);
    c.eq("probe setup: SIGCHLD handler installed", installed, Ok(0));
    let mut old_mask = NO_SIGNALS;
    let blocked = sigprocmask(k::SIG_BLOCK, &sigset_with(raw::SIGCHLD), &mut old_mask);
    c.eq("probe setup: SIGCHLD blocked", blocked, Ok(0));
    let cloexec = k::EPOLL_CLOEXEC as usize;
    let ep = call(raw::SYS_EPOLL_CREATE1, [cloexec, 0, 0, 0, 0, 0]).unwrap_or(usize::MAX);
    let mut events = [0u64; 4];
    SIGCHLD_HANDLED.store(0, Ordering::SeqCst);
    match fork() {
        Ok(0) => {
            // Give the parent time to block (not needed for the result, see above).
            let _ = call(
                raw::SYS_EPOLL_PWAIT,
                [ep, events.as_mut_ptr() as usize, 1, 50, 0, 0],
            );
            exit(0)
        }
        Ok(child) => {
            // A bound in case SIGCHLD never comes (the case then fails with a result of 0).
            const TIMEOUT_MS: usize = 20_000;
            probe(
                c,
                tally,
                "probe epoll_pwait(empty, sigmask) interrupted by SIGCHLD -> EINTR",
                raw::SYS_EPOLL_PWAIT,
                [
                    ep,
                    events.as_mut_ptr() as usize,
                    1,
                    TIMEOUT_MS,
                    NO_SIGNALS.as_ptr() as usize,
                    raw::KERNEL_SIGSET_SIZE,
                ],
                failed(Errno::EINTR),
            );
            c.eq(
                "  the handler ran once",
                SIGCHLD_HANDLED.load(Ordering::SeqCst),
                1,
            );
            c.eq(
                "  the child exited 0",
                wait(child).map(crate::exit_code),
                Ok(Some(0)),
            );
        }
        Err(e) => {
            c.eq("probe setup: fork", Err(e), Ok(0));
        }
    }
    let _ = call(raw::SYS_CLOSE, [ep, 0, 0, 0, 0, 0]);
    let mut ignored = NO_SIGNALS;
    let _ = sigprocmask(k::SIG_SETMASK, &old_mask, &mut ignored);
    let mut ignored = KernelSigaction::new(0);
    let _ = sigaction(raw::SIGCHLD, &old_action, &mut ignored);
}

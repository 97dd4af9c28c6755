//! 64-bit SPARC: Rust `sparc64-unknown-linux-gnu` (no Go port).

use core::arch::asm;

// System-call ABI, Linux sparc64 (sources: arch/sparc/kernel/ttable_64.S and arch/sparc/include/
// asm/ttable.h, trap 0x16d = `ta 0x6d`, LINUX_64BIT_SYSCALL_TRAP; arch/sparc/kernel/syscalls.S,
// linux_sparc_syscall and ret_sys_call; arch/sparc/kernel/etrap_64.S and rtrap_64.S, the entry and
// the return; arch/sparc/kernel/signal_64.c, the restart logic; arch/sparc/kernel/process_64.c,
// copy_thread):
// - instruction: `ta 0x6d` (software trap 0x6d; 0x10 is the 32-bit ABI's)
// - number: g1 (linux_sparc_syscall indexes sys_call_table64 with it)
// - arguments: o0-o5 (the trap window's i0-i5, which linux_sparc_syscall moves to the callee's
//   o0-o5)
// - return: o0
// - error: the carry flag is set on failure, in both condition-code sets (ret_sys_call sets
//   TSTATE_XCARRY and TSTATE_ICARRY for a result in -ERESTART_RESTARTBLOCK..=-1, clears both
//   otherwise), and then o0 holds the positive errno (ret_sys_call negates it): a fourth error
//   convention beside the negated result, MIPS's flag register and PowerPC's cr0.SO. The block
//   reads xcc's carry (`movcs %xcc`), the 64-bit one.
// - clobbered by the kernel: o0 (the result) and the condition codes; o1 too for the calls that
//   return a second value there (clone and fork: 0 in the parent, 1 in the child, whose o0 is the
//   parent's PID, process_64.c's copy_thread; the old pipe: the write end). rtrap reloads every
//   other global and out register, y, and the floating-point registers the kernel saved, from
//   pt_regs; the locals and ins are the caller's own register window, spilled to and filled from
//   the stack's save area (which the ABI reserves at %sp + 2047 in every frame) if at all. The
//   kernel may also write g1 (a restart, below) and g6 (do_signal keeps the failed call's first
//   argument there); LLVM never allocates either (g1 is its scratch register for frame code, g6
//   and g7 are the system's) and Rust refuses them as operands, so no value of the compiler's can
//   be lost there.
// - restart: a call interrupted by a signal with a handler (SA_RESTART) resumes at the `ta` with
//   o0 reloaded (syscall_restart); without a handler (after a stop, say), do_signal reloads o0,
//   moves the PC back 4 bytes, then falls through to the ERESTART_RESTARTBLOCK case, which sets g1
//   to restart_syscall and moves it back 4 more: the instruction before the `ta` runs again. So
//   the number is loaded into g1 by the instruction right before the `ta`, in the block: run
//   again, it loads the same number (its source register is the block's input, which nothing
//   writes), and the call is made again as it was, rather than restart_syscall's EINTR.
// Contract: see `crate::raw::syscall6`.
#[inline(always)]
pub(crate) unsafe fn syscall6(
    num: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> (usize, usize) {
    let ret: usize;
    let carry: usize;
    // SAFETY: the registers follow the ABI above (g1, which the block writes, holds no value of
    // the compiler's); the caller vouches for the call itself.
    unsafe {
        asm!(
            "mov {number}, %g1",
            "ta 0x6d",
            "movcs %xcc, 1, {carry}",
            number = in(reg) num,
            carry = inlateout(reg) 0usize => carry,
            inlateout("o0") a1 => ret,
            inlateout("o1") a2 => _,
            in("o2") a3,
            in("o3") a4,
            in("o4") a5,
            in("o5") a6,
            options(nostack),
        );
    }
    super::split_flagged_result(ret, carry != 0)
}

// System-call numbers (arch/sparc/kernel/syscalls/syscall.tbl, the `common` and `64` entries).
// The socket calls are the direct ones, not socketcall(206), which multiplexes them.
pub(crate) const SYS_READ: usize = 3;
pub(crate) const SYS_WRITE: usize = 4;
pub(crate) const SYS_CLOSE: usize = 6;
pub(crate) const SYS_WAIT4: usize = 7;
pub(crate) const SYS_GETPID: usize = 20;
pub(crate) const SYS_KILL: usize = 37;
pub(crate) const SYS_IOCTL: usize = 54;
pub(crate) const SYS_REBOOT: usize = 55;
pub(crate) const SYS_FCNTL: usize = 92;
pub(crate) const SYS_SOCKET: usize = 97;
pub(crate) const SYS_CONNECT: usize = 98;
pub(crate) const SYS_GETSOCKOPT: usize = 118;
pub(crate) const SYS_GETSOCKNAME: usize = 150;
pub(crate) const SYS_EXIT_GROUP: usize = 188;
pub(crate) const SYS_EPOLL_CTL: usize = 194;
pub(crate) const SYS_CLONE: usize = 217;
pub(crate) const SYS_EPOLL_PWAIT: usize = 309;
pub(crate) const SYS_EVENTFD2: usize = 318;
pub(crate) const SYS_EPOLL_CREATE1: usize = 319;
pub(crate) const SYS_DUP3: usize = 320;
pub(crate) const SYS_PIPE2: usize = 321;
pub(crate) const SYS_ACCEPT4: usize = 323;
pub(crate) const SYS_PRLIMIT64: usize = 331;
pub(crate) const SYS_BIND: usize = 353;
pub(crate) const SYS_LISTEN: usize = 354;
pub(crate) const SYS_EPOLL_PWAIT2: usize = 441;

// The values SPARC numbers its own way (arch/sparc/include/uapi/asm/: fcntl.h, signal.h,
// resource.h, errno.h); `clone`'s arguments and the signal-set size as everywhere (values.rs).

/// `O_CLOEXEC`: 0x400000.
pub(crate) const O_CLOEXEC: u32 = 0x40_0000;
/// `O_NONBLOCK`: 0x4000.
pub(crate) const EFD_NONBLOCK: u32 = 0x4000;
pub(crate) const SIGCHLD: u32 = 20;
pub(crate) const RLIMIT_NOFILE: u32 = 6;
/// `_NSIG / 8`: 64 signals.
pub(crate) const KERNEL_SIGSET_SIZE: usize = 8;
/// `clone(flags, stack, ...)` (sparc_clone in arch/sparc/kernel/process.c).
pub(crate) const CLONE_FLAGS_ARG: usize = 0;
pub(crate) const ENOSYS: u16 = 90;
pub(crate) const ELOOP: u16 = 62;
pub(crate) const ETIMEDOUT: u16 = 60;
pub(crate) const ECANCELED: u16 = 127;

//! 32-bit x86: Go `386`, Rust `i686-unknown-linux-gnu` and, for CPUs without CMOV or SSE2
//! (Go's `GO386=softfloat`), `i586-unknown-linux-gnu`: the same ABI and vDSO entry.

use core::arch::asm;
use core::sync::atomic::Ordering;

// The values that differ between architectures: as most have them (values.rs).
pub(crate) use super::values::*;

// Where `__kernel_vsyscall` is, and the lookup that finds it (x86/vdso.rs).
#[path = "x86/vdso.rs"]
mod vdso;
pub(crate) use vdso::{init_from_stack, set_vsyscall_entry, use_auxv, vsyscall_entry};
use vdso::{vsyscall_or_lookup, NO_VSYSCALL, VSYSCALL};

// System-call ABI, Linux i386, entered one of two ways with the same registers:
// - number: eax; arguments: ebx, ecx, edx, esi, edi, ebp; return: eax; error: eax in
//   -4095..=-1 holds -errno (arch/x86/entry/entry_64_compat.S, the comments above each entry)
// - `call __kernel_vsyscall`, at the address the kernel passes in the auxiliary vector as
//   AT_SYSINFO (32): the vDSO pushes ecx, edx and ebp, enters the kernel with sysenter, syscall
//   or `int $0x80` (whichever this CPU does best), pops them and returns, so every register
//   but eax is preserved; eflags are not promised; it uses 16 bytes of the caller's stack (the
//   return address and the three pushes) (arch/x86/entry/vdso/vdso32/system_call.S, which
//   also calls this "the ONLY correct way to make a fast 32-bit system call on Linux")
// - `int $0x80`: every register but eax is preserved, eflags included, since the kernel returns
//   with iret (arch/x86/entry/entry_64_compat.S, entry_INT80_compat; entry_32.S on 32-bit
//   kernels), at about 23 times the cost of the vDSO's entry on the AMD EPYC VM of the
//   benchmarks (README)
// Rust reserves esi (LLVM's base pointer) and ebp (the frame pointer) on 32-bit x86, but not
// ebx (the Rust reference, inline assembly, "Register operands"): ebx is an operand, while esi,
// ebp, the number and the vDSO's address come from a small array whose address is in eax, with
// esi and ebp saved on the stack around the entry. The vDSO's address is pushed and called
// through memory, since all seven general registers hold the call.
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
    let entry = VSYSCALL.load(Ordering::Relaxed);
    let ret = if entry > NO_VSYSCALL {
        // SAFETY: `entry` is __kernel_vsyscall, from a source listed at `VSYSCALL` (x86/vdso.rs);
        // the caller vouches for the call itself.
        unsafe { vsyscall(entry, num, a1, a2, a3, a4, a5, a6) }
    } else {
        // SAFETY: the caller vouches for the call.
        unsafe { syscall6_cold(num, a1, a2, a3, a4, a5, a6) }
    };
    super::split_negated_result(ret)
}

/// The vDSO's entry path (see the ABI above); returns eax.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn vsyscall(
    entry: usize,
    num: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> usize {
    let in_memory: [usize; 4] = [entry, a4, a6, num];
    let ret: usize;
    // SAFETY: the registers follow the ABI above, esi and ebp are restored and the stack is
    // balanced before the block ends, and `in_memory` outlives the block; `entry` is
    // __kernel_vsyscall (the caller's promise).
    unsafe {
        asm!(
            "push ebp",
            "push esi",
            "push dword ptr [eax]",
            "mov esi, [eax + 4]",
            "mov ebp, [eax + 8]",
            "mov eax, [eax + 12]",
            "call dword ptr [esp]",
            "pop esi",
            "pop esi",
            "pop ebp",
            inlateout("eax") in_memory.as_ptr() => ret,
            in("ebx") a1,
            in("ecx") a2,
            in("edx") a3,
            in("edi") a5,
        );
    }
    ret
}

/// The `int $0x80` path (see the ABI above); returns eax.
#[inline(always)]
unsafe fn int80(
    num: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> usize {
    let in_memory: [usize; 3] = [a4, a6, num];
    let ret: usize;
    // SAFETY: the registers follow the ABI above, esi and ebp are restored before the block
    // ends, and `in_memory` outlives the block; the caller vouches for the call itself.
    unsafe {
        asm!(
            "push ebp",
            "push esi",
            "mov esi, [eax]",
            "mov ebp, [eax + 4]",
            "mov eax, [eax + 8]",
            "int 0x80",
            "pop esi",
            "pop ebp",
            inlateout("eax") in_memory.as_ptr() => ret,
            in("ebx") a1,
            in("ecx") a2,
            in("edx") a3,
            in("edi") a5,
            options(preserves_flags),
        );
    }
    ret
}

/// Out of line, off the fast path: looks the vDSO up if nobody has yet, then enters through it
/// or, without one, through `int $0x80`.
#[cold]
#[inline(never)]
unsafe fn syscall6_cold(
    num: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> usize {
    let entry = vsyscall_or_lookup();
    if entry > NO_VSYSCALL {
        // SAFETY: as in `syscall6`.
        unsafe { vsyscall(entry, num, a1, a2, a3, a4, a5, a6) }
    } else {
        // SAFETY: the caller vouches for the call.
        unsafe { int80(num, a1, a2, a3, a4, a5, a6) }
    }
}

// System-call numbers (arch/x86/entry/syscalls/syscall_32.tbl).
// The socket calls are the direct ones Linux 4.3 added (359..373), not socketcall(102), which
// multiplexes them through one number.
pub(crate) const SYS_READ: usize = 3;
pub(crate) const SYS_WRITE: usize = 4;
pub(crate) const SYS_CLOSE: usize = 6;
pub(crate) const SYS_GETPID: usize = 20;
pub(crate) const SYS_KILL: usize = 37;
pub(crate) const SYS_IOCTL: usize = 54;
pub(crate) const SYS_FCNTL: usize = 55;
pub(crate) const SYS_REBOOT: usize = 88;
pub(crate) const SYS_WAIT4: usize = 114;
pub(crate) const SYS_CLONE: usize = 120;
pub(crate) const SYS_EXIT_GROUP: usize = 252;
pub(crate) const SYS_EPOLL_CTL: usize = 255;
pub(crate) const SYS_EPOLL_PWAIT: usize = 319;
pub(crate) const SYS_EVENTFD2: usize = 328;
pub(crate) const SYS_EPOLL_CREATE1: usize = 329;
pub(crate) const SYS_DUP3: usize = 330;
pub(crate) const SYS_PIPE2: usize = 331;
pub(crate) const SYS_PRLIMIT64: usize = 340;
pub(crate) const SYS_SOCKET: usize = 359;
pub(crate) const SYS_BIND: usize = 361;
pub(crate) const SYS_CONNECT: usize = 362;
pub(crate) const SYS_LISTEN: usize = 363;
pub(crate) const SYS_ACCEPT4: usize = 364;
pub(crate) const SYS_GETSOCKOPT: usize = 365;
pub(crate) const SYS_GETSOCKNAME: usize = 367;
pub(crate) const SYS_EPOLL_PWAIT2: usize = 441;

//! 32-bit MIPS, o32 ABI: Go `mips` and `mipsle`, Rust `mips-unknown-linux-gnu` and
//! `mipsel-unknown-linux-gnu`; and MIPS32 release 6, Rust `mipsisa32r6-unknown-linux-gnu`
//! (`target_arch = "mips32r6"`, no Go port): the same o32 entry, registers, numbers and error
//! flag (one scall32-o32.S serves every release), only the instruction encodings differ.

use core::arch::asm;

// The values that differ between architectures: MIPS's own (mips_values.rs).
pub(crate) use super::mips_values::*;

// System-call ABI, Linux MIPS o32 (sources: arch/mips/kernel/scall32-o32.S, handle_sys;
// arch/mips/kernel/entry.S and arch/mips/include/asm/stackframe.h, the return path;
// arch/mips/kernel/signal.c, the restart logic):
// - instruction: `syscall`
// - number: v0 ($2) (scall32-o32.S)
// - arguments: a0-a3 ($4-$7) for the first four; the fifth and sixth go on the user stack at
//   16($sp) and 20($sp), above the 16-byte home area the caller reserves for a0-a3
//   (scall32-o32.S loads them from the user stack)
// - return: v0 ($2)
// - error: a3 ($7) is non-zero on failure, and then v0 holds the positive errno (scall32-o32.S)
// - clobbered by the kernel: $1 (at), $3 (v1), $7 (a3, the flag), $8-$15, $24, $25, hi and lo
//   (the fast return reloads only what RESTORE_SOME and RESTORE_SP_AND_RET name in stackframe.h)
// - restart: the instruction before `syscall` here is not the one that loads v0 (the compiler
//   places that load anywhere before the block). A restarted call (ERESTARTSYS and friends after
//   a signal) is then right only because signal.c reloads v0 from the number saved at entry and
//   backs up by the `syscall` instruction alone, which Linux has done since 2.6.36 ("MIPS:
//   Sanitize restart logics"); older kernels backed up 8 bytes to re-run a `li v0, NR` assumed
//   to sit just before the trap. Release 6 keeps this as it is: `syscall` is still one 4-byte
//   word, the entry still skips 4 bytes and signal.c backs up 4; R6's compact branches have no
//   delay slot, and the block puts a store before `syscall`, so it is never in a branch's delay
//   or forbidden slot on any release. The conformance runner checks a restart for real on every
//   MIPS target (tests/freestanding/src/probe/restart.rs).
// The stack slots at 16($sp) and 20($sp) belong to whatever the compiler keeps there, so the block
// opens a 32-byte frame of its own (keeping the 8-byte alignment), stores a5 and a6 in it and pops
// it after the trap. Rust refuses $1 as an operand or clobber (it is the assembler's), yet LLVM
// allocates it like any temporary, operands of this block included, and may keep a value in it
// across the block; so the block also saves $1 at 24($sp) and reloads it after the trap, under
// `.set noat`. hi and lo cannot be named in Rust either; LLVM only reads them right after the
// multiply or divide that wrote them. ci/check-mips-clobbers checks both in the built binaries.
// Release 6 has no hi and lo (its multiply and divide write a general register), and LLVM still
// allocates $1 there: the stub size binary keeps a4 in $1 across the block.
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
    let error_flag: usize;
    // SAFETY: the registers and stack slots follow the ABI above and the block restores $sp and
    // $1; the caller vouches for the call itself.
    unsafe {
        asm!(
            ".set noat",
            "addiu $sp, $sp, -32",
            "sw {a5}, 16($sp)",
            "sw {a6}, 20($sp)",
            "sw $1, 24($sp)",
            "syscall",
            "lw $1, 24($sp)",
            "addiu $sp, $sp, 32",
            ".set at",
            a5 = in(reg) a5,
            a6 = in(reg) a6,
            inlateout("$2") num => ret,
            in("$4") a1,
            in("$5") a2,
            in("$6") a3,
            inlateout("$7") a4 => error_flag,
            lateout("$3") _,
            lateout("$8") _,
            lateout("$9") _,
            lateout("$10") _,
            lateout("$11") _,
            lateout("$12") _,
            lateout("$13") _,
            lateout("$14") _,
            lateout("$15") _,
            lateout("$24") _,
            lateout("$25") _,
            options(preserves_flags),
        );
    }
    super::split_flagged_result(ret, error_flag != 0)
}

// System-call numbers (arch/mips/kernel/syscalls/syscall_o32.tbl, offset 4000).
pub(crate) const SYS_READ: usize = 4003;
pub(crate) const SYS_WRITE: usize = 4004;
pub(crate) const SYS_CLOSE: usize = 4006;
pub(crate) const SYS_GETPID: usize = 4020;
pub(crate) const SYS_KILL: usize = 4037;
pub(crate) const SYS_IOCTL: usize = 4054;
pub(crate) const SYS_FCNTL: usize = 4055;
pub(crate) const SYS_REBOOT: usize = 4088;
pub(crate) const SYS_WAIT4: usize = 4114;
pub(crate) const SYS_CLONE: usize = 4120;
pub(crate) const SYS_BIND: usize = 4169;
pub(crate) const SYS_CONNECT: usize = 4170;
pub(crate) const SYS_GETSOCKNAME: usize = 4172;
pub(crate) const SYS_GETSOCKOPT: usize = 4173;
pub(crate) const SYS_LISTEN: usize = 4174;
pub(crate) const SYS_SOCKET: usize = 4183;
pub(crate) const SYS_EXIT_GROUP: usize = 4246;
pub(crate) const SYS_EPOLL_CTL: usize = 4249;
pub(crate) const SYS_EPOLL_PWAIT: usize = 4313;
pub(crate) const SYS_EVENTFD2: usize = 4325;
pub(crate) const SYS_EPOLL_CREATE1: usize = 4326;
pub(crate) const SYS_DUP3: usize = 4327;
pub(crate) const SYS_PIPE2: usize = 4328;
pub(crate) const SYS_ACCEPT4: usize = 4334;
pub(crate) const SYS_PRLIMIT64: usize = 4338;
pub(crate) const SYS_EPOLL_PWAIT2: usize = 4441;

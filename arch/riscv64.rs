//! 64-bit RISC-V: Go `riscv64`, Rust `riscv64gc-unknown-linux-gnu`; and 32-bit RISC-V, the same
//! trap, registers and error rule with 32-bit registers (Rust `riscv32gc-unknown-linux-gnu`, no
//! Go port).

use core::arch::asm;

// The values that differ between architectures: as most have them (values.rs).
pub(crate) use super::values::*;

// System-call ABI, Linux RISC-V 64 (sources: arch/riscv/kernel/entry.S, handle_exception and
// ret_from_exception; arch/riscv/kernel/traps.c, do_trap_ecall_u; Documentation/arch/riscv/
// vector.rst):
// - instruction: `ecall` (traps.c: do_trap_ecall_u, the environment call from U-mode)
// - number: a7 (traps.c: `regs->a7`)
// - arguments: a0, a1, a2, a3, a4, a5 (traps.c: the table call with `regs`)
// - return: a0 (traps.c: `regs->a0`)
// - error: a0 in -4095..=-1 holds -errno
// - clobbered by the kernel: a0 (ret_from_exception reloads every other general register from
//   pt_regs), and the whole vector state (v0-v31, vl, vtype): the V extension specification and
//   vector.rst ("Vector Register State Across System Calls") say a system call does not preserve
//   it. v0-v31 are listed as clobbers so that no vector value is kept live across the trap, and
//   the block does not claim `preserves_flags`, which in Rust covers vl and vtype (without it,
//   rustc tells LLVM that vl, vtype and fflags are clobbered); the general and floating-point
//   registers are preserved.
// RV32 (XLEN 32; Linux 6.1: arch/riscv/kernel/entry.S, handle_syscall, which later kernels moved
// to traps.c): the same instruction and registers, each `usize` one 32-bit register; the
// number in a7, bounded by __NR_syscalls and looked up in sys_call_table, the result stored to
// pt_regs' a0. Arguments are 32 bits wide: no call used here takes a 64-bit value, which would
// take a register pair. RV32 has only the 64-bit-time system calls (its uapi asm/unistd.h sets no
// __ARCH_WANT_TIME32_SYSCALLS): no wait4, whose rusage has 32-bit times (waitid instead), and
// epoll_pwait2 and clock_nanosleep_time64 take the 64-bit `__kernel_timespec` (and like every
// asm-generic architecture it has no epoll_wait, only epoll_pwait).
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
    // SAFETY: the registers follow the ABI above; the caller vouches for the call itself.
    unsafe {
        asm!(
            "ecall",
            in("a7") num,
            inlateout("a0") a1 => ret,
            in("a1") a2,
            in("a2") a3,
            in("a3") a4,
            in("a4") a5,
            in("a5") a6,
            lateout("v0") _,
            lateout("v1") _,
            lateout("v2") _,
            lateout("v3") _,
            lateout("v4") _,
            lateout("v5") _,
            lateout("v6") _,
            lateout("v7") _,
            lateout("v8") _,
            lateout("v9") _,
            lateout("v10") _,
            lateout("v11") _,
            lateout("v12") _,
            lateout("v13") _,
            lateout("v14") _,
            lateout("v15") _,
            lateout("v16") _,
            lateout("v17") _,
            lateout("v18") _,
            lateout("v19") _,
            lateout("v20") _,
            lateout("v21") _,
            lateout("v22") _,
            lateout("v23") _,
            lateout("v24") _,
            lateout("v25") _,
            lateout("v26") _,
            lateout("v27") _,
            lateout("v28") _,
            lateout("v29") _,
            lateout("v30") _,
            lateout("v31") _,
            options(nostack),
        );
    }
    super::split_negated_result(ret)
}

// System-call numbers: the asm-generic table (include/uapi/asm-generic/unistd.h), on RV32 its
// 32-bit half: fcntl is __NR_fcntl64 (the same number, 25) and there is no wait4.
#[path = "generic/unistd.rs"]
mod unistd;
pub(crate) use unistd::*;

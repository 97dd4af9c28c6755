//! The register probe's trap block for riscv64 and riscv32: the stub's declared outputs (checked
//! against `arch/riscv64.rs`, the stub of both, at compile time), the registers it loads and
//! stores, and the trap itself. The block is the same on both but for the register width: its
//! slots are XLEN bits, stored and loaded with `sd`/`ld` (RV64) or `sw`/`lw` (RV32).

pub const STUB: &str = include_str!("../../../../arch/riscv64.rs");
pub const DECLARED: &[&str] = &[
    "a0", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13",
    "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26",
    "v27", "v28", "v29", "v30", "v31",
];
pub const SLOTS: usize = 32;
/// Indexed by register number (x0-x31); zero and sp are not probed.
pub const NAMES: [&str; SLOTS] = [
    "", "ra", "", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
    "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5",
    "t6",
];
pub const NUMBER: usize = 17;
pub const ARGS: [usize; 6] = [10, 11, 12, 13, 14, 15];
pub const FIXED: &[(usize, usize, usize)] = &[];
pub const ERRORS: super::Errors = super::Errors::Negated { result: 10 };

/// One register-wide store or load of the block, `xlen!(store, OPERANDS)`: `sd`/`ld` on RV64.
#[cfg(target_arch = "riscv64")]
macro_rules! xlen {
    (store, $operands:literal) => {
        concat!("sd ", $operands)
    };
    (load, $operands:literal) => {
        concat!("ld ", $operands)
    };
}

/// `sw`/`lw` on RV32.
#[cfg(target_arch = "riscv32")]
macro_rules! xlen {
    (store, $operands:literal) => {
        concat!("sw ", $operands)
    };
    (load, $operands:literal) => {
        concat!("lw ", $operands)
    };
}

// SAFETY: every register the block writes is stored in its own frame first and reloaded
// last; `regs` is valid. The frame has 8 bytes per register either way (an RV32 register uses
// the first 4 of its 8); the second half, from 256, holds the values after the trap.
trap! {
    pub fn trap(regs) {
        "addi sp, sp, -512",
        ".irp i, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
        xlen!(store, r"x\i, 8*\i(sp)"),
        ".endr",
        ".irp i, 1,3,4,5,6,7,8,9,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
        xlen!(load, r"x\i, {w}*\i(x10)"),
        ".endr",
        xlen!(load, "x10, {w}*10(x10)"),
        "ecall",
        ".irp i, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
        xlen!(store, r"x\i, 256 + 8*\i(sp)"),
        ".endr",
        xlen!(load, "x10, 8*10(sp)"),
        ".irp i, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
        xlen!(load, r"x5, 256 + 8*\i(sp)"),
        xlen!(store, r"x5, {w}*\i(x10)"),
        ".endr",
        ".irp i, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
        xlen!(load, r"x\i, 8*\i(sp)"),
        ".endr",
        "addi sp, sp, 512",
        w = const core::mem::size_of::<usize>(),
        inout("a0") regs => _,
    }
}

//! The register probe's trap block for 32-bit MIPS (o32): the stub's declared outputs (checked
//! against `arch/mips.rs` at compile time), the registers it loads and stores, and the trap itself.

pub const STUB: &str = include_str!("../../../../arch/mips.rs");
pub const DECLARED: &[&str] = &[
    "$2", "$7", "$3", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15", "$24", "$25",
];
pub const SLOTS: usize = 32;
pub const NAMES: [&str; SLOTS] = super::MIPS_NAMES;
pub const NUMBER: usize = 2;
/// Arguments five and six go on the stack (`usize::MAX`: not a register).
pub const ARGS: [usize; 6] = [4, 5, 6, 7, usize::MAX, usize::MAX];
pub const FIXED: &[(usize, usize, usize)] = &[];
pub const ERRORS: super::Errors = super::MIPS_ERRORS;

// SAFETY: every register the block writes is stored in its own frame first and reloaded
// last; arguments five and six sit at 16($sp) and 20($sp) as o32 wants; `regs` is valid.
trap! {
    pub fn trap(regs) {
        ".set noat",
        "addiu $sp, $sp, -288",
        ".irp i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
        r"sw $\i, 32 + 4*\i($sp)",
        ".endr",
        "lw $1, 4*32($4)",
        "sw $1, 16($sp)",
        "lw $1, 4*33($4)",
        "sw $1, 20($sp)",
        ".irp i, 2,3,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
        r"lw $\i, 4*\i($4)",
        ".endr",
        "lw $4, 4*4($4)",
        "syscall",
        ".irp i, 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
        r"sw $\i, 160 + 4*\i($sp)",
        ".endr",
        "lw $4, 32 + 4*4($sp)",
        ".irp i, 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
        r"lw $1, 160 + 4*\i($sp)",
        r"sw $1, 4*\i($4)",
        ".endr",
        ".irp i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
        r"lw $\i, 32 + 4*\i($sp)",
        ".endr",
        "addiu $sp, $sp, 288",
        ".set at",
        inout("$4") regs => _,
    }
}

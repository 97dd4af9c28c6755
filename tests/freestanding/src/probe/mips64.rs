//! The register probe's trap block for 64-bit MIPS (n64): the stub's declared outputs (checked
//! against `arch/mips64.rs` at compile time), the registers it loads and stores, and the trap
//! itself.

pub const STUB: &str = include_str!("../../../../arch/mips64.rs");
pub const DECLARED: &[&str] = &[
    "$2", "$7", "$3", "$10", "$11", "$12", "$13", "$14", "$15", "$24", "$25",
];
pub const SLOTS: usize = 32;
pub const NAMES: [&str; SLOTS] = super::MIPS_NAMES;
pub const NUMBER: usize = 2;
pub const ARGS: [usize; 6] = [4, 5, 6, 7, 8, 9];
pub const FIXED: &[(usize, usize, usize)] = &[];
pub const ERRORS: super::Errors = super::MIPS_ERRORS;

// SAFETY: every register the block writes is stored in its own frame first and reloaded
// last; `regs` is valid.
trap! {
    pub fn trap(regs) {
        ".set noat",
        "daddiu $sp, $sp, -512",
        ".irp i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
        r"sd $\i, 8*\i($sp)",
        ".endr",
        ".irp i, 2,3,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
        r"ld $\i, 8*\i($4)",
        ".endr",
        "ld $4, 8*4($4)",
        "syscall",
        ".irp i, 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
        r"sd $\i, 256 + 8*\i($sp)",
        ".endr",
        "ld $4, 8*4($sp)",
        ".irp i, 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
        r"ld $1, 256 + 8*\i($sp)",
        r"sd $1, 8*\i($4)",
        ".endr",
        ".irp i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
        r"ld $\i, 8*\i($sp)",
        ".endr",
        "daddiu $sp, $sp, 512",
        ".set at",
        inout("$4") regs => _,
    }
}

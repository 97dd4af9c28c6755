//! The register probe's trap block for loongarch64: the stub's declared outputs (checked against
//! `arch/loongarch64.rs` at compile time), the registers it loads and stores, and the trap itself.

pub const STUB: &str = include_str!("../../../../arch/loongarch64.rs");
pub const DECLARED: &[&str] = &[
    "$a0", "$t0", "$t1", "$t2", "$t3", "$t4", "$t5", "$t6", "$t7", "$t8",
];
pub const SLOTS: usize = 32;
/// Indexed by register number; $zero and $sp are not probed.
pub const NAMES: [&str; SLOTS] = [
    "", "$ra", "$tp", "", "$a0", "$a1", "$a2", "$a3", "$a4", "$a5", "$a6", "$a7", "$t0", "$t1",
    "$t2", "$t3", "$t4", "$t5", "$t6", "$t7", "$t8", "$r21", "$fp", "$s0", "$s1", "$s2", "$s3",
    "$s4", "$s5", "$s6", "$s7", "$s8",
];
pub const NUMBER: usize = 11;
pub const ARGS: [usize; 6] = [4, 5, 6, 7, 8, 9];
pub const FIXED: &[(usize, usize, usize)] = &[];
pub const ERRORS: super::Errors = super::Errors::Negated { result: 4 };

// SAFETY: every register the block writes is stored in its own frame first and reloaded
// last; `regs` is valid.
trap! {
    pub fn trap(regs) {
        "addi.d $sp, $sp, -512",
        ".irp i, 1,2,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
        r"st.d $r\i, $sp, 8*\i",
        ".endr",
        ".irp i, 1,2,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
        r"ld.d $r\i, $r4, 8*\i",
        ".endr",
        "ld.d $r4, $r4, 8*4",
        "syscall 0",
        ".irp i, 1,2,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
        r"st.d $r\i, $sp, 256 + 8*\i",
        ".endr",
        "ld.d $r4, $sp, 8*4",
        ".irp i, 1,2,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
        r"ld.d $r5, $sp, 256 + 8*\i",
        r"st.d $r5, $r4, 8*\i",
        ".endr",
        ".irp i, 1,2,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
        r"ld.d $r\i, $sp, 8*\i",
        ".endr",
        "addi.d $sp, $sp, 512",
        inout("$a0") regs => _,
    }
}

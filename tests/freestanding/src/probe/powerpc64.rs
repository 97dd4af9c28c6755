//! The register probe's trap block for powerpc64 (big- and little-endian) and 32-bit PowerPC:
//! the stub's declared outputs (checked against `arch/powerpc64.rs`, the stub of both, at compile
//! time), the registers it loads and stores, and the trap itself. The block is the same on both
//! but for the register width: its slots are 8 bytes either way (a 32-bit register uses the
//! first 4), stored and loaded with `std`/`ld` (64-bit) or `stw`/`lwz` (32-bit).

pub const STUB: &str = include_str!("../../../../arch/powerpc64.rs");
pub const DECLARED: &[&str] = &[
    "r0", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "ctr", "xer", "cr0",
];
pub const SLOTS: usize = 42;
/// r0-r31 by number (r1, the stack pointer, not probed), then lr, ctr and the condition
/// register, stored whole in slot 34 and compared per field in slots 34-41 (cr0-cr7).
pub const NAMES: [&str; SLOTS] = [
    "r0", "", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
    "r15", "r16", "r17", "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "r26", "r27",
    "r28", "r29", "r30", "r31", "lr", "ctr", "cr0", "cr1", "cr2", "cr3", "cr4", "cr5", "cr6",
    "cr7",
];
pub const NUMBER: usize = 0;
pub const ARGS: [usize; 6] = [3, 4, 5, 6, 7, 8];
/// The condition register: a different, unlikely value in each field.
pub const FIXED: &[(usize, usize, usize)] = &[(34, 0x9bd7_53ed, 0xffff_ffff)];
/// cr0.SO (0x1000_0000 of the condition register) set on failure.
pub const ERRORS: super::Errors = super::Errors::Flagged {
    result: 3,
    flag: 34,
    mask: 0x1000_0000,
};
/// Spreads the condition register of slot 34 over slots 34-41, one field each.
pub fn fields(slots: &mut [usize; SLOTS]) {
    let cr = slots[34];
    for (i, slot) in slots[34..].iter_mut().enumerate() {
        *slot = (cr >> (28 - 4 * i)) & 0xf;
    }
}

/// One register-wide store or load of the block, `word!(store, OPERANDS)`: `std`/`ld`/`stdu`
/// on 64-bit PowerPC.
#[cfg(target_arch = "powerpc64")]
macro_rules! word {
    (store, $operands:literal) => {
        concat!("std ", $operands)
    };
    (load, $operands:literal) => {
        concat!("ld ", $operands)
    };
    (store_update, $operands:literal) => {
        concat!("stdu ", $operands)
    };
}

/// `stw`/`lwz`/`stwu` on 32-bit PowerPC.
#[cfg(target_arch = "powerpc")]
macro_rules! word {
    (store, $operands:literal) => {
        concat!("stw ", $operands)
    };
    (load, $operands:literal) => {
        concat!("lwz ", $operands)
    };
    (store_update, $operands:literal) => {
        concat!("stwu ", $operands)
    };
}

// SAFETY: every register the block writes (lr, ctr and the whole condition register
// included) is stored in its own frame first and reloaded last; the frame keeps the
// back chain and the 16-byte alignment; `regs` is valid.
trap! {
    pub fn trap(regs) {
        word!(store_update, "1, -640(1)"),
        ".irp i, 0,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
        word!(store, r"\i, 64 + 8*\i(1)"),
        ".endr",
        "mflr 0",
        word!(store, "0, 64 + 8*32(1)"),
        "mfctr 0",
        word!(store, "0, 64 + 8*33(1)"),
        "mfcr 0",
        word!(store, "0, 64 + 8*34(1)"),
        word!(load, "0, {w}*32(3)"),
        "mtlr 0",
        word!(load, "0, {w}*33(3)"),
        "mtctr 0",
        word!(load, "0, {w}*34(3)"),
        "mtcr 0",
        ".irp i, 0,2,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
        word!(load, r"\i, {w}*\i(3)"),
        ".endr",
        word!(load, "3, {w}*3(3)"),
        "sc",
        ".irp i, 0,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
        word!(store, r"\i, 344 + 8*\i(1)"),
        ".endr",
        "mfcr 0",
        word!(store, "0, 344 + 8*34(1)"),
        "mflr 0",
        word!(store, "0, 344 + 8*32(1)"),
        "mfctr 0",
        word!(store, "0, 344 + 8*33(1)"),
        word!(load, "3, 64 + 8*3(1)"),
        ".irp i, 0,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34",
        word!(load, r"0, 344 + 8*\i(1)"),
        word!(store, r"0, {w}*\i(3)"),
        ".endr",
        word!(load, "0, 64 + 8*32(1)"),
        "mtlr 0",
        word!(load, "0, 64 + 8*33(1)"),
        "mtctr 0",
        word!(load, "0, 64 + 8*34(1)"),
        "mtcr 0",
        ".irp i, 0,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
        word!(load, r"\i, 64 + 8*\i(1)"),
        ".endr",
        "addi 1, 1, 640",
        w = const core::mem::size_of::<usize>(),
        inout("r3") regs => _,
    }
}

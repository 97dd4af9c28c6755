//! The register probe's trap block for sparc64: the stub's declared outputs (checked against
//! `arch/sparc64.rs` at compile time), the registers it loads and stores, and the trap itself.

pub const STUB: &str = include_str!("../../../../arch/sparc64.rs");
pub const DECLARED: &[&str] = &["o0", "o1"];
pub const SLOTS: usize = 34;
/// Indexed by register number (g0-g7, o0-o7, l0-l7, i0-i7), then the condition codes (slot 32)
/// and y (33). Not probed: g0 (zero); g6 and g7 (the system's: LLVM never allocates them, Rust
/// refuses them as operands, and the kernel writes g6 on a failed call a signal interrupts, see
/// `arch/sparc64.rs`); the stack and frame pointers o6 and i6 (a window the kernel spills goes
/// where they point); and the condition codes, which the stub does not promise to keep (no
/// `preserves_flags`) and whose carry is the error flag. g1 holds the number, as the stub's `mov`
/// leaves it.
pub const NAMES: [&str; SLOTS] = [
    "", "g1", "g2", "g3", "g4", "g5", "", "", "o0", "o1", "o2", "o3", "o4", "o5", "", "o7", "l0",
    "l1", "l2", "l3", "l4", "l5", "l6", "l7", "i0", "i1", "i2", "i3", "i4", "i5", "", "i7", "",
    "y",
];
pub const NUMBER: usize = 1;
pub const ARGS: [usize; 6] = [8, 9, 10, 11, 12, 13];
/// The condition codes go in with both carries set (xcc 0x10, icc 0x01), so that a success
/// shows the kernel clearing them; y holds 32 bits (its upper half reads as zero).
pub const FIXED: &[(usize, usize, usize)] = &[(32, 0x11, 0xff), (33, 0x9bd7_53ed, 0xffff_ffff)];
/// The carry of xcc (bit 4 of the condition codes) set on failure, o0 the errno.
pub const ERRORS: super::Errors = super::Errors::Flagged {
    result: 8,
    flag: 32,
    mask: 0x10,
};

// The block's own frame: the 176 bytes every frame keeps for a window spill and the arguments,
// then 34 slots of what the registers held (saved, restored last), then 34 of what the trap left
// (copied to `regs`). %sp is biased by 2047. Registers by number, %r1-%r29 (LLVM's assembler
// takes no %r31: i7 by name).
// SAFETY: every register the block writes is stored in its own frame first and reloaded last
// (y and the condition codes included); the frame keeps the spill area and the 16-byte
// alignment; `regs` is valid.
trap! {
    pub fn trap(regs) {
        "sub %sp, 720, %sp",
        ".irp i, 1,2,3,4,5,8,9,10,11,12,13,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29",
        r"stx %r\i, [%sp + 2047 + 176 + 8*\i]",
        ".endr",
        "stx %i7, [%sp + 2047 + 176 + 8*31]",
        "rd %ccr, %g1",
        "stx %g1, [%sp + 2047 + 176 + 8*32]",
        "rd %y, %g1",
        "stx %g1, [%sp + 2047 + 176 + 8*33]",
        "ldx [%o0 + 8*32], %g1",
        "wr %g1, 0, %ccr",
        "ldx [%o0 + 8*33], %g1",
        "wr %g1, 0, %y",
        ".irp i, 1,2,3,4,5,9,10,11,12,13,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29",
        r"ldx [%o0 + 8*\i], %r\i",
        ".endr",
        "ldx [%o0 + 8*31], %i7",
        "ldx [%o0 + 8*8], %o0",
        "ta 0x6d",
        ".irp i, 1,2,3,4,5,8,9,10,11,12,13,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29",
        r"stx %r\i, [%sp + 2047 + 448 + 8*\i]",
        ".endr",
        "stx %i7, [%sp + 2047 + 448 + 8*31]",
        "rd %ccr, %g1",
        "stx %g1, [%sp + 2047 + 448 + 8*32]",
        "rd %y, %g1",
        "stx %g1, [%sp + 2047 + 448 + 8*33]",
        "ldx [%sp + 2047 + 176 + 8*8], %o0",
        ".irp i, 1,2,3,4,5,8,9,10,11,12,13,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,31,32,33",
        r"ldx [%sp + 2047 + 448 + 8*\i], %g1",
        r"stx %g1, [%o0 + 8*\i]",
        ".endr",
        "ldx [%sp + 2047 + 176 + 8*32], %g1",
        "wr %g1, 0, %ccr",
        "ldx [%sp + 2047 + 176 + 8*33], %g1",
        "wr %g1, 0, %y",
        ".irp i, 1,2,3,4,5,8,9,10,11,12,13,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29",
        r"ldx [%sp + 2047 + 176 + 8*\i], %r\i",
        ".endr",
        "ldx [%sp + 2047 + 176 + 8*31], %i7",
        "add %sp, 720, %sp",
        inout("o0") regs => _,
    }
}

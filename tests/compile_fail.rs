//! The I/O-safety rules, proven by programs that must not compile (tests/ui/*.rs, each with the
//! compiler's error in its .stderr file).
//!
//! Each is safe code (`#![forbid(unsafe_code)]`) trying one of the things that made
//! `Netpoll::poll` follow a bogus pointer before descriptors were typed: registering on, closing
//! or replacing a descriptor the program does not own, or keeping a borrow past the close.
//! The expected errors are those of the pinned toolchain (rust-toolchain.toml), so the check runs
//! on the host's pinned compiler only (x86_64), and without the `std` feature (with it, the errors
//! name std's types, which obey the same rules).
#![cfg(target_arch = "x86_64")]

#[test]
#[cfg_attr(
    feature = "std",
    ignore = "the .stderr files are the pinned toolchain's errors without the std feature"
)]
fn io_safety_rules_hold_at_compile_time() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}

//! A tiny test harness for freestanding binaries: one line per case, then `N passed, N failed`.

use crate::{print, print_errno, print_hex, print_i64, print_u64};
use rawpoll::netpoll::{Ready, Tag};
use rawpoll::Errno;

/// A value a case can print when it does not match.
pub trait Show {
    /// Writes the value to stdout.
    fn show(&self);
}

impl Show for u64 {
    fn show(&self) {
        print_u64(*self);
        if *self > 0xffff {
            print(" = ");
            print_hex(*self);
        }
    }
}

impl Show for usize {
    fn show(&self) {
        (*self as u64).show();
    }
}

impl Show for u32 {
    fn show(&self) {
        (*self as u64).show();
    }
}

impl Show for i32 {
    fn show(&self) {
        print_i64(*self as i64);
    }
}

impl Show for i64 {
    fn show(&self) {
        print_i64(*self);
    }
}

impl Show for bool {
    fn show(&self) {
        print(if *self { "true" } else { "false" });
    }
}

impl Show for () {
    fn show(&self) {
        print("()");
    }
}

impl Show for Errno {
    fn show(&self) {
        print_errno(*self);
    }
}

impl<T: Show> Show for Option<T> {
    fn show(&self) {
        match self {
            Some(v) => {
                print("Some(");
                v.show();
                print(")");
            }
            None => print("None"),
        }
    }
}

impl<T: Show> Show for Result<T, Errno> {
    fn show(&self) {
        match self {
            Ok(v) => {
                print("Ok(");
                v.show();
                print(")");
            }
            Err(e) => {
                print("Err(");
                e.show();
                print(")");
            }
        }
    }
}

/// Counts passed and failed cases and prints each.
pub struct Checker {
    passed: u32,
    failed: u32,
}

impl Default for Checker {
    fn default() -> Self {
        Self::new()
    }
}

impl Checker {
    /// No cases yet.
    pub const fn new() -> Checker {
        Checker {
            passed: 0,
            failed: 0,
        }
    }

    /// One case: passes when `got == want`; prints `ok   name: got` or `FAIL name: got ..., want ...`.
    pub fn eq<T: PartialEq + Show>(&mut self, name: &str, got: T, want: T) -> bool {
        let ok = got == want;
        if ok {
            self.passed += 1;
            print("ok   ");
            print(name);
            print(": ");
            got.show();
        } else {
            self.failed += 1;
            print("FAIL ");
            print(name);
            print(": got ");
            got.show();
            print(", want ");
            want.show();
        }
        print("\n");
        ok
    }

    /// One case that passes when `ok`; `got` is printed either way.
    pub fn that<T: Show>(&mut self, name: &str, ok: bool, got: T) -> bool {
        if ok {
            self.passed += 1;
            print("ok   ");
        } else {
            self.failed += 1;
            print("FAIL ");
        }
        print(name);
        print(": ");
        got.show();
        print("\n");
        ok
    }

    /// What a case needs to go on: `Some(value)` silently, or, on an error, one failed case
    /// named `name` and `None`.
    pub fn need<T>(&mut self, name: &str, result: Result<T, Errno>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.that(name, false, Err::<(), Errno>(e));
                None
            }
        }
    }

    /// Prints the closing `N passed, N failed` line and returns the exit status (1 on failure).
    pub fn finish(&self) -> i32 {
        print_u64(self.passed as u64);
        print(" passed, ");
        print_u64(self.failed as u64);
        print(" failed\n");
        if self.failed == 0 && self.passed > 0 {
            0
        } else {
            1
        }
    }
}

impl<A: Show, B: Show> Show for (A, B) {
    fn show(&self) {
        print("(");
        self.0.show();
        print(", ");
        self.1.show();
        print(")");
    }
}

impl<A: Show, B: Show, C: Show> Show for (A, B, C) {
    fn show(&self) {
        print("(");
        self.0.show();
        print(", ");
        self.1.show();
        print(", ");
        self.2.show();
        print(")");
    }
}

/// `rwech` (readable, writable, error, read_closed, hang_up; `-` where false), then the bits.
impl Show for Ready {
    fn show(&self) {
        for (set, letter) in [
            (self.readable, "r"),
            (self.writable, "w"),
            (self.error, "e"),
            (self.read_closed, "c"),
            (self.hang_up, "h"),
        ] {
            print(if set { letter } else { "-" });
        }
        print(" events ");
        self.events.show();
    }
}

impl Show for Tag {
    fn show(&self) {
        print("tag ");
        self.bits().show();
    }
}

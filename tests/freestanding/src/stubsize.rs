//! Measures the code size of rawpoll's system-call stub: `rawpoll_stubsize_syscall6` is a
//! `#[no_mangle]`, never-inlined function whose body is exactly one `rawpoll::raw::syscall6`
//! (argument moves, the trap, the error split, the return). `ci/bench` reads its size from the
//! symbol table (`llvm-nm --print-size`) for every target of the matrix. Running the binary makes
//! one `getpid` through it and exits 0 if that worked.
#![no_std]
#![no_main]

use core::hint::black_box;
use rawpoll::raw::{self, syscall6};
use rawpoll_freestanding::{entry, print};

entry!(main);

/// The function measured: one `syscall6`, nothing else.
#[no_mangle]
#[inline(never)]
pub fn rawpoll_stubsize_syscall6(
    num: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> (usize, usize) {
    // SAFETY: the caller passes a system call the kernel may perform (here: getpid).
    unsafe { syscall6(num, a1, a2, a3, a4, a5, a6) }
}

fn main() -> i32 {
    // black_box keeps the arguments opaque, so the stub is not specialised for them.
    let (pid, errno) = rawpoll_stubsize_syscall6(
        black_box(raw::SYS_GETPID),
        black_box(0),
        black_box(0),
        black_box(0),
        black_box(0),
        black_box(0),
        black_box(0),
    );
    if errno == 0 && pid > 0 {
        print("stubsize: getpid through rawpoll_stubsize_syscall6 ok\n");
        0
    } else {
        print("stubsize: getpid failed\n");
        1
    }
}

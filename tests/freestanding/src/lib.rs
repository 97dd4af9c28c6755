//! Freestanding runtime support for rawpoll's own binaries: an entry point, process exit, output
//! to stdout, a panic handler and fork/wait, all on top of rawpoll's raw layer. No std, no libc.
//!
//! A binary uses it with `rawpoll_freestanding::entry!(main);` where `main: fn() -> i32`.
#![no_std]

pub mod check;

use rawpoll::raw::{self, syscall6};
use rawpoll::{Errno, RawFd};

/// Defines the process entry point: calls `$main` and exits with its return value.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[no_mangle]
        extern "C" fn rawpoll_freestanding_main() -> ! {
            let code: i32 = $main();
            $crate::exit(code)
        }
    };
}

// The kernel starts a process with the stack pointer 16-byte aligned and nothing else set up. On
// x86 and x86-64 a function expects the alignment *after* a call pushed a return address, so the
// entry is a few instructions of assembly that realign and call; on the other architectures the
// entry is an ordinary function (no return address is pushed on entry there).
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start, @function",
    "_start:",
    "xor ebp, ebp",
    "and rsp, -16",
    "call rawpoll_freestanding_main",
    "ud2",
);

#[cfg(target_arch = "x86")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start, @function",
    "_start:",
    "xor ebp, ebp",
    "and esp, -16",
    "call rawpoll_freestanding_main",
    "ud2",
);

#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
#[no_mangle]
extern "C" fn _start() -> ! {
    extern "C" {
        fn rawpoll_freestanding_main() -> !;
    }
    // SAFETY: defined by the `entry!` macro in the binary; it never returns.
    unsafe { rawpoll_freestanding_main() }
}

/// Ends the process with `code` (`exit_group`).
///
/// As PID 1 (the `/init` of ci/realkernel's boots) it first prints `rawpoll-init: exit status
/// N`, the line ci/realkernel judges by, and powers the machine off: init exiting would make the
/// kernel panic. Should `reboot` fail, `exit_group` still ends it (through that panic).
pub fn exit(code: i32) -> ! {
    if is_init() {
        print("rawpoll-init: exit status ");
        print_i64(code.into());
        print("\n");
        power_off();
    }
    loop {
        // SAFETY: exit_group takes an integer and does not return.
        unsafe {
            syscall6(raw::SYS_EXIT_GROUP, code as usize, 0, 0, 0, 0, 0);
        }
    }
}

/// Is this process PID 1, the kernel's first process?
fn is_init() -> bool {
    // SAFETY: getpid touches no memory.
    let (pid, _) = unsafe { syscall6(raw::SYS_GETPID, 0, 0, 0, 0, 0, 0) };
    pid == 1
}

/// `reboot(LINUX_REBOOT_CMD_POWER_OFF)`: does not return on success; on failure it returns and
/// the caller carries on.
fn power_off() {
    const LINUX_REBOOT_MAGIC1: usize = 0xfee1_dead;
    const LINUX_REBOOT_MAGIC2: usize = 0x2812_1969;
    const LINUX_REBOOT_CMD_POWER_OFF: usize = 0x4321_fedc;
    // SAFETY: reboot takes integers only; it is called on the way out, when nothing is left to
    // save (the runners keep no files).
    unsafe {
        syscall6(
            raw::SYS_REBOOT,
            LINUX_REBOOT_MAGIC1,
            LINUX_REBOOT_MAGIC2,
            LINUX_REBOOT_CMD_POWER_OFF,
            0,
            0,
            0,
        );
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    print("panicked\n");
    exit(101)
}

/// Writes all of `bytes` to stdout, retrying short writes; gives up on an error.
pub fn print_bytes(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match rawpoll::write(1, bytes) {
            Ok(n) => bytes = bytes.get(n..).unwrap_or(&[]),
            Err(e) if e == Errno::EINTR => {}
            Err(_) => return,
        }
    }
}

/// Writes `s` to stdout.
pub fn print(s: &str) {
    print_bytes(s.as_bytes());
}

/// Formats `value` in decimal into `buf`, returning the digits.
pub fn format_u64(mut value: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    &buf[start..]
}

/// Writes `value` in decimal to stdout.
pub fn print_u64(value: u64) {
    let mut buf = [0u8; 20];
    print_bytes(format_u64(value, &mut buf));
}

/// Writes `value` in decimal, with its sign, to stdout.
pub fn print_i64(value: i64) {
    if value < 0 {
        print("-");
    }
    print_u64(value.unsigned_abs());
}

/// Writes `value` as `0x` and 16 hex digits to stdout.
pub fn print_hex(value: u64) {
    let mut buf = *b"0x0000000000000000";
    for (i, slot) in buf[2..].iter_mut().enumerate() {
        let nibble = (value >> (60 - 4 * i)) & 0xf;
        *slot = b"0123456789abcdef"[nibble as usize];
    }
    print_bytes(&buf);
}

/// Stdout as a `core::fmt::Write`, to print what implements `Display`.
pub struct Stdout;

impl core::fmt::Write for Stdout {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        print(s);
        Ok(())
    }
}

/// Writes an errno as its `Display` form: `EBADF (9)` (or `errno N` for one rawpoll does not
/// name).
pub fn print_errno(errno: Errno) {
    let _ = core::fmt::Write::write_fmt(&mut Stdout, format_args!("{errno}"));
}

/// `fork()` through a raw `clone(SIGCHLD)` with no new stack: `Ok(0)` in the child, the child's
/// pid in the parent. The argument order follows [`rawpoll::raw::CLONE_FLAGS_ARG`].
pub fn fork() -> Result<i32, Errno> {
    let mut args = [0usize; 5];
    args[raw::CLONE_FLAGS_ARG] = raw::SIGCHLD as usize;
    // SAFETY: without CLONE_VM the child gets a copy of the address space and resumes here on
    // the same (copied) stack, exactly like fork(); the other arguments are null.
    let r = unsafe {
        syscall6(
            raw::SYS_CLONE,
            args[0],
            args[1],
            args[2],
            args[3],
            args[4],
            0,
        )
    };
    Errno::result(r).map(|pid| pid as i32)
}

/// Waits for child `pid` (`wait4`), returning its raw wait status.
pub fn wait(pid: i32) -> Result<i32, Errno> {
    let mut status: i32 = 0;
    loop {
        // SAFETY: the kernel writes one int into `status`; rusage is null.
        let r = unsafe {
            syscall6(
                raw::SYS_WAIT4,
                pid as usize,
                &mut status as *mut i32 as usize,
                0,
                0,
                0,
                0,
            )
        };
        match Errno::result(r) {
            Ok(_) => return Ok(status),
            Err(e) if e == Errno::EINTR => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The exit code of a normally exited child, from a wait status; `None` if a signal ended it.
pub fn exit_code(status: i32) -> Option<i32> {
    if status & 0x7f == 0 {
        Some((status >> 8) & 0xff)
    } else {
        None
    }
}

/// Is `fd` open? (`fcntl(fd, F_GETFD)` fails with EBADF exactly when it is not.)
pub fn fd_is_open(fd: RawFd) -> bool {
    const F_GETFD: usize = 1;
    // SAFETY: F_GETFD reads the descriptor flags and touches no memory.
    let r = unsafe { syscall6(raw::SYS_FCNTL, fd as usize, F_GETFD, 0, 0, 0, 0) };
    Errno::result(r) != Err(Errno::EBADF)
}

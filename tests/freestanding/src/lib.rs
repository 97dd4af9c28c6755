//! Freestanding runtime support for rawpoll's own binaries: an entry point, process exit, output
//! to stdout, a panic handler, fork/wait/stop, memory shared with children and naps, all on top
//! of rawpoll's raw layer. No std, no libc.
//!
//! A binary uses it with `rawpoll_freestanding::entry!(main);` where `main: fn() -> i32`.
#![no_std]
#![cfg_attr(
    any(
        target_arch = "mips",
        target_arch = "mips32r6",
        target_arch = "mips64",
        target_arch = "mips64r6",
        target_arch = "sparc64"
    ),
    feature(asm_experimental_arch)
)]

pub mod check;
pub mod probe;
pub mod vdso;

use rawpoll::netpoll::Netpoll;
use rawpoll::raw::{self, syscall6};
use rawpoll::{BorrowedFd, Errno, RawFd};

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

// On x86 the entry also hands the initial stack pointer (argc, argv, envp, auxv) to
// `rawpoll_freestanding_x86_start`, so that system calls enter through the vDSO from the first:
// the pointer goes in the one stack argument, with the stack 16-byte aligned at the call.
#[cfg(target_arch = "x86")]
core::arch::global_asm!(
    ".globl _start",
    ".type _start, @function",
    "_start:",
    "xor ebp, ebp",
    "mov eax, esp",
    "and esp, -16",
    "sub esp, 12",
    "push eax",
    "call rawpoll_freestanding_x86_start",
    "ud2",
);

/// The initial stack pointer `_start` found (x86 only; 0 elsewhere): the vDSO cases read the
/// auxiliary vector from it themselves when `/proc` is not mounted (as `/init` of a real kernel).
pub static INITIAL_STACK: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// x86's second step of `_start`: records the vDSO from the initial stack, then runs the binary.
#[cfg(target_arch = "x86")]
#[no_mangle]
unsafe extern "C" fn rawpoll_freestanding_x86_start(sp: *const usize) -> ! {
    extern "C" {
        fn rawpoll_freestanding_main() -> !;
    }
    INITIAL_STACK.store(sp as usize, core::sync::atomic::Ordering::Relaxed);
    // SAFETY: `_start` passes the kernel's initial stack pointer, untouched; the main function
    // is defined by the `entry!` macro in the binary and never returns.
    unsafe {
        raw::init_from_stack(sp);
        rawpoll_freestanding_main()
    }
}

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
        // The status as the kernel would report it to a parent: the low 8 bits.
        print("rawpoll-init: exit status ");
        print_u64(u64::from(code as u8));
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
pub fn is_init() -> bool {
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
    // SAFETY: descriptor 1 is the stdout the process was started with; nothing here closes it.
    let stdout = unsafe { BorrowedFd::borrow_raw(1) };
    while !bytes.is_empty() {
        match rawpoll::write(stdout, bytes) {
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
    // No indexing: nothing here can panic, so a binary that prints only numbers carries no
    // panic path (the demo's size counts).
    let mut start = buf.len();
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
        start -= 1;
        if value == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or(&[])
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
    // SAFETY: getpid touches no memory.
    #[cfg(target_arch = "sparc64")]
    let (parent, _) = unsafe { syscall6(raw::SYS_GETPID, 0, 0, 0, 0, 0, 0) };
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
    // SPARC: the child's result is its parent's PID (told apart in o1, which syscall6 does not
    // return): the process that got its own PID from before the call back is the child.
    #[cfg(target_arch = "sparc64")]
    if r.1 == 0 && r.0 == parent {
        return Ok(0);
    }
    Errno::result(r).map(|pid| pid as i32)
}

/// Waits for child `pid` (`wait4`; `waitid` on 32-bit RISC-V), returning its raw wait status.
pub fn wait(pid: i32) -> Result<i32, Errno> {
    wait4(pid, 0)
}

/// `wait4(pid, &status, options, NULL)`, retrying `EINTR`; returns the raw status.
#[cfg(not(target_arch = "riscv32"))]
fn wait4(pid: i32, options: u32) -> Result<i32, Errno> {
    let mut status: i32 = 0;
    loop {
        // SAFETY: the kernel writes one int into `status`; rusage is null.
        let r = unsafe {
            syscall6(
                raw::SYS_WAIT4,
                pid as usize,
                &mut status as *mut i32 as usize,
                options as usize,
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

/// `wait4` on 32-bit RISC-V, which has only `waitid` (see `arch/riscv64.rs`):
/// `waitid(P_PID, pid, &info, WEXITED | options, NULL)`, retrying `EINTR`, with the child's
/// `siginfo` turned into the raw status `wait4` would have given (`WUNTRACED` is `WSTOPPED`).
#[cfg(target_arch = "riscv32")]
fn wait4(pid: i32, options: u32) -> Result<i32, Errno> {
    use linux_raw_sys::general as k;
    // siginfo_t: 128 bytes; si_code at 8; for SIGCHLD si_status at 20 (after si_pid, si_uid).
    let mut info = [0i32; 32];
    loop {
        // SAFETY: the kernel writes one siginfo (128 bytes) into `info`; rusage is null.
        let r = unsafe {
            syscall6(
                k::__NR_waitid as usize,
                k::P_PID as usize,
                pid as usize,
                info.as_mut_ptr() as usize,
                (k::WEXITED | options) as usize,
                0,
                0,
            )
        };
        match Errno::result(r) {
            Ok(_) => break,
            Err(e) if e == Errno::EINTR => continue,
            Err(e) => return Err(e),
        }
    }
    let status = info[5];
    match info[2] as u32 {
        k::CLD_EXITED => Ok((status & 0xff) << 8),
        k::CLD_KILLED => Ok(status & 0x7f),
        k::CLD_DUMPED => Ok((status & 0x7f) | 0x80),
        k::CLD_STOPPED | k::CLD_TRAPPED => Ok(((status & 0xff) << 8) | 0x7f),
        _ => Err(Errno::ECHILD),
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

/// `fcntl(fd, F_GETFD)` on a bare number: `EBADF` exactly when `fd` is not open.
pub fn fcntl_getfd(fd: RawFd) -> Result<usize, Errno> {
    const F_GETFD: usize = 1;
    // SAFETY: F_GETFD reads the descriptor flags and touches no memory.
    Errno::result(unsafe { syscall6(raw::SYS_FCNTL, fd as usize, F_GETFD, 0, 0, 0, 0) })
}

/// Is `fd` open? (`fcntl(fd, F_GETFD)` fails with EBADF exactly when it is not.)
pub fn fd_is_open(fd: RawFd) -> bool {
    fcntl_getfd(fd) != Err(Errno::EBADF)
}

/// An 8-byte `read` of an eventfd's counter on a bare number, through `syscall6`.
///
/// For the descriptors no borrow may be made of: the poller's wake eventfd (the poller owns it
/// privately, see `rawpoll::netpoll`), and numbers that are deliberately not open (`EBADF`).
/// `EAGAIN` is a non-blocking counter at zero.
pub fn counter_read(fd: RawFd) -> Result<u64, Errno> {
    let mut buf = [0u8; 8];
    // SAFETY: the kernel writes at most 8 bytes into `buf`.
    let r = unsafe {
        syscall6(
            raw::SYS_READ,
            fd as usize,
            buf.as_mut_ptr() as usize,
            8,
            0,
            0,
            0,
        )
    };
    Errno::result(r).map(|_| u64::from_ne_bytes(buf))
}

/// An 8-byte `write` of `value` to an eventfd on a bare number, through `syscall6` (see
/// [`counter_read`] for why no borrow is used): to fill the wake counter, or to write from
/// outside a poller the edge its `wake` writes for a sleeper.
pub fn counter_write(fd: RawFd, value: u64) -> Result<(), Errno> {
    let buf = value.to_ne_bytes();
    // SAFETY: the kernel reads 8 bytes from `buf`.
    let r = unsafe {
        syscall6(
            raw::SYS_WRITE,
            fd as usize,
            buf.as_ptr() as usize,
            8,
            0,
            0,
            0,
        )
    };
    Errno::result(r).map(|_| ())
}

/// `mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0)`: zeroed memory that
/// the children `fork` makes afterwards share with this process (not a copy of it).
fn map_shared(len: usize) -> Result<*mut u8, Errno> {
    use linux_raw_sys::general as k;
    let prot = (k::PROT_READ | k::PROT_WRITE) as usize;
    let flags = (k::MAP_SHARED | k::MAP_ANONYMOUS) as usize;
    // 32-bit targets: mmap2 (the same call with the offset in pages, here 0); x32 has x86-64's
    // mmap.
    #[cfg(all(target_pointer_width = "32", not(target_arch = "x86_64")))]
    // SAFETY: a new anonymous mapping at an address the kernel picks touches no existing memory.
    let r = unsafe { syscall6(k::__NR_mmap2 as usize, 0, len, prot, flags, usize::MAX, 0) };
    // s390x: __NR_mmap is the old mmap, which takes its six arguments in memory.
    #[cfg(target_arch = "s390x")]
    // SAFETY: the kernel reads the six arguments from `args`; as above otherwise.
    let r = unsafe {
        let args: [usize; 6] = [0, len, prot, flags, usize::MAX, 0];
        syscall6(k::__NR_mmap as usize, args.as_ptr() as usize, 0, 0, 0, 0, 0)
    };
    #[cfg(all(
        any(target_pointer_width = "64", target_arch = "x86_64"),
        not(target_arch = "s390x")
    ))]
    // SAFETY: a new anonymous mapping at an address the kernel picks touches no existing memory.
    let r = unsafe { syscall6(k::__NR_mmap as usize, 0, len, prot, flags, usize::MAX, 0) };
    Errno::result(r).map(|address| address as *mut u8)
}

/// Moves `value` into memory shared with the children `fork` makes afterwards, for good (it is
/// never unmapped nor dropped). A `Netpoll` placed there is one poller for the parent and its
/// children, atomics and descriptors alike, as it is for the threads of one process: a child
/// sees the parent sleep in it (`has_sleeper`) and its `wake` writes for that sleeper.
pub fn share<T: Sync>(value: T) -> Result<&'static T, Errno> {
    const PAGE: usize = 4096;
    if core::mem::align_of::<T>() > PAGE {
        return Err(Errno::EINVAL);
    }
    let place = match map_shared(core::mem::size_of::<T>().max(1)) {
        Ok(place) => place.cast::<T>(),
        Err(e) => {
            // Not dropped: a value meant to be shared for good has nothing to release yet, and
            // its `Drop` would only cost the demo's size.
            core::mem::forget(value);
            return Err(e);
        }
    };
    // SAFETY: the mapping is fresh, page-aligned (at least `T`'s alignment, checked above),
    // large enough, writable and never unmapped, so the reference lives as long as the process.
    unsafe {
        place.write(value);
        Ok(&*place)
    }
}

/// Sends signal `signal` to process `pid` (`kill`).
pub fn kill(pid: i32, signal: u32) -> Result<(), Errno> {
    // SAFETY: kill takes two integers and touches no memory of this process.
    Errno::result(unsafe { syscall6(raw::SYS_KILL, pid as usize, signal as usize, 0, 0, 0, 0) })
        .map(|_| ())
}

/// Stops child `pid` (`SIGSTOP`) and waits until it is stopped (`wait4` with `WUNTRACED`): from
/// then on it runs no instruction, in user space or in the kernel, until [`resume`].
pub fn stop(pid: i32) -> Result<(), Errno> {
    use linux_raw_sys::general as k;
    kill(pid, k::SIGSTOP)?;
    // Stopped: the status's low byte is 0x7f.
    match wait4(pid, k::WUNTRACED)? {
        status if status & 0xff == 0x7f => Ok(()),
        _ => Err(Errno::ECHILD),
    }
}

/// Lets a child [`stop`] stopped run again (`SIGCONT`).
pub fn resume(pid: i32) -> Result<(), Errno> {
    kill(pid, linux_raw_sys::general::SIGCONT)
}

/// Sleeps about `ms` milliseconds (`clock_nanosleep` on `CLOCK_MONOTONIC`; a signal may end it
/// early, which counts as slept). With a 64-bit timespec on every target: 32-bit ones use
/// `clock_nanosleep_time64`, since a kernel built without `COMPAT_32BIT_TIME` (the real-kernel
/// stage's own mips kernel) has no 32-bit-time `nanosleep`. (x32's own is 64-bit time.)
pub fn sleep_ms(ms: u32) -> Result<(), Errno> {
    use linux_raw_sys::general as k;
    #[cfg(all(target_pointer_width = "32", not(target_arch = "x86_64")))]
    let number = k::__NR_clock_nanosleep_time64;
    #[cfg(any(target_pointer_width = "64", target_arch = "x86_64"))]
    let number = k::__NR_clock_nanosleep;
    let duration = rawpoll::Timespec {
        tv_sec: i64::from(ms / 1000),
        tv_nsec: i64::from(ms % 1000) * 1_000_000,
    };
    // SAFETY: the kernel reads the timespec at `duration`; the remainder pointer is null.
    let r = unsafe {
        syscall6(
            number as usize,
            k::CLOCK_MONOTONIC as usize,
            0,
            &duration as *const rawpoll::Timespec as usize,
            0,
            0,
            0,
        )
    };
    match Errno::result(r) {
        Err(e) if e != Errno::EINTR => Err(e),
        _ => Ok(()),
    }
}

/// Waits, in 1 ms naps, until `ready()` holds; gives up after 10,000 naps (about 10 s) and
/// returns whether it held.
pub fn wait_until(ready: impl Fn() -> bool) -> bool {
    for _ in 0..10_000 {
        if ready() {
            return true;
        }
        // A nap that fails would make this spin through its bound at once: end the runner
        // with exit status 125 instead.
        if sleep_ms(1).is_err() {
            exit(125);
        }
    }
    ready()
}

/// Forks a child that waits (bounded) until a thread sleeps in `np` and then wakes it once,
/// while this process is that sleeper (`np.poll(-1)`). Checks, under `names`: the poll returns
/// 0; the child saw the sleeper and its wake returned Ok (exit 0); the wake eventfd's counter
/// holds exactly that wake's one write (read back to zero here).
pub fn woken_by_a_child(c: &mut check::Checker, np: &Netpoll, names: [&str; 3]) {
    let [polled, exited, written] = names;
    match fork() {
        Ok(0) => exit(if wait_until(|| np.has_sleeper()) && np.wake() == Ok(()) {
            0
        } else {
            1
        }),
        Ok(pid) => {
            c.eq(polled, np.poll(-1, |_, _, _| {}), Ok(0));
            c.eq(exited, wait(pid).map(exit_code), Ok(Some(0)));
            c.eq(written, counter_read(np.raw_wake_fd()), Ok(1));
        }
        Err(e) => {
            c.eq("fork", Err(e), Ok(0));
        }
    }
}

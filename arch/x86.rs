//! 32-bit x86: Go `386`, Rust `i686-unknown-linux-gnu`.

use core::arch::asm;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::Errno;

// System-call ABI, Linux i386, entered one of two ways with the same registers:
// - number: eax; arguments: ebx, ecx, edx, esi, edi, ebp; return: eax; error: eax in
//   -4095..=-1 holds -errno (arch/x86/entry/entry_64_compat.S, the comments above each entry)
// - `call __kernel_vsyscall`, at the address the kernel passes in the auxiliary vector as
//   AT_SYSINFO (32): the vDSO pushes ecx, edx and ebp, enters the kernel with sysenter, syscall
//   or `int $0x80` (whichever this CPU does best), pops them and returns, so every register
//   but eax is preserved; eflags are not promised; it uses 16 bytes of the caller's stack (the
//   return address and the three pushes) (arch/x86/entry/vdso/vdso32/system_call.S, which
//   also calls this "the ONLY correct way to make a fast 32-bit system call on Linux")
// - `int $0x80`: every register but eax is preserved, eflags included, since the kernel returns
//   with iret (arch/x86/entry/entry_64_compat.S, entry_INT80_compat; entry_32.S on 32-bit
//   kernels), at about 23 times the cost of the vDSO's entry on the AMD EPYC VM of the
//   benchmarks (README)
// Rust reserves esi (LLVM's base pointer) and ebp (the frame pointer) on 32-bit x86, but not
// ebx (the Rust reference, inline assembly, "Register operands"): ebx is an operand, while esi,
// ebp, the number and the vDSO's address come from a small array whose address is in eax, with
// esi and ebp saved on the stack around the entry. The vDSO's address is pushed and called
// through memory, since all seven general registers hold the call.
// Contract: see `crate::raw::syscall6`.
#[inline(always)]
pub(crate) unsafe fn syscall6(
    num: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> (usize, usize) {
    let entry = VSYSCALL.load(Ordering::Relaxed);
    let ret = if entry > NO_VSYSCALL {
        // SAFETY: `entry` came from the auxiliary vector (or from `set_vsyscall_entry`, whose
        // caller vouches for it); the caller vouches for the call itself.
        unsafe { vsyscall(entry, num, a1, a2, a3, a4, a5, a6) }
    } else {
        // SAFETY: the caller vouches for the call.
        unsafe { syscall6_cold(num, a1, a2, a3, a4, a5, a6) }
    };
    crate::raw::split_negated_result(ret)
}

/// The vDSO's entry path (see the ABI above); returns eax.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn vsyscall(
    entry: usize,
    num: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> usize {
    let in_memory: [usize; 4] = [entry, a4, a6, num];
    let ret: usize;
    // SAFETY: the registers follow the ABI above, esi and ebp are restored and the stack is
    // balanced before the block ends, and `in_memory` outlives the block; `entry` is
    // __kernel_vsyscall (the caller's promise).
    unsafe {
        asm!(
            "push ebp",
            "push esi",
            "push dword ptr [eax]",
            "mov esi, [eax + 4]",
            "mov ebp, [eax + 8]",
            "mov eax, [eax + 12]",
            "call dword ptr [esp]",
            "pop esi",
            "pop esi",
            "pop ebp",
            inlateout("eax") in_memory.as_ptr() => ret,
            in("ebx") a1,
            in("ecx") a2,
            in("edx") a3,
            in("edi") a5,
        );
    }
    ret
}

/// The `int $0x80` path (see the ABI above); returns eax.
#[inline(always)]
unsafe fn int80(
    num: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> usize {
    let in_memory: [usize; 3] = [a4, a6, num];
    let ret: usize;
    // SAFETY: the registers follow the ABI above, esi and ebp are restored before the block
    // ends, and `in_memory` outlives the block; the caller vouches for the call itself.
    unsafe {
        asm!(
            "push ebp",
            "push esi",
            "mov esi, [eax]",
            "mov ebp, [eax + 4]",
            "mov eax, [eax + 8]",
            "int 0x80",
            "pop esi",
            "pop ebp",
            inlateout("eax") in_memory.as_ptr() => ret,
            in("ebx") a1,
            in("ecx") a2,
            in("edx") a3,
            in("edi") a5,
            options(preserves_flags),
        );
    }
    ret
}

/// Out of line, off the fast path: looks the vDSO up if nobody has yet, then enters through it
/// or, without one, through `int $0x80`.
#[cold]
#[inline(never)]
unsafe fn syscall6_cold(
    num: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> usize {
    let entry = vsyscall_or_lookup();
    if entry > NO_VSYSCALL {
        // SAFETY: as in `syscall6`.
        unsafe { vsyscall(entry, num, a1, a2, a3, a4, a5, a6) }
    } else {
        // SAFETY: the caller vouches for the call.
        unsafe { int80(num, a1, a2, a3, a4, a5, a6) }
    }
}

// Where system calls enter: `UNKNOWN` until the auxiliary vector has been read (from the initial
// stack by `init_from_stack`, or lazily), then `NO_VSYSCALL` (the process has no vDSO, or
// `set_vsyscall_entry(None)` asked for `int $0x80`) or the address of __kernel_vsyscall. One
// atomic word: threads that look it up at once store the same value, and a lookup only fills
// in `UNKNOWN`, so it never overrides an explicit choice. Relaxed suffices: the word publishes
// nothing but itself, and the code it points to was mapped by the kernel before the process ran.
static VSYSCALL: AtomicUsize = AtomicUsize::new(UNKNOWN);
const UNKNOWN: usize = 0;
const NO_VSYSCALL: usize = 1;

/// Auxiliary-vector keys (include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h).
const AT_NULL: usize = 0;
const AT_SYSINFO: usize = 32;
const AT_SYSINFO_EHDR: usize = 33;

/// What a look at the kernel's copy of the auxiliary vector gave.
enum Lookup {
    /// AT_SYSINFO's value.
    Found(usize),
    /// The vector has no AT_SYSINFO, or this process cannot read it (no PR_GET_AUXV, no /proc):
    /// `int $0x80` for good.
    Absent,
    /// A passing failure (EMFILE, ENFILE, ENOMEM, EINTR): `int $0x80` this time, look again on
    /// the next call.
    Unreadable,
}

/// The current entry, looking it up first if nobody has.
fn vsyscall_or_lookup() -> usize {
    let known = VSYSCALL.load(Ordering::Relaxed);
    if known != UNKNOWN {
        return known;
    }
    let found = match lookup_sysinfo() {
        Lookup::Found(entry) => entry.max(NO_VSYSCALL),
        Lookup::Absent => NO_VSYSCALL,
        Lookup::Unreadable => return NO_VSYSCALL,
    };
    match VSYSCALL.compare_exchange(UNKNOWN, found, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => found,
        Err(current) => current,
    }
}

/// Reads AT_SYSINFO from the kernel's copy of the auxiliary vector, through `int $0x80` (the
/// entry is what is being looked for): `prctl(PR_GET_AUXV)` first (Linux 6.4; one call, no file
/// descriptor, works without /proc), then `/proc/self/auxv` (older kernels). 64 pairs hold the
/// whole vector (28 pairs on the benchmark machine), and the kernel puts AT_SYSINFO and
/// AT_SYSINFO_EHDR first on x86 anyway (ARCH_DLINFO, before the generic entries, in
/// fs/binfmt_elf.c).
fn lookup_sysinfo() -> Lookup {
    let mut buf = [0usize; 128];
    let capacity = core::mem::size_of_val(&buf);
    // SAFETY: PR_GET_AUXV writes at most `capacity` bytes into `buf` and returns the vector's
    // full size (include/uapi/linux/prctl.h, kernel/sys.c prctl_get_auxv).
    let got = unsafe {
        int80(
            SYS_PRCTL,
            PR_GET_AUXV,
            buf.as_mut_ptr() as usize,
            capacity,
            0,
            0,
            0,
        )
    };
    let words = core::mem::size_of::<usize>();
    if let (n, 0) = crate::raw::split_negated_result(got) {
        // Trust the copy only if it is whole enough to decide (qemu-user may answer for itself).
        if let Some(found) = scan_auxv(buf.get(..n.min(capacity) / words).unwrap_or(&[])) {
            return found;
        }
    }
    match read_proc_auxv(&mut buf) {
        Ok(n) => scan_auxv(buf.get(..n / words).unwrap_or(&[])).unwrap_or(Lookup::Absent),
        Err(lookup) => lookup,
    }
}

/// Looks for AT_SYSINFO in a copy of the auxiliary vector: `Found` once it has seen it and
/// AT_SYSINFO_EHDR (the vDSO image) with the entry inside the image's first 64 KiB, `Absent` at
/// AT_NULL or when the two disagree, `None` if the copy ends before either.
fn scan_auxv(words: &[usize]) -> Option<Lookup> {
    let (mut entry, mut image) = (None, None);
    for pair in words.chunks_exact(2) {
        if let [key, value] = *pair {
            match key {
                AT_NULL => return Some(Lookup::Absent),
                AT_SYSINFO => entry = Some(value),
                AT_SYSINFO_EHDR => image = Some(value),
                _ => {}
            }
        }
        if let (Some(entry), Some(image)) = (entry, image) {
            let inside = entry > image && entry - image < 0x10000;
            return Some(if inside {
                Lookup::Found(entry)
            } else {
                Lookup::Absent
            });
        }
    }
    None
}

/// Fills `buf` from `/proc/self/auxv`; returns the bytes read.
fn read_proc_auxv(buf: &mut [usize]) -> Result<usize, Lookup> {
    const PATH: &[u8] = b"/proc/self/auxv\0";
    // SAFETY: `PATH` is NUL-terminated; open reads it and touches nothing else.
    let opened = unsafe { int80(SYS_OPEN, PATH.as_ptr() as usize, O_CLOEXEC, 0, 0, 0, 0) };
    let fd = match crate::raw::split_negated_result(opened) {
        (fd, 0) => fd,
        // No /proc, or not readable here: nothing will change on a later call.
        (_, errno) if [Errno::ENOENT, Errno::EACCES].contains(&Errno::from_raw(errno as u16)) => {
            return Err(Lookup::Absent)
        }
        _ => return Err(Lookup::Unreadable),
    };
    let capacity = core::mem::size_of_val(buf);
    let start = buf.as_mut_ptr() as usize;
    let mut filled = 0;
    let outcome = loop {
        // SAFETY: the kernel writes at most `capacity - filled` bytes past `filled` into `buf`.
        let got = unsafe { int80(SYS_READ, fd, start + filled, capacity - filled, 0, 0, 0) };
        match crate::raw::split_negated_result(got) {
            (0, 0) => break Ok(filled),
            (n, 0) => filled += n,
            _ => break Err(Lookup::Unreadable),
        }
        if filled == capacity {
            break Ok(filled);
        }
    };
    // SAFETY: `fd` is the descriptor opened above, owned here.
    unsafe { int80(SYS_CLOSE, fd, 0, 0, 0, 0, 0) };
    outcome
}

/// `rawpoll::raw::vsyscall_entry`.
pub(crate) fn vsyscall_entry() -> Option<usize> {
    Some(vsyscall_or_lookup()).filter(|&e| e > NO_VSYSCALL)
}

/// `rawpoll::raw::set_vsyscall_entry`.
pub(crate) unsafe fn set_vsyscall_entry(entry: Option<usize>) {
    let entry = entry.filter(|&e| e > NO_VSYSCALL).unwrap_or(NO_VSYSCALL);
    VSYSCALL.store(entry, Ordering::Relaxed);
}

/// `rawpoll::raw::use_auxv`: records AT_SYSINFO, or that there is none.
pub(crate) unsafe fn use_auxv(mut auxv: *const usize) {
    let mut found = NO_VSYSCALL;
    // SAFETY: the caller passes a vector of (key, value) pairs ended by AT_NULL.
    unsafe {
        loop {
            match *auxv {
                AT_NULL => break,
                AT_SYSINFO => found = (*auxv.add(1)).max(NO_VSYSCALL),
                _ => {}
            }
            auxv = auxv.add(2);
        }
    }
    VSYSCALL.store(found, Ordering::Relaxed);
}

/// `rawpoll::raw::init_from_stack`: the System V i386 ABI's initial stack is argc, argv[0..argc],
/// NULL, envp..., NULL, then the auxiliary vector (System V ABI, Intel386 supplement, "Process
/// Stack and Registers").
pub(crate) unsafe fn init_from_stack(sp: *const usize) {
    // SAFETY: the caller passes the stack pointer the kernel started the process with.
    unsafe {
        let argc = *sp;
        let mut p = sp.add(argc + 2);
        while *p != 0 {
            p = p.add(1);
        }
        use_auxv(p.add(1));
    }
}

// System-call numbers (arch/x86/entry/syscalls/syscall_32.tbl).
pub(crate) const SYS_READ: usize = 3;
pub(crate) const SYS_WRITE: usize = 4;
const SYS_OPEN: usize = 5;
pub(crate) const SYS_CLOSE: usize = 6;
pub(crate) const SYS_GETPID: usize = 20;
pub(crate) const SYS_KILL: usize = 37;
pub(crate) const SYS_FCNTL: usize = 55;
pub(crate) const SYS_REBOOT: usize = 88;
pub(crate) const SYS_WAIT4: usize = 114;
pub(crate) const SYS_CLONE: usize = 120;
const SYS_PRCTL: usize = 172;
pub(crate) const SYS_EXIT_GROUP: usize = 252;
pub(crate) const SYS_EPOLL_CTL: usize = 255;
pub(crate) const SYS_EPOLL_PWAIT: usize = 319;
pub(crate) const SYS_EVENTFD2: usize = 328;
pub(crate) const SYS_EPOLL_CREATE1: usize = 329;
pub(crate) const SYS_DUP3: usize = 330;
pub(crate) const SYS_PIPE2: usize = 331;
pub(crate) const SYS_PRLIMIT64: usize = 340;
pub(crate) const SYS_EPOLL_PWAIT2: usize = 441;

// Values that differ between architectures.
pub(crate) const EFD_NONBLOCK: u32 = 0x800;
pub(crate) const SIGCHLD: u32 = 17;
pub(crate) const RLIMIT_NOFILE: u32 = 7;
pub(crate) const KERNEL_SIGSET_SIZE: usize = 8;
pub(crate) const CLONE_FLAGS_ARG: usize = 0;
pub(crate) const ENOSYS: u16 = 38;
pub(crate) const ELOOP: u16 = 40;
pub(crate) const ETIMEDOUT: u16 = 110;

// Used only by the vDSO lookup above (include/uapi/asm-generic/fcntl.h, which x86 uses
// unchanged, and include/uapi/linux/prctl.h).
const O_CLOEXEC: usize = 0o2000000;
const PR_GET_AUXV: usize = 0x4155_5856;

/// The kernel's `struct epoll_event`: 12 bytes, since i386 aligns `u64` to 4.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct EpollEvent {
    pub(crate) events: u32,
    pub(crate) data: u64,
}

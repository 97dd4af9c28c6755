//! Conformance cases for how `syscall6` enters the kernel: on 32-bit x86 through the vDSO's
//! `__kernel_vsyscall` when the process has one (found by `_start`'s `init_from_stack`), else
//! through `int $0x80`; everywhere else through the one trap instruction. The cases check which
//! entry was found against the kernel's own copy of the auxiliary vector, and that a set of calls
//! gives exactly the same results through the found entry and through `int $0x80`.

use crate::check::Checker;
use rawpoll::raw::{self, syscall6};
use rawpoll::Errno;

/// Auxiliary-vector keys (include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h),
/// written out here so that the check does not share the library's.
const AT_NULL: usize = 0;
const AT_SYSINFO: usize = 32;
const AT_SYSINFO_EHDR: usize = 33;

/// A user address no process maps.
const BAD_POINTER: usize = 8;

/// All the cases of this module.
pub fn cases(c: &mut Checker) {
    entry_found(c);
    same_through_both_entries(c);
}

/// `vsyscall_entry()` is AT_SYSINFO as `/proc/self/auxv` reports it on x86 (or, where `/proc`
/// is not mounted, as this file reads it from the initial stack itself), `None` elsewhere, and
/// lies inside the vDSO image (AT_SYSINFO_EHDR); forcing `int $0x80` and restoring work.
fn entry_found(c: &mut Checker) {
    let found = raw::vsyscall_entry();
    let auxv = proc_self_auxv().or_else(initial_stack_auxv);
    let want = if cfg!(target_arch = "x86") {
        auxv.and_then(|v| v.get(AT_SYSINFO))
    } else {
        None
    };
    c.eq(
        "vdso: vsyscall_entry() == AT_SYSINFO of the auxiliary vector (x86; None elsewhere)",
        found,
        want,
    );
    if let (Some(entry), Some(base)) = (found, auxv.and_then(|v| v.get(AT_SYSINFO_EHDR))) {
        // The vDSO is a few pages; __kernel_vsyscall sits in its text.
        c.that(
            "vdso: __kernel_vsyscall lies in the vDSO image (AT_SYSINFO_EHDR .. +64 KiB)",
            entry > base && entry - base < 0x10000,
            entry - base,
        );
    }
    // SAFETY: None selects `int $0x80`, which needs no address.
    unsafe { raw::set_vsyscall_entry(None) };
    let forced = raw::vsyscall_entry();
    // SAFETY: `found` is what the library itself found for this process.
    unsafe { raw::set_vsyscall_entry(found) };
    c.eq(
        "vdso: set_vsyscall_entry(None), then back: None, then the entry again",
        (forced, raw::vsyscall_entry()),
        (None, found),
    );
}

/// Runs `call` through the entry found and then with `int $0x80` forced; both must give `want`.
fn both(c: &mut Checker, name: &str, want: (usize, usize), call: impl Fn() -> (usize, usize)) {
    let found = raw::vsyscall_entry();
    let first = call();
    // SAFETY: None selects `int $0x80`, which needs no address.
    unsafe { raw::set_vsyscall_entry(None) };
    let second = call();
    // SAFETY: `found` is what the library itself found for this process.
    unsafe { raw::set_vsyscall_entry(found) };
    c.eq(name, (first, second), (want, want));
}

fn same_through_both_entries(c: &mut Checker) {
    let errno = |e: Errno| (usize::MAX, e.raw() as usize);
    // SAFETY: getpid touches no memory.
    let (pid, _) = unsafe { syscall6(raw::SYS_GETPID, 0, 0, 0, 0, 0, 0) };
    both(
        c,
        "vdso: getpid, found entry and int $0x80",
        (pid, 0),
        || {
            // SAFETY: as above.
            unsafe { syscall6(raw::SYS_GETPID, 0, 0, 0, 0, 0, 0) }
        },
    );
    both(
        c,
        "vdso: unknown number -> ENOSYS, both entries",
        errno(Errno::ENOSYS),
        || {
            // SAFETY: an unknown number touches nothing.
            unsafe { syscall6(raw::SYS_EPOLL_PWAIT2 + 500, 0, 0, 0, 0, 0, 0) }
        },
    );
    both(
        c,
        "vdso: close(-1) -> EBADF, both entries",
        errno(Errno::EBADF),
        || {
            // SAFETY: closes a descriptor that cannot be open.
            unsafe { syscall6(raw::SYS_CLOSE, usize::MAX, 0, 0, 0, 0, 0) }
        },
    );
    // A non-blocking eventfd(5): a write from an unmapped page fails with EFAULT and changes
    // nothing, a write of 3 makes it 8, the read returns 8 bytes holding 8; three arguments
    // each, through ebx, ecx and edx.
    both(
        c,
        "vdso: eventfd 5, bad write, write 3 -> read (8, 8), both entries",
        (8, 8),
        || {
            let mut value = 3u64;
            // SAFETY: eventfd2 takes two integers; write and read move 8 bytes from and into
            // `value` (or fail at the unmapped page); close takes the descriptor opened here.
            unsafe {
                let flags = rawpoll::EFD_NONBLOCK as usize;
                let (fd, _) = syscall6(raw::SYS_EVENTFD2, 5, flags, 0, 0, 0, 0);
                let fault = syscall6(raw::SYS_WRITE, fd, BAD_POINTER, 8, 0, 0, 0);
                let p = &mut value as *mut u64 as usize;
                syscall6(raw::SYS_WRITE, fd, p, 8, 0, 0, 0);
                let (n, e) = syscall6(raw::SYS_READ, fd, p, 8, 0, 0, 0);
                syscall6(raw::SYS_CLOSE, fd, 0, 0, 0, 0, 0);
                if e == 0 && fault == errno(Errno::EFAULT) {
                    (value as usize, n)
                } else {
                    (usize::MAX, e)
                }
            }
        },
    );
    // epoll_pwait's six arguments, the sixth (ebp) being the signal-set size: the kernel's 8
    // gives 0 events, 7 gives EINVAL, whichever the entry.
    let mask = [0u8; 16];
    for (size, want, name) in [
        (
            raw::KERNEL_SIGSET_SIZE,
            (0, 0),
            "vdso: epoll_pwait(0) with the kernel's sigset size -> 0 events, both entries",
        ),
        (
            raw::KERNEL_SIGSET_SIZE - 1,
            errno(Errno::EINVAL),
            "vdso: epoll_pwait(0) with sigset size - 1 (sixth argument) -> EINVAL, both entries",
        ),
    ] {
        both(c, name, want, || {
            let mut events = [0u64; 4];
            // SAFETY: the kernel writes at most one 12- or 16-byte event into `events`, reads
            // up to 16 bytes of `mask`; close takes the descriptor opened here.
            unsafe {
                let (epfd, _) = syscall6(raw::SYS_EPOLL_CREATE1, 0, 0, 0, 0, 0, 0);
                let r = syscall6(
                    raw::SYS_EPOLL_PWAIT,
                    epfd,
                    events.as_mut_ptr() as usize,
                    1,
                    0,
                    mask.as_ptr() as usize,
                    size,
                );
                syscall6(raw::SYS_CLOSE, epfd, 0, 0, 0, 0, 0);
                r
            }
        });
    }
}

/// The process's auxiliary vector as the kernel reports it in `/proc/self/auxv` (qemu-user
/// reports the guest's), read with raw calls; `None` if it cannot be read.
fn proc_self_auxv() -> Option<Auxv> {
    use linux_raw_sys::general as k;
    const PATH: &[u8] = b"/proc/self/auxv\0";
    let mut auxv = Auxv {
        words: [0; 128],
        len: 0,
    };
    // SAFETY: openat reads the NUL-terminated path; read writes at most the rest of `words`;
    // close takes the descriptor opened here.
    unsafe {
        let (fd, e) = syscall6(
            k::__NR_openat as usize,
            k::AT_FDCWD as usize,
            PATH.as_ptr() as usize,
            (k::O_RDONLY | k::O_CLOEXEC) as usize,
            0,
            0,
            0,
        );
        if e != 0 {
            return None;
        }
        let word = core::mem::size_of::<usize>();
        loop {
            let rest = auxv.words.len() - auxv.len / word;
            let at = auxv.words.as_mut_ptr() as usize + auxv.len;
            let (n, e) = syscall6(raw::SYS_READ, fd, at, rest * word, 0, 0, 0);
            if e != 0 || n == 0 || rest == 0 {
                break;
            }
            auxv.len += n;
        }
        syscall6(raw::SYS_CLOSE, fd, 0, 0, 0, 0, 0);
    }
    Some(auxv)
}

/// The auxiliary vector read from the initial stack `_start` recorded (x86; `None` elsewhere):
/// `argc`, the `argv` pointers and their null, the `envp` pointers and their null, then the
/// `(key, value)` pairs. A parse of its own, independent of the library's.
fn initial_stack_auxv() -> Option<Auxv> {
    let sp = crate::INITIAL_STACK.load(core::sync::atomic::Ordering::Relaxed) as *const usize;
    if sp.is_null() {
        return None;
    }
    let mut auxv = Auxv {
        words: [0; 128],
        len: 0,
    };
    // SAFETY: `sp` is the kernel's initial stack pointer, whose words up to the auxiliary
    // vector's AT_NULL pair stay mapped and unchanged for the life of the process (nothing
    // writes above the stack pointer `_start` was given).
    unsafe {
        let argc = *sp;
        let mut at = sp.add(1 + argc + 1);
        while *at != 0 {
            at = at.add(1);
        }
        at = at.add(1);
        for pair in auxv.words.chunks_exact_mut(2) {
            let (key, value) = (*at, *at.add(1));
            pair.copy_from_slice(&[key, value]);
            auxv.len += 2 * core::mem::size_of::<usize>();
            if key == AT_NULL {
                break;
            }
            at = at.add(2);
        }
    }
    Some(auxv)
}

/// A copy of the auxiliary vector: `len` bytes of `(key, value)` pairs.
#[derive(Clone, Copy)]
struct Auxv {
    words: [usize; 128],
    len: usize,
}

impl Auxv {
    /// The value of `key`, if the vector has it before AT_NULL.
    fn get(&self, key: usize) -> Option<usize> {
        let words = self.words.get(..self.len / core::mem::size_of::<usize>())?;
        words
            .chunks_exact(2)
            .take_while(|pair| pair.first() != Some(&AT_NULL))
            .find(|pair| pair.first() == Some(&key))
            .and_then(|pair| pair.get(1).copied())
    }
}

//! Where 32-bit x86 system calls enter the kernel: the address of the vDSO's
//! `__kernel_vsyscall` (AT_SYSINFO in the auxiliary vector), given by the program or looked up
//! once, or `int $0x80` without one. The stub that uses it is `x86.rs`.

use core::sync::atomic::{AtomicUsize, Ordering};

// Where system calls enter: `UNKNOWN` until the auxiliary vector has been read (from the initial
// stack by `init_from_stack`, or lazily), then `NO_VSYSCALL` (the process has no vDSO, the lookup
// failed or refused what it read, or `set_vsyscall_entry(None)` asked for `int $0x80`) or the
// address of __kernel_vsyscall. One atomic word: a lookup only fills in `UNKNOWN`, so the first
// of threads that look it up at once decides for all (the same address, or `NO_VSYSCALL` if its
// lookup failed), and a lookup never overrides an explicit choice. Relaxed suffices: the word
// publishes nothing but itself, and the code it points to was mapped by the kernel before the
// process ran.
//
// The address comes only from sources that nothing outside the process decides (no path, no
// environment variable, no other process):
// - the auxiliary vector handed to `init_from_stack` or `use_auxv`, or the address handed to
//   `set_vsyscall_entry`: their callers vouch for them (they are `unsafe`);
// - with the `std` feature, the C library's `getauxval(AT_SYSINFO)`: its copy of the vector on
//   the initial stack;
// - without it, the kernel's own copy: `prctl(PR_GET_AUXV)`, else `/proc/<pid>/auxv` of a procfs
//   checked at every step (`kernel_copy::procfs_auxv`), and only with the entry inside the first
//   64 KiB of the vDSO image that the same copy names.
// A lookup that fails or refuses what it read stores `NO_VSYSCALL`: `int $0x80` for good.
pub(super) static VSYSCALL: AtomicUsize = AtomicUsize::new(UNKNOWN);
const UNKNOWN: usize = 0;
pub(super) const NO_VSYSCALL: usize = 1;

/// Auxiliary-vector keys (include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h).
const AT_NULL: usize = 0;
const AT_SYSINFO: usize = 32;

/// The current entry, looking it up first if nobody has. Whatever the lookup gives is final: a
/// lookup that failed or rejected what it read leaves `int $0x80` for good, so that nothing done
/// later (a chroot, a mount, freed descriptors) can make the process look again elsewhere.
pub(super) fn vsyscall_or_lookup() -> usize {
    let known = VSYSCALL.load(Ordering::Relaxed);
    if known != UNKNOWN {
        return known;
    }
    let found = lookup_sysinfo()
        .filter(|&e| e > NO_VSYSCALL)
        .unwrap_or(NO_VSYSCALL);
    match VSYSCALL.compare_exchange(UNKNOWN, found, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => found,
        Err(current) => current,
    }
}

/// AT_SYSINFO as the C library that std links read it from the initial stack (glibc and musl
/// copy the auxiliary vector at startup); `None` if the vector has none.
#[cfg(feature = "std")]
fn lookup_sysinfo() -> Option<usize> {
    use core::ffi::c_ulong;
    unsafe extern "C" {
        fn getauxval(key: c_ulong) -> c_ulong;
    }
    // SAFETY: getauxval has no preconditions; it reads the C library's copy of the vector the
    // kernel put on the initial stack, which nothing outside the process can change.
    let entry = unsafe { getauxval(AT_SYSINFO as c_ulong) } as usize;
    (entry != 0).then_some(entry)
}

#[cfg(not(feature = "std"))]
use kernel_copy::lookup_sysinfo;

/// The lookup without a C library to ask: the kernel's own copy of the auxiliary vector.
#[cfg(not(feature = "std"))]
mod kernel_copy {
    use super::{AT_NULL, AT_SYSINFO};
    use crate::arch::abi::{int80, SYS_CLOSE, SYS_GETPID, SYS_READ};

    /// The vDSO image's address in the auxiliary vector (arch/x86/include/uapi/asm/auxvec.h).
    const AT_SYSINFO_EHDR: usize = 33;

    /// AT_SYSINFO from the kernel's own copy of the auxiliary vector, through `int $0x80` (the
    /// entry is what is being looked for): `prctl(PR_GET_AUXV)` (Linux 6.4; no file descriptor,
    /// no /proc), else `/proc/<pid>/auxv` of a procfs that `procfs_auxv` has checked. 64 pairs
    /// hold the whole vector (28 pairs on the benchmark machine).
    pub(super) fn lookup_sysinfo() -> Option<usize> {
        let mut buf = [0usize; 128];
        let capacity = core::mem::size_of_val(&buf);
        // SAFETY: PR_GET_AUXV writes at most `capacity` bytes into `buf` and returns the
        // vector's full size (include/uapi/linux/prctl.h, kernel/sys.c prctl_get_auxv).
        let copied = unsafe {
            sys(
                SYS_PRCTL,
                PR_GET_AUXV,
                buf.as_mut_ptr() as usize,
                capacity,
                0,
                0,
            )
        };
        let n = match copied {
            Some(n) => n.min(capacity),
            None => procfs_auxv(&mut buf)?,
        };
        scan_auxv(buf.get(..n / core::mem::size_of::<usize>())?)
    }

    /// Looks for AT_SYSINFO in a copy of the auxiliary vector: the entry once it has seen it
    /// and AT_SYSINFO_EHDR (the vDSO image: not 0, page-aligned) with the entry inside the
    /// image's first 64 KiB; `None` at AT_NULL, when the two disagree, or if the copy ends
    /// first. The kernel puts both first on x86 (ARCH_DLINFO, before the generic entries, in
    /// fs/binfmt_elf.c). A 64-bit vector read as 32-bit words (under qemu-user, whose /proc
    /// shows the 64-bit qemu process) starts with AT_SYSINFO_EHDR and a 0 word: refused there.
    fn scan_auxv(words: &[usize]) -> Option<usize> {
        let (mut entry, mut image) = (None, None);
        for pair in words.chunks_exact(2) {
            match *pair {
                [AT_NULL, _] => return None,
                [AT_SYSINFO, value] => entry = Some(value),
                [AT_SYSINFO_EHDR, value] if value == 0 || value % 4096 != 0 => return None,
                [AT_SYSINFO_EHDR, value] => image = Some(value),
                _ => {}
            }
            if let (Some(entry), Some(image)) = (entry, image) {
                return (entry > image && entry - image < 0x10000).then_some(entry);
            }
        }
        None
    }

    /// Fills `buf` from this process's `auxv` in a procfs whose every step is checked, since
    /// the file system decides what a path opens (a chroot, a mount on /proc or on a file in
    /// it, a procfs of another PID namespace):
    /// - `/proc`, opened with O_DIRECTORY and O_NOFOLLOW, is the root of a procfs: fstatfs64's
    ///   f_type is PROC_SUPER_MAGIC and its inode is PROC_ROOT_INO;
    /// - its `self` is a symlink on the same mount naming getpid's pid: that procfs sees this
    ///   process under the same number, so `<pid>` there is this process;
    /// - `<pid>/auxv`, opened with O_NOFOLLOW from that root, is a regular file on the same
    ///   mount (statx's mount ID, Linux 5.8): nothing is mounted on `<pid>` or on the file.
    ///   A mount ID of 0 is refused: no mount user space sees has it, and an emulator that
    ///   passes statx on without the field (qemu-user) leaves it so.
    ///
    /// Returns the bytes read; `None` if a step fails or a check does not hold.
    fn procfs_auxv(buf: &mut [usize]) -> Option<usize> {
        let (proc, root) = procfs_root()?;
        let mut path = [0u8; 20];
        let start = own_auxv_path(&proc, &root, &mut path)?;
        let file = Fd::open(proc.0, path.get(start..)?, O_NOFOLLOW)?;
        let stat = Statx::of(file.0, b"\0", AT_EMPTY_PATH)?;
        if !stat.is(S_IFREG) || stat.mnt_id != root.mnt_id {
            return None;
        }
        // SAFETY: read writes at most `size_of_val(buf)` bytes into `buf`. One read: procfs
        // hands the whole vector at once (fs/proc/base.c, proc_auxv_read), and a shorter copy
        // only ends the scan early.
        unsafe {
            sys(
                SYS_READ,
                file.0,
                buf.as_mut_ptr() as usize,
                core::mem::size_of_val(buf),
                0,
                0,
            )
        }
    }

    /// `/proc`, opened with O_DIRECTORY and O_NOFOLLOW, and what statx says of it, if it is the
    /// root of a procfs mount: fstatfs64's f_type is PROC_SUPER_MAGIC, its inode PROC_ROOT_INO,
    /// its mount ID not 0.
    fn procfs_root() -> Option<(Fd, Statx)> {
        let proc = Fd::open(AT_FDCWD, b"/proc\0", O_DIRECTORY | O_NOFOLLOW)?;
        let mut statfs = [0u32; STATFS64_WORDS];
        // SAFETY: fstatfs64 writes `size_of_val(&statfs)` bytes into `statfs`.
        unsafe {
            sys(
                SYS_FSTATFS64,
                proc.0,
                core::mem::size_of_val(&statfs),
                statfs.as_mut_ptr() as usize,
                0,
                0,
            )
        }?;
        let root = Statx::of(proc.0, b"\0", AT_EMPTY_PATH)?;
        let is_proc_root = statfs.first() == Some(&PROC_SUPER_MAGIC)
            && root.is(S_IFDIR)
            && root.ino == PROC_ROOT_INO
            && root.mnt_id != 0;
        is_proc_root.then_some((proc, root))
    }

    /// Writes `<pid>/auxv` for getpid's pid at the end of `path` and returns where it starts, if
    /// the `self` link of the procfs `proc` (whose root is `root`) is a symlink on the same mount
    /// naming that pid: that procfs sees this process under the same number.
    fn own_auxv_path(proc: &Fd, root: &Statx, path: &mut [u8; 20]) -> Option<usize> {
        const SELF: &[u8] = b"self\0";
        // SAFETY: getpid takes no arguments.
        let pid = unsafe { sys(SYS_GETPID, 0, 0, 0, 0, 0) }?;
        let start = pid_auxv_path(pid, path);
        let digits = path.get(start..path.len() - 6);
        let link = Statx::of(proc.0, SELF, AT_SYMLINK_NOFOLLOW)?;
        let mut target = [0u8; 20];
        // SAFETY: readlinkat reads `SELF` up to its NUL, writes at most `target.len()` bytes
        // into `target`.
        let n = unsafe {
            sys(
                SYS_READLINKAT,
                proc.0,
                SELF.as_ptr() as usize,
                target.as_mut_ptr() as usize,
                target.len(),
                0,
            )
        }?;
        let names_pid = link.is(S_IFLNK) && link.mnt_id == root.mnt_id && target.get(..n) == digits;
        names_pid.then_some(start)
    }

    /// Writes `<pid>/auxv` and a NUL at the end of `path`; returns where it starts. The digits
    /// end 6 bytes before the end.
    fn pid_auxv_path(pid: usize, path: &mut [u8; 20]) -> usize {
        let Some((digits, suffix)) = path.split_last_chunk_mut::<6>() else {
            return 0;
        };
        *suffix = *b"/auxv\0";
        let mut rest = pid;
        let mut start = digits.len();
        for slot in digits.iter_mut().rev() {
            *slot = b'0' + (rest % 10) as u8;
            start -= 1;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        start
    }

    /// System call `num` through `int $0x80`, out of line (the lookup's many calls share one
    /// copy of the stub); `None` on an error.
    ///
    /// # Safety
    ///
    /// As `int80`'s: the caller vouches for the call.
    #[inline(never)]
    unsafe fn sys(
        num: usize,
        a1: usize,
        a2: usize,
        a3: usize,
        a4: usize,
        a5: usize,
    ) -> Option<usize> {
        // SAFETY: the caller vouches for the call.
        match crate::arch::split_negated_result(unsafe { int80(num, a1, a2, a3, a4, a5, 0) }) {
            (value, 0) => Some(value),
            _ => None,
        }
    }

    /// A descriptor the lookup opened, closed when dropped.
    struct Fd(usize);

    impl Fd {
        /// `openat(dir, name, O_RDONLY | O_CLOEXEC | flags)`; `None` unless `name` ends with a
        /// NUL.
        fn open(dir: usize, name: &[u8], flags: usize) -> Option<Fd> {
            if name.last() != Some(&0) {
                return None;
            }
            // SAFETY: openat reads `name` up to its first NUL, which the check above puts
            // inside it, and touches nothing else.
            unsafe {
                sys(
                    SYS_OPENAT,
                    dir,
                    name.as_ptr() as usize,
                    O_CLOEXEC | flags,
                    0,
                    0,
                )
            }
            .map(Fd)
        }
    }

    impl Drop for Fd {
        fn drop(&mut self) {
            // SAFETY: the descriptor was opened by `Fd::open` and is owned here.
            unsafe { sys(SYS_CLOSE, self.0, 0, 0, 0, 0) };
        }
    }

    /// The fields of `struct statx` (include/uapi/linux/stat.h) that the checks read, at their
    /// offsets in its 256 bytes.
    #[repr(C)]
    #[derive(Default)]
    struct Statx {
        mask: u32,
        _before_mode: [u32; 6],
        mode: u16,
        _spare: u16,
        ino: u64,
        _before_mnt_id: [u32; 26],
        mnt_id: u64,
        _rest: [u64; 13],
    }

    const _: () = assert!(core::mem::size_of::<Statx>() == 256);

    impl Statx {
        /// `statx(dir, name, flags, STATX_TYPE | STATX_INO | STATX_MNT_ID)`; `None` if it fails
        /// or the kernel fills in less (a mount ID needs Linux 5.8); `None` unless `name` ends
        /// with a NUL.
        fn of(dir: usize, name: &[u8], flags: usize) -> Option<Statx> {
            if name.last() != Some(&0) {
                return None;
            }
            let mut stat = Statx::default();
            let wanted = STATX_TYPE | STATX_INO | STATX_MNT_ID;
            // SAFETY: statx reads `name` up to its first NUL, which the check above puts inside
            // it, and writes 256 bytes into `stat`.
            unsafe {
                sys(
                    SYS_STATX,
                    dir,
                    name.as_ptr() as usize,
                    flags,
                    wanted as usize,
                    &mut stat as *mut Statx as usize,
                )
            }?;
            (stat.mask & wanted == wanted).then_some(stat)
        }

        /// Whether the file type is `kind`.
        fn is(&self, kind: u16) -> bool {
            self.mode & S_IFMT == kind
        }
    }

    // System-call numbers (arch/x86/entry/syscalls/syscall_32.tbl).
    const SYS_PRCTL: usize = 172;
    const SYS_FSTATFS64: usize = 269;
    const SYS_OPENAT: usize = 295;
    const SYS_READLINKAT: usize = 305;
    const SYS_STATX: usize = 383;

    // include/uapi/linux/prctl.h; include/uapi/asm-generic/fcntl.h, which x86 uses unchanged;
    // include/uapi/linux/fcntl.h; include/uapi/linux/stat.h; include/uapi/linux/magic.h.
    const PR_GET_AUXV: usize = 0x4155_5856;
    const O_CLOEXEC: usize = 0o2000000;
    const O_DIRECTORY: usize = 0o200000;
    const O_NOFOLLOW: usize = 0o400000;
    const AT_FDCWD: usize = -100isize as usize;
    const AT_SYMLINK_NOFOLLOW: usize = 0x100;
    const AT_EMPTY_PATH: usize = 0x1000;
    const STATX_TYPE: u32 = 0x1;
    const STATX_INO: u32 = 0x100;
    const STATX_MNT_ID: u32 = 0x1000;
    const S_IFMT: u16 = 0o170000;
    const S_IFLNK: u16 = 0o120000;
    const S_IFREG: u16 = 0o100000;
    const S_IFDIR: u16 = 0o040000;
    const PROC_SUPER_MAGIC: u32 = 0x9fa0;
    /// The inode of every procfs's root directory (fs/proc/root.c).
    const PROC_ROOT_INO: u64 = 1;
    /// `struct statfs64` of i386 is 84 bytes, `f_type` first (arch/x86/include/uapi/asm/statfs.h
    /// packs it to 4 bytes; fstatfs64 refuses any other size).
    const STATFS64_WORDS: usize = 21;

    /// Compile-time agreement of the numbers above with the kernel's headers as linux-raw-sys
    /// carries them (the public ones are checked by the conformance runner).
    #[cfg(test)]
    mod oracle {
        use linux_raw_sys::general as k;

        macro_rules! same {
            ($($ours:expr => $kernels:expr),* $(,)?) => {
                $(const _: () = assert!($ours as u64 == $kernels as u64, stringify!($ours));)*
            };
        }

        same! {
            super::SYS_PRCTL => k::__NR_prctl,
            super::SYS_FSTATFS64 => k::__NR_fstatfs64,
            super::SYS_OPENAT => k::__NR_openat,
            super::SYS_READLINKAT => k::__NR_readlinkat,
            super::SYS_STATX => k::__NR_statx,
            super::O_CLOEXEC => k::O_CLOEXEC,
            super::O_DIRECTORY => k::O_DIRECTORY,
            super::O_NOFOLLOW => k::O_NOFOLLOW,
            super::AT_FDCWD as u32 => k::AT_FDCWD as u32,
            super::AT_SYMLINK_NOFOLLOW => k::AT_SYMLINK_NOFOLLOW,
            super::AT_EMPTY_PATH => k::AT_EMPTY_PATH,
            super::STATX_TYPE => k::STATX_TYPE,
            super::STATX_INO => k::STATX_INO,
            super::STATX_MNT_ID => k::STATX_MNT_ID,
            super::S_IFMT => k::S_IFMT,
            super::S_IFLNK => k::S_IFLNK,
            super::S_IFREG => k::S_IFREG,
            super::S_IFDIR => k::S_IFDIR,
            super::PROC_SUPER_MAGIC => k::PROC_SUPER_MAGIC,
            super::STATFS64_WORDS * 4 => core::mem::size_of::<k::statfs64>(),
        }
    }
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

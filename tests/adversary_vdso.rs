//! Attacks on the lazy vDSO lookup of 32-bit x86: the first system call of a process that never
//! called `raw::init_from_stack` looks AT_SYSINFO up, and every later call jumps there. Safe code
//! controls what a path such as `/proc/self/auxv` opens (a chroot into a directory holding a
//! planted vector, a tmpfs mounted on `/proc`, a planted file bound on the genuine one, as safe
//! `std::process::Command::new("mount")` can do), and can make a lookup fail (a full descriptor
//! table) so that it would run again after such a change. None of these may decide where control
//! goes: the entry must be `None` (`int $0x80`) or, with the `std` feature, glibc's
//! `getauxval(AT_SYSINFO)`, and calls must go on working. A positive control checks that the
//! genuine procfs is still accepted.
//!
//! The lookup happens once per process, so each case runs in a forked child whose first rawpoll
//! call is the one under attack (the test process itself makes none). Linux 6.4 and later answer
//! `prctl(PR_GET_AUXV)`, which no file can fake, so each child first installs a seccomp filter
//! that makes it fail with EINVAL, as on older kernels. Under qemu-user (`RAWPOLL_EMULATED`),
//! which refuses seccomp filters, qemu already fails that prctl, and its `/proc` is the host's
//! (the 64-bit qemu process's), which the lookup must reject too.
//!
//! Needs root (chroot, mount): a run without it fails, loudly. On x86_64 there is no lookup: the
//! same cases check that the entry stays `None` and the calls work. Other architectures have no
//! such lookup (and its seccomp filter knows x86 only): the file is empty there.
#![cfg(any(target_arch = "x86", target_arch = "x86_64"))]

mod common;

use rawpoll::raw;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Auxiliary-vector keys (include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h).
const AT_NULL: usize = 0;
const AT_SYSINFO: usize = 32;
const AT_SYSINFO_EHDR: usize = 33;

/// The planted entry: an address no process maps, inside the planted vDSO image's first 64 KiB.
const PLANTED_ENTRY: usize = 0x4141_4141;
const PLANTED_IMAGE: usize = 0x4141_0000;

/// `prctl(PR_GET_AUXV)` (include/uapi/linux/prctl.h).
const PR_GET_AUXV: libc::c_int = 0x4155_5856;

/// What glibc found for this process: `getauxval(AT_SYSINFO)`, `None` on x86_64 (no such key).
fn glibc_entry() -> Option<usize> {
    if cfg!(target_arch = "x86") {
        // SAFETY: getauxval reads the process's own auxiliary vector.
        let v = unsafe { libc::getauxval(AT_SYSINFO as libc::c_ulong) } as usize;
        (v != 0).then_some(v)
    } else {
        None
    }
}

/// The only entry a child under attack may end with: glibc's with the `std` feature (the library
/// then asks glibc), else `int $0x80`.
fn honest_entry() -> Option<usize> {
    if cfg!(feature = "std") {
        glibc_entry()
    } else {
        None
    }
}

/// A directory holding `proc/self/auxv` with the planted vector; removed on drop.
struct PlantedRoot(PathBuf);

impl PlantedRoot {
    fn new(case: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("rawpoll-adversary-{}-{case}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("proc/self")).unwrap();
        plant(&dir.join("proc/self/auxv"));
        PlantedRoot(dir)
    }
}

impl Drop for PlantedRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes the planted vector (native words) to `path`.
fn plant(path: &Path) {
    let words = [
        AT_SYSINFO_EHDR,
        PLANTED_IMAGE,
        AT_SYSINFO,
        PLANTED_ENTRY,
        AT_NULL,
        0,
    ];
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    std::fs::write(path, bytes).unwrap();
}

/// Runs `body` in a forked child and fails if the child panics or dies by a signal (a jump to
/// the planted entry is a SIGSEGV). One case at a time: a fork while another test thread holds
/// a lock (the allocator's, stderr's) could leave the child waiting for it forever.
fn in_child(case: &str, body: impl FnOnce()) {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "{case}: this test needs root (chroot, mount, seccomp); it cannot check anything as uid {euid}"
    );
    // SAFETY: the child runs `body` and leaves through _exit; glibc's fork leaves malloc usable.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // The harness captures the test thread's output, which the child cannot hand back:
        // write straight to descriptor 2.
        std::panic::set_hook(Box::new(|info| {
            let _ = writeln!(std::io::stderr(), "child: {info}");
        }));
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).is_ok();
        // SAFETY: ends the child without running the parent's exit handlers.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above; `status` is a valid int.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid, "waitpid: {}", std::io::Error::last_os_error());
    if libc::WIFSIGNALED(status) {
        panic!(
            "{case}: the child was killed by signal {} (SIGSEGV is {}): control went to the \
             planted entry",
            libc::WTERMSIG(status),
            libc::SIGSEGV
        );
    }
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "{case}: the child failed (its message is above)"
    );
}

/// Gives this child mounts of its own: a new mount namespace, with nothing propagated back.
fn private_mounts() {
    // SAFETY: unshare takes a flag; mount reads the NUL-terminated "/" and changes only the
    // propagation of this child's new namespace.
    unsafe {
        assert_eq!(
            libc::unshare(libc::CLONE_NEWNS),
            0,
            "unshare(CLONE_NEWNS): {}",
            std::io::Error::last_os_error()
        );
        let none = std::ptr::null();
        let flags = libc::MS_REC | libc::MS_PRIVATE;
        assert_eq!(
            libc::mount(none, c"/".as_ptr(), none, flags, none.cast()),
            0
        );
    }
}

/// Makes `prctl(PR_GET_AUXV)` fail with EINVAL in this thread (the child's only one), as on a
/// kernel older than 6.4, so that the lookup reads procfs; fails the case if it cannot.
fn block_pr_get_auxv() {
    #[cfg(target_arch = "x86")]
    const AUDIT_ARCH: u32 = 0x4000_0003;
    #[cfg(target_arch = "x86_64")]
    const AUDIT_ARCH: u32 = 0xc000_003e;
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    compile_error!("tests/adversary_vdso.rs: the filter knows x86 and x86_64 only");
    // struct seccomp_data: nr at 0, arch at 4, args[0]'s low word at 16 (little-endian).
    let stmt = |code: u32, k: u32| libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jeq = |k: u32, jf: u8| libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt: 0,
        jf,
        k,
    };
    let load = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let mut filter = [
        stmt(load, 4),
        jeq(AUDIT_ARCH, 5),
        stmt(load, 0),
        jeq(libc::SYS_prctl as u32, 3),
        stmt(load, 16),
        jeq(PR_GET_AUXV as u32, 1),
        stmt(
            libc::BPF_RET | libc::BPF_K,
            libc::SECCOMP_RET_ERRNO | libc::EINVAL as u32,
        ),
        stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
    ];
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_mut_ptr(),
    };
    // SAFETY: prctl reads `prog` and the filter it points to, both alive here.
    let installed = unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
            && libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &prog as *const libc::sock_fprog,
            ) == 0
    };
    let why = std::io::Error::last_os_error();
    let mut buf = [0usize; 64];
    // SAFETY: PR_GET_AUXV writes at most `size_of_val(&buf)` bytes into `buf`.
    let got = unsafe {
        libc::prctl(
            PR_GET_AUXV,
            buf.as_mut_ptr(),
            std::mem::size_of_val(&buf),
            0,
            0,
        )
    };
    if installed || common::emulated() {
        assert_eq!(
            got, -1,
            "prctl(PR_GET_AUXV) still answers: the case would not reach the procfs lookup"
        );
    } else {
        panic!("cannot install the seccomp filter that fails prctl(PR_GET_AUXV): {why}");
    }
}

/// The entry is `want`, and calls through it (or `int $0x80`) work and keep it.
fn entry_is_and_calls_work(case: &str, want: Option<usize>) {
    assert_eq!(
        raw::vsyscall_entry(),
        want,
        "{case}: the entry is not the one expected (planted: {PLANTED_ENTRY:#x})"
    );
    let fd = rawpoll::eventfd(5, 0).unwrap();
    rawpoll::eventfd_write(&fd, 3).unwrap();
    assert_eq!(rawpoll::eventfd_read(&fd).unwrap(), 8);
    rawpoll::close(fd).unwrap();
    assert_eq!(raw::vsyscall_entry(), want, "{case}: the entry changed");
}

#[test]
fn chroot_into_a_planted_proc() {
    let root = PlantedRoot::new("chroot");
    in_child("chroot", || {
        block_pr_get_auxv();
        std::os::unix::fs::chroot(&root.0).unwrap();
        std::env::set_current_dir("/").unwrap();
        // The first rawpoll call of the process: it looks the vDSO up.
        rawpoll::close(rawpoll::eventfd(0, 0).unwrap()).unwrap();
        entry_is_and_calls_work("chroot", honest_entry());
    });
}

#[test]
fn tmpfs_on_proc_with_a_planted_file() {
    in_child("tmpfs on /proc", || {
        block_pr_get_auxv();
        private_mounts();
        // SAFETY: mount reads NUL-terminated strings that outlive the call; it changes only
        // this child's view of the mounts.
        unsafe {
            let tmpfs = c"tmpfs".as_ptr();
            assert_eq!(
                libc::mount(tmpfs, c"/proc".as_ptr(), tmpfs, 0, std::ptr::null()),
                0,
                "mount tmpfs on /proc: {}",
                std::io::Error::last_os_error()
            );
        }
        std::fs::create_dir("/proc/self").unwrap();
        plant(Path::new("/proc/self/auxv"));
        rawpoll::close(rawpoll::eventfd(0, 0).unwrap()).unwrap();
        entry_is_and_calls_work("tmpfs on /proc", honest_entry());
    });
}

#[test]
fn planted_file_bound_over_the_genuine_auxv() {
    let root = PlantedRoot::new("bind");
    in_child("planted file bound on /proc/<pid>/auxv", || {
        block_pr_get_auxv();
        private_mounts();
        let target = format!("/proc/{}/auxv\0", std::process::id());
        let source = format!("{}/proc/self/auxv\0", root.0.display());
        // SAFETY: mount reads NUL-terminated strings that outlive the call; it changes only
        // this child's view of the mounts.
        let bound = unsafe {
            libc::mount(
                source.as_ptr().cast(),
                target.as_ptr().cast(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            )
        };
        assert_eq!(bound, 0, "bind mount: {}", std::io::Error::last_os_error());
        rawpoll::close(rawpoll::eventfd(0, 0).unwrap()).unwrap();
        entry_is_and_calls_work("planted file bound on /proc/<pid>/auxv", honest_entry());
    });
}

#[test]
fn failed_lookup_is_not_retried_after_a_plant() {
    let root = PlantedRoot::new("emfile");
    in_child("full descriptor table, then chroot", || {
        block_pr_get_auxv();
        let limit = libc::rlimit {
            rlim_cur: 32,
            rlim_max: 32,
        };
        // SAFETY: setrlimit reads `limit`.
        assert_eq!(
            unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) },
            0,
            "setrlimit"
        );
        let mut filler = Vec::new();
        loop {
            // SAFETY: dup of standard error; the copies are closed below.
            let fd = unsafe { libc::dup(2) };
            if fd < 0 {
                assert_eq!(
                    std::io::Error::last_os_error().raw_os_error(),
                    Some(libc::EMFILE)
                );
                break;
            }
            filler.push(fd);
        }
        // The first rawpoll call, with no descriptor to spare: whatever it finds is final.
        assert_eq!(
            rawpoll::eventfd(0, 0).map(drop),
            Err(rawpoll::Errno::EMFILE)
        );
        assert_eq!(raw::vsyscall_entry(), honest_entry());
        for fd in filler {
            // SAFETY: closes the copies made above.
            unsafe { libc::close(fd) };
        }
        std::os::unix::fs::chroot(&root.0).unwrap();
        std::env::set_current_dir("/").unwrap();
        entry_is_and_calls_work("full descriptor table, then chroot", honest_entry());
    });
}

#[test]
fn genuine_procfs_is_accepted() {
    in_child("genuine procfs", || {
        block_pr_get_auxv();
        rawpoll::close(rawpoll::eventfd(0, 0).unwrap()).unwrap();
        // Under qemu-user, /proc/<pid>/auxv is the 64-bit qemu process's: nothing to find there.
        let want = if common::emulated() {
            honest_entry()
        } else {
            glibc_entry()
        };
        if cfg!(target_arch = "x86") && !common::emulated() {
            assert!(
                want.is_some(),
                "glibc found no AT_SYSINFO: no vDSO to check"
            );
        }
        entry_is_and_calls_work("genuine procfs (a rejection is a false alarm)", want);
    });
}

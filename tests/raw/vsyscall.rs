//! How `syscall6` enters the kernel in an ordinary std program, which never calls
//! `raw::init_from_stack`: on 32-bit x86 the first system call looks the vDSO up
//! (`getauxval` with the `std` feature; else `prctl(PR_GET_AUXV)`, else a checked procfs) and
//! every call after enters through `__kernel_vsyscall`; elsewhere there is nothing to find.
//! `cargo test` runs this on x86_64; `ci/i686-std` builds it for i686 with `-Zbuild-std=std` and
//! runs it on the host's 32-bit layer and under qemu-i386.
//!
//! One test only: the lookup happens once per process, and this file checks that it happens
//! right when eight threads race to make the first call.

use rawpoll::raw::{self, syscall6};
use std::sync::{Arc, Barrier};

/// Whether the test runs under qemu-user (`ci/i686-std` and `Cross.toml` set it).
fn emulated() -> bool {
    std::env::var_os("RAWPOLL_EMULATED").is_some()
}

/// What glibc found for the same process (`getauxval(AT_SYSINFO)`), as `vsyscall_entry` reports
/// it: `None` where the key does not exist or the process has no vDSO.
fn glibc_entry() -> Option<usize> {
    if cfg!(target_arch = "x86") {
        const AT_SYSINFO: libc::c_ulong = 32;
        // SAFETY: getauxval reads the process's own auxiliary vector.
        let v = unsafe { libc::getauxval(AT_SYSINFO) } as usize;
        (v != 0).then_some(v)
    } else {
        None
    }
}

#[test]
fn first_calls_race_to_the_same_entry_and_agree_with_glibc() {
    const THREADS: usize = 8;
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                // SAFETY: getpid touches no memory. The first of these in the process makes
                // the lookup.
                let pid = unsafe { syscall6(raw::SYS_GETPID, 0, 0, 0, 0, 0, 0) };
                (pid, raw::vsyscall_entry())
            })
        })
        .collect();
    let want_pid = (std::process::id() as usize, 0);
    // Under qemu-user (`RAWPOLL_EMULATED`) without the `std` feature the lookup finds nothing it
    // trusts: qemu refuses PR_GET_AUXV, and its /proc shows the 64-bit qemu process. The vDSO
    // glibc found is then given by hand below.
    let want_entry = if emulated() && !cfg!(feature = "std") {
        None
    } else {
        glibc_entry()
    };
    for t in threads {
        let (pid, entry) = t.join().expect("thread");
        assert_eq!(pid, want_pid);
        assert_eq!(entry, want_entry);
    }
    if cfg!(target_arch = "x86") {
        assert!(
            glibc_entry().is_some(),
            "glibc found no AT_SYSINFO: this kernel gives i386 processes no vDSO"
        );
    }

    // Results through the entry found, through int $0x80 forced, and through glibc's
    // syscall() (which enters through the vDSO too) agree exactly.
    let through_rawpoll = || {
        // SAFETY: close of a descriptor that cannot be open, and an unknown number.
        unsafe {
            [
                syscall6(raw::SYS_CLOSE, usize::MAX, 0, 0, 0, 0, 0),
                syscall6(raw::SYS_EPOLL_PWAIT2 + 500, 0, 0, 0, 0, 0, 0),
                syscall6(raw::SYS_GETPID, 0, 0, 0, 0, 0, 0),
            ]
        }
    };
    let through_glibc = || {
        [
            (libc::SYS_close, -1),
            (raw::SYS_EPOLL_PWAIT2 as libc::c_long + 500, 0),
            (libc::SYS_getpid, 0),
        ]
        .map(|(num, arg)| {
            // SAFETY: as above, through glibc.
            let r = unsafe { libc::syscall(num, arg as libc::c_long) };
            if r == -1 {
                let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
                (usize::MAX, errno as usize)
            } else {
                (r as usize, 0)
            }
        })
    };
    let found = through_rawpoll();
    // SAFETY: None selects int $0x80, which needs no address.
    unsafe { raw::set_vsyscall_entry(None) };
    assert_eq!(raw::vsyscall_entry(), None);
    let forced = through_rawpoll();
    // SAFETY: this process's __kernel_vsyscall, as glibc found it.
    unsafe { raw::set_vsyscall_entry(glibc_entry()) };
    assert_eq!(raw::vsyscall_entry(), glibc_entry());
    let given = through_rawpoll();
    let glibc = through_glibc();
    assert_eq!(found, glibc);
    assert_eq!(forced, glibc);
    assert_eq!(given, glibc);
    assert_eq!(
        glibc,
        [
            (usize::MAX, libc::EBADF as usize),
            (usize::MAX, libc::ENOSYS as usize),
            want_pid
        ]
    );
}

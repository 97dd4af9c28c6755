//! The `sc` crate as an oracle, on the architectures where it still builds (x86_64, aarch64,
//! riscv64): its syscall numbers must equal ours, and the same raw calls made through both
//! stubs must give the same results.
#![cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]

use rawpoll::raw::{self, syscall6};
use rawpoll::*;

/// `sc` returns the kernel's raw value (`-errno` on failure); ours returns Go's pair.
fn sc_pair(ret: usize) -> (usize, usize) {
    if ret > usize::MAX - 4095 {
        (usize::MAX, ret.wrapping_neg())
    } else {
        (ret, 0)
    }
}

#[test]
fn syscall_numbers_match_sc() {
    let pairs = [
        ("read", raw::SYS_READ, sc::nr::READ),
        ("write", raw::SYS_WRITE, sc::nr::WRITE),
        ("close", raw::SYS_CLOSE, sc::nr::CLOSE),
        ("getpid", raw::SYS_GETPID, sc::nr::GETPID),
        ("kill", raw::SYS_KILL, sc::nr::KILL),
        ("wait4", raw::SYS_WAIT4, sc::nr::WAIT4),
        ("clone", raw::SYS_CLONE, sc::nr::CLONE),
        ("exit_group", raw::SYS_EXIT_GROUP, sc::nr::EXIT_GROUP),
        ("epoll_ctl", raw::SYS_EPOLL_CTL, sc::nr::EPOLL_CTL),
        ("epoll_pwait", raw::SYS_EPOLL_PWAIT, sc::nr::EPOLL_PWAIT),
        ("epoll_pwait2", raw::SYS_EPOLL_PWAIT2, sc::nr::EPOLL_PWAIT2),
        ("eventfd2", raw::SYS_EVENTFD2, sc::nr::EVENTFD2),
        (
            "epoll_create1",
            raw::SYS_EPOLL_CREATE1,
            sc::nr::EPOLL_CREATE1,
        ),
        ("dup3", raw::SYS_DUP3, sc::nr::DUP3),
        ("pipe2", raw::SYS_PIPE2, sc::nr::PIPE2),
        ("prlimit64", raw::SYS_PRLIMIT64, sc::nr::PRLIMIT64),
        ("fcntl", raw::SYS_FCNTL, sc::nr::FCNTL),
        ("ioctl", raw::SYS_IOCTL, sc::nr::IOCTL),
        ("socket", raw::SYS_SOCKET, sc::nr::SOCKET),
        ("bind", raw::SYS_BIND, sc::nr::BIND),
        ("listen", raw::SYS_LISTEN, sc::nr::LISTEN),
        ("accept4", raw::SYS_ACCEPT4, sc::nr::ACCEPT4),
        ("connect", raw::SYS_CONNECT, sc::nr::CONNECT),
        ("getsockname", raw::SYS_GETSOCKNAME, sc::nr::GETSOCKNAME),
        ("getsockopt", raw::SYS_GETSOCKOPT, sc::nr::GETSOCKOPT),
    ];
    for (name, ours, theirs) in pairs {
        assert_eq!(ours, theirs, "{name}");
    }
    println!("{} syscall numbers agree with sc", pairs.len());
}

#[test]
fn same_calls_same_results() {
    // SAFETY (whole test): every call below passes integers or pointers to live locals.
    unsafe {
        let ours = syscall6(raw::SYS_GETPID, 0, 0, 0, 0, 0, 0);
        let theirs = sc_pair(sc::syscall0(sc::nr::GETPID));
        assert_eq!(ours, theirs);
        assert_eq!(ours.0, std::process::id() as usize);

        let ours = syscall6(raw::SYS_CLOSE, usize::MAX, 0, 0, 0, 0, 0);
        let theirs = sc_pair(sc::syscall1(sc::nr::CLOSE, usize::MAX));
        assert_eq!(ours, (usize::MAX, 9));
        assert_eq!(ours, theirs);

        let ours = syscall6(raw::SYS_EPOLL_PWAIT2 + 500, 0, 0, 0, 0, 0, 0);
        let theirs = sc_pair(sc::syscall0(sc::nr::EPOLL_PWAIT2 + 500));
        assert_eq!(ours, (usize::MAX, Errno::ENOSYS.raw() as usize));
        assert_eq!(ours, theirs);

        // An eventfd made through each stub, written through the other, read back through
        // the first: the counters agree.
        let ours_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
        let theirs_fd = sc_pair(sc::syscall2(
            sc::nr::EVENTFD2,
            0,
            (EFD_CLOEXEC | EFD_NONBLOCK) as usize,
        ))
        .0 as RawFd;
        // SAFETY: sc's eventfd2 just created this descriptor; the test owns it from here.
        let theirs_fd = OwnedFd::from_raw_fd(theirs_fd);
        let seven = 7u64.to_ne_bytes();
        let r = sc_pair(sc::syscall3(
            sc::nr::WRITE,
            ours_fd.as_raw_fd() as usize,
            seven.as_ptr() as usize,
            8,
        ));
        assert_eq!(r, (8, 0));
        eventfd_write(&theirs_fd, 9).unwrap();
        assert_eq!(eventfd_read(&ours_fd), Ok(7));
        let mut buf = [0u8; 8];
        let r = sc_pair(sc::syscall3(
            sc::nr::READ,
            theirs_fd.as_raw_fd() as usize,
            buf.as_mut_ptr() as usize,
            8,
        ));
        assert_eq!(r, (8, 0));
        assert_eq!(u64::from_ne_bytes(buf), 9);

        // The six-argument path: epoll_pwait with a signal mask of the wrong size, both ways.
        let ep = epoll_create1(EPOLL_CLOEXEC).unwrap();
        let mask = SigSet::empty();
        let mut events = [EpollEvent::zeroed(); 4];
        let args = [
            ep.as_raw_fd() as usize,
            events.as_mut_ptr() as usize,
            4,
            0,
            &mask as *const SigSet as usize,
            raw::KERNEL_SIGSET_SIZE + 1,
        ];
        let ours = syscall6(
            raw::SYS_EPOLL_PWAIT,
            args[0],
            args[1],
            args[2],
            args[3],
            args[4],
            args[5],
        );
        let theirs = sc_pair(sc::syscall6(
            sc::nr::EPOLL_PWAIT,
            args[0],
            args[1],
            args[2],
            args[3],
            args[4],
            args[5],
        ));
        assert_eq!(ours, (usize::MAX, Errno::EINVAL.raw() as usize));
        assert_eq!(ours, theirs);
        for fd in [ours_fd, theirs_fd, ep] {
            close(fd).unwrap();
        }
    }
}

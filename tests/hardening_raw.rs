//! Issue 5, item 6 on the host: the raw layer and the wrappers given bad pointers (`EFAULT`),
//! unknown system-call numbers (`ENOSYS`) and invalid descriptors (`EBADF`), and an
//! uninitialised or torn-down `Netpoll` (`EBADF`, never a crash). The freestanding `hardening`
//! binary runs the same cases on every target.

use rawpoll::netpoll::{Netpoll, PollDesc};
use rawpoll::raw::{self, syscall6};
use rawpoll::*;

/// Page 0 is never mapped for user code.
const BAD: usize = 8;
static PD: PollDesc = PollDesc::new();

fn err(e: Errno) -> (usize, usize) {
    (usize::MAX, e.raw() as usize)
}

#[test]
fn raw_layer_bad_input() {
    let mut n = 0;
    let mut case = |name: &str, got: (usize, usize), want: (usize, usize)| {
        println!("raw: {name}: {got:?}");
        assert_eq!(got, want, "{name}");
        n += 1;
    };
    let efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).expect("eventfd");
    let ep = epoll_create1(EPOLL_CLOEXEC).expect("epoll");
    epoll_ctl(ep, EPOLL_CTL_ADD, efd, Some(&EpollEvent::new(EPOLLIN, 1))).expect("add");
    // SAFETY (all below): each call is given a bad address the kernel checks and refuses, an
    // invalid descriptor, or an unassigned number; none touches memory of this process.
    unsafe {
        for num in [raw::SYS_EPOLL_PWAIT2 + 100, raw::SYS_EPOLL_PWAIT2 + 500] {
            case(
                &format!("unknown number {num}"),
                syscall6(num, 0, 0, 0, 0, 0, 0),
                err(Errno::ENOSYS),
            );
        }
        case(
            "read into page 0",
            syscall6(raw::SYS_READ, efd as usize, BAD, 8, 0, 0, 0),
            err(Errno::EFAULT),
        );
        case(
            "write from page 0",
            syscall6(raw::SYS_WRITE, efd as usize, BAD, 8, 0, 0, 0),
            err(Errno::EFAULT),
        );
        case(
            "pipe2 into page 0",
            syscall6(raw::SYS_PIPE2, BAD, 0, 0, 0, 0, 0),
            err(Errno::EFAULT),
        );
        case(
            "epoll_ctl ADD, event at page 0",
            syscall6(
                raw::SYS_EPOLL_CTL,
                ep as usize,
                EPOLL_CTL_ADD as usize,
                0,
                BAD,
                0,
                0,
            ),
            err(Errno::EFAULT),
        );
        // The failed read above consumed the counter (the kernel resets it before copying out).
        let _ = eventfd_write(efd, 1);
        case(
            "epoll_pwait, events at page 0, one ready",
            syscall6(raw::SYS_EPOLL_PWAIT, ep as usize, BAD, 1, 0, 0, 0),
            err(Errno::EFAULT),
        );
        case(
            "epoll_pwait2, timeout at page 0",
            {
                let mut ev = [EpollEvent::zeroed(); 1];
                syscall6(
                    raw::SYS_EPOLL_PWAIT2,
                    ep as usize,
                    ev.as_mut_ptr() as usize,
                    1,
                    BAD,
                    0,
                    0,
                )
            },
            err(Errno::EFAULT),
        );
        case(
            "prlimit64 RLIMIT_NOFILE, old limit into page 0",
            syscall6(
                raw::SYS_PRLIMIT64,
                0,
                raw::RLIMIT_NOFILE as usize,
                0,
                BAD,
                0,
                0,
            ),
            err(Errno::EFAULT),
        );
        case(
            "prlimit64 RLIMIT_NOFILE, new limit from page 0",
            syscall6(
                raw::SYS_PRLIMIT64,
                0,
                raw::RLIMIT_NOFILE as usize,
                BAD,
                0,
                0,
                0,
            ),
            err(Errno::EFAULT),
        );
        let closed = 100_000usize;
        let mut buf = [0u8; 8];
        case(
            "read(-1)",
            syscall6(
                raw::SYS_READ,
                usize::MAX,
                buf.as_mut_ptr() as usize,
                8,
                0,
                0,
                0,
            ),
            err(Errno::EBADF),
        );
        case(
            "write(closed)",
            syscall6(raw::SYS_WRITE, closed, buf.as_ptr() as usize, 8, 0, 0, 0),
            err(Errno::EBADF),
        );
        case(
            "close(closed)",
            syscall6(raw::SYS_CLOSE, closed, 0, 0, 0, 0, 0),
            err(Errno::EBADF),
        );
        case(
            "dup3(closed, 50)",
            syscall6(raw::SYS_DUP3, closed, 50, 0, 0, 0, 0),
            err(Errno::EBADF),
        );
        case(
            "fcntl(closed, F_GETFD)",
            syscall6(raw::SYS_FCNTL, closed, 1, 0, 0, 0, 0),
            err(Errno::EBADF),
        );
        case(
            "epoll_ctl on a closed epfd",
            syscall6(
                raw::SYS_EPOLL_CTL,
                closed,
                EPOLL_CTL_DEL as usize,
                efd as usize,
                0,
                0,
                0,
            ),
            err(Errno::EBADF),
        );
        case(
            "epoll_ctl ADD of a closed fd",
            {
                let ev = EpollEvent::new(EPOLLIN, 0);
                syscall6(
                    raw::SYS_EPOLL_CTL,
                    ep as usize,
                    EPOLL_CTL_ADD as usize,
                    closed,
                    &ev as *const EpollEvent as usize,
                    0,
                    0,
                )
            },
            err(Errno::EBADF),
        );
        case(
            "epoll_pwait on a closed epfd",
            {
                let mut ev = [EpollEvent::zeroed(); 1];
                syscall6(
                    raw::SYS_EPOLL_PWAIT,
                    closed,
                    ev.as_mut_ptr() as usize,
                    1,
                    0,
                    0,
                    0,
                )
            },
            err(Errno::EBADF),
        );
    }
    // Wrappers and the poller on invalid descriptors.
    let np = Netpoll::new();
    let results = [
        ("eventfd_write(-1)", eventfd_write(-1, 1).map(|_| 0)),
        ("eventfd_read(-1)", eventfd_read(-1).map(|_| 0)),
        ("dup3(-1, 50)", dup3(-1, 50, 0).map(|_| 0)),
        ("uninitialised open", np.open(efd, &PD).map(|_| 0)),
        ("uninitialised close", np.close(efd).map(|_| 0)),
        ("uninitialised wake", np.wake().map(|_| 0)),
        ("uninitialised poll(0)", np.poll(0, |_, _| {})),
        ("uninitialised poll(-1)", np.poll(-1, |_, _| {})),
        ("uninitialised poll(1 ms)", np.poll(1_000_000, |_, _| {})),
    ];
    for (name, got) in results {
        println!("raw: {name}: {got:?}");
        assert_eq!(got, Err(Errno::EBADF), "{name}");
        n += 1;
    }
    np.init().expect("init");
    let results = [
        ("open(closed fd)", np.open(100_000, &PD)),
        ("close(closed fd)", np.close(100_000)),
    ];
    for (name, got) in results {
        println!("raw: {name}: {got:?}");
        assert_eq!(got, Err(Errno::EBADF), "{name}");
        n += 1;
    }
    let _ = close(efd);
    let _ = close(ep);
    println!("raw: {n} cases passed");
}

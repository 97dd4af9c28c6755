//! The raw layer's error paths on the host, so that bad input is an errno, never a crash: the raw layer and the wrappers given bad pointers (`EFAULT`),
//! unknown system-call numbers (`ENOSYS`) and invalid descriptors (`EBADF`), and an
//! uninitialised or torn-down `Netpoll` (`EBADF`, never a crash). The freestanding `hardening`
//! binary runs the same cases on every target.

use crate::common;

use rawpoll::netpoll::{Interest, Netpoll, PollDesc};
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
    let efd_owned = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).expect("eventfd");
    let ep_owned = epoll_create1(EPOLL_CLOEXEC).expect("epoll");
    epoll_ctl(
        &ep_owned,
        EPOLL_CTL_ADD,
        &efd_owned,
        Some(&EpollEvent::new(EPOLLIN, 1)),
    )
    .expect("add");
    let (efd, ep) = (efd_owned.as_raw_fd(), ep_owned.as_raw_fd());
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
        let _ = eventfd_write(&efd_owned, 1);
        case(
            "epoll_pwait, events at page 0, one ready",
            syscall6(raw::SYS_EPOLL_PWAIT, ep as usize, BAD, 1, 0, 0, 0),
            err(Errno::EFAULT),
        );
        // qemu-user has no epoll_pwait2: there the call is ENOSYS, whatever its arguments.
        let pwait2_err = match common::epoll_pwait2_probe() {
            Ok(_) => Errno::EFAULT,
            Err(e) => e,
        };
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
            err(pwait2_err),
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
    // Wrappers and the poller on descriptors they cannot use. Safe code cannot name a closed
    // number any more (`AsFd`): the wrappers get EBADF from an open descriptor of the wrong
    // direction, and the closed-number cases go through the raw layer.
    let (pipe_r, pipe_w) = pipe2(EPOLL_CLOEXEC).expect("pipe2");
    let np = Netpoll::new();
    let results = [
        (
            "eventfd_write(read end of a pipe)",
            eventfd_write(&pipe_r, 1).map(|_| 0),
        ),
        (
            "eventfd_read(write end of a pipe)",
            eventfd_read(&pipe_w).map(|_| 0),
        ),
        // SAFETY: dup3 takes integers and touches no memory; -1 is never open.
        (
            "dup3(-1, 50)",
            Errno::result(unsafe { syscall6(raw::SYS_DUP3, usize::MAX, 50, 0, 0, 0, 0) }),
        ),
        ("uninitialised open", np.open(&efd_owned, &PD).map(|_| 0)),
        ("uninitialised close", np.close(&efd_owned).map(|_| 0)),
        ("uninitialised wake", np.wake().map(|_| 0)),
        ("uninitialised poll(0)", np.poll(0, |_, _, _| {})),
        ("uninitialised poll(-1)", np.poll(-1, |_, _, _| {})),
        ("uninitialised poll(1 ms)", np.poll(1_000_000, |_, _, _| {})),
    ];
    for (name, got) in results {
        println!("raw: {name}: {got:?}");
        assert_eq!(got, Err(Errno::EBADF), "{name}");
        n += 1;
    }
    np.init().expect("init");
    // What `open` and `close` of a closed fd would get from the kernel, on the poller's own
    // epoll instance (ADD and DEL of a closed number fail and change nothing).
    let on_poller = |op: u32| {
        let ev = EpollEvent::new(EPOLLIN, 0);
        // SAFETY: epoll_ctl reads one live EpollEvent; the number 100,000 is not open.
        Errno::result(unsafe {
            syscall6(
                raw::SYS_EPOLL_CTL,
                np.raw_epoll_fd() as usize,
                op as usize,
                100_000,
                &ev as *const EpollEvent as usize,
                0,
                0,
            )
        })
    };
    let results = [
        ("open(closed fd)", on_poller(EPOLL_CTL_ADD)),
        ("close(closed fd)", on_poller(EPOLL_CTL_DEL)),
    ];
    for (name, got) in results {
        println!("raw: {name}: {got:?}");
        assert_eq!(got, Err(Errno::EBADF), "{name}");
        n += 1;
    }
    // A regular file cannot be polled: EPERM, from open and from open_with alike.
    let file = std::fs::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("a regular file");
    let results = [
        ("open(regular file)", np.open(common::fd_of(&file), &PD)),
        (
            "open_with(regular file, READABLE)",
            np.open_with(common::fd_of(&file), &PD, Interest::READABLE),
        ),
    ];
    for (name, got) in results {
        println!("raw: {name}: {got:?}");
        assert_eq!(got, Err(Errno::EPERM), "{name}");
        n += 1;
    }
    drop(np);
    for fd in [efd_owned, ep_owned, pipe_r, pipe_w] {
        assert_eq!(close(fd), Ok(()));
    }
    println!("raw: {n} cases passed");
}

//! The raw layer's error paths on the host, so that bad input is an errno, never a crash: the
//! raw layer and the wrappers given bad pointers (`EFAULT`), unknown system-call numbers
//! (`ENOSYS`) and invalid descriptors (`EBADF`), and an uninitialised or torn-down `Netpoll`
//! (`EBADF`). The raw calls are the table of `tests/common/raw_cases.rs`, which the freestanding
//! `hardening` binary runs on every target; what needs std (a regular file, the exact
//! `epoll_pwait2` answer of this kernel) is here only.

use crate::common;
use crate::raw_cases::{self, Scratch};
use rawpoll::netpoll::{Interest, Netpoll, PollDesc};
use rawpoll::raw::{self, syscall6};
use rawpoll::*;

static PD: PollDesc = PollDesc::new();

/// A descriptor number that is never open here (above the default descriptor limit).
const CLOSED: usize = 100_000;

#[test]
fn raw_layer_bad_input() {
    let mut n = 0;
    let (efd_owned, ep_owned) = raw_cases::open().expect("eventfd and epoll");
    let mut scratch = Scratch::new();
    let inputs = scratch.inputs(&efd_owned, &ep_owned, CLOSED);
    for case in &raw_cases::cases(&inputs) {
        // SAFETY: the inputs are what `Inputs` asks for, and `scratch` outlives the loop.
        let got = unsafe { case.call() };
        println!("raw: {}: {got:?}", case.name);
        assert_eq!(got, case.expected(), "{}", case.name);
        n += 1;
    }
    // qemu-user has no epoll_pwait2: there the call is ENOSYS, whatever its arguments.
    let pwait2_err = match common::epoll_pwait2_probe() {
        Ok(_) => Errno::EFAULT,
        Err(e) => e,
    };
    // SAFETY: the kernel refuses the timeout at page 0 before it writes into `scratch`.
    let got = unsafe {
        syscall6(
            raw::SYS_EPOLL_PWAIT2,
            inputs.ep,
            inputs.events,
            1,
            raw_cases::BAD,
            0,
            0,
        )
    };
    println!("raw: epoll_pwait2, timeout at page 0: {got:?}");
    assert_eq!(got, (usize::MAX, pwait2_err.raw() as usize), "epoll_pwait2");
    n += 1;
    // Wrappers and the poller on descriptors they cannot use. Safe code cannot name a closed
    // number any more (`AsFd`): the wrappers get EBADF from an open descriptor of the wrong
    // direction, and the closed-number cases go through the raw layer.
    let (pipe_r, pipe_w) = pipe2(EPOLL_CLOEXEC).expect("pipe2");
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
    ];
    let np = Netpoll::new();
    for (name, got) in results
        .into_iter()
        .chain(raw_cases::uninitialised(&np, &efd_owned, &PD))
    {
        println!("raw: {name}: {got:?}");
        assert_eq!(got, Err(Errno::EBADF), "{name}");
        n += 1;
    }
    np.init().expect("init");
    // What `open` and `close` of a closed fd would get from the kernel, on the poller's own
    // epoll instance (ADD and DEL of a closed number fail and change nothing).
    let on_poller = |op: u32| {
        let ev = EpollEvent::new(EPOLLIN, 0);
        // SAFETY: epoll_ctl reads one live EpollEvent; the number CLOSED is not open.
        Errno::result(unsafe {
            syscall6(
                raw::SYS_EPOLL_CTL,
                np.raw_epoll_fd() as usize,
                op as usize,
                CLOSED,
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
    // The table, epoll_pwait2, 3 wrappers, 6 uninitialised calls, 2 on the poller, 2 files.
    assert_eq!(n, raw_cases::CASES + 1 + 3 + 6 + 2 + 2, "every case ran");
    println!("raw: {n} cases passed");
}

//! The conformance runner: every stub and wrapper of rawpoll exercised with real system calls, on
//! whatever target it is built for. One line per case, then `N passed, N failed`; the exit status
//! is non-zero on any failure.
#![no_std]
#![no_main]

use rawpoll::netpoll::{Interest, Netpoll, PollDesc, Ready, Tag};
use rawpoll::raw::{self, syscall6};
use rawpoll::*;
use rawpoll_freestanding::check::Checker;
use rawpoll_freestanding::{
    counter_read, counter_write, entry, exit, exit_code, fcntl_getfd, fd_is_open, fork, print,
    resume, share, sleep_ms, stop, wait, wait_until, woken_by_a_child,
};

entry!(main);

mod oracle {
    //! Compile-time agreement of every number, flag and errno rawpoll defines with the kernel's
    //! headers as linux-raw-sys carries them, for the target being built.
    use linux_raw_sys::{errno, general as k};
    use rawpoll::raw;

    macro_rules! same {
        ($($ours:expr => $kernels:expr),* $(,)?) => {
            $(const _: () = assert!($ours as u64 == $kernels as u64, stringify!($ours));)*
        };
    }

    same! {
        raw::SYS_READ => k::__NR_read,
        raw::SYS_WRITE => k::__NR_write,
        raw::SYS_CLOSE => k::__NR_close,
        raw::SYS_GETPID => k::__NR_getpid,
        raw::SYS_KILL => k::__NR_kill,
        raw::SYS_CLONE => k::__NR_clone,
        raw::SYS_EXIT_GROUP => k::__NR_exit_group,
        raw::SYS_EPOLL_CTL => k::__NR_epoll_ctl,
        raw::SYS_EPOLL_PWAIT => k::__NR_epoll_pwait,
        raw::SYS_EPOLL_PWAIT2 => k::__NR_epoll_pwait2,
        raw::SYS_EVENTFD2 => k::__NR_eventfd2,
        raw::SYS_EPOLL_CREATE1 => k::__NR_epoll_create1,
        raw::SYS_DUP3 => k::__NR_dup3,
        raw::SYS_PIPE2 => k::__NR_pipe2,
        raw::SYS_PRLIMIT64 => k::__NR_prlimit64,
        raw::SYS_REBOOT => k::__NR_reboot,
        raw::SYS_IOCTL => k::__NR_ioctl,
        raw::SYS_SOCKET => k::__NR_socket,
        raw::SYS_BIND => k::__NR_bind,
        raw::SYS_LISTEN => k::__NR_listen,
        raw::SYS_ACCEPT4 => k::__NR_accept4,
        raw::SYS_CONNECT => k::__NR_connect,
        raw::SYS_GETSOCKNAME => k::__NR_getsockname,
        raw::SYS_GETSOCKOPT => k::__NR_getsockopt,
        raw::SIGCHLD => k::SIGCHLD,
        raw::RLIMIT_NOFILE => k::RLIMIT_NOFILE,
        raw::KERNEL_SIGSET_SIZE => k::_NSIG / 8,
        rawpoll::EFD_CLOEXEC => k::EFD_CLOEXEC,
        rawpoll::EFD_NONBLOCK => k::EFD_NONBLOCK,
        rawpoll::EFD_SEMAPHORE => k::EFD_SEMAPHORE,
        rawpoll::EPOLL_CLOEXEC => k::EPOLL_CLOEXEC,
        rawpoll::EPOLL_CTL_ADD => k::EPOLL_CTL_ADD,
        rawpoll::EPOLL_CTL_DEL => k::EPOLL_CTL_DEL,
        rawpoll::EPOLL_CTL_MOD => k::EPOLL_CTL_MOD,
        rawpoll::EPOLLIN => k::EPOLLIN,
        rawpoll::EPOLLPRI => k::EPOLLPRI,
        rawpoll::EPOLLOUT => k::EPOLLOUT,
        rawpoll::EPOLLERR => k::EPOLLERR,
        rawpoll::EPOLLHUP => k::EPOLLHUP,
        rawpoll::EPOLLRDHUP => k::EPOLLRDHUP,
        rawpoll::EPOLLEXCLUSIVE => k::EPOLLEXCLUSIVE,
        rawpoll::EPOLLONESHOT => k::EPOLLONESHOT,
        rawpoll::EPOLLET => k::EPOLLET,
        rawpoll::Errno::EPERM.raw() => errno::EPERM,
        rawpoll::Errno::ENOENT.raw() => errno::ENOENT,
        rawpoll::Errno::ESRCH.raw() => errno::ESRCH,
        rawpoll::Errno::EINTR.raw() => errno::EINTR,
        rawpoll::Errno::EIO.raw() => errno::EIO,
        rawpoll::Errno::EBADF.raw() => errno::EBADF,
        rawpoll::Errno::ECHILD.raw() => errno::ECHILD,
        rawpoll::Errno::EAGAIN.raw() => errno::EAGAIN,
        rawpoll::Errno::ENOMEM.raw() => errno::ENOMEM,
        rawpoll::Errno::EACCES.raw() => errno::EACCES,
        rawpoll::Errno::EFAULT.raw() => errno::EFAULT,
        rawpoll::Errno::EBUSY.raw() => errno::EBUSY,
        rawpoll::Errno::EEXIST.raw() => errno::EEXIST,
        rawpoll::Errno::EINVAL.raw() => errno::EINVAL,
        rawpoll::Errno::ENFILE.raw() => errno::ENFILE,
        rawpoll::Errno::EMFILE.raw() => errno::EMFILE,
        rawpoll::Errno::ENOSPC.raw() => errno::ENOSPC,
        rawpoll::Errno::EPIPE.raw() => errno::EPIPE,
        rawpoll::Errno::ENOSYS.raw() => errno::ENOSYS,
        rawpoll::Errno::ELOOP.raw() => errno::ELOOP,
        rawpoll::Errno::ETIMEDOUT.raw() => errno::ETIMEDOUT,
        rawpoll::Errno::ECANCELED.raw() => errno::ECANCELED,
        core::mem::size_of::<rawpoll::EpollEvent>() => core::mem::size_of::<k::epoll_event>(),
        core::mem::align_of::<rawpoll::EpollEvent>() => core::mem::align_of::<k::epoll_event>(),
        core::mem::size_of::<rawpoll::Timespec>() => core::mem::size_of::<k::__kernel_timespec>(),
    }

    // 32-bit RISC-V has no wait4, and its fcntl is the asm-generic 32-bit name, fcntl64.
    #[cfg(not(target_arch = "riscv32"))]
    same! {
        raw::SYS_WAIT4 => k::__NR_wait4,
        raw::SYS_FCNTL => k::__NR_fcntl,
    }
    #[cfg(target_arch = "riscv32")]
    same! {
        raw::SYS_FCNTL => k::__NR_fcntl64,
    }
}

/// A number no architecture assigns: past the end of every table, and inside the range each
/// ABI's entry point accepts (MIPS o32 4000-4999, n64 5000-5999).
const UNKNOWN_SYSCALL: usize = raw::SYS_EPOLL_PWAIT2 + 500;

/// A user address no process maps (page 0 is never mapped for user code).
const BAD_POINTER: usize = 8;

/// `O_CLOEXEC` for `pipe2`: `EFD_CLOEXEC`'s value (0x80000, or 0x400000 on SPARC).
const O_CLOEXEC: u32 = EFD_CLOEXEC;

/// A call on a descriptor number that is not open (closed, or -1), through `syscall6`: a borrow
/// of such a number would break `BorrowedFd::borrow_raw`'s contract, so no wrapper is given it.
fn on_number(num: usize, fd: RawFd, a2: usize, a3: usize, a4: usize) -> Result<usize, Errno> {
    // SAFETY: the callers pass buffers valid for what the call may write (or none); on a
    // number that is not open the kernel fails with EBADF before it touches them.
    Errno::result(unsafe { syscall6(num, fd as usize, a2, a3, a4, 0, 0) })
}

/// The number of a new descriptor, or the error that came instead of it.
fn number(fd: &Result<OwnedFd, Errno>) -> Result<RawFd, Errno> {
    fd.as_ref().map(|fd| fd.as_raw_fd()).map_err(|e| *e)
}

fn main() -> i32 {
    let mut c = Checker::new();
    print("rawpoll conformance runner\n");
    raw_layer(&mut c);
    eventfd_cases(&mut c);
    epoll_cases(&mut c);
    six_argument_cases(&mut c);
    pwait2_cases(&mut c);
    process_cases(&mut c);
    netpoll_cases(&mut c);
    rawpoll_freestanding::probe::run(&mut c);
    #[cfg(any(
        target_arch = "mips",
        target_arch = "mips32r6",
        target_arch = "mips64",
        target_arch = "mips64r6"
    ))]
    rawpoll_freestanding::probe::restart::cases(&mut c);
    rawpoll_freestanding::vdso::cases(&mut c);
    c.finish()
}

fn raw_layer(c: &mut Checker) {
    // Every bounded wait of the runners naps with it: a kernel without the call would turn the
    // waits into spins.
    c.eq("nap: clock_nanosleep 1 ms -> Ok", sleep_ms(1), Ok(()));
    // SAFETY: an unknown number touches nothing.
    let r = unsafe { syscall6(UNKNOWN_SYSCALL, 0, 0, 0, 0, 0, 0) };
    c.eq(
        "syscall6 unknown number -> (MAX, ENOSYS)",
        r,
        (usize::MAX, Errno::ENOSYS.raw() as usize),
    );
    // SAFETY: getpid touches no memory.
    let (pid, e) = unsafe { syscall6(raw::SYS_GETPID, 0, 0, 0, 0, 0, 0) };
    c.that(
        "syscall6 getpid -> (pid > 0, 0)",
        e == 0 && pid > 0 && pid < usize::MAX / 2,
        pid,
    );
    // SAFETY: kill with signal 0 only checks that the process exists.
    let r = unsafe { syscall6(raw::SYS_KILL, pid, 0, 0, 0, 0, 0) };
    c.eq("syscall6 kill(self, 0) -> (0, 0)", r, (0, 0));
    let fd = eventfd(1, EFD_CLOEXEC);
    // SAFETY: the kernel writes 8 bytes at an unmapped address and fails cleanly with EFAULT.
    let r = unsafe {
        syscall6(
            raw::SYS_READ,
            number(&fd).unwrap_or(-1) as usize,
            BAD_POINTER,
            8,
            0,
            0,
            0,
        )
    };
    c.eq(
        "syscall6 read into an unmapped page -> EFAULT",
        r,
        (usize::MAX, Errno::EFAULT.raw() as usize),
    );
    drop(fd);
    let r = Errno::result((usize::MAX, 9));
    c.eq("Errno::result maps (MAX, 9) to EBADF", r, Err(Errno::EBADF));
    // SAFETY: close of a descriptor that cannot be open.
    let r = unsafe { syscall6(raw::SYS_CLOSE, usize::MAX, 0, 0, 0, 0, 0) };
    c.eq(
        "syscall6 close(-1) -> EBADF",
        r,
        (usize::MAX, Errno::EBADF.raw() as usize),
    );
}

fn eventfd_cases(c: &mut Checker) {
    let fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    c.that(
        "eventfd(0, CLOEXEC|NONBLOCK) -> fd >= 0",
        matches!(number(&fd), Ok(n) if n >= 0),
        number(&fd),
    );
    c.eq(
        "eventfd bad flags -> EINVAL",
        number(&eventfd(0, 0x2)),
        Err(Errno::EINVAL),
    );
    let Ok(fd) = fd else { return };
    c.eq(
        "eventfd read when zero, non-blocking -> EAGAIN",
        eventfd_read(&fd),
        Err(Errno::EAGAIN),
    );
    c.eq("eventfd write 3", eventfd_write(&fd, 3), Ok(()));
    c.eq("eventfd write 4", eventfd_write(&fd, 4), Ok(()));
    c.eq(
        "eventfd read -> 7 (values add up)",
        eventfd_read(&fd),
        Ok(7),
    );
    c.eq(
        "eventfd read again -> EAGAIN (read resets)",
        eventfd_read(&fd),
        Err(Errno::EAGAIN),
    );
    c.eq(
        "eventfd write u64::MAX -> EINVAL",
        eventfd_write(&fd, u64::MAX),
        Err(Errno::EINVAL),
    );
    c.eq(
        "eventfd write 0xfffffffffffffffe",
        eventfd_write(&fd, 0xffff_ffff_ffff_fffe),
        Ok(()),
    );
    c.eq(
        "eventfd write 1 past the maximum, non-blocking -> EAGAIN",
        eventfd_write(&fd, 1),
        Err(Errno::EAGAIN),
    );
    c.eq(
        "eventfd read -> 0xfffffffffffffffe",
        eventfd_read(&fd),
        Ok(0xffff_ffff_ffff_fffe),
    );
    c.eq(
        "eventfd 4-byte write -> EINVAL",
        write(&fd, &[1, 0, 0, 0]),
        Err(Errno::EINVAL),
    );
    c.eq(
        "eventfd 4-byte read -> EINVAL",
        read(&fd, &mut [0u8; 4]),
        Err(Errno::EINVAL),
    );
    // From here on the number is not open: only syscall6 may be given it.
    let closed = fd.as_raw_fd();
    c.eq("close eventfd", close(fd), Ok(()));
    c.eq(
        "close it again (syscall6) -> EBADF",
        on_number(raw::SYS_CLOSE, closed, 0, 0, 0),
        Err(Errno::EBADF),
    );
    let mut buf = [0u8; 8];
    c.eq(
        "read a closed fd (syscall6) -> EBADF",
        on_number(raw::SYS_READ, closed, buf.as_mut_ptr() as usize, 8, 0),
        Err(Errno::EBADF),
    );
    c.eq(
        "write a closed fd (syscall6) -> EBADF",
        on_number(raw::SYS_WRITE, closed, buf.as_ptr() as usize, 8, 0),
        Err(Errno::EBADF),
    );

    let Some(sem) = c.need(
        "semaphore eventfd",
        eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC),
    ) else {
        return;
    };
    c.eq("semaphore eventfd read -> 1", eventfd_read(&sem), Ok(1));
    c.eq(
        "semaphore eventfd read -> 1 again",
        eventfd_read(&sem),
        Ok(1),
    );
    c.eq(
        "semaphore eventfd read -> EAGAIN",
        eventfd_read(&sem),
        Err(Errno::EAGAIN),
    );
}

fn epoll_cases(c: &mut Checker) {
    let ep = epoll_create1(EPOLL_CLOEXEC);
    c.that(
        "epoll_create1(CLOEXEC) -> fd >= 0",
        matches!(number(&ep), Ok(n) if n >= 0),
        number(&ep),
    );
    c.eq(
        "epoll_create1 bad flags -> EINVAL",
        number(&epoll_create1(1)),
        Err(Errno::EINVAL),
    );
    let Ok(ep) = ep else { return };
    let Some(efd) = c.need("eventfd", eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) else {
        return;
    };
    let data = 0x8000_0001_dead_beef_u64;
    let ev = EpollEvent::new(EPOLLIN, data);
    c.eq(
        "epoll_ctl ADD",
        epoll_ctl(&ep, EPOLL_CTL_ADD, &efd, Some(&ev)),
        Ok(()),
    );
    c.eq(
        "epoll_ctl ADD twice -> EEXIST",
        epoll_ctl(&ep, EPOLL_CTL_ADD, &efd, Some(&ev)),
        Err(Errno::EEXIST),
    );
    c.eq(
        "epoll_ctl bad op -> EINVAL",
        epoll_ctl(&ep, 99, &efd, Some(&ev)),
        Err(Errno::EINVAL),
    );
    c.eq(
        "epoll_ctl ADD epfd to itself -> EINVAL",
        epoll_ctl(&ep, EPOLL_CTL_ADD, &ep, Some(&ev)),
        Err(Errno::EINVAL),
    );
    // The kernel copies the event in before it looks at the descriptors.
    c.eq(
        "epoll_ctl ADD without an event -> EFAULT",
        epoll_ctl(&ep, EPOLL_CTL_ADD, &efd, None),
        Err(Errno::EFAULT),
    );
    let mut events = [EpollEvent::zeroed(); 4];
    c.eq(
        "epoll_pwait(0) on a quiet set -> 0",
        epoll_pwait(&ep, &mut events, 0),
        Ok(0),
    );
    c.eq(
        "epoll_pwait(5 ms) on a quiet set -> 0 after the timeout",
        epoll_pwait(&ep, &mut events, 5),
        Ok(0),
    );
    let _ = eventfd_write(&efd, 1);
    c.eq(
        "epoll_pwait(-1) with the eventfd ready -> 1",
        epoll_pwait(&ep, &mut events, -1),
        Ok(1),
    );
    c.eq("event bits -> EPOLLIN", events[0].events(), EPOLLIN);
    c.eq("event data -> the full 64-bit word", events[0].data(), data);
    c.eq(
        "epoll_pwait into an empty slice -> EINVAL",
        epoll_pwait(&ep, &mut [], 0),
        Err(Errno::EINVAL),
    );
    let ev2 = EpollEvent::new(EPOLLIN | EPOLLOUT, !data);
    c.eq(
        "epoll_ctl MOD",
        epoll_ctl(&ep, EPOLL_CTL_MOD, &efd, Some(&ev2)),
        Ok(()),
    );
    c.eq(
        "epoll_pwait after MOD -> 1",
        epoll_pwait(&ep, &mut events, 0),
        Ok(1),
    );
    c.eq(
        "event bits after MOD -> EPOLLIN|EPOLLOUT",
        events[0].events(),
        EPOLLIN | EPOLLOUT,
    );
    c.eq(
        "event data after MOD -> its complement",
        events[0].data(),
        !data,
    );
    c.eq(
        "epoll_ctl DEL",
        epoll_ctl(&ep, EPOLL_CTL_DEL, &efd, None),
        Ok(()),
    );
    c.eq(
        "epoll_ctl DEL again -> ENOENT",
        epoll_ctl(&ep, EPOLL_CTL_DEL, &efd, None),
        Err(Errno::ENOENT),
    );
    c.eq(
        "epoll_pwait after DEL -> 0",
        epoll_pwait(&ep, &mut events, 0),
        Ok(0),
    );
    c.eq(
        "epoll_pwait on an eventfd (not epoll) -> EINVAL",
        epoll_pwait(&efd, &mut events, 0),
        Err(Errno::EINVAL),
    );

    let pipe = pipe2(O_CLOEXEC);
    let ends = pipe
        .as_ref()
        .map(|(r, w)| (r.as_raw_fd(), w.as_raw_fd()))
        .map_err(|e| *e);
    c.that(
        "pipe2(O_CLOEXEC) -> (read end, write end), two open numbers",
        matches!(ends, Ok((r, w)) if r >= 0 && w >= 0 && r != w),
        ends,
    );
    let Ok((r, w)) = pipe else { return };
    let ev = EpollEvent::new(EPOLLIN | EPOLLRDHUP, 7);
    c.eq(
        "epoll_ctl ADD pipe read end",
        epoll_ctl(&ep, EPOLL_CTL_ADD, &r, Some(&ev)),
        Ok(()),
    );
    c.eq("write 3 bytes into the pipe", write(&w, b"abc"), Ok(3));
    c.eq(
        "epoll_pwait -> pipe readable",
        epoll_pwait(&ep, &mut events, 0),
        Ok(1),
    );
    c.eq("pipe event bits -> EPOLLIN", events[0].events(), EPOLLIN);
    let mut buf = [0u8; 8];
    c.eq("read the pipe -> 3", read(&r, &mut buf), Ok(3));
    c.eq(
        "pipe bytes",
        u32::from_ne_bytes([buf[0], buf[1], buf[2], 0]),
        u32::from_ne_bytes(*b"abc\0"),
    );
    drop(w);
    c.eq(
        "epoll_pwait after the writer closed -> 1",
        epoll_pwait(&ep, &mut events, 0),
        Ok(1),
    );
    c.eq(
        "hang-up event bits -> EPOLLHUP",
        events[0].events(),
        EPOLLHUP,
    );
    if let Some(mut onto) = c.need("eventfd to dup3 onto", eventfd(0, EFD_CLOEXEC)) {
        let kept = onto.as_raw_fd();
        c.eq(
            "dup3 into an owned fd -> Ok, its number kept",
            (dup3(&r, &mut onto, 0), onto.as_raw_fd()),
            (Ok(()), kept),
        );
        c.eq(
            "  it is the pipe's read end now: end of file -> 0",
            read(&onto, &mut buf),
            Ok(0),
        );
        // SAFETY: `onto` stays open for the call, and dup3 refuses old == new (EINVAL) before
        // it replaces anything.
        let same = unsafe { BorrowedFd::borrow_raw(kept) };
        c.eq(
            "dup3 onto itself -> EINVAL",
            dup3(same, &mut onto, 0),
            Err(Errno::EINVAL),
        );
    }
    drop(r);
    let closed = ep.as_raw_fd();
    c.eq("close epoll fd", close(ep), Ok(()));
    let ev_p = &ev as *const EpollEvent as usize;
    c.eq(
        "epoll_ctl on a closed epfd (syscall6) -> EBADF",
        on_number(
            raw::SYS_EPOLL_CTL,
            closed,
            EPOLL_CTL_ADD as usize,
            efd.as_raw_fd() as usize,
            ev_p,
        ),
        Err(Errno::EBADF),
    );
    c.eq(
        "epoll_pwait on a closed epfd (syscall6) -> EBADF",
        on_number(
            raw::SYS_EPOLL_PWAIT,
            closed,
            events.as_mut_ptr() as usize,
            events.len(),
            0,
        ),
        Err(Errno::EBADF),
    );
    c.eq(
        "epoll_ctl ADD a closed fd (syscall6) -> EBADF",
        match epoll_create1(EPOLL_CLOEXEC) {
            Ok(ep) => {
                // SAFETY: ADD reads the event at `ev_p`, which is live; the number 50 above an
                // open epoll fd is not open here.
                Errno::result(unsafe {
                    syscall6(
                        raw::SYS_EPOLL_CTL,
                        ep.as_raw_fd() as usize,
                        EPOLL_CTL_ADD as usize,
                        ep.as_raw_fd() as usize + 50,
                        ev_p,
                        0,
                        0,
                    )
                })
            }
            Err(e) => Err(e),
        },
        Err(Errno::EBADF),
    );
    io_safety_cases(c);
}

/// The I/O-safe wrappers: an `OwnedFd` closes its descriptor exactly once, by `close` or by
/// being dropped; afterwards the number is not open (`fcntl` through `syscall6` -> EBADF).
fn io_safety_cases(c: &mut Checker) {
    const FD_CLOEXEC: usize = 1;
    let Some(fd) = c.need("eventfd", eventfd(0, EFD_CLOEXEC)) else {
        return;
    };
    let n = fd.as_raw_fd();
    c.eq(
        "an OwnedFd is open: fcntl(F_GETFD) -> FD_CLOEXEC",
        fcntl_getfd(n),
        Ok(FD_CLOEXEC),
    );
    c.eq("close(OwnedFd) -> Ok", close(fd), Ok(()));
    c.eq(
        "  then its number is closed: fcntl -> EBADF",
        fcntl_getfd(n),
        Err(Errno::EBADF),
    );
    let Some((r, w)) = c.need("pipe2", pipe2(O_CLOEXEC)) else {
        return;
    };
    let (rn, wn) = (r.as_raw_fd(), w.as_raw_fd());
    drop(w);
    c.eq(
        "dropping the write end closes it, the read end stays: fcntl -> (EBADF, FD_CLOEXEC)",
        (fcntl_getfd(wn), fcntl_getfd(rn)),
        (Err(Errno::EBADF), Ok(FD_CLOEXEC)),
    );
    drop(r);
    c.eq(
        "  then the read end's: fcntl -> EBADF",
        fcntl_getfd(rn),
        Err(Errno::EBADF),
    );
}

/// A new epoll instance and a new non-blocking eventfd at `initval`, registered in it for
/// `EPOLLIN` with `data`; `None` (after a failed case) if either cannot be had.
fn epoll_with_eventfd(c: &mut Checker, initval: u32, data: u64) -> Option<(OwnedFd, OwnedFd)> {
    let ep = c.need("epoll_create1", epoll_create1(EPOLL_CLOEXEC))?;
    let efd = c.need("eventfd", eventfd(initval, EFD_CLOEXEC | EFD_NONBLOCK))?;
    let event = EpollEvent::new(EPOLLIN, data);
    c.need(
        "epoll_ctl ADD",
        epoll_ctl(&ep, EPOLL_CTL_ADD, &efd, Some(&event)),
    )?;
    Some((ep, efd))
}

/// `epoll_pwait`'s fifth and sixth arguments (sigmask, sigsetsize) decide the result: this is
/// what catches a stub that loses them (MIPS o32 stack slots, i386 ebp).
fn six_argument_cases(c: &mut Checker) {
    // `_efd` stays open: its event is what the waits below report.
    let Some((ep, _efd)) = epoll_with_eventfd(c, 1, 42) else {
        return;
    };
    let mut mask = SigSet::empty();
    let _ = mask.add(10);
    let mut events = [EpollEvent::zeroed(); 2];
    let pwait = |events: &mut [EpollEvent; 2], mask: usize, size: usize| {
        // SAFETY: `events` has room for 2 entries; `mask` is the address under test.
        unsafe {
            syscall6(
                raw::SYS_EPOLL_PWAIT,
                ep.as_raw_fd() as usize,
                events.as_mut_ptr() as usize,
                2,
                0,
                mask,
                size,
            )
        }
    };
    let mask_ptr = &mask as *const SigSet as usize;
    let r = pwait(&mut events, mask_ptr, raw::KERNEL_SIGSET_SIZE + 1);
    c.eq(
        "epoll_pwait sigmask with sigsetsize+1 -> EINVAL",
        r,
        (usize::MAX, Errno::EINVAL.raw() as usize),
    );
    let r = pwait(&mut events, mask_ptr, raw::KERNEL_SIGSET_SIZE / 2);
    c.eq(
        "epoll_pwait sigmask with half the sigsetsize -> EINVAL",
        r,
        (usize::MAX, Errno::EINVAL.raw() as usize),
    );
    let r = pwait(&mut events, BAD_POINTER, raw::KERNEL_SIGSET_SIZE);
    c.eq(
        "epoll_pwait unmapped sigmask, right size -> EFAULT",
        r,
        (usize::MAX, Errno::EFAULT.raw() as usize),
    );
    let r = pwait(&mut events, mask_ptr, raw::KERNEL_SIGSET_SIZE);
    c.eq("epoll_pwait real sigmask, right size -> 1 event", r, (1, 0));
    c.eq("its data", events[0].data(), 42);
    c.eq(
        "epoll_pwait_sigmask wrapper -> 1",
        epoll_pwait_sigmask(&ep, &mut events, 0, &mask),
        Ok(1),
    );
}

fn pwait2_cases(c: &mut Checker) {
    let Some(ep) = c.need("epoll_create1", epoll_create1(EPOLL_CLOEXEC)) else {
        return;
    };
    let mut events = [EpollEvent::zeroed(); 2];
    let zero = Timespec::from_nanos(0);
    match epoll_pwait2(&ep, &mut events, Some(&zero), None) {
        Err(e) if e == Errno::ENOSYS => {
            c.eq(
                "epoll_pwait2 not provided here -> ENOSYS, nothing more to test",
                e,
                Errno::ENOSYS,
            );
        }
        r => {
            c.eq("epoll_pwait2(0 ns) on a quiet set -> 0", r, Ok(0));
            let Some(efd) = c.need("eventfd", eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK)) else {
                return;
            };
            let _ = epoll_ctl(&ep, EPOLL_CTL_ADD, &efd, Some(&EpollEvent::new(EPOLLIN, 5)));
            let short = Timespec::from_nanos(100_000);
            let mut mask = SigSet::empty();
            let _ = mask.add(10);
            c.eq(
                "epoll_pwait2(100 us, sigmask) ready -> 1",
                epoll_pwait2(&ep, &mut events, Some(&short), Some(&mask)),
                Ok(1),
            );
            c.eq("epoll_pwait2 data", events[0].data(), 5);
            let bad = Timespec {
                tv_sec: 0,
                tv_nsec: 2_000_000_000,
            };
            c.eq(
                "epoll_pwait2 tv_nsec out of range -> EINVAL",
                epoll_pwait2(&ep, &mut events, Some(&bad), None),
                Err(Errno::EINVAL),
            );
        }
    }
}

fn process_cases(c: &mut Checker) {
    // A child exits with a chosen code; the parent sees exactly it.
    match fork() {
        Ok(0) => exit(42),
        Ok(pid) => {
            let status = wait(pid);
            c.eq(
                "fork + wait4: child exit code",
                status.map(rawpoll_freestanding::exit_code),
                Ok(Some(42)),
            );
        }
        Err(e) => {
            c.eq("fork", Err(e), Ok(0));
        }
    }
    restarted_after_stop(c);
    // A blocking epoll_pwait(-1) in the parent is woken by the child's eventfd write.
    let Some((ep, efd)) = epoll_with_eventfd(c, 0, 0x1234_5678_9abc_def0) else {
        return;
    };
    match fork() {
        Ok(0) => {
            // Give the parent time to block first (it is woken either way).
            let _ = sleep_ms(20);
            exit(if eventfd_write(&efd, 5).is_ok() { 0 } else { 1 })
        }
        Ok(pid) => {
            let mut events = [EpollEvent::zeroed(); 1];
            let n = loop {
                match epoll_pwait(&ep, &mut events, -1) {
                    Err(e) if e == Errno::EINTR => continue,
                    r => break r,
                }
            };
            c.eq("blocking epoll_pwait(-1) woken by a child -> 1", n, Ok(1));
            c.eq("wake data", events[0].data(), 0x1234_5678_9abc_def0);
            c.eq("counter from the child", eventfd_read(&efd), Ok(5));
            c.eq(
                "child exit code",
                wait(pid).map(rawpoll_freestanding::exit_code),
                Ok(Some(0)),
            );
        }
        Err(e) => {
            c.eq("fork", Err(e), Ok(0));
        }
    }
    let closed = efd.as_raw_fd();
    drop(efd);
    drop(ep);
    c.eq(
        "fd_is_open on a closed fd -> false",
        fd_is_open(closed),
        false,
    );
    c.eq("fd_is_open(stdout) -> true", fd_is_open(1), true);
}

static POLLER: Netpoll = Netpoll::new();
static DESCRIPTORS: [PollDesc; 2] = [PollDesc::new(), PollDesc::new()];

/// Polls once, returning `(count, user data of the last reported descriptor, its readiness)`.
fn poll_once(delay_ns: i64) -> (Result<usize, Errno>, usize, Ready) {
    let mut last = (0, Ready::default());
    let n = POLLER.poll(delay_ns, |pd, ready, _| last = (pd.user_data(), ready));
    (n, last.0, last.1)
}

/// The wake eventfd's counter: how many edges were written since it was last zeroed (EAGAIN:
/// none). The poller owns the descriptor privately, so it is read through `syscall6`; a poll
/// never reads it (edge-triggered), so the count is exactly the writes.
fn wake_writes() -> Result<u64, Errno> {
    counter_read(POLLER.raw_wake_fd())
}

fn netpoll_cases(c: &mut Checker) {
    c.eq(
        "netpoll poll before init -> EBADF",
        POLLER.poll(0, |_, _, _| {}),
        Err(Errno::EBADF),
    );
    c.eq(
        "netpoll wake before init -> EBADF",
        POLLER.wake(),
        Err(Errno::EBADF),
    );
    c.eq("netpoll init", POLLER.init(), Ok(()));
    c.eq(
        "netpoll init again -> EBUSY",
        POLLER.init(),
        Err(Errno::EBUSY),
    );
    c.eq(
        "netpoll is_poll_descriptor(wake fd)",
        POLLER.is_poll_descriptor(POLLER.raw_wake_fd()),
        true,
    );
    c.eq(
        "netpoll is_poll_descriptor(stdout)",
        POLLER.is_poll_descriptor(1),
        false,
    );

    let Some((r, w)) = c.need("pipe2", pipe2(EFD_CLOEXEC | EFD_NONBLOCK)) else {
        return;
    };
    let pd = &DESCRIPTORS[0];
    pd.set_user_data(11);
    c.eq("netpoll open pipe read end", POLLER.open(&r, pd), Ok(()));
    c.eq(
        "netpoll open it twice -> EEXIST",
        POLLER.open(&r, pd),
        Err(Errno::EEXIST),
    );
    c.eq("netpoll poll(0), nothing ready -> 0", poll_once(0).0, Ok(0));
    let _ = write(&w, b"go");
    let (n, data, ready) = poll_once(0);
    c.eq("netpoll poll(0) after a write -> 1", n, Ok(1));
    c.eq("  its descriptor's user data", data, 11);
    c.eq(
        "  readable, not writable, no error, nothing closed: EPOLLIN",
        ready,
        Ready {
            readable: true,
            writable: false,
            error: false,
            read_closed: false,
            hang_up: false,
            events: EPOLLIN,
        },
    );
    c.eq("netpoll close", POLLER.close(&r), Ok(()));
    c.eq(
        "netpoll close again -> ENOENT",
        POLLER.close(&r),
        Err(Errno::ENOENT),
    );
    drop((r, w));

    // A pending wake survives non-blocking polls and is consumed by a blocking one. Nobody
    // sleeps in the poller here, so no wake writes the eventfd: the flag alone carries it, and
    // the blocking poll, finding it, polls with timeout 0 (a lost wake would be a hang, which the
    // matrix's time limit turns into a failure).
    c.eq("netpoll wake", POLLER.wake(), Ok(()));
    c.eq(
        "netpoll poll(0) with a wake pending -> 0",
        poll_once(0).0,
        Ok(0),
    );
    c.eq(
        "netpoll poll(-1) returns the pending wake -> 0",
        poll_once(-1).0,
        Ok(0),
    );
    c.eq("netpoll wake after it was consumed", POLLER.wake(), Ok(()));
    c.eq(
        "  no thread sleeps: no eventfd write at all (counter 0 -> EAGAIN)",
        wake_writes(),
        Err(Errno::EAGAIN),
    );
    c.eq("  a blocking poll consumes it -> 0", poll_once(-1).0, Ok(0));

    // Another process cannot use wake(): fork copies the poller, and in the copy nobody sleeps
    // (the parent's sleeper count is the parent's), so the child's wake() marks its own copy
    // and writes nothing, even while the parent sleeps. What does cross the process boundary is
    // the eventfd: the child writes the one edge a wake writes for a sleeper, and that ends the
    // parent's blocking poll. (The sleeper-aware wake between threads of one process is covered
    // by the host tests; here the sleeper side is exercised in one thread, below.)
    match fork() {
        Ok(0) => {
            let _ = sleep_ms(20);
            let code = if POLLER.has_sleeper() {
                1
            } else if POLLER.wake() != Ok(()) {
                2
            } else if wake_writes() != Err(Errno::EAGAIN) {
                3
            } else if counter_write(POLLER.raw_wake_fd(), 1).is_err() {
                4
            } else {
                0
            };
            exit(code)
        }
        Ok(pid) => {
            c.eq(
                "netpoll poll(-1) woken by a child's edge on the wake eventfd -> 0",
                poll_once(-1).0,
                Ok(0),
            );
            c.eq(
                "  child: no sleeper in its copy, its wake() wrote nothing, its edge Ok -> exit 0",
                wait(pid).map(exit_code),
                Ok(Some(0)),
            );
            c.eq(
                "  the eventfd holds exactly the child's one edge -> 1",
                wake_writes(),
                Ok(1),
            );
        }
        Err(e) => {
            c.eq("fork", Err(e), Ok(0));
        }
    }

    // No sequence makes a descriptor event look like the wake eventfd's (Go bug #72900: on
    // 32-bit little-endian targets Go compared the half of the data word that holds the tag).
    let _ = POLLER.wake();
    let pd = &DESCRIPTORS[1];
    let wake_fd = POLLER.raw_wake_fd() as usize;
    let mut all_reported = true;
    for (i, sequence) in [0, 1, wake_fd, usize::MAX, 1 << 31].into_iter().enumerate() {
        pd.set_sequence(sequence);
        pd.set_user_data(100 + i);
        let fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
        let opened = fd.as_ref().map(|fd| POLLER.open(fd, pd));
        let (n, data, _) = poll_once(0);
        all_reported &= opened == Ok(Ok(())) && n == Ok(1) && data == 100 + i;
    }
    c.eq(
        "netpoll descriptors with colliding sequences are reported as descriptors",
        all_reported,
        true,
    );
    c.eq(
        "  and the pending wake wrote nothing (no sleeper): counter 0 -> EAGAIN",
        wake_writes(),
        Err(Errno::EAGAIN),
    );
    c.eq(
        "  those poll(0)s left it pending: a blocking poll returns at once -> 0",
        poll_once(-1).0,
        Ok(0),
    );

    // epoll_pwait2 is used only when asked for, and an ENOSYS (qemu-user, kernels before 5.11)
    // turns it off for good, after which delays follow Go's millisecond rule.
    let supported = match epoll_create1(EPOLL_CLOEXEC) {
        Ok(ep) => {
            let zero = Timespec::from_nanos(0);
            epoll_pwait2(&ep, &mut [EpollEvent::zeroed()], Some(&zero), None) != Err(Errno::ENOSYS)
        }
        Err(_) => false,
    };
    c.eq(
        "netpoll epoll_pwait2 off by default",
        POLLER.uses_epoll_pwait2(),
        false,
    );
    POLLER.use_epoll_pwait2(true);
    c.eq(
        "netpoll poll(100 us) with epoll_pwait2 asked for -> 0",
        poll_once(100_000).0,
        Ok(0),
    );
    c.eq(
        "  still used exactly when the kernel has it",
        POLLER.uses_epoll_pwait2(),
        supported,
    );
    POLLER.use_epoll_pwait2(true);
    c.eq(
        "  asking again changes nothing",
        POLLER.uses_epoll_pwait2(),
        supported,
    );
    POLLER.use_epoll_pwait2(false);

    // A stale event after fd reuse is dropped: `keep` is a duplicate of `a` made with dup3, so
    // `a`'s registration (the epoll set keys it by the open file) outlives `a`'s number.
    let pd = &DESCRIPTORS[0];
    pd.set_sequence(0);
    let (Some(a), Some(mut keep)) = (
        c.need("eventfd a", eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
        c.need("eventfd keep", eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
    ) else {
        return;
    };
    let _ = POLLER.open(&a, pd);
    let _ = poll_once(0);
    let _ = dup3(&a, &mut keep, 0);
    drop(a);
    pd.bump_sequence();
    let Some(b) = c.need("eventfd b", eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) else {
        return;
    };
    let _ = POLLER.open(&b, pd);
    c.eq(
        "netpoll reused descriptor reported at its new sequence",
        poll_once(0).0,
        Ok(1),
    );
    let _ = eventfd_write(&keep, 1);
    c.eq(
        "netpoll stale event of the old fd dropped -> 0",
        poll_once(0).0,
        Ok(0),
    );
    let _ = POLLER.close(&b);
    drop((keep, b));
    interest_cases(c);
    sleeper_cases(c);
}

/// `Interest`, `modify`, `Ready`'s closed flags and `Tag`, on the static poller.
fn interest_cases(c: &mut Checker) {
    c.eq(
        "Interest::GO = READABLE | WRITABLE = IN|OUT|RDHUP|ET",
        (
            Interest::GO.bits(),
            (Interest::READABLE | Interest::WRITABLE).bits(),
        ),
        (
            EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
            EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
        ),
    );
    c.eq(
        "Interest::READABLE.oneshot().level_triggered() = IN|RDHUP|ONESHOT",
        Interest::READABLE.oneshot().level_triggered().bits(),
        EPOLLIN | EPOLLRDHUP | EPOLLONESHOT,
    );
    let pd = &DESCRIPTORS[0];
    pd.set_sequence(0);
    pd.set_user_data(21);
    // An eventfd at 0 is writable and not readable: a READABLE registration reports nothing.
    let Some(efd) = c.need("eventfd", eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) else {
        return;
    };
    c.eq(
        "netpoll open_with READABLE an eventfd at 0",
        POLLER.open_with(&efd, pd, Interest::READABLE),
        Ok(()),
    );
    c.eq(
        "  poll(0): writable, but not asked for -> 0",
        poll_once(0).0,
        Ok(0),
    );
    let _ = eventfd_write(&efd, 1);
    c.eq(
        "  after a write: reported readable only (events EPOLLIN)",
        poll_once(0),
        (Ok(1), 21, Ready::from_events(EPOLLIN)),
    );
    c.eq("  close", POLLER.close(&efd), Ok(()));
    c.eq(
        "netpoll modify an unregistered fd -> ENOENT",
        POLLER.modify(&efd, pd, Interest::GO),
        Err(Errno::ENOENT),
    );
    drop(efd);

    // Oneshot: one report, then nothing until modify re-arms it.
    let Some((r, w)) = c.need("pipe2", pipe2(EFD_CLOEXEC | EFD_NONBLOCK)) else {
        return;
    };
    c.eq(
        "netpoll open_with READABLE.oneshot() a pipe",
        POLLER.open_with(&r, pd, Interest::READABLE.oneshot()),
        Ok(()),
    );
    let _ = write(&w, b"1");
    c.eq("  a write -> reported once", poll_once(0).0, Ok(1));
    let _ = write(&w, b"2");
    c.eq("  another write: disarmed -> 0", poll_once(0).0, Ok(0));
    c.eq(
        "  modify re-arms",
        POLLER.modify(&r, pd, Interest::READABLE.oneshot()),
        Ok(()),
    );
    c.eq(
        "  the unread bytes are reported again -> 1",
        poll_once(0).0,
        Ok(1),
    );
    c.eq("  and then not -> 0", poll_once(0).0, Ok(0));
    // The writer closes: Ready says hang-up and read-closed, readable and writable (Go's
    // mapping lets both waiters see the hang-up).
    let mut buf = [0u8; 4];
    let _ = read(&r, &mut buf);
    drop(w);
    let _ = POLLER.modify(&r, pd, Interest::GO);
    c.eq(
        "  writer closed, drained pipe: Ready rw-ch, events EPOLLHUP",
        poll_once(0),
        (
            Ok(1),
            21,
            Ready {
                readable: true,
                writable: true,
                error: false,
                read_closed: true,
                hang_up: true,
                events: EPOLLHUP,
            },
        ),
    );
    let _ = POLLER.close(&r);
    drop(r);
}

/// The sleeper protocol. In one thread: a wake with nobody asleep costs no system call and the
/// next blocking poll returns at once. Between processes that share one poller (a `Netpoll` in
/// shared memory, see `rawpoll_freestanding::share`): the wake a sleeper needs is written, and
/// a poll(0) that takes it from under a sleeper puts it back.
fn sleeper_cases(c: &mut Checker) {
    let _ = wake_writes(); // start from a count of 0 (no wake is pending here)
    c.eq(
        "has_sleeper() with nobody polling",
        POLLER.has_sleeper(),
        false,
    );
    c.eq("same-thread wake", POLLER.wake(), Ok(()));
    c.eq(
        "  then poll(-1) returns at once -> 0",
        poll_once(-1).0,
        Ok(0),
    );
    c.eq(
        "  with 0 eventfd writes (counter 0 -> EAGAIN)",
        wake_writes(),
        Err(Errno::EAGAIN),
    );

    // The callback's tag: a descriptor reported once (oneshot) by a blocking poll, with a
    // sequence whose tag is not 0. Callbacks run after the wait: no sleeper is counted then.
    let pd = &DESCRIPTORS[1];
    pd.set_sequence(5);
    let Some(probe) = c.need("eventfd", eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK)) else {
        return;
    };
    let _ = POLLER.open_with(&probe, pd, Interest::READABLE.oneshot());
    let mut inside = (true, Tag::of(0));
    let n = POLLER.poll(-1, |_, _, tag| inside = (POLLER.has_sleeper(), tag));
    c.eq("poll(-1) reports a ready descriptor -> 1", n, Ok(1));
    c.eq(
        "  its callback runs after the wait: has_sleeper() false",
        inside.0,
        false,
    );
    c.eq("  the callback's tag is pd.tag()", inside.1, pd.tag());
    c.eq("  which is Tag::of(5): bits 5", pd.tag().bits(), 5);
    c.eq(
        "  Tag::of(5) matches 5, not 6",
        (Tag::of(5).matches(5), Tag::of(5).matches(6)),
        (true, false),
    );
    let _ = POLLER.close(&probe);
    drop(probe);

    let Some(np) = c.need("a poller in shared memory", share(Netpoll::new())) else {
        return;
    };
    c.eq("  init", np.init(), Ok(()));
    // The parent sleeps in `np`; a child sees it sleep and wakes it: one eventfd write.
    woken_by_a_child(
        c,
        np,
        [
            "shared poller: poll(-1) woken by a child's wake -> 0",
            "  child saw has_sleeper() true, its wake Ok -> exit 0",
            "  the wake found a sleeper: exactly 1 eventfd write",
        ],
    );
    c.eq("  has_sleeper() after it", np.has_sleeper(), false);
    wake_edge_given_back(c, np);
}

/// A child blocked in `read` on an empty pipe is stopped and continued (SIGSTOP, SIGCONT: no
/// handler runs), then given a byte: its `read` must return it, the kernel restarting the call
/// rather than failing it with EINTR. On SPARC64 this is the restart that runs the stub's
/// instruction before the trap again (arch/sparc64.rs); the nap lets the child reach the `read`
/// first (should it not, the case passes without testing that).
fn restarted_after_stop(c: &mut Checker) {
    let Some((r, w)) = c.need("pipe2", pipe2(O_CLOEXEC)) else {
        return;
    };
    match fork() {
        Ok(0) => {
            let mut byte = [0u8; 1];
            exit(match read(&r, &mut byte) {
                Ok(1) => 0,
                Err(e) if e == Errno::EINTR => 2,
                _ => 1,
            })
        }
        Ok(pid) => {
            let _ = sleep_ms(200);
            c.eq(
                "a child blocked in read is stopped and continued",
                (stop(pid), resume(pid)),
                (Ok(()), Ok(())),
            );
            let _ = sleep_ms(50);
            c.eq("  then given a byte", write(&w, b"x"), Ok(1));
            c.eq(
                "  its read is restarted and returns it -> exit 0 (2: EINTR)",
                wait(pid).map(exit_code),
                Ok(Some(0)),
            );
        }
        Err(e) => {
            c.eq("fork", Err(e), Ok(0));
        }
    }
}

/// A child sleeps in `np` and is stopped there, so it cannot take the wake's edge: the parent's
/// wake writes it, the parent's poll(0) takes it and must put it back (`EPOLL_CTL_MOD`), where
/// the epoll set shows it again.
fn wake_edge_given_back(c: &mut Checker, np: &'static Netpoll) {
    match fork() {
        Ok(0) => exit(if np.poll(-1, |_, _, _| {}) == Ok(0) {
            0
        } else {
            1
        }),
        Ok(pid) => {
            c.eq(
                "shared poller: a child sleeps in it, then is stopped",
                (wait_until(|| np.has_sleeper()), stop(pid)),
                (true, Ok(())),
            );
            c.eq("  wake (a sleeper exists)", np.wake(), Ok(()));
            c.eq(
                "  poll(0) takes the wake edge, reports nothing",
                np.poll(0, |_, _, _| {}),
                Ok(0),
            );
            let mut events = [EpollEvent::zeroed(); 2];
            let queued = on_number(
                raw::SYS_EPOLL_PWAIT,
                np.raw_epoll_fd(),
                events.as_mut_ptr() as usize,
                events.len(),
                0,
            );
            c.eq(
                "  and put it back: the epoll set holds it -> 1 event, data 0",
                queued.map(|n| (n, events[0].data())),
                Ok((1, 0)),
            );
            // That look took the edge again (edge-triggered): make a new one for the child.
            c.eq(
                "  the eventfd saw the wake's 1 write; write the child a fresh edge",
                (
                    counter_read(np.raw_wake_fd()),
                    counter_write(np.raw_wake_fd(), 1),
                ),
                (Ok(1), Ok(())),
            );
            let _ = resume(pid);
            c.eq(
                "  the child's poll(-1) returns -> exit 0",
                wait(pid).map(exit_code),
                Ok(Some(0)),
            );
        }
        Err(e) => {
            c.eq("fork", Err(e), Ok(0));
        }
    }
}

//! The conformance runner: every stub and wrapper of rawpoll exercised with real system calls, on
//! whatever target it is built for. One line per case, then `N passed, N failed`; the exit status
//! is non-zero on any failure.
#![no_std]
#![no_main]

use rawpoll::netpoll::{Netpoll, PollDesc, Ready};
use rawpoll::raw::{self, syscall6};
use rawpoll::*;
use rawpoll_freestanding::check::Checker;
use rawpoll_freestanding::{entry, exit, fd_is_open, fork, print, wait};

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
        raw::SYS_WAIT4 => k::__NR_wait4,
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
        raw::SYS_FCNTL => k::__NR_fcntl,
        raw::SYS_REBOOT => k::__NR_reboot,
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
        core::mem::size_of::<rawpoll::EpollEvent>() => core::mem::size_of::<k::epoll_event>(),
        core::mem::align_of::<rawpoll::EpollEvent>() => core::mem::align_of::<k::epoll_event>(),
        core::mem::size_of::<rawpoll::Timespec>() => core::mem::size_of::<k::__kernel_timespec>(),
    }
}

/// A number no architecture assigns: past the end of every table, and inside the range each
/// ABI's entry point accepts (MIPS o32 4000-4999, n64 5000-5999).
const UNKNOWN_SYSCALL: usize = raw::SYS_EPOLL_PWAIT2 + 500;

/// A user address no process maps (page 0 is never mapped for user code).
const BAD_POINTER: usize = 8;

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
    c.finish()
}

fn raw_layer(c: &mut Checker) {
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
    let fd = eventfd(1, EFD_CLOEXEC).unwrap_or(-1);
    // SAFETY: the kernel writes 8 bytes at an unmapped address and fails cleanly with EFAULT.
    let r = unsafe { syscall6(raw::SYS_READ, fd as usize, BAD_POINTER, 8, 0, 0, 0) };
    c.eq(
        "syscall6 read into an unmapped page -> EFAULT",
        r,
        (usize::MAX, Errno::EFAULT.raw() as usize),
    );
    let _ = close(fd);
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
        matches!(fd, Ok(n) if n >= 0),
        fd,
    );
    let fd = fd.unwrap_or(-1);
    c.eq(
        "eventfd bad flags -> EINVAL",
        eventfd(0, 0x2),
        Err(Errno::EINVAL),
    );
    c.eq(
        "eventfd read when zero, non-blocking -> EAGAIN",
        eventfd_read(fd),
        Err(Errno::EAGAIN),
    );
    c.eq("eventfd write 3", eventfd_write(fd, 3), Ok(()));
    c.eq("eventfd write 4", eventfd_write(fd, 4), Ok(()));
    c.eq("eventfd read -> 7 (values add up)", eventfd_read(fd), Ok(7));
    c.eq(
        "eventfd read again -> EAGAIN (read resets)",
        eventfd_read(fd),
        Err(Errno::EAGAIN),
    );
    c.eq(
        "eventfd write u64::MAX -> EINVAL",
        eventfd_write(fd, u64::MAX),
        Err(Errno::EINVAL),
    );
    c.eq(
        "eventfd write 0xfffffffffffffffe",
        eventfd_write(fd, 0xffff_ffff_ffff_fffe),
        Ok(()),
    );
    c.eq(
        "eventfd write 1 past the maximum, non-blocking -> EAGAIN",
        eventfd_write(fd, 1),
        Err(Errno::EAGAIN),
    );
    c.eq(
        "eventfd read -> 0xfffffffffffffffe",
        eventfd_read(fd),
        Ok(0xffff_ffff_ffff_fffe),
    );
    c.eq(
        "eventfd 4-byte write -> EINVAL",
        write(fd, &[1, 0, 0, 0]),
        Err(Errno::EINVAL),
    );
    c.eq(
        "eventfd 4-byte read -> EINVAL",
        read(fd, &mut [0u8; 4]),
        Err(Errno::EINVAL),
    );
    c.eq("close eventfd", close(fd), Ok(()));
    c.eq("close it again -> EBADF", close(fd), Err(Errno::EBADF));
    c.eq(
        "read a closed fd -> EBADF",
        read(fd, &mut [0u8; 8]),
        Err(Errno::EBADF),
    );
    c.eq(
        "write a closed fd -> EBADF",
        write(fd, &[0u8; 8]),
        Err(Errno::EBADF),
    );

    let sem = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC).unwrap_or(-1);
    c.eq("semaphore eventfd read -> 1", eventfd_read(sem), Ok(1));
    c.eq(
        "semaphore eventfd read -> 1 again",
        eventfd_read(sem),
        Ok(1),
    );
    c.eq(
        "semaphore eventfd read -> EAGAIN",
        eventfd_read(sem),
        Err(Errno::EAGAIN),
    );
    let _ = close(sem);
}

fn epoll_cases(c: &mut Checker) {
    let ep = epoll_create1(EPOLL_CLOEXEC);
    c.that(
        "epoll_create1(CLOEXEC) -> fd >= 0",
        matches!(ep, Ok(n) if n >= 0),
        ep,
    );
    let ep = ep.unwrap_or(-1);
    c.eq(
        "epoll_create1 bad flags -> EINVAL",
        epoll_create1(1),
        Err(Errno::EINVAL),
    );
    let efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap_or(-1);
    let data = 0x8000_0001_dead_beef_u64;
    let ev = EpollEvent::new(EPOLLIN, data);
    c.eq(
        "epoll_ctl ADD",
        epoll_ctl(ep, EPOLL_CTL_ADD, efd, Some(&ev)),
        Ok(()),
    );
    c.eq(
        "epoll_ctl ADD twice -> EEXIST",
        epoll_ctl(ep, EPOLL_CTL_ADD, efd, Some(&ev)),
        Err(Errno::EEXIST),
    );
    c.eq(
        "epoll_ctl bad op -> EINVAL",
        epoll_ctl(ep, 99, efd, Some(&ev)),
        Err(Errno::EINVAL),
    );
    c.eq(
        "epoll_ctl ADD epfd to itself -> EINVAL",
        epoll_ctl(ep, EPOLL_CTL_ADD, ep, Some(&ev)),
        Err(Errno::EINVAL),
    );
    c.eq(
        "epoll_ctl ADD without an event -> EFAULT",
        epoll_ctl(ep, EPOLL_CTL_ADD, 0, None),
        Err(Errno::EFAULT),
    );
    let mut events = [EpollEvent::zeroed(); 4];
    c.eq(
        "epoll_pwait(0) on a quiet set -> 0",
        epoll_pwait(ep, &mut events, 0),
        Ok(0),
    );
    c.eq(
        "epoll_pwait(5 ms) on a quiet set -> 0 after the timeout",
        epoll_pwait(ep, &mut events, 5),
        Ok(0),
    );
    let _ = eventfd_write(efd, 1);
    c.eq(
        "epoll_pwait(-1) with the eventfd ready -> 1",
        epoll_pwait(ep, &mut events, -1),
        Ok(1),
    );
    c.eq("event bits -> EPOLLIN", events[0].events(), EPOLLIN);
    c.eq("event data -> the full 64-bit word", events[0].data(), data);
    c.eq(
        "epoll_pwait into an empty slice -> EINVAL",
        epoll_pwait(ep, &mut [], 0),
        Err(Errno::EINVAL),
    );
    let ev2 = EpollEvent::new(EPOLLIN | EPOLLOUT, !data);
    c.eq(
        "epoll_ctl MOD",
        epoll_ctl(ep, EPOLL_CTL_MOD, efd, Some(&ev2)),
        Ok(()),
    );
    c.eq(
        "epoll_pwait after MOD -> 1",
        epoll_pwait(ep, &mut events, 0),
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
        epoll_ctl(ep, EPOLL_CTL_DEL, efd, None),
        Ok(()),
    );
    c.eq(
        "epoll_ctl DEL again -> ENOENT",
        epoll_ctl(ep, EPOLL_CTL_DEL, efd, None),
        Err(Errno::ENOENT),
    );
    c.eq(
        "epoll_pwait after DEL -> 0",
        epoll_pwait(ep, &mut events, 0),
        Ok(0),
    );
    c.eq(
        "epoll_pwait on an eventfd (not epoll) -> EINVAL",
        epoll_pwait(efd, &mut events, 0),
        Err(Errno::EINVAL),
    );

    let pipe = pipe2(0x80000);
    c.that(
        "pipe2(O_CLOEXEC)",
        matches!(pipe, Ok([r, w]) if r >= 0 && w >= 0 && r != w),
        pipe.map(|p| p[0]),
    );
    let [r, w] = pipe.unwrap_or([-1, -1]);
    let ev = EpollEvent::new(EPOLLIN | EPOLLRDHUP, 7);
    c.eq(
        "epoll_ctl ADD pipe read end",
        epoll_ctl(ep, EPOLL_CTL_ADD, r, Some(&ev)),
        Ok(()),
    );
    c.eq("write 3 bytes into the pipe", write(w, b"abc"), Ok(3));
    c.eq(
        "epoll_pwait -> pipe readable",
        epoll_pwait(ep, &mut events, 0),
        Ok(1),
    );
    c.eq("pipe event bits -> EPOLLIN", events[0].events(), EPOLLIN);
    let mut buf = [0u8; 8];
    c.eq("read the pipe -> 3", read(r, &mut buf), Ok(3));
    c.eq(
        "pipe bytes",
        u32::from_ne_bytes([buf[0], buf[1], buf[2], 0]),
        u32::from_ne_bytes(*b"abc\0"),
    );
    let _ = close(w);
    c.eq(
        "epoll_pwait after the writer closed -> 1",
        epoll_pwait(ep, &mut events, 0),
        Ok(1),
    );
    c.eq(
        "hang-up event bits -> EPOLLHUP",
        events[0].events(),
        EPOLLHUP,
    );
    c.eq("dup3 onto a free number", dup3(r, 100, 0), Ok(100));
    c.eq(
        "dup3 onto itself -> EINVAL",
        dup3(r, r, 0),
        Err(Errno::EINVAL),
    );
    let _ = close(100);
    let _ = close(r);
    c.eq("close epoll fd", close(ep), Ok(()));
    c.eq(
        "epoll_ctl on a closed epfd -> EBADF",
        epoll_ctl(ep, EPOLL_CTL_ADD, efd, Some(&ev)),
        Err(Errno::EBADF),
    );
    c.eq(
        "epoll_pwait on a closed epfd -> EBADF",
        epoll_pwait(ep, &mut events, 0),
        Err(Errno::EBADF),
    );
    c.eq(
        "epoll_ctl ADD a closed fd -> EBADF",
        {
            let ep = epoll_create1(EPOLL_CLOEXEC).unwrap_or(-1);
            let r = epoll_ctl(ep, EPOLL_CTL_ADD, ep + 50, Some(&ev));
            let _ = close(ep);
            r
        },
        Err(Errno::EBADF),
    );
    let _ = close(efd);
}

/// `epoll_pwait`'s fifth and sixth arguments (sigmask, sigsetsize) decide the result: this is
/// what catches a stub that loses them (MIPS o32 stack slots, i386 ebp).
fn six_argument_cases(c: &mut Checker) {
    let ep = epoll_create1(EPOLL_CLOEXEC).unwrap_or(-1);
    let efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap_or(-1);
    let _ = epoll_ctl(ep, EPOLL_CTL_ADD, efd, Some(&EpollEvent::new(EPOLLIN, 42)));
    let mut mask = SigSet::empty();
    let _ = mask.add(10);
    let mut events = [EpollEvent::zeroed(); 2];
    let pwait = |events: &mut [EpollEvent; 2], mask: usize, size: usize| {
        // SAFETY: `events` has room for 2 entries; `mask` is the address under test.
        unsafe {
            syscall6(
                raw::SYS_EPOLL_PWAIT,
                ep as usize,
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
        epoll_pwait_sigmask(ep, &mut events, 0, &mask),
        Ok(1),
    );
    let _ = close(efd);
    let _ = close(ep);
}

fn pwait2_cases(c: &mut Checker) {
    let ep = epoll_create1(EPOLL_CLOEXEC).unwrap_or(-1);
    let mut events = [EpollEvent::zeroed(); 2];
    let zero = Timespec::from_nanos(0);
    match epoll_pwait2(ep, &mut events, Some(&zero), None) {
        Err(e) if e == Errno::ENOSYS => {
            c.eq(
                "epoll_pwait2 not provided here -> ENOSYS, nothing more to test",
                e,
                Errno::ENOSYS,
            );
        }
        r => {
            c.eq("epoll_pwait2(0 ns) on a quiet set -> 0", r, Ok(0));
            let efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap_or(-1);
            let _ = epoll_ctl(ep, EPOLL_CTL_ADD, efd, Some(&EpollEvent::new(EPOLLIN, 5)));
            let short = Timespec::from_nanos(100_000);
            let mut mask = SigSet::empty();
            let _ = mask.add(10);
            c.eq(
                "epoll_pwait2(100 us, sigmask) ready -> 1",
                epoll_pwait2(ep, &mut events, Some(&short), Some(&mask)),
                Ok(1),
            );
            c.eq("epoll_pwait2 data", events[0].data(), 5);
            let bad = Timespec {
                tv_sec: 0,
                tv_nsec: 2_000_000_000,
            };
            c.eq(
                "epoll_pwait2 tv_nsec out of range -> EINVAL",
                epoll_pwait2(ep, &mut events, Some(&bad), None),
                Err(Errno::EINVAL),
            );
            let _ = close(efd);
        }
    }
    let _ = close(ep);
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
    // A blocking epoll_pwait(-1) in the parent is woken by the child's eventfd write.
    let ep = epoll_create1(EPOLL_CLOEXEC).unwrap_or(-1);
    let efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap_or(-1);
    let _ = epoll_ctl(
        ep,
        EPOLL_CTL_ADD,
        efd,
        Some(&EpollEvent::new(EPOLLIN, 0x1234_5678_9abc_def0)),
    );
    match fork() {
        Ok(0) => {
            let mut events = [EpollEvent::zeroed(); 1];
            // Give the parent time to block first; a 20 ms wait on an empty set of our own.
            let own = epoll_create1(EPOLL_CLOEXEC).unwrap_or(-1);
            let _ = epoll_pwait(own, &mut events, 20);
            exit(if eventfd_write(efd, 5).is_ok() { 0 } else { 1 })
        }
        Ok(pid) => {
            let mut events = [EpollEvent::zeroed(); 1];
            let n = loop {
                match epoll_pwait(ep, &mut events, -1) {
                    Err(e) if e == Errno::EINTR => continue,
                    r => break r,
                }
            };
            c.eq("blocking epoll_pwait(-1) woken by a child -> 1", n, Ok(1));
            c.eq("wake data", events[0].data(), 0x1234_5678_9abc_def0);
            c.eq("counter from the child", eventfd_read(efd), Ok(5));
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
    let _ = close(efd);
    let _ = close(ep);
    c.eq("fd_is_open on a closed fd -> false", fd_is_open(efd), false);
    c.eq("fd_is_open(stdout) -> true", fd_is_open(1), true);
}

static POLLER: Netpoll = Netpoll::new();
static DESCRIPTORS: [PollDesc; 2] = [PollDesc::new(), PollDesc::new()];

/// Polls once, returning `(count, user data of the last reported descriptor, its readiness)`.
fn poll_once(delay_ns: i64) -> (Result<usize, Errno>, usize, Ready) {
    let mut last = (0, Ready::default());
    let n = POLLER.poll(delay_ns, |pd, ready| last = (pd.user_data(), ready));
    (n, last.0, last.1)
}

fn netpoll_cases(c: &mut Checker) {
    c.eq(
        "netpoll poll before init -> EBADF",
        POLLER.poll(0, |_, _| {}),
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
        POLLER.is_poll_descriptor(POLLER.wake_fd()),
        true,
    );
    c.eq(
        "netpoll is_poll_descriptor(stdout)",
        POLLER.is_poll_descriptor(1),
        false,
    );

    let [r, w] = pipe2(EFD_CLOEXEC | EFD_NONBLOCK).unwrap_or([-1, -1]);
    let pd = &DESCRIPTORS[0];
    pd.set_user_data(11);
    c.eq("netpoll open pipe read end", POLLER.open(r, pd), Ok(()));
    c.eq(
        "netpoll open it twice -> EEXIST",
        POLLER.open(r, pd),
        Err(Errno::EEXIST),
    );
    c.eq("netpoll poll(0), nothing ready -> 0", poll_once(0).0, Ok(0));
    let _ = write(w, b"go");
    let (n, data, ready) = poll_once(0);
    c.eq("netpoll poll(0) after a write -> 1", n, Ok(1));
    c.eq("  its descriptor's user data", data, 11);
    c.eq(
        "  readable, not writable, no error",
        ready,
        Ready {
            readable: true,
            writable: false,
            error: false,
        },
    );
    c.eq("netpoll close", POLLER.close(r), Ok(()));
    c.eq(
        "netpoll close again -> ENOENT",
        POLLER.close(r),
        Err(Errno::ENOENT),
    );
    let _ = close(r);
    let _ = close(w);

    // A pending wake survives non-blocking polls and is consumed by a blocking one.
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
    // The wake eventfd is edge-triggered and never read by a poll: its counter counts writes.
    // The blocking poll reset the wake flag, so the next wake writes again: two writes so far.
    c.eq("netpoll wake after it was consumed", POLLER.wake(), Ok(()));
    c.eq(
        "  the eventfd counted two writes",
        eventfd_read(POLLER.wake_fd()),
        Ok(2),
    );
    // That read took the pending wake's readiness; write it back, then consume the wake.
    let _ = eventfd_write(POLLER.wake_fd(), 1);
    c.eq("  a blocking poll consumes it -> 0", poll_once(-1).0, Ok(0));

    // A child process wakes a blocking poll of its parent.
    match fork() {
        Ok(0) => {
            let own = epoll_create1(EPOLL_CLOEXEC).unwrap_or(-1);
            let _ = epoll_pwait(own, &mut [EpollEvent::zeroed()], 20);
            exit(if POLLER.wake().is_ok() { 0 } else { 1 })
        }
        Ok(pid) => {
            c.eq(
                "netpoll poll(-1) woken by a child's wake -> 0",
                poll_once(-1).0,
                Ok(0),
            );
            c.eq(
                "  child exit code",
                wait(pid).map(rawpoll_freestanding::exit_code),
                Ok(Some(0)),
            );
        }
        Err(e) => {
            c.eq("fork", Err(e), Ok(0));
        }
    }

    // No sequence makes a descriptor event look like the wake eventfd's (Go bug #72900: on
    // 32-bit little-endian targets Go compared the half of the data word that holds the tag).
    let _ = eventfd_read(POLLER.wake_fd()); // no wake pending: just zero the write count
    let _ = POLLER.wake();
    let pd = &DESCRIPTORS[1];
    let wake_fd = POLLER.wake_fd() as usize;
    let mut all_reported = true;
    for (i, sequence) in [0, 1, wake_fd, usize::MAX, 1 << 31].into_iter().enumerate() {
        pd.set_sequence(sequence);
        pd.set_user_data(100 + i);
        let fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap_or(-1);
        let _ = POLLER.open(fd, pd);
        let (n, data, _) = poll_once(0);
        all_reported &= n == Ok(1) && data == 100 + i;
        let _ = close(fd);
    }
    c.eq(
        "netpoll descriptors with colliding sequences are reported as descriptors",
        all_reported,
        true,
    );
    c.eq(
        "  and the pending wake (one write) was not consumed",
        eventfd_read(POLLER.wake_fd()),
        Ok(1),
    );
    let _ = eventfd_write(POLLER.wake_fd(), 1);
    c.eq("  a blocking poll then consumes it", poll_once(-1).0, Ok(0));

    // epoll_pwait2 is used only when asked for, and an ENOSYS (qemu-user, kernels before 5.11)
    // turns it off for good, after which delays follow Go's millisecond rule.
    let supported = {
        let ep = epoll_create1(EPOLL_CLOEXEC).unwrap_or(-1);
        let zero = Timespec::from_nanos(0);
        let r = epoll_pwait2(ep, &mut [EpollEvent::zeroed()], Some(&zero), None);
        let _ = close(ep);
        r != Err(Errno::ENOSYS)
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

    // A stale event after fd reuse is dropped.
    let pd = &DESCRIPTORS[0];
    pd.set_sequence(0);
    let a = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap_or(-1);
    let _ = POLLER.open(a, pd);
    let _ = poll_once(0);
    let keep = dup3(a, 150, 0).unwrap_or(-1);
    let _ = close(a);
    pd.bump_sequence();
    let b = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap_or(-1);
    let _ = POLLER.open(b, pd);
    c.eq(
        "netpoll reused descriptor reported at its new sequence",
        poll_once(0).0,
        Ok(1),
    );
    let _ = eventfd_write(keep, 1);
    c.eq(
        "netpoll stale event of the old fd dropped -> 0",
        poll_once(0).0,
        Ok(0),
    );
    let _ = close(keep);
    let _ = close(b);
}

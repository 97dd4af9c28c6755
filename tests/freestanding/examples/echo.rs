//! rawpoll's async TCP echo, freestanding (no std, no libc, no allocator, its own `_start`): the
//! single-threaded executor and the echo of the repository's examples (the very files
//! examples/single_thread/executor.rs and echo.rs) serve 64 connections on 127.0.0.1, clients
//! and server as tasks of one executor, through raw socket calls over `syscall6`.
//!
//! As `/init` of a real kernel (ci/realkernel echo) it first brings up `lo`, which a kernel
//! starts down. Prints one `summary:` line with the exact counts; exits 1 if any byte was lost
//! or changed, or any call failed. Run by `ci/matrix echo` (qemu-user) and `ci/realkernel echo`.
#![no_std]
#![no_main]

#[path = "../../../examples/single_thread/echo.rs"]
#[allow(dead_code)]
mod echo;
#[path = "../../../examples/single_thread/executor.rs"]
mod executor;

use rawpoll::netpoll::Netpoll;
use rawpoll::raw::{self, syscall6};
use rawpoll::{AsRawFd, Errno};
use rawpoll_freestanding::{entry, is_init, print, print_errno, print_u64};

entry!(main);

static POLLER: Netpoll = Netpoll::new();
static EXECUTOR: executor::Executor = executor::Executor::new();
const CONNECTIONS: usize = echo::MAX_CONNECTIONS;
const ROUNDS: usize = 16;

/// `struct ifreq` (include/uapi/linux/if.h): the name, then a union whose `short` flags come
/// first. The kernel's is 40 bytes on 64-bit targets and 32 on 32-bit ones (the union's largest
/// member, `struct ifmap`, is two `unsigned long`s and four small fields); linux-raw-sys's is
/// larger (its `sockaddr` is 128 bytes), so the size is the kernel's, not its.
#[repr(C, align(8))]
struct IfReq {
    name: [u8; 16],
    flags: i16,
    rest: [u8; 22],
}

/// Sets `IFF_UP` on `lo` (`SIOCGIFFLAGS`, then `SIOCSIFFLAGS`), as `ip link set lo up` does.
fn loopback_up() -> Result<(), Errno> {
    #[cfg(not(target_arch = "sparc64"))]
    use linux_raw_sys::ioctl::{SIOCGIFFLAGS, SIOCSIFFLAGS};
    // linux-raw-sys 0.12's sparc64 ioctl module lacks the two; they are the same on every
    // architecture (include/uapi/linux/sockios.h).
    #[cfg(target_arch = "sparc64")]
    const SIOCGIFFLAGS: u32 = 0x8913;
    #[cfg(target_arch = "sparc64")]
    const SIOCSIFFLAGS: u32 = 0x8914;
    let socket = echo::socket()?;
    let mut req = IfReq {
        name: [0; 16],
        flags: 0,
        rest: [0; 22],
    };
    req.name[..2].copy_from_slice(b"lo");
    for request in [SIOCGIFFLAGS, SIOCSIFFLAGS] {
        if request == SIOCSIFFLAGS {
            req.flags |= linux_raw_sys::net::net_device_flags::IFF_UP as i16;
        }
        let fd = socket.as_raw_fd() as usize;
        // SAFETY: both requests read or write one `struct ifreq`, which `req` holds.
        let r = unsafe {
            syscall6(
                raw::SYS_IOCTL,
                fd,
                request as usize,
                &mut req as *mut IfReq as usize,
                0,
                0,
                0,
            )
        };
        Errno::result(r)?;
    }
    Ok(())
}

fn fail(what: &str, errno: Errno) -> i32 {
    print("echo: ");
    print(what);
    print(" failed: ");
    print_errno(errno);
    print("\n");
    1
}

fn main() -> i32 {
    if is_init() {
        if let Err(e) = loopback_up() {
            return fail("bringing up lo", e);
        }
        print("echo: lo is up\n");
    }
    if let Err(e) = POLLER.init() {
        return fail("Netpoll::init", e);
    }
    let t = match echo::run(&POLLER, &EXECUTOR, CONNECTIONS, ROUNDS) {
        Ok(totals) => totals,
        Err(e) => return fail("echo", e),
    };
    let want = (CONNECTIONS * ROUNDS * echo::MESSAGE) as u64;
    let ok = t.accepted == CONNECTIONS as u64
        && t.sent == want
        && t.echoed == want
        && t.received == want
        && t.mismatched == 0
        && EXECUTOR.wakes() == 0; // every waker ran on the executor's thread: no wake needed
    print("summary: ");
    for (value, what) in [
        (t.accepted, " connections, "),
        (t.sent, " bytes sent, "),
        (t.echoed, " echoed, "),
        (t.received, " received, "),
        (t.mismatched, " mismatched, "),
        (EXECUTOR.wakes() as u64, " wakes"),
    ] {
        print_u64(value);
        print(what);
    }
    print(if ok { " -- ok\n" } else { " -- FAILED\n" });
    if ok {
        0
    } else {
        1
    }
}

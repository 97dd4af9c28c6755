//! The i686 row: what entering the kernel through the vDSO's `__kernel_vsyscall` saves over
//! `int $0x80`. Three peers interleaved by the harness, on the same descriptors: rawpoll as it
//! runs (the vDSO entry, found by the lazy lookup, since this is a std program), rawpoll forced
//! to `int $0x80` with `raw::set_vsyscall_entry(None)` for its samples, and glibc's `syscall()`
//! through the libc crate (which enters through the vDSO too). Goal: rawpoll within 1.1× glibc.

use crate::harness::{measure, peer, timed, Config};
use rawpoll::raw::{self, syscall6};
use std::hint::black_box;
use std::time::Duration;

/// Runs the two i686 metrics; `smoke` takes few, short samples.
pub fn run(smoke: bool) -> i32 {
    let cfg = Config::unless_smoke(
        smoke,
        // More, shorter samples than the x86_64 metrics: a 1 ms sample is rarely cut by a
        // time slice on a busy 2-core VM, so the medians keep to what the calls cost.
        Config {
            rounds: 101,
            sample: Duration::from_millis(1),
        },
    );
    println!("CONFIG\trounds={}\tsample={:?}", cfg.rounds, cfg.sample);
    let entry = raw::vsyscall_entry();
    println!(
        "VSYSCALL\t{}",
        entry.map_or("none".into(), |e| format!("{e:#x}"))
    );
    if entry.is_none() {
        eprintln!("benches/peers: this i686 process has no vDSO entry; nothing to compare");
        return 1;
    }
    // SAFETY: plain FFI calls, results checked.
    let (epfd, efd) = unsafe {
        (
            libc::epoll_create1(libc::EPOLL_CLOEXEC),
            libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK),
        )
    };
    assert!(epfd >= 0 && efd >= 0);
    let (epfd, efd) = (epfd as usize, efd as usize);

    // epoll_pwait(epfd, 128 events, timeout 0, no mask) on an empty set: 0 events.
    let mut events = [0u32; 3 * 128];
    let buf = events.as_mut_ptr() as usize;
    let pwait = move || {
        // SAFETY: the kernel writes at most 128 12-byte events into `events`.
        let r = unsafe { syscall6(raw::SYS_EPOLL_PWAIT, black_box(epfd), buf, 128, 0, 0, 0) };
        assert_eq!(r, (0, 0));
    };
    let pwait_glibc = move || {
        // SAFETY: as above, through glibc.
        let n = unsafe {
            libc::syscall(
                libc::SYS_epoll_pwait,
                black_box(epfd),
                buf,
                128,
                0,
                0usize,
                0usize,
            )
        };
        assert_eq!(n, 0);
    };
    compare("i686_pwait0_ns", cfg, pwait, pwait_glibc);

    // An 8-byte eventfd write of 1 (the counter never comes near its 2^64 - 2 limit here).
    let one = 1u64;
    let p = &one as *const u64 as usize;
    let write = move || {
        // SAFETY: the kernel reads 8 bytes from `one`.
        let r = unsafe { syscall6(raw::SYS_WRITE, black_box(efd), p, 8, 0, 0, 0) };
        assert_eq!(r, (8, 0));
    };
    let write_glibc = move || {
        // SAFETY: as above, through glibc.
        let n = unsafe { libc::syscall(libc::SYS_write, black_box(efd), p, 8usize) };
        assert_eq!(n, 8);
    };
    compare("i686_eventfd_write_ns", cfg, write, write_glibc);
    // SAFETY: closing our own descriptors.
    unsafe {
        libc::close(epfd as i32);
        libc::close(efd as i32);
    }
    0
}

/// One metric: `call` through the vDSO entry and through `int $0x80`, against `glibc`.
fn compare(metric: &str, cfg: Config, call: impl Fn() + Copy, glibc: impl Fn() + Copy) {
    let entry = raw::vsyscall_entry();
    let peers = vec![
        peer("rawpoll", move |k| timed(k, call)),
        peer("rawpoll_int80", move |k| {
            // SAFETY: None selects int $0x80; `entry` is this process's own vDSO entry.
            unsafe { raw::set_vsyscall_entry(None) };
            let d = timed(k, call);
            // SAFETY: as above.
            unsafe { raw::set_vsyscall_entry(entry) };
            d
        }),
        peer("glibc", move |k| timed(k, glibc)),
    ];
    measure(
        metric,
        "ns/call",
        1.0,
        cfg,
        peers,
        &[("rawpoll", "glibc"), ("rawpoll_int80", "glibc")],
    );
}

//! Delays: Go's rule from nanoseconds to an epoll timeout, and sub-millisecond delays through
//! `epoll_pwait2` where the kernel has it: a poll must sleep at least as long as asked.

use super::*;

#[test]
fn go_timeout_rule() {
    let _serial = serial();
    let cases = [
        (i64::MIN, -1),
        (-1, -1),
        (0, 0),
        (1, 1),
        (999_999, 1),
        (1_000_000, 1),
        (1_999_999, 1),
        (2_000_000, 2),
        (999_999_999_999_999, 999_999_999),
        (1_000_000_000_000_000, 1_000_000_000),
        (i64::MAX, 1_000_000_000),
    ];
    for (delay, ms) in cases {
        assert_eq!(delay_to_timeout_ms(delay), ms, "delay {delay} ns");
    }
    let np = ready_netpoll();
    for (delay, at_least) in [(1_000i64, 1_000_000u128), (3_000_000, 3_000_000)] {
        let start = Instant::now();
        assert_eq!(np.poll(delay, |_, _, _| {}), Ok(0));
        let took = start.elapsed().as_nanos();
        println!("poll({delay} ns) on a quiet set slept {took} ns (Go's rule: >= {at_least})");
        assert!(took >= at_least, "slept {took} ns < {at_least}");
    }
    assert_eq!(np.poll(0, |_, _, _| {}), Ok(0));
}

#[test]
fn epoll_pwait2_gives_sub_millisecond_delays() {
    let _serial = serial();
    let np = ready_netpoll();
    assert!(!np.uses_epoll_pwait2(), "off unless asked for");
    let best_of = |np: &Netpoll| {
        (0..20)
            .map(|_| {
                let start = Instant::now();
                assert_eq!(np.poll(100_000, |_, _, _| {}), Ok(0));
                start.elapsed()
            })
            .min()
            .unwrap()
    };
    let without = best_of(&np);
    np.use_epoll_pwait2(true);
    assert!(np.uses_epoll_pwait2(), "on until a poll finds it missing");
    let with = best_of(&np);
    println!(
        "poll(100 us), best of 20: {without:?} with Go's ms rule, {with:?} with epoll_pwait2 ({:?})",
        common::epoll_pwait2_probe()
    );
    assert!(without >= Duration::from_millis(1));
    assert!(with >= Duration::from_micros(100));
    if common::has_epoll_pwait2() {
        assert!(np.uses_epoll_pwait2(), "this kernel has epoll_pwait2");
        // The best of 20 tries: only if every one of them was delayed by ~900 us would this fail.
        assert!(with < Duration::from_millis(1), "{with:?}");
        np.use_epoll_pwait2(false);
        assert!(!np.uses_epoll_pwait2());
    } else {
        // ENOSYS (an old kernel, or qemu-user): the first poll fell back for good to Go's rule,
        // which sleeps at least 1 ms, and asking again changes nothing.
        assert!(!np.uses_epoll_pwait2(), "fell back after ENOSYS");
        assert!(with >= Duration::from_millis(1), "{with:?}");
        np.use_epoll_pwait2(true);
        assert!(!np.uses_epoll_pwait2(), "the fallback is for good");
    }
}

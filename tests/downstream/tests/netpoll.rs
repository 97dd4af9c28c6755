use rawpoll::netpoll::{Netpoll, PollDesc};
use rawpoll::Errno;
use rawpoll_downstream::{pipe_round_trip, wait_for_wake};

#[test]
fn pipe_readiness_reaches_the_poller() {
    static POLLER: Netpoll = Netpoll::new();
    static PIPE: PollDesc = PollDesc::new();
    POLLER.init().unwrap();
    let mut buf = [0u8; 16];
    let n = pipe_round_trip(&POLLER, &PIPE, b"ping", &mut buf).unwrap();
    assert_eq!(&buf[..n], b"ping");
    // The descriptor is closed on the poller's side: a second round reuses the same PollDesc.
    let n = pipe_round_trip(&POLLER, &PIPE, b"pong", &mut buf).unwrap();
    assert_eq!(&buf[..n], b"pong");
}

#[test]
fn wake_from_another_thread_ends_a_blocking_poll() {
    static POLLER: Netpoll = Netpoll::new();
    POLLER.init().unwrap();
    for _ in 0..3 {
        assert_eq!(wait_for_wake(&POLLER).unwrap(), 0);
    }
    assert!(!POLLER.has_sleeper());
}

#[test]
fn an_uninitialised_poller_refuses_and_a_second_init_is_busy() {
    static POLLER: Netpoll = Netpoll::new();
    assert_eq!(POLLER.poll(0, |_, _, _| {}), Err(Errno::EBADF));
    POLLER.init().unwrap();
    assert_eq!(POLLER.init(), Err(Errno::EBUSY));
    assert_eq!(POLLER.poll(0, |_, _, _| {}), Ok(0));
}

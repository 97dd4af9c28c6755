use rawpoll::netpoll::{Netpoll, PollDesc};
use rawpoll_downstream::{pipe_round_trip, wait_for_wake};

static POLLER: Netpoll = Netpoll::new();
static PIPE: PollDesc = PollDesc::new();

fn main() {
    POLLER.init().expect("init");
    let mut buf = [0u8; 16];
    let n = pipe_round_trip(&POLLER, &PIPE, b"hello", &mut buf).expect("pipe round trip");
    assert_eq!(&buf[..n], b"hello");
    wait_for_wake(&POLLER).expect("wake");
    println!("downstream: a pipe's bytes and a wake came through rawpoll's poller");
}

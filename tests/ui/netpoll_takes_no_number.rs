// The poller registers and removes only descriptors the caller can borrow.
#![forbid(unsafe_code)]
use rawpoll::netpoll::{Netpoll, PollDesc};

static POLLER: Netpoll = Netpoll::new();
static DESC: PollDesc = PollDesc::new();

fn main() {
    POLLER.init().unwrap();
    POLLER.open(0, &DESC).unwrap();
    POLLER.close(POLLER.raw_wake_fd()).unwrap();
}

// No safe path hands out a borrow or an owner of the poller's own descriptors.
#![forbid(unsafe_code)]
use rawpoll::netpoll::Netpoll;
use rawpoll::AsFd;

static POLLER: Netpoll = Netpoll::new();

fn main() {
    POLLER.init().unwrap();
    let _ = POLLER.as_fd();
    let _ = POLLER.epoll_fd();
    let _ = POLLER.kernel().map(|kernel| kernel.wake_fd());
}

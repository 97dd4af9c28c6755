// A crash of untyped descriptors: close the same descriptor twice; in between, the number may have
// become the poller's epoll instance. Closing consumes the owner.
#![forbid(unsafe_code)]

fn main() {
    let fd = rawpoll::eventfd(0, 0).unwrap();
    rawpoll::close(fd).unwrap();
    rawpoll::close(fd).unwrap();
}

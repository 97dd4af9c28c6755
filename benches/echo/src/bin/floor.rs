//! No server: only what every server binary shares (the listener, the control thread, the
//! counting allocator, std), so that `ci/bench` can show what each runtime adds to the size.

fn main() {
    let _listener = rawpoll_echo_bench::listen();
    loop {
        std::thread::park();
    }
}

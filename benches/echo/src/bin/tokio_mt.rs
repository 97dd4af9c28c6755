//! The echo server on tokio's multi-thread runtime with 2 workers: one task per connection.
//! Shared code: `src/lib.rs` (listener, control thread, counting allocator),
//! `src/tokio_server.rs` (the server's loop).

use rawpoll_echo_bench::listen;
use rawpoll_echo_bench::tokio_server::serve;

fn main() {
    let listener = listen();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .build()
        .expect("tokio runtime");
    rt.block_on(serve(listener));
}

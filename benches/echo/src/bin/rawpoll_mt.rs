//! The echo server on rawpoll's multi-threaded example executor with 2 workers
//! (examples/multi_thread/executor.rs and conn.rs, unchanged): an acceptor task spawns one task
//! per connection, each a `Conn` (the example's registered socket) echoing with the example's loop
//! (`echo` of examples/multi_thread/echo.rs: `poll_ready` first, then the I/O; a short read
//! clears the edge).
//! Shared code: `src/lib.rs` (listener, control thread, counting allocator).

#[allow(dead_code)]
#[path = "../../../../examples/multi_thread/conn.rs"]
mod conn;
#[allow(dead_code)]
#[path = "../../../../examples/multi_thread/echo.rs"]
mod echo;
#[allow(dead_code)]
#[path = "../../../../examples/multi_thread/executor.rs"]
mod executor;

use conn::Conn;
use executor::Runtime;
use rawpoll::netpoll::{Direction, Netpoll};
use rawpoll_echo_bench::{listen, BUF};
use std::io;
use std::net::TcpStream;

/// Worker threads.
const WORKERS: usize = 2;

static POLLER: Netpoll = Netpoll::new();

fn main() {
    let listener = listen();
    POLLER.init().expect("netpoll init");
    let listener = Conn::new(&POLLER, listener).expect("register the listener");
    let result = Runtime::block_on(&POLLER, WORKERS, move |rt| {
        let rt = rt.clone();
        async move {
            loop {
                let Ok((stream, _)) = listener.io(Direction::Read, |l| l.accept()).await else {
                    continue;
                };
                rt.spawn(async move {
                    let _ = serve(stream).await;
                });
            }
        }
    });
    eprintln!("rawpoll_mt: the executor stopped: {result:?}");
    std::process::exit(1);
}

async fn serve(stream: TcpStream) -> io::Result<()> {
    stream.set_nonblocking(true)?;
    let _ = stream.set_nodelay(true);
    let conn = Conn::new(&POLLER, stream)?;
    let mut buf = [0u8; BUF];
    echo::echo(&conn, &mut buf, |_| {}).await
}

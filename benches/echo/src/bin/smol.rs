//! The echo server on smol (async-io's reactor, one `LocalExecutor` run by `smol::block_on` on
//! the main thread): one task per connection.
//! Shared code: `src/lib.rs` (listener, control thread, counting allocator).

use rawpoll_echo_bench::{listen, BUF};
use smol::io::{AsyncReadExt, AsyncWriteExt};

fn main() {
    let listener = listen();
    let ex = smol::LocalExecutor::new();
    smol::block_on(ex.run(serve(&ex, listener)));
}

async fn serve(ex: &smol::LocalExecutor<'_>, listener: std::net::TcpListener) {
    let listener = smol::net::TcpListener::try_from(listener).expect("listener");
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        ex.spawn(async move {
            let mut buf = [0u8; BUF];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if stream.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        })
        .detach();
    }
}

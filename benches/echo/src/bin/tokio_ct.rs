//! The echo server on tokio's `current_thread` runtime: one task per connection.
//! Shared code: `src/lib.rs` (listener, control thread, counting allocator).

use rawpoll_echo_bench::{listen, BUF};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn main() {
    let listener = listen();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("tokio runtime");
    rt.block_on(serve(listener));
}

async fn serve(listener: std::net::TcpListener) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
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
        });
    }
}

//! The echo server's loop on tokio, the same for both of tokio's runtimes (`tokio_ct`, its
//! `current_thread` runtime; `tokio_mt`, its multi-thread one): one task per connection.

use crate::BUF;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Accepts connections on `listener` for ever, each echoed by a task of its own.
pub async fn serve(listener: std::net::TcpListener) {
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

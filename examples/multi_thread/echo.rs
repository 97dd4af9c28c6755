//! An async TCP echo on 127.0.0.1 on the multi-threaded executor (executor.rs), with std's
//! sockets: an acceptor task spawns a server task per connection, and client tasks in the same
//! program send `rounds` messages each and read each back, every byte counted and checked.

use super::conn::Conn;
use super::executor::Runtime;
use rawpoll::netpoll::{Direction, Netpoll};
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// What a run counted.
#[derive(Debug, Default)]
pub struct Totals {
    /// Connections the acceptor accepted.
    pub accepted: AtomicU64,
    /// Bytes the clients wrote.
    pub sent: AtomicU64,
    /// Bytes the servers read and wrote back.
    pub echoed: AtomicU64,
    /// Bytes the clients read back.
    pub received: AtomicU64,
    /// Bytes the clients read back that differ from what they sent.
    pub mismatched: AtomicU64,
    /// Tasks that ended with an error.
    pub failed_tasks: AtomicU64,
}

impl Totals {
    /// The counts as they stand, in the order of the fields: accepted, sent, echoed, received,
    /// mismatched, failed tasks.
    pub fn counts(&self) -> [u64; 6] {
        [
            &self.accepted,
            &self.sent,
            &self.echoed,
            &self.received,
            &self.mismatched,
            &self.failed_tasks,
        ]
        .map(|c| c.load(Relaxed))
    }
}

/// Serves `connections` echo connections of `rounds` messages of `message` bytes on `workers`
/// threads; returns what was counted.
pub fn run(
    poller: &'static Netpoll,
    workers: usize,
    connections: usize,
    rounds: usize,
    message: usize,
) -> io::Result<Arc<Totals>> {
    let totals = Arc::new(Totals::default());
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    let listener = Conn::new(poller, listener)?;
    let t = totals.clone();
    Runtime::block_on(poller, workers, move |rt| {
        let rt = rt.clone();
        async move {
            for k in 0..connections {
                rt.spawn(counted(
                    t.clone(),
                    client(poller, port, k, rounds, message, t.clone()),
                ));
            }
            for _ in 0..connections {
                let Ok((stream, _)) = listener.io(Direction::Read, |l| l.accept()).await else {
                    t.failed_tasks.fetch_add(1, Relaxed);
                    return;
                };
                t.accepted.fetch_add(1, Relaxed);
                rt.spawn(counted(t.clone(), server(poller, stream, t.clone())));
            }
        }
    })?;
    Ok(totals)
}

async fn counted(totals: Arc<Totals>, task: impl Future<Output = io::Result<()>>) {
    if task.await.is_err() {
        totals.failed_tasks.fetch_add(1, Relaxed);
    }
}

async fn server(
    poller: &'static Netpoll,
    stream: TcpStream,
    totals: Arc<Totals>,
) -> io::Result<()> {
    stream.set_nonblocking(true)?; // accepted sockets do not inherit it on Linux
    let conn = Conn::new(poller, stream)?;
    let mut buf = vec![0u8; 4096];
    echo(&conn, &mut buf, |n| {
        totals.echoed.fetch_add(n as u64, Relaxed);
    })
    .await
}

/// Echoes what `conn` reads, through `buf`, until the peer closes it; `echoed(n)` after each `n`
/// bytes written back. A `buf` longer than a message lets each read see that it drained the
/// socket. The server tasks of [`run`] are this loop.
pub async fn echo(
    conn: &Conn<TcpStream>,
    buf: &mut [u8],
    mut echoed: impl FnMut(usize),
) -> io::Result<()> {
    loop {
        let n = conn.read(buf).await?;
        if n == 0 {
            return Ok(());
        }
        conn.write_all(&buf[..n]).await?;
        echoed(n);
    }
}

async fn client(
    poller: &'static Netpoll,
    port: u16,
    k: usize,
    rounds: usize,
    message: usize,
    totals: Arc<Totals>,
) -> io::Result<()> {
    // A blocking connect: on loopback the kernel completes it before any accept, at once.
    let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
    stream.set_nonblocking(true)?;
    let conn = Conn::new(poller, stream)?;
    // `back` is longer than a message, so that a read that gets all that is left is short.
    let (mut out, mut back) = (vec![0u8; message], vec![0u8; 2 * message]);
    for round in 0..rounds {
        out.iter_mut()
            .enumerate()
            .for_each(|(j, b)| *b = (k * 31 + round * 7 + j) as u8);
        conn.write_all(&out).await?;
        totals.sent.fetch_add(message as u64, Relaxed);
        let mut got = 0;
        while got < message {
            let n = conn.read(&mut back[got..]).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let wrong = back[got..got + n]
                .iter()
                .zip(&out[got..])
                .filter(|(a, b)| a != b)
                .count();
            totals.mismatched.fetch_add(wrong as u64, Relaxed);
            totals.received.fetch_add(n as u64, Relaxed);
            got += n;
        }
    }
    Ok(())
}

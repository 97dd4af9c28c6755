//! A non-blocking socket registered with rawpoll's readiness layer, and the readiness loop of
//! its I/O, for the multi-threaded executor (executor.rs): [`Conn`] is registered edge-triggered
//! with a `PollDesc` from a pool (a reused one gets `bump_sequence` first).

use rawpoll::netpoll::{Direction, Netpoll, PollDesc};
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::sync::Mutex;
use std::task::Poll;

static FREE_DESCS: Mutex<Vec<&'static PollDesc>> = Mutex::new(Vec::new());

/// A non-blocking socket registered with the poller; deregistered, and its `PollDesc` back in
/// the pool, when dropped.
pub struct Conn<S: std::os::fd::AsFd> {
    socket: S,
    pd: &'static PollDesc,
    poller: &'static Netpoll,
}

impl<S: std::os::fd::AsFd> Conn<S> {
    /// Registers `socket` (non-blocking already) with `poller`.
    pub fn new(poller: &'static Netpoll, socket: S) -> io::Result<Conn<S>> {
        let free = FREE_DESCS.lock().unwrap().pop();
        let pd = free.unwrap_or_else(|| Box::leak(Box::new(PollDesc::new())));
        pd.bump_sequence(); // a reused one must not see its predecessor's readiness
        if let Err(e) = poller.open(&socket, pd) {
            FREE_DESCS.lock().unwrap().push(pd);
            return Err(e.into());
        }
        Ok(Conn { socket, pd, poller })
    }

    /// The readiness loop: waits until `dir` is ready (`poll_ready`), then runs `op`; after
    /// `WouldBlock` clears the edge (`clear_ready`) and waits again. For I/O that cannot tell
    /// whether it drained the socket (`accept`, `connect`); see [`Conn::io_until`].
    pub async fn io<T>(
        &self,
        dir: Direction,
        op: impl FnMut(&S) -> io::Result<T>,
    ) -> io::Result<T> {
        self.io_until(dir, op, |_| false).await
    }

    /// [`Conn::io`], where `drained(&result)` says that `op` emptied the socket's buffer (a read
    /// or write that moved fewer bytes than it asked): the edge is cleared at once, which saves
    /// the call that would return `WouldBlock`. That is safe: an edge that arrived after the
    /// `poll_ready` that returned `Ready` stays latched (`clear_ready` keeps it), so data that
    /// came after the drain is never left waiting for another edge. Asking `poll_ready` first
    /// uses the edge that woke the task (trying the I/O first would leave it latched and cost
    /// one more `WouldBlock` per message); a freshly registered socket reports its readiness at
    /// registration, so the first wait ends at once if it is ready already. A non-blocking
    /// connect must be started before this waits for writability.
    pub async fn io_until<T>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&S) -> io::Result<T>,
        drained: impl Fn(&T) -> bool,
    ) -> io::Result<T> {
        poll_fn(|cx| loop {
            match self.pd.poll_ready(dir, cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Pending => return Poll::Pending,
            }
            match op(&self.socket) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.pd.clear_ready(dir),
                Ok(done) => {
                    if drained(&done) {
                        self.pd.clear_ready(dir);
                    }
                    return Poll::Ready(Ok(done));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        })
        .await
    }

    /// Reads into `buf` once data is there; a read shorter than `buf` drained the socket.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize>
    where
        for<'a> &'a S: Read,
    {
        let asked = buf.len();
        self.io_until(Direction::Read, |mut s| s.read(buf), |&n| n < asked)
            .await
    }

    /// Writes all of `bytes`; a write shorter than asked filled the socket's send buffer.
    pub async fn write_all(&self, mut bytes: &[u8]) -> io::Result<()>
    where
        for<'a> &'a S: Write,
    {
        while !bytes.is_empty() {
            let asked = bytes.len();
            let write = |mut s: &S| s.write(bytes);
            let n = self
                .io_until(Direction::Write, write, |&n| n < asked)
                .await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            bytes = &bytes[n..];
        }
        Ok(())
    }
}

impl<S: std::os::fd::AsFd> Drop for Conn<S> {
    fn drop(&mut self) {
        let _ = self.poller.close(&self.socket);
        FREE_DESCS.lock().unwrap().push(self.pd);
    }
}

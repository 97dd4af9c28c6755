//! The echo benchmark's load generator and driver, the same for every server (ci/bench).
//!
//! The load: `CONNS` TCP connections per server over 127.0.0.1, driven by one thread through
//! level-triggered epoll (the libc crate). Ping-pong, not pipelined: each connection has one
//! 64-byte message in flight; when its echo is back (checked byte for byte), it sends the next.
//! A window sends `MSGS` messages on every connection and ends when every echo is back, so the
//! server is idle at both ends of a window.
//!
//! Modes:
//!
//! - `wall CONNS MSGS ROUNDS NAME=PATH...`: starts every server, connects, warms each up with
//!   one window, then takes `ROUNDS` rounds of one window per server, the order rotated each
//!   round. Per window: messages per second, the server's CPU time (getrusage, every thread)
//!   and heap allocations (its counting allocator), read through the server's control stdin
//!   (`src/lib.rs`) before and after. Prints `RESULT`/`RATIO` lines as `benches/peers` does,
//!   and `ECHO_ALLOC name allocations messages` (over all measured windows).
//! - `count CONNS MSGS NAME PATH`: one server under `perf stat` (counters off until enabled
//!   through its control fifo), warmed up, then one window with the counters on: prints
//!   `ECHO_SC name syscalls/message detail` (every system call of every thread of the server,
//!   `raw_syscalls:sys_enter`, and the main ones by name).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

/// The harness of `benches/peers`, for its `stats` (median, minimum and maximum) alone.
#[path = "../../../peers/harness.rs"]
#[allow(dead_code)]
mod harness;
use harness::stats;

/// Message size.
const MSG: usize = 64;
/// A window with no echo for this long has failed.
const STALL_MS: i32 = 10_000;
/// Warm-up messages per connection.
const WARMUP: usize = 20;
/// The system calls `count` names; the rest are summed as "other".
const NAMED: &[&str] = &[
    "read",
    "write",
    "recvfrom",
    "sendto",
    "epoll_wait",
    "epoll_pwait",
    "epoll_ctl",
    "futex",
    "sched_yield",
];

fn main() {
    raise_nofile();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["wall", conns, msgs, rounds, servers @ ..] if !servers.is_empty() => {
            wall(num(conns), num(msgs), num(rounds), servers)
        }
        ["count", conns, msgs, name, path] => count(num(conns), num(msgs), name, path),
        _ => Err(
            "usage: client wall CONNS MSGS ROUNDS NAME=PATH... | count CONNS MSGS NAME PATH".into(),
        ),
    };
    if let Err(e) = result {
        eprintln!("echo client: {e}");
        std::process::exit(1);
    }
}

fn num(s: &str) -> usize {
    s.parse().unwrap_or_else(|_| {
        eprintln!("echo client: not a number: {s}");
        std::process::exit(2)
    })
}

/// 512 connections to each of five servers need more descriptors than a default soft limit.
fn raise_nofile() {
    // SAFETY: an all-zero rlimit is valid; getrlimit only writes it, setrlimit only reads it.
    unsafe {
        let mut r: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

type Res<T> = Result<T, String>;

/// A running server and the load generator's connections to it.
struct Server {
    name: String,
    child: Child,
    control: Option<ChildStdin>,
    out: BufReader<ChildStdout>,
    conns: Vec<OwnedFd>,
    epoll: OwnedFd,
    /// Per connection: the bytes of the echo received so far, messages left, the sequence number.
    got: Vec<usize>,
    left: Vec<usize>,
    seq: Vec<u32>,
    /// Bytes echoed back and checked, over the server's life.
    echoed: u64,
}

/// What the server's control thread reports.
#[derive(Clone, Copy)]
struct Stat {
    allocations: u64,
    cpu_ns: u64,
}

impl Server {
    fn start(name: &str, mut cmd: Command, conns: usize) -> Res<Server> {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{name}: cannot start: {e}"))?;
        let control = child.stdin.take();
        let mut out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        out.read_line(&mut line)
            .map_err(|e| format!("{name}: {e}"))?;
        let port: u16 = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| format!("{name}: no port, got {line:?}"))?;
        // SAFETY: epoll_create1 returns a new descriptor or -1.
        let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if ep < 0 {
            return Err(format!(
                "epoll_create1: {}",
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: ep is a new descriptor nobody else owns.
        let epoll = unsafe { OwnedFd::from_raw_fd(ep) };
        let mut fds = Vec::with_capacity(conns);
        for i in 0..conns {
            let s = std::net::TcpStream::connect(("127.0.0.1", port))
                .map_err(|e| format!("{name}: connect {i}: {e}"))?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            s.set_nonblocking(true).map_err(|e| e.to_string())?;
            let fd: OwnedFd = s.into();
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: i as u64,
            };
            // SAFETY: both descriptors are open; ev is valid.
            if unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd.as_raw_fd(), &mut ev) } != 0 {
                return Err(format!("epoll_ctl: {}", std::io::Error::last_os_error()));
            }
            fds.push(fd);
        }
        Ok(Server {
            name: name.to_string(),
            child,
            control,
            out,
            conns: fds,
            epoll,
            got: vec![0; conns],
            left: vec![0; conns],
            seq: vec![0; conns],
            echoed: 0,
        })
    }

    fn stat(&mut self) -> Res<Stat> {
        let control = self.control.as_mut().ok_or("stdin closed")?;
        control
            .write_all(b"stat\n")
            .and_then(|_| control.flush())
            .map_err(|e| format!("{}: control: {e}", self.name))?;
        let mut line = String::new();
        self.out
            .read_line(&mut line)
            .map_err(|e| format!("{}: control: {e}", self.name))?;
        let f: Vec<u64> = line
            .strip_prefix("STAT ")
            .map(|r| {
                r.split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        if f.len() != 3 {
            return Err(format!("{}: bad stat line {line:?}", self.name));
        }
        Ok(Stat {
            allocations: f[0],
            cpu_ns: f[1] + f[2],
        })
    }

    fn message(&self, c: usize) -> [u8; MSG] {
        let mut m = [0x5au8; MSG];
        m[..4].copy_from_slice(&(c as u32).to_le_bytes());
        m[4..8].copy_from_slice(&self.seq[c].to_le_bytes());
        m
    }

    fn send(&mut self, c: usize) -> Res<()> {
        self.seq[c] = self.seq[c].wrapping_add(1);
        let m = self.message(c);
        // SAFETY: the descriptor is open and m is MSG readable bytes.
        let n = unsafe { libc::write(self.conns[c].as_raw_fd(), m.as_ptr().cast(), MSG) };
        // One message in flight on an empty socket buffer: the write takes all of it.
        if n != MSG as isize {
            return Err(format!(
                "{}: write on connection {c} returned {n}",
                self.name
            ));
        }
        Ok(())
    }

    /// Sends `msgs` messages on every connection, ping-pong; returns when every echo is back.
    fn window(&mut self, msgs: usize) -> Res<()> {
        if msgs == 0 {
            return Ok(());
        }
        let n = self.conns.len();
        for c in 0..n {
            self.left[c] = msgs;
            self.got[c] = 0;
            self.send(c)?;
        }
        let mut active = n;
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; n.min(1024)];
        let mut buf = [0u8; MSG];
        while active > 0 {
            // SAFETY: events has room for its length; the epoll descriptor is open.
            let k = unsafe {
                libc::epoll_wait(
                    self.epoll.as_raw_fd(),
                    events.as_mut_ptr(),
                    events.len() as i32,
                    STALL_MS,
                )
            };
            if k < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(format!("epoll_wait: {e}"));
            }
            if k == 0 {
                return Err(format!(
                    "{}: no echo for {STALL_MS} ms ({active} connections waiting)",
                    self.name
                ));
            }
            for ev in &events[..k as usize] {
                let c = ev.u64 as usize;
                let fd: RawFd = self.conns[c].as_raw_fd();
                let got = self.got[c];
                // SAFETY: buf has MSG - got writable bytes from got on.
                let r = unsafe { libc::read(fd, buf[got..].as_mut_ptr().cast(), MSG - got) };
                if r < 0 {
                    let e = std::io::Error::last_os_error();
                    if e.kind() == std::io::ErrorKind::WouldBlock {
                        continue;
                    }
                    return Err(format!("{}: read on connection {c}: {e}", self.name));
                }
                if r == 0 {
                    return Err(format!(
                        "{}: connection {c} closed by the server",
                        self.name
                    ));
                }
                self.got[c] += r as usize;
                if self.got[c] < MSG {
                    continue;
                }
                if buf != self.message(c) {
                    return Err(format!("{}: connection {c}: the echo differs", self.name));
                }
                self.echoed += MSG as u64;
                self.got[c] = 0;
                self.left[c] -= 1;
                if self.left[c] > 0 {
                    self.send(c)?;
                } else {
                    active -= 1;
                }
            }
        }
        Ok(())
    }

    /// Closes the control stdin (the server exits) and the connections; waits for the process.
    fn stop(mut self) -> Res<()> {
        drop(self.control.take());
        self.conns.clear();
        let status = self.child.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("{}: exited with {status}", self.name));
        }
        Ok(())
    }
}

fn wall(conns: usize, msgs: usize, rounds: usize, servers: &[&str]) -> Res<()> {
    let mut running = Vec::new();
    for spec in servers {
        let (name, path) = spec
            .split_once('=')
            .ok_or_else(|| format!("not NAME=PATH: {spec}"))?;
        running.push(Server::start(name, Command::new(path), conns)?);
    }
    for s in running.iter_mut() {
        s.window(WARMUP)?;
    }
    let n = running.len();
    let mut rate = vec![Vec::with_capacity(rounds); n];
    let mut cpu = vec![Vec::with_capacity(rounds); n];
    let mut allocations = vec![0u64; n];
    let per_window = (conns * msgs) as f64;
    for round in 0..rounds {
        for i in 0..n {
            let p = (i + round) % n;
            let s = &mut running[p];
            let before = s.stat()?;
            let t = Instant::now();
            s.window(msgs)?;
            let took = t.elapsed();
            let after = s.stat()?;
            rate[p].push(per_window / took.as_secs_f64().max(1e-9));
            cpu[p].push((after.cpu_ns - before.cpu_ns) as f64 / 1000.0 / per_window);
            allocations[p] += after.allocations - before.allocations;
        }
    }
    let total = per_window as u64 * rounds as u64;
    for (p, s) in running.iter().enumerate() {
        for (metric, unit, v) in [
            ("echo_msgs_per_s", "msgs/s", &rate[p]),
            ("echo_cpu_us_per_msg", "us/msg", &cpu[p]),
        ] {
            let (m, lo, hi) = stats(v);
            println!(
                "RESULT\t{metric}\t{}\t{m:.3}\t{lo:.3}\t{hi:.3}\t{unit}\t{rounds}",
                s.name
            );
        }
        println!("ECHO_ALLOC\t{}\t{}\t{total}", s.name, allocations[p]);
    }
    // Per-round ratios against tokio current_thread (the goal), where it ran.
    if let Some(base) = running.iter().position(|s| s.name == "tokio_ct") {
        for (p, s) in running.iter().enumerate() {
            if p == base {
                continue;
            }
            for (metric, v) in [("echo_msgs_per_s", &rate), ("echo_cpu_us_per_msg", &cpu)] {
                let r: Vec<f64> = v[p].iter().zip(&v[base]).map(|(a, b)| a / b).collect();
                let (m, lo, hi) = stats(&r);
                println!(
                    "RATIO\t{metric}\t{}\ttokio_ct\t{m:.3}\t{lo:.3}\t{hi:.3}",
                    s.name
                );
            }
        }
    }
    println!("ECHO_CONFIG\tconns={conns} msgs/conn/window={msgs} rounds={rounds} msg={MSG}B");
    let mut echoed = 0;
    for s in running {
        echoed += s.echoed;
        s.stop()?;
    }
    eprintln!("echo client: {echoed} bytes echoed and checked");
    Ok(())
}

/// `perf stat`'s control fifos, in a directory of their own.
struct PerfControl {
    dir: std::path::PathBuf,
    ctl: std::fs::File,
    ack: BufReader<std::fs::File>,
}

impl PerfControl {
    fn send(&mut self, what: &str) -> Res<()> {
        writeln!(self.ctl, "{what}").map_err(|e| format!("perf control: {e}"))?;
        let mut line = String::new();
        self.ack
            .read_line(&mut line)
            .map_err(|e| format!("perf ack: {e}"))?;
        if line.trim_matches(|c: char| c == '\0' || c.is_whitespace()) != "ack" {
            return Err(format!("perf answered {line:?} to {what}"));
        }
        Ok(())
    }
}

fn mkfifo(path: &std::path::Path) -> Res<()> {
    let c =
        std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: c is a NUL-terminated path.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(format!("mkfifo: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

fn count(conns: usize, msgs: usize, name: &str, path: &str) -> Res<()> {
    let dir = std::env::temp_dir().join(format!("echo-perf-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (ctl, ack, out) = (dir.join("ctl"), dir.join("ack"), dir.join("out"));
    mkfifo(&ctl)?;
    mkfifo(&ack)?;
    let events: Vec<String> = std::iter::once("raw_syscalls:sys_enter".to_string())
        .chain(NAMED.iter().map(|s| format!("syscalls:sys_enter_{s}")))
        .collect();
    let mut cmd = Command::new("perf");
    cmd.arg("stat")
        .arg("-x,")
        .arg("-o")
        .arg(&out)
        .arg(format!(
            "--control=fifo:{},{}",
            ctl.display(),
            ack.display()
        ))
        .arg("--delay=-1")
        .arg("-e")
        .arg(events.join(","))
        .arg("--")
        .arg(path);
    let mut server = Server::start(name, cmd, conns)?;
    // Read-write opens of a fifo never wait for the other end.
    let open = |p: &std::path::Path| {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(p)
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    let mut perf = PerfControl {
        ctl: open(&ctl)?,
        ack: BufReader::new(open(&ack)?),
        dir: dir.clone(),
    };
    server.window(WARMUP)?;
    perf.send("enable")?;
    server.window(msgs)?;
    perf.send("disable")?;
    server.stop()?;
    let mut text = String::new();
    std::fs::File::open(&out)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map_err(|e| format!("perf output: {e}"))?;
    let _ = std::fs::remove_dir_all(&perf.dir);
    let mut counts = std::collections::HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() > 2 {
            if let Ok(v) = f[0].parse::<u64>() {
                counts.insert(f[2].to_string(), v);
            }
        }
    }
    let total = *counts
        .get("raw_syscalls:sys_enter")
        .ok_or_else(|| format!("no count in perf's output:\n{text}"))?;
    let messages = (conns * msgs) as f64;
    let mut named = 0;
    let mut detail = Vec::new();
    for s in NAMED {
        let v = counts
            .get(&format!("syscalls:sys_enter_{s}"))
            .copied()
            .unwrap_or(0);
        named += v;
        if v as f64 / messages >= 0.001 {
            detail.push((v, format!("{s} {:.3}", v as f64 / messages)));
        }
    }
    let other = total.saturating_sub(named);
    if other as f64 / messages >= 0.001 {
        detail.push((other, format!("other {:.3}", other as f64 / messages)));
    }
    detail.sort_by_key(|d| std::cmp::Reverse(d.0));
    let detail: Vec<String> = detail.into_iter().map(|d| d.1).collect();
    println!(
        "ECHO_SC\t{name}\t{:.3}\t{}\t{total}\t{}",
        total as f64 / messages,
        detail.join(", "),
        conns * msgs
    );
    Ok(())
}

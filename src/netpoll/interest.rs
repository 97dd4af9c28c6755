//! What a registration asks for ([`Interest`]) and what an event reports ([`Ready`]).

#[cfg(doc)]
use super::Netpoll;
use crate::event::{EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLONESHOT, EPOLLOUT, EPOLLRDHUP};

/// What a registration asks to be told about: the event bits [`Netpoll::open_with`] and
/// [`Netpoll::modify`] register, always edge-triggered unless [`Interest::level_triggered`] says
/// otherwise.
///
/// Errors and hang-ups are reported whatever the interest (the kernel always reports
/// `EPOLLERR` and `EPOLLHUP`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Interest(u32);

impl Interest {
    /// Readable, and the peer's shutdown of its writing half: `EPOLLIN | EPOLLRDHUP | EPOLLET`.
    pub const READABLE: Interest = Interest(EPOLLIN | EPOLLRDHUP | EPOLLET);
    /// Writable: `EPOLLOUT | EPOLLET`.
    pub const WRITABLE: Interest = Interest(EPOLLOUT | EPOLLET);
    /// Go's `netpollopen` registration, what [`Netpoll::open`] uses:
    /// `EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET`.
    #[doc(alias = "netpollopen")]
    pub const GO: Interest = Interest::READABLE.and(Interest::WRITABLE);

    /// Both interests.
    pub const fn and(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// The same interest, reported once and then disabled until [`Netpoll::modify`] re-arms it
    /// (`EPOLLONESHOT`).
    pub const fn oneshot(self) -> Interest {
        Interest(self.0 | EPOLLONESHOT)
    }

    /// The same interest, level-triggered: reported by every poll while it holds (no `EPOLLET`).
    pub const fn level_triggered(self) -> Interest {
        Interest(self.0 & !EPOLLET)
    }

    /// The epoll event bits.
    pub const fn bits(self) -> u32 {
        self.0
    }
}

impl core::ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, other: Interest) -> Interest {
        self.and(other)
    }
}

/// Ready reported for a descriptor: Go's two modes, plus what a runtime that is not Go's wants
/// to know (the same questions as mio's `Event`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Ready {
    /// Go's mode `'r'`: `EPOLLIN`, `EPOLLRDHUP`, `EPOLLHUP` or `EPOLLERR`.
    pub readable: bool,
    /// Go's mode `'w'`: `EPOLLOUT`, `EPOLLHUP` or `EPOLLERR`.
    pub writable: bool,
    /// `EPOLLERR` and nothing else: Go's `pd.setEventErr(true)`, an error the next read or
    /// write will report.
    pub error: bool,
    /// The reading half is closed: `EPOLLRDHUP` (the peer shut down its writing half) or
    /// `EPOLLHUP` (mio's `is_read_closed`).
    pub read_closed: bool,
    /// Hang-up, both halves: `EPOLLHUP` (mio's `is_write_closed` also counts an error).
    pub hang_up: bool,
    /// The raw epoll event bits.
    pub events: u32,
}

impl Ready {
    /// Maps epoll event bits as Go's `netpoll` does, and keeps them.
    #[doc(alias = "netpollready")]
    pub const fn from_events(events: u32) -> Ready {
        Ready {
            readable: events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR) != 0,
            writable: events & (EPOLLOUT | EPOLLHUP | EPOLLERR) != 0,
            error: events == EPOLLERR,
            read_closed: events & (EPOLLRDHUP | EPOLLHUP) != 0,
            hang_up: events & EPOLLHUP != 0,
            events,
        }
    }

    /// Neither readable nor writable: nothing to report.
    pub const fn is_empty(&self) -> bool {
        !self.readable && !self.writable
    }
}

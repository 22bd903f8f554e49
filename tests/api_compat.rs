//! Compile-time proof that nbio's API is mio 1.x's: the same code, pinning
//! every signature to a function pointer of an exact type and every trait
//! impl to a bound, is compiled against both crates. If nbio's API drifted
//! from mio's, the nbio half would fail to compile; if a pin were not
//! mio's true signature, the mio half would.

#![allow(clippy::type_complexity)]

use std::fmt::Debug;
use std::hash::Hash;

fn traits_of_token<
    T: Copy + Clone + Debug + PartialEq + Eq + PartialOrd + Ord + Hash + Send + Sync,
>() {
}
fn traits_of_interest<T>()
where
    T: Copy + Clone + Debug + PartialEq + Eq + PartialOrd + Ord + Send + Sync,
    T: std::ops::BitOr<Output = T> + std::ops::BitOrAssign,
{
}
fn send_sync_debug<T: Send + Sync + Debug>() {}
fn clone_debug<T: Clone + Debug>() {}
fn fd_handle<T: std::os::fd::AsRawFd>() {}
fn fd_owner<T: std::os::fd::AsRawFd + std::os::fd::AsFd>() {}

macro_rules! pin_core_api {
    ($krate:ident) => {{
        use std::io;
        use std::time::Duration;

        use $krate::event::{Event, Iter, Source};
        use $krate::unix::SourceFd;
        use $krate::{Events, Interest, Poll, Registry, Token, Waker};

        // Poll
        let _: fn() -> io::Result<Poll> = Poll::new;
        let _: fn(&Poll) -> &Registry = Poll::registry;
        let _: fn(&mut Poll, &mut Events, Option<Duration>) -> io::Result<()> = Poll::poll;
        send_sync_debug::<Poll>();
        fd_handle::<Poll>();

        // Registry
        let _: fn(&Registry, &mut SourceFd<'static>, Token, Interest) -> io::Result<()> =
            Registry::register::<SourceFd<'static>>;
        let _: fn(&Registry, &mut SourceFd<'static>, Token, Interest) -> io::Result<()> =
            Registry::reregister::<SourceFd<'static>>;
        let _: fn(&Registry, &mut SourceFd<'static>) -> io::Result<()> =
            Registry::deregister::<SourceFd<'static>>;
        let _: fn(&Registry, &mut (dyn Source + 'static), Token, Interest) -> io::Result<()> =
            Registry::register::<dyn Source>;
        let _: fn(&Registry) -> io::Result<Registry> = Registry::try_clone;
        send_sync_debug::<Registry>();
        fd_owner::<Registry>();

        // Events and Iter
        let _: fn(usize) -> Events = Events::with_capacity;
        let _: fn(&Events) -> usize = Events::capacity;
        let _: fn(&Events) -> bool = Events::is_empty;
        let _: for<'a> fn(&'a Events) -> Iter<'a> = Events::iter;
        let _: fn(&mut Events) = Events::clear;
        let _: fn(&'static Events) -> Iter<'static> = <&'static Events as IntoIterator>::into_iter;
        let _: fn(&mut Iter<'static>) -> Option<&'static Event> = <Iter<'static> as Iterator>::next;
        send_sync_debug::<Events>();
        clone_debug::<Iter<'static>>();

        // Event
        let _: fn(&Event) -> Token = Event::token;
        let _: fn(&Event) -> bool = Event::is_readable;
        let _: fn(&Event) -> bool = Event::is_writable;
        let _: fn(&Event) -> bool = Event::is_error;
        let _: fn(&Event) -> bool = Event::is_read_closed;
        let _: fn(&Event) -> bool = Event::is_write_closed;
        let _: fn(&Event) -> bool = Event::is_priority;
        let _: fn(&Event) -> bool = Event::is_aio;
        let _: fn(&Event) -> bool = Event::is_lio;
        clone_debug::<Event>();
        send_sync_debug::<Event>();

        // Source
        let _: fn(&mut SourceFd<'static>, &Registry, Token, Interest) -> io::Result<()> =
            <SourceFd<'static> as Source>::register;
        let _: fn(&mut SourceFd<'static>, &Registry, Token, Interest) -> io::Result<()> =
            <SourceFd<'static> as Source>::reregister;
        let _: fn(&mut SourceFd<'static>, &Registry) -> io::Result<()> =
            <SourceFd<'static> as Source>::deregister;
        let _: fn(&mut Box<dyn Source>, &Registry, Token, Interest) -> io::Result<()> =
            <Box<dyn Source> as Source>::register;
        let fd: std::os::fd::RawFd = 0;
        let source: SourceFd<'_> = SourceFd(&fd);
        let _: &std::os::fd::RawFd = source.0;
        let _ = format!("{source:?}");

        // Token
        let token: Token = Token(7);
        let _: usize = token.0;
        let _: usize = usize::from(token);
        traits_of_token::<Token>();

        // Interest
        const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
        const READABLE: bool = BOTH.is_readable();
        const WRITABLE: bool = BOTH.is_writable();
        const AIO: bool = BOTH.is_aio();
        const LIO: bool = BOTH.is_lio();
        const PRIORITY: bool = BOTH.is_priority();
        let _ = (READABLE, WRITABLE, AIO, LIO, PRIORITY);
        let _: Interest = Interest::PRIORITY;
        let _: fn(Interest, Interest) -> Interest = Interest::add;
        let _: fn(Interest, Interest) -> Option<Interest> = Interest::remove;
        let _: fn(Interest) -> bool = Interest::is_readable;
        traits_of_interest::<Interest>();

        // Waker
        let _: fn(&Registry, Token) -> io::Result<Waker> = Waker::new;
        let _: fn(&Waker) -> io::Result<()> = Waker::wake;
        send_sync_debug::<Waker>();
    }};
}

#[test]
fn nbio_has_the_core_api_of_mio() {
    pin_core_api!(nbio);
}

#[test]
fn the_pins_are_mios_own_signatures() {
    pin_core_api!(mio);
}

/// nbio goes beyond mio where that cannot break mio code.
#[test]
fn nbio_extras() {
    fd_owner::<nbio::Poll>();
    fn exact<T: ExactSizeIterator>() {}
    exact::<nbio::event::Iter<'static>>();
}

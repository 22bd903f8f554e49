//! One registered socket: its interest, what of it is armed, and the AFD
//! poll request it lends the kernel. Also `IoSourceState`, which re-arms
//! the socket when an I/O call returns `WouldBlock`.
//!
//! See `selector.rs` for the trigger model and the ownership rule of the
//! request's memory.

use std::cell::UnsafeCell;
use std::io;
use std::os::windows::io::RawSocket;
use std::sync::{Arc, Mutex, MutexGuard};

use super::afd::{
    Afd, PollHandleInfo, PollInfo, PollRequest, POLL_ABORT, POLL_ACCEPT, POLL_CONNECT_FAIL,
    POLL_DISCONNECT, POLL_LOCAL_CLOSE, POLL_RECEIVE, POLL_RECEIVE_EXPEDITED, POLL_SEND,
};
use super::selector::{Inner, Selector};
use crate::sys::RawSource;
use crate::trigger::{Kind as TriggerKind, Trigger};
use crate::{Interest, Token};

/// Failures: reported with every interest, and they disarm everything.
pub(crate) const FAILURE: u32 = POLL_ABORT | POLL_CONNECT_FAIL;
/// What a read re-arms.
const READ_SIDE: u32 = POLL_RECEIVE | POLL_DISCONNECT | POLL_ACCEPT | POLL_RECEIVE_EXPEDITED;
/// What a write re-arms.
const WRITE_SIDE: u32 = POLL_SEND;

/// The AFD events a registration for `interests` watches.
pub(crate) fn interest_mask(interests: Interest) -> u32 {
    let mut mask = 0;
    if interests.is_readable() {
        mask |= POLL_RECEIVE | POLL_DISCONNECT | POLL_ACCEPT | FAILURE;
    }
    if interests.is_writable() {
        mask |= POLL_SEND | FAILURE;
    }
    if interests.is_priority() {
        mask |= POLL_RECEIVE_EXPEDITED | FAILURE;
    }
    mask
}

/// The AFD events that an operation waiting for `waits_for` re-arms.
pub(crate) fn rearm_mask(waits_for: Interest) -> u32 {
    let mut mask = 0;
    if waits_for.is_readable() {
        mask |= READ_SIDE | FAILURE;
    }
    if waits_for.is_writable() {
        mask |= WRITE_SIDE | FAILURE;
    }
    mask
}

/// What stays armed after `fired` was reported: each event that fired is
/// disarmed on its own (data read and a peer's shutdown are separate
/// edges: AFD reports the data before the shutdown that follows it), and a
/// failure disarms everything.
pub(crate) fn disarmed(armed: u32, fired: u32) -> u32 {
    if fired & FAILURE != 0 {
        0
    } else {
        armed & !fired
    }
}

/// Where the socket's poll request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PollState {
    /// No request in flight: the request memory is ours.
    Idle,
    /// A request for these events is in flight.
    Pending(u32),
    /// A request is in flight and was asked to cancel.
    Cancelling,
}

#[derive(Debug)]
pub(crate) struct Registration {
    pub(crate) token: Token,
    pub(crate) interest: u32,
    pub(crate) armed: u32,
    pub(crate) poll: PollState,
    /// Deregistered, dropped or closed: report nothing more, and free the
    /// state once no request is in flight.
    pub(crate) deleted: bool,
    /// Already in the selector's update queue.
    pub(crate) queued: bool,
    /// The trigger mode (`crate::trigger`): edge is emulated as the
    /// selector's docs say; level re-submits the whole interest after each
    /// event; one-shot submits nothing more until `reregister`.
    pub(crate) trigger: TriggerKind,
}

impl Registration {
    /// Records that `fired` was reported: disarms what the trigger mode
    /// says.
    pub(crate) fn after_event(&mut self, fired: u32) {
        self.armed = match self.trigger {
            TriggerKind::Edge => disarmed(self.armed, fired),
            TriggerKind::Level => self.armed,
            TriggerKind::OneShot => 0,
        };
    }

    /// Whether an I/O call re-arms it: only an edge-triggered registration
    /// (a level one never disarms, a one-shot one waits for `reregister`).
    pub(crate) fn rearmable(&self) -> bool {
        self.trigger == TriggerKind::Edge
    }
}

/// A registered socket, shared by its `IoSourceState`, the selector's
/// table, the update queue and (as a leaked reference) the kernel.
pub(crate) struct SockState {
    /// The memory of the poll request; the kernel's while one is in flight
    /// (see `PollState`), touched by us only while `Idle`, under the lock.
    request: UnsafeCell<PollRequest>,
    base: RawSocket,
    afd: Arc<Afd>,
    registration: Mutex<Registration>,
}

// SAFETY: the only field that is not `Sync` by itself is `request`, which
// is written only by the thread holding `registration`'s lock while no
// request is in flight, and by the kernel while one is.
unsafe impl Sync for SockState {}
// SAFETY: as above; nothing in the state is tied to a thread.
unsafe impl Send for SockState {}
// A panic cannot leave `request` half-written where anyone would see it:
// it is written only under `registration`'s lock (which poisoning guards)
// or by the kernel, and read only under that lock. Without these the
// socket types would not be `UnwindSafe` (they are in mio).
impl std::panic::UnwindSafe for SockState {}
impl std::panic::RefUnwindSafe for SockState {}

impl std::fmt::Debug for SockState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SockState")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl SockState {
    pub(crate) fn new(
        base: RawSocket,
        afd: Arc<Afd>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> Self {
        let interest = interest_mask(interests);
        SockState {
            request: UnsafeCell::new(PollRequest::new()),
            base,
            afd,
            registration: Mutex::new(Registration {
                token,
                interest,
                armed: interest,
                poll: PollState::Idle,
                deleted: false,
                queued: false,
                trigger: trigger.kind(),
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Registration> {
        lock(&self.registration)
    }

    /// Issues a poll request for `mask` (plus local close). On success the
    /// kernel holds one reference to `this` until the completion is
    /// dequeued and `Inner::complete` takes it back.
    pub(crate) fn submit(
        this: &Arc<SockState>,
        reg: &mut Registration,
        mask: u32,
    ) -> io::Result<()> {
        debug_assert_eq!(reg.poll, PollState::Idle);
        let request = this.request.get();
        // SAFETY: no request is in flight (`Idle`, checked under the lock
        // the caller holds), so the memory is ours to write.
        unsafe {
            *request = PollRequest::new();
            (*request).info = PollInfo {
                timeout: i64::MAX,
                number_of_handles: 1,
                exclusive: 0,
                handles: [PollHandleInfo {
                    handle: this.base as _,
                    events: mask | POLL_LOCAL_CLOSE,
                    status: 0,
                }],
            };
        }
        let context = Arc::into_raw(Arc::clone(this));
        // SAFETY: `request` lives inside the `SockState` that `context`
        // keeps alive; that reference is only released when the completion
        // is dequeued (or below, if no request was issued), and nothing
        // touches the memory while `poll` is `Pending` or `Cancelling`.
        match unsafe { this.afd.poll(request, context.cast()) } {
            Ok(()) => {
                reg.poll = PollState::Pending(mask);
                Ok(())
            }
            Err(error) => {
                // SAFETY: no request was issued, so no completion will hand
                // the reference back: take it back now, once.
                drop(unsafe { Arc::from_raw(context) });
                Err(error)
            }
        }
    }

    /// Asks the kernel to cancel the request in flight.
    pub(crate) fn cancel(&self, reg: &mut Registration) {
        if let PollState::Pending(_) = reg.poll {
            // SAFETY: a request on `afd` is in flight with this memory.
            if let Err(error) = unsafe { self.afd.cancel(self.request.get()) } {
                warn!("failed to cancel an AFD poll: {}", error);
            }
            reg.poll = PollState::Cancelling;
        }
    }

    /// The events a completed request reported, as an NTSTATUS failure
    /// maps to: a connect failure, which every interest reports.
    ///
    /// # Safety
    ///
    /// The request's completion must have been dequeued and `reg` (this
    /// state's lock) must be held.
    pub(crate) unsafe fn reported(&self, _reg: &Registration) -> (i32, u32) {
        // SAFETY: the caller guarantees that the kernel is done with the
        // memory and that we hold the lock that guards it.
        let request = unsafe { &*self.request.get() };
        (request.iosb.status(), request.info.reported())
    }
}

/// mio's error for re-registering a source through a `Poll` other than the
/// one it is registered with.
pub(crate) fn registered_elsewhere() -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        "I/O source already registered with a different `Registry`",
    )
}

/// Locks a mutex, ignoring poisoning: no code panics while holding these
/// locks.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The per-source state of a socket: its registration, to re-arm it after
/// `WouldBlock` and to end it when the source is dropped.
#[derive(Debug, Default)]
pub(crate) struct IoSourceState {
    registration: Option<(Arc<Inner>, Arc<SockState>)>,
}

impl IoSourceState {
    pub(crate) fn new() -> IoSourceState {
        IoSourceState::default()
    }

    /// Runs an I/O call; `WouldBlock`, or any failure (which may have
    /// consumed the error the next event would report), re-arms the
    /// readiness the call waits for.
    pub(crate) fn do_io<T, F, R>(&self, f: F, io: &T, waits_for: Interest) -> io::Result<R>
    where
        F: FnOnce(&T) -> io::Result<R>,
    {
        let result = f(io);
        if let (Err(_), Some((selector, sock))) = (&result, &self.registration) {
            selector.rearm(sock, rearm_mask(waits_for));
        }
        result
    }

    pub(crate) fn register(
        &mut self,
        selector: &Selector,
        socket: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        if self.registration.is_some() {
            return Err(crate::sys::already_registered());
        }
        let sock = selector
            .inner()
            .register(socket, token, interests, trigger)?;
        self.registration = Some((Arc::clone(selector.inner()), sock));
        Ok(())
    }

    pub(crate) fn reregister(
        &mut self,
        selector: &Selector,
        _socket: RawSource<'_>,
        token: Token,
        interests: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        match &self.registration {
            Some((inner, sock)) if Arc::ptr_eq(inner, selector.inner()) => {
                inner.reregister(sock, token, interests, trigger);
                Ok(())
            }
            // The answer of mio (and of evmux's debug builds) in every build.
            Some(_) => Err(registered_elsewhere()),
            None => Err(crate::sys::not_registered()),
        }
    }

    pub(crate) fn deregister(
        &mut self,
        selector: &Selector,
        _socket: RawSource<'_>,
    ) -> io::Result<()> {
        match self.registration.take() {
            Some((inner, sock)) if Arc::ptr_eq(&inner, selector.inner()) => {
                inner.deregister(&sock);
                Ok(())
            }
            other => {
                self.registration = other;
                Err(crate::sys::not_registered())
            }
        }
    }
}

impl Drop for IoSourceState {
    fn drop(&mut self) {
        if let Some((inner, sock)) = self.registration.take() {
            inner.deregister(&sock);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firing_disarms_one_side_and_failure_everything() {
        let both = interest_mask(Interest::READABLE | Interest::WRITABLE);
        assert_eq!(disarmed(both, POLL_SEND), interest_mask(Interest::READABLE));
        assert_eq!(disarmed(both, POLL_RECEIVE) & POLL_SEND, POLL_SEND);
        assert_eq!(disarmed(both, POLL_RECEIVE) & POLL_RECEIVE, 0);
        assert_eq!(
            disarmed(both, POLL_RECEIVE) & POLL_DISCONNECT,
            POLL_DISCONNECT
        );
        assert_eq!(disarmed(both, POLL_CONNECT_FAIL), 0);
        assert_eq!(rearm_mask(Interest::WRITABLE), POLL_SEND | FAILURE);
    }

    // `IoSource` answers this in debug builds before the backend is asked;
    // this runs the backend's own answer, which release builds give.
    #[test]
    fn reregister_through_another_selector_is_already_exists() {
        use std::os::windows::io::AsSocket;
        let first = Selector::new().unwrap();
        let second = Selector::new().unwrap();
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut state = IoSourceState::new();
        let (interest, edge) = (Interest::READABLE, crate::trigger::Trigger::EDGE);
        state
            .register(&first, socket.as_socket(), Token(0), interest, edge)
            .unwrap();
        let error = state
            .reregister(&second, socket.as_socket(), Token(0), interest, edge)
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        let mut unregistered = IoSourceState::new();
        let error = unregistered
            .reregister(&first, socket.as_socket(), Token(0), interest, edge)
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }
}

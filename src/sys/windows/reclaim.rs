//! Taking back what was lent to the kernel through a completion port: one
//! completion at a time while the selector runs (`reclaim`), and, once the
//! selector's last handle is gone, everything still in flight, in the
//! background (`drain`).
//!
//! # The drain
//!
//! When the last handle to a selector goes, operations may still be in
//! flight: socket polls (which the selector's drop cancels), pipe reads
//! and connects (which the pipe's drop cancels) and pipe writes, which
//! nothing cancels, so that what `write` reported as written still reaches
//! a client that reads, followed by the end of stream when the pipe's
//! handle closes after its last operation. The memory of each stays lent
//! until its completion is dequeued, and only the port can hand it back.
//!
//! So dropping the selector never waits: `drain` takes back what has
//! completed already and, if anything is left, hands the port to a thread
//! of its own (`evmux-drain`), which owns the port from then on, takes
//! back each completion as it comes, and ends once everything is back,
//! closing the port. What is left is pipe writes: socket polls, reads and
//! connects are cancelled, and come back at once. A write ends when its
//! client has read it all, however slowly, or fails when the client
//! leaves; a client that stays connected and never reads keeps the thread
//! (blocked, costing its stack) as long as the process runs, where mio
//! keeps the write's memory and the pipe's handle for good. No write is
//! cut short: a client that reads gets everything `write` accepted, then
//! the end of stream.
//!
//! One thread per selector that still owes something, for as long as it
//! does: a wait (`GetQueuedCompletionStatusEx`) dequeues from one port
//! only, and a handle stays associated with its port until it is closed,
//! so the completions cannot be gathered onto one shared port.
//!
//! References: `CreateIoCompletionPort`, `GetQueuedCompletionStatusEx`,
//! `CancelIoEx` (Microsoft Learn).

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::iocp::{Completion, CompletionPort};
#[cfg(feature = "os-ext")]
use super::overlapped::Check;
#[cfg(feature = "os-ext")]
use super::selector::{Event, KEY_PIPE};
use super::selector::{KEY_AFD, KEY_NUDGE, KEY_WAKE};
use super::sock::SockState;
use super::waker::WakeState;

/// What a completion hands back.
pub(crate) enum Reclaimed {
    /// A socket's poll request: its state.
    Sock(Arc<SockState>),
    /// A wake: its waker's state.
    Wake(Arc<WakeState>),
    /// A pipe operation, already applied to its pipe: the event it makes,
    /// if any.
    #[cfg(feature = "os-ext")]
    Pipe(Option<(Event, Arc<dyn Check>)>),
    /// A packet that lends nothing (it only ends a wait).
    Nothing,
}

/// Takes back the reference `completion` carries, dequeued from `port`.
/// Every completion on a selector's port comes from this crate (handles
/// are associated, and packets posted, only by it), with the key that
/// says what its pointer is.
pub(crate) fn reclaim(completion: &Completion, port: &CompletionPort) -> Reclaimed {
    let pointer = completion.overlapped();
    match completion.key() {
        KEY_AFD if !pointer.is_null() => {
            // SAFETY: every completion on an AFD handle is a poll
            // request whose `ApcContext` is a reference to its state
            // leaked by `SockState::submit`; it is taken back once, here.
            let sock = unsafe { Arc::from_raw(pointer as *const SockState) };
            port.reclaimed();
            Reclaimed::Sock(sock)
        }
        KEY_WAKE if !pointer.is_null() => {
            // SAFETY: wakes are posted by `Inner::post_wake` with a leaked
            // reference to the waker's state; taken back once, here.
            let wake = unsafe { Arc::from_raw(pointer as *const WakeState) };
            port.reclaimed();
            Reclaimed::Wake(wake)
        }
        #[cfg(feature = "os-ext")]
        KEY_PIPE if !pointer.is_null() => {
            // SAFETY: completions with this key come only from named
            // pipes' operations, whose pointers `overlapped` leaked. The
            // rest of a short write is lent before this one is counted
            // back, so the count never touches zero in between.
            let event = unsafe { super::overlapped::complete(completion, port) };
            port.reclaimed();
            Reclaimed::Pipe(event)
        }
        KEY_NUDGE => Reclaimed::Nothing,
        key => {
            warn!("unexpected completion with key {}", key);
            Reclaimed::Nothing
        }
    }
}

/// Takes back everything still lent through `port`, whose selector is
/// gone: at once what has completed, the rest on a thread of its own that
/// owns the port from now on.
pub(crate) fn drain(port: Arc<CompletionPort>) {
    let mut completions = vec![Completion::empty(); 64];
    if take_back_ready(&port, &mut completions) {
        return;
    }
    let spawned = thread::Builder::new()
        .name("evmux-drain".to_owned())
        .spawn(move || take_back_all(&port, &mut completions));
    if let Err(error) = spawned {
        // The port goes with the closure: what is in flight is never taken
        // back, so never freed.
        warn!(
            "no thread to drain the completion port, its operations are leaked: {}",
            error
        );
    }
}

/// Takes back what has completed, without waiting; true once nothing is
/// in flight.
fn take_back_ready(port: &CompletionPort, completions: &mut [Completion]) -> bool {
    while port.in_flight() > 0 {
        match port.wait(completions, Some(Duration::ZERO)) {
            Ok(0) => return false,
            Ok(dequeued) => take_back(port, &completions[..dequeued]),
            Err(error) => {
                warn!("draining the completion port failed: {}", error);
                return false;
            }
        }
    }
    true
}

/// The drain's thread: takes back completions as they come until nothing
/// is in flight (true), or the port fails (false: what is left is leaked).
fn take_back_all(port: &CompletionPort, completions: &mut [Completion]) -> bool {
    while port.in_flight() > 0 {
        match port.wait(completions, None) {
            Ok(dequeued) => take_back(port, &completions[..dequeued]),
            Err(error) => {
                warn!(
                    "draining the completion port failed, {} operations leaked: {}",
                    port.in_flight(),
                    error
                );
                return false;
            }
        }
    }
    true
}

fn take_back(port: &CompletionPort, completions: &[Completion]) {
    for completion in completions {
        // The states go here (a pipe's handle closes with its last
        // operation); an event has nobody to go to.
        drop(reclaim(completion, port));
    }
}

#[cfg(all(test, feature = "os-ext"))]
mod tests {
    use std::fs::OpenOptions;
    use std::os::windows::io::{FromRawHandle, OwnedHandle, RawHandle};
    use std::sync::Mutex;

    use windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE;
    use windows_sys::Win32::Storage::FileSystem::{FILE_FLAG_OVERLAPPED, PIPE_ACCESS_DUPLEX};
    use windows_sys::Win32::System::Pipes::{
        CreateNamedPipeW, PIPE_READMODE_BYTE, PIPE_TYPE_BYTE, PIPE_UNLIMITED_INSTANCES, PIPE_WAIT,
    };

    use super::*;
    use crate::sys::windows::overlapped::{Kind, Shared, State, BUFFER_SIZE};

    fn server(name: &str) -> Arc<Shared> {
        let wide: Vec<u16> = name.encode_utf16().chain(Some(0)).collect();
        // SAFETY: `wide` is NUL-terminated and outlives the call; NULL
        // security attributes are allowed.
        let handle = unsafe {
            CreateNamedPipeW(
                wide.as_ptr(),
                PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
                PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT,
                PIPE_UNLIMITED_INSTANCES,
                BUFFER_SIZE as u32,
                BUFFER_SIZE as u32,
                0,
                std::ptr::null(),
            )
        };
        assert_ne!(
            handle,
            INVALID_HANDLE_VALUE,
            "{}",
            std::io::Error::last_os_error()
        );
        Arc::new(Shared {
            // SAFETY: the handle was just created and nothing else owns it.
            handle: unsafe { OwnedHandle::from_raw_handle(handle as RawHandle) },
            state: Mutex::new(State::default()),
        })
    }

    /// A write to a client that does not read stays in flight until the
    /// client leaves; then the drain takes it back: the operation and the
    /// pipe are freed (nothing is leaked), and nothing is left in flight.
    #[test]
    fn a_write_nobody_reads_is_taken_back_when_its_client_leaves() {
        let name = format!(r"\\.\pipe\evmux-reclaim-{}", std::process::id());
        let pipe = server(&name);
        let port = CompletionPort::new().unwrap();
        port.associate(pipe.raw(), KEY_PIPE).unwrap();
        let client = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&name)
            .unwrap();
        let data = vec![7; 4 * BUFFER_SIZE];
        pipe.start_on(&port, &State::default(), Kind::Write, data)
            .unwrap();
        assert_eq!(port.in_flight(), 1);
        let mut completions = vec![Completion::empty(); 8];
        assert!(
            !take_back_ready(&port, &mut completions),
            "a write nobody reads completed"
        );
        drop(client);
        assert!(take_back_all(&port, &mut completions));
        assert_eq!(port.in_flight(), 0);
        assert_eq!(Arc::strong_count(&pipe), 1, "the operation was not freed");
    }
}

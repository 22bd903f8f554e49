//! The AFD driver (the kernel half of Winsock), which reports a socket's
//! readiness as the completion of a *poll* request.
//!
//! A handle to `\Device\Afd\Evmux` is opened with `NtCreateFile` and
//! associated with the selector's completion port. Each
//! `IOCTL_AFD_POLL` issued on it with `NtDeviceIoControlFile` names one
//! socket (by its base handle) and the events wanted; it completes, through
//! the port, as soon as one of them is true (at once if one already is).
//! The `ApcContext` of the request is what the completion carries back as
//! its `lpOverlapped`.
//!
//! The request's `IO_STATUS_BLOCK` and `AFD_POLL_INFO` are written by the
//! kernel until the completion is dequeued: see `selector.rs` for who owns
//! that memory and when it may go.
//!
//! References: `NtCreateFile`, `NtDeviceIoControlFile`, `NtCancelIoFileEx`,
//! `SetFileCompletionNotificationModes` (Microsoft Learn); the AFD poll
//! structures are undocumented and mirrored here with layout tests.

use std::ffi::c_void;
use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};

use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Wdk::Storage::FileSystem::{NtCancelIoFileEx, NtCreateFile, FILE_OPEN};
use windows_sys::Wdk::System::IO::NtDeviceIoControlFile;
use windows_sys::Win32::Foundation::{
    RtlNtStatusToDosError, HANDLE, NTSTATUS, STATUS_NOT_FOUND, STATUS_PENDING, UNICODE_STRING,
};
use windows_sys::Win32::Storage::FileSystem::{
    SetFileCompletionNotificationModes, FILE_SHARE_READ, FILE_SHARE_WRITE, SYNCHRONIZE,
};
use windows_sys::Win32::System::WindowsProgramming::FILE_SKIP_SET_EVENT_ON_HANDLE;
use windows_sys::Win32::System::IO::IO_STATUS_BLOCK;

use super::iocp::CompletionPort;

/// Data to read (or a datagram, or end of stream on some stacks).
pub(crate) const POLL_RECEIVE: u32 = 0x0001;
/// Out-of-band data to read.
pub(crate) const POLL_RECEIVE_EXPEDITED: u32 = 0x0002;
/// Room to send; also a finished connect.
pub(crate) const POLL_SEND: u32 = 0x0004;
/// The peer shut down its sending side (FIN).
pub(crate) const POLL_DISCONNECT: u32 = 0x0008;
/// The connection was reset or aborted.
pub(crate) const POLL_ABORT: u32 = 0x0010;
/// The socket was closed (by this process); its registration is over.
pub(crate) const POLL_LOCAL_CLOSE: u32 = 0x0020;
/// A connection is waiting to be accepted.
pub(crate) const POLL_ACCEPT: u32 = 0x0080;
/// A non-blocking connect failed.
pub(crate) const POLL_CONNECT_FAIL: u32 = 0x0100;

/// `IOCTL_AFD_POLL`: `_AFD_CONTROL_CODE(AFD_POLL = 9, METHOD_BUFFERED)`.
const IOCTL_AFD_POLL: u32 = 0x0001_2024;

/// One socket of an `AFD_POLL_INFO`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct PollHandleInfo {
    pub(crate) handle: HANDLE,
    pub(crate) events: u32,
    pub(crate) status: NTSTATUS,
}

/// `AFD_POLL_INFO` with room for exactly one socket.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct PollInfo {
    pub(crate) timeout: i64,
    pub(crate) number_of_handles: u32,
    pub(crate) exclusive: u32,
    pub(crate) handles: [PollHandleInfo; 1],
}

impl PollInfo {
    pub(crate) fn zeroed() -> PollInfo {
        PollInfo {
            timeout: 0,
            number_of_handles: 0,
            exclusive: 0,
            handles: [PollHandleInfo {
                handle: std::ptr::null_mut(),
                events: 0,
                status: 0,
            }],
        }
    }

    /// The events the completed request reported, or 0 if it reported none.
    pub(crate) fn reported(&self) -> u32 {
        if self.number_of_handles == 0 {
            0
        } else {
            self.handles[0].events
        }
    }
}

/// The memory one poll request lends the kernel: written by it from the
/// moment the request is issued until its completion is dequeued.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct PollRequest {
    pub(crate) iosb: IoStatusBlock,
    pub(crate) info: PollInfo,
}

impl PollRequest {
    pub(crate) fn new() -> PollRequest {
        PollRequest {
            iosb: IoStatusBlock(IO_STATUS_BLOCK::default()),
            info: PollInfo::zeroed(),
        }
    }
}

/// `IO_STATUS_BLOCK`, with a `Debug` that windows-sys does not give it.
#[repr(transparent)]
pub(crate) struct IoStatusBlock(pub(crate) IO_STATUS_BLOCK);

impl IoStatusBlock {
    /// The final status of a completed request.
    pub(crate) fn status(&self) -> NTSTATUS {
        // SAFETY: both union members are plain data of the same size at
        // offset 0; for a completed request the kernel wrote `Status`.
        unsafe { self.0.Anonymous.Status }
    }
}

impl std::fmt::Debug for IoStatusBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoStatusBlock")
            .field("status", &self.status())
            .finish()
    }
}

/// A handle to the AFD driver, associated with a completion port: the
/// channel for the poll requests of up to `GROUP_SIZE` sockets.
#[derive(Debug)]
pub(crate) struct Afd {
    handle: OwnedHandle,
}

/// How many sockets share one AFD handle.
pub(crate) const GROUP_SIZE: usize = 32;

/// `\Device\Afd\Evmux` as UTF-16 (the part after `\Device\Afd` is free).
const AFD_NAME: &[u16] = &[
    '\\' as u16,
    'D' as u16,
    'e' as u16,
    'v' as u16,
    'i' as u16,
    'c' as u16,
    'e' as u16,
    '\\' as u16,
    'A' as u16,
    'f' as u16,
    'd' as u16,
    '\\' as u16,
    'E' as u16,
    'v' as u16,
    'm' as u16,
    'u' as u16,
    'x' as u16,
];

/// Turns an NTSTATUS failure into the matching Win32 error.
pub(crate) fn nt_error(status: NTSTATUS) -> io::Error {
    // SAFETY: a pure conversion function without pointer arguments.
    let code = unsafe { RtlNtStatusToDosError(status) };
    io::Error::from_raw_os_error(code as i32)
}

/// Returns true for an NTSTATUS of the error class (the top two bits set).
pub(crate) fn is_nt_error(status: NTSTATUS) -> bool {
    (status as u32) >> 30 == 3
}

impl Afd {
    /// Opens a new AFD handle and associates it with `port` under `key`.
    pub(crate) fn new(port: &CompletionPort, key: usize) -> io::Result<Afd> {
        let name = UNICODE_STRING {
            Length: (AFD_NAME.len() * 2) as u16,
            MaximumLength: (AFD_NAME.len() * 2) as u16,
            Buffer: AFD_NAME.as_ptr() as *mut u16,
        };
        let attributes = OBJECT_ATTRIBUTES {
            Length: std::mem::size_of::<OBJECT_ATTRIBUTES>() as u32,
            RootDirectory: std::ptr::null_mut(),
            ObjectName: &name,
            Attributes: 0,
            SecurityDescriptor: std::ptr::null(),
            SecurityQualityOfService: std::ptr::null(),
        };
        let mut handle: HANDLE = std::ptr::null_mut();
        let mut iosb = IO_STATUS_BLOCK::default();
        // SAFETY: every pointer refers to a live local for the duration of
        // the call; `name` points at a static UTF-16 string whose length in
        // bytes it states. The call opens a file and writes its handle.
        let status = unsafe {
            NtCreateFile(
                &mut handle,
                SYNCHRONIZE,
                &attributes,
                &mut iosb,
                std::ptr::null(),
                0,
                FILE_SHARE_READ | FILE_SHARE_WRITE,
                FILE_OPEN,
                0,
                std::ptr::null(),
                0,
            )
        };
        if is_nt_error(status) {
            return Err(nt_error(status));
        }
        // SAFETY: NtCreateFile succeeded, so `handle` is an open handle that
        // nothing else owns.
        let handle = unsafe { OwnedHandle::from_raw_handle(handle as RawHandle) };
        port.associate(handle.as_raw_handle() as HANDLE, key)?;
        // Completions must always be queued (one per request), but the
        // handle need not be signalled.
        // SAFETY: `handle` is open for the duration of the call.
        let ok = unsafe {
            SetFileCompletionNotificationModes(
                handle.as_raw_handle() as HANDLE,
                FILE_SKIP_SET_EVENT_ON_HANDLE as u8,
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Afd { handle })
    }

    fn raw(&self) -> HANDLE {
        self.handle.as_raw_handle() as HANDLE
    }

    /// Issues a poll request for `request.info` with `context` as its
    /// completion's `lpOverlapped`. On `Ok` a completion will be queued to
    /// the port (also when the request completed at once); on `Err` none
    /// will.
    ///
    /// # Safety
    ///
    /// `request` must stay valid, at the same address and untouched by the
    /// caller, until the completion carrying `context` is dequeued.
    pub(crate) unsafe fn poll(
        &self,
        request: *mut PollRequest,
        context: *const c_void,
    ) -> io::Result<()> {
        let size = std::mem::size_of::<PollInfo>() as u32;
        // SAFETY: the caller guarantees that `request` outlives the request;
        // the iosb and the info buffer (input and output) lie inside it.
        let status = unsafe {
            let info = std::ptr::addr_of_mut!((*request).info);
            NtDeviceIoControlFile(
                self.raw(),
                std::ptr::null_mut(),
                None,
                context,
                std::ptr::addr_of_mut!((*request).iosb).cast::<IO_STATUS_BLOCK>(),
                IOCTL_AFD_POLL,
                info as *const c_void,
                size,
                info.cast::<c_void>(),
                size,
            )
        };
        if status == STATUS_PENDING || !is_nt_error(status) {
            Ok(())
        } else {
            Err(nt_error(status))
        }
    }

    /// Asks the kernel to cancel the request whose status block is `iosb`.
    /// The request still completes (with `STATUS_CANCELLED` or its result).
    ///
    /// # Safety
    ///
    /// `request` must be the memory of a request issued on this handle.
    pub(crate) unsafe fn cancel(&self, request: *mut PollRequest) -> io::Result<()> {
        let mut out = IO_STATUS_BLOCK::default();
        // SAFETY: the kernel only uses the iosb pointer to find the
        // request; `out` is a live local.
        let status = unsafe {
            NtCancelIoFileEx(
                self.raw(),
                std::ptr::addr_of_mut!((*request).iosb).cast::<IO_STATUS_BLOCK>(),
                &mut out,
            )
        };
        // STATUS_NOT_FOUND: it completed already; its completion is queued.
        if status == STATUS_NOT_FOUND || !is_nt_error(status) {
            Ok(())
        } else {
            Err(nt_error(status))
        }
    }
}

/// The layouts AFD reads and writes, for the target's pointer size (4 or
/// 8 bytes: `i64` is 8-aligned on every Windows target, so `PollInfo` has
/// 4 bytes of tail padding on 32-bit ones). Checked at compile time, so
/// that a type-check of a target proves its layout (`.ci/windows.sh`
/// type-checks i686 Windows, which Wine cannot run here).
const _: () = {
    use std::mem::{align_of, offset_of, size_of};
    let pointer = size_of::<usize>();
    assert!(size_of::<PollHandleInfo>() == pointer + 8);
    assert!(offset_of!(PollHandleInfo, events) == pointer);
    assert!(offset_of!(PollHandleInfo, status) == pointer + 4);
    assert!(offset_of!(PollInfo, number_of_handles) == 8);
    assert!(offset_of!(PollInfo, exclusive) == 12);
    assert!(offset_of!(PollInfo, handles) == 16);
    assert!(size_of::<PollInfo>() == (16 + pointer + 8).next_multiple_of(8));
    assert!(align_of::<PollInfo>() == 8);
    assert!(offset_of!(PollRequest, iosb) == 0);
    assert!(size_of::<IoStatusBlock>() == 2 * pointer);
};

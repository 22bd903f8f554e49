//! Macros that give the I/O types (features `net`, `os-ext`) their trait
//! impls, so that each impl is written once. Each expects the type to hold
//! its `IoSource` in a field named `inner`; a type with more fields names
//! the function that makes it from the std type (a third argument).

/// Implements std's descriptor traits for an I/O type whose field `inner`
/// is an `IoSource` of the std type `$std`. Like std's own conversions,
/// none of them changes the descriptor: one handed to evmux should already
/// be non-blocking.
#[cfg(evmux_fd)]
macro_rules! impl_fd_traits {
    ($evmux:ty, $std:ty) => {
        impl_fd_traits!($evmux, $std, |io| Self {
            inner: crate::io_source::IoSource::new(io),
        });
    };
    ($evmux:ty, $std:ty, $new:expr) => {
        impl std::os::fd::AsRawFd for $evmux {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(&*self.inner)
            }
        }

        impl std::os::fd::AsFd for $evmux {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(&*self.inner)
            }
        }

        impl std::os::fd::IntoRawFd for $evmux {
            fn into_raw_fd(self) -> std::os::fd::RawFd {
                std::os::fd::IntoRawFd::into_raw_fd(self.inner.into_inner())
            }
        }

        /// The descriptor should be non-blocking; evmux does not change it.
        impl std::os::fd::FromRawFd for $evmux {
            unsafe fn from_raw_fd(fd: std::os::fd::RawFd) -> Self {
                // SAFETY: the caller passes an open descriptor that it owns,
                // as `FromRawFd` requires; ownership moves to the result.
                Self::from(unsafe {
                    <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd)
                })
            }
        }

        /// The descriptor should be non-blocking; evmux does not change it.
        impl From<std::os::fd::OwnedFd> for $evmux {
            fn from(fd: std::os::fd::OwnedFd) -> Self {
                let new: fn($std) -> Self = $new;
                new(<$std>::from(fd))
            }
        }

        impl From<$evmux> for std::os::fd::OwnedFd {
            fn from(io: $evmux) -> Self {
                io.inner.into_inner().into()
            }
        }
    };
}

/// Implements std's socket traits (mio's Windows interop) for an I/O type
/// whose field `inner` is an `IoSource` of the std type `$std`. None of them
/// changes the socket: one handed to evmux should already be non-blocking.
#[cfg(all(windows, feature = "net"))]
macro_rules! impl_socket_traits {
    ($evmux:ty, $std:ty) => {
        impl_socket_traits!($evmux, $std, |io| Self {
            inner: crate::io_source::IoSource::new(io),
        });
    };
    ($evmux:ty, $std:ty, $new:expr) => {
        impl std::os::windows::io::AsRawSocket for $evmux {
            fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
                std::os::windows::io::AsRawSocket::as_raw_socket(&*self.inner)
            }
        }

        impl std::os::windows::io::AsSocket for $evmux {
            fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
                std::os::windows::io::AsSocket::as_socket(&*self.inner)
            }
        }

        impl std::os::windows::io::IntoRawSocket for $evmux {
            fn into_raw_socket(self) -> std::os::windows::io::RawSocket {
                std::os::windows::io::IntoRawSocket::into_raw_socket(self.inner.into_inner())
            }
        }

        /// The socket should be non-blocking; evmux does not change it.
        impl std::os::windows::io::FromRawSocket for $evmux {
            unsafe fn from_raw_socket(socket: std::os::windows::io::RawSocket) -> Self {
                // SAFETY: the caller passes an open socket that it owns, as
                // `FromRawSocket` requires; ownership moves to the result.
                Self::from(unsafe {
                    <std::os::windows::io::OwnedSocket as std::os::windows::io::FromRawSocket>::from_raw_socket(socket)
                })
            }
        }

        /// The socket should be non-blocking; evmux does not change it.
        impl From<std::os::windows::io::OwnedSocket> for $evmux {
            fn from(socket: std::os::windows::io::OwnedSocket) -> Self {
                let new: fn($std) -> Self = $new;
                new(<$std>::from(socket))
            }
        }

        impl From<$evmux> for std::os::windows::io::OwnedSocket {
            fn from(io: $evmux) -> Self {
                io.inner.into_inner().into()
            }
        }
    };
}

/// Implements `From<$evmux> for $std`: the std type back, still
/// non-blocking and still registered wherever it was. Only the net types
/// convert back; pipes have no std type of their own.
#[cfg(feature = "net")]
macro_rules! impl_into_std {
    ($evmux:ty, $std:ty) => {
        impl From<$evmux> for $std {
            fn from(io: $evmux) -> Self {
                io.inner.into_inner()
            }
        }
    };
}

/// Implements `event::Source` for an I/O type by forwarding to its field
/// `inner` (an `IoSource`, or another source), the trigger mode included.
macro_rules! impl_source {
    ($evmux:ty) => {
        impl crate::event::Source for $evmux {
            fn register(
                &mut self,
                registry: &crate::Registry,
                token: crate::Token,
                interests: crate::Interest,
            ) -> std::io::Result<()> {
                self.inner.register(registry, token, interests)
            }

            fn reregister(
                &mut self,
                registry: &crate::Registry,
                token: crate::Token,
                interests: crate::Interest,
            ) -> std::io::Result<()> {
                self.inner.reregister(registry, token, interests)
            }

            fn deregister(&mut self, registry: &crate::Registry) -> std::io::Result<()> {
                self.inner.deregister(registry)
            }

            fn register_with(
                &mut self,
                registry: &crate::Registry,
                token: crate::Token,
                interests: crate::Interest,
                trigger: crate::trigger::Trigger,
            ) -> std::io::Result<()> {
                crate::event::Source::register_with(
                    &mut self.inner,
                    registry,
                    token,
                    interests,
                    trigger,
                )
            }

            fn reregister_with(
                &mut self,
                registry: &crate::Registry,
                token: crate::Token,
                interests: crate::Interest,
                trigger: crate::trigger::Trigger,
            ) -> std::io::Result<()> {
                crate::event::Source::reregister_with(
                    &mut self.inner,
                    registry,
                    token,
                    interests,
                    trigger,
                )
            }
        }
    };
}

/// std's vectored read, through a shared reference: what `impl_read!` uses
/// unless told otherwise.
// WASI preview 2's only readable type, `TcpStream`, is told otherwise.
#[cfg_attr(wasip2, allow(dead_code))]
pub(crate) fn read_vectored<T>(
    mut io: &T,
    bufs: &mut [std::io::IoSliceMut<'_>],
) -> std::io::Result<usize>
where
    for<'a> &'a T: std::io::Read,
{
    std::io::Read::read_vectored(&mut io, bufs)
}

/// Implements `Read` for an I/O type and for a shared reference to it, each
/// call going through `IoSource::do_read`; `$read_vectored` (a function of
/// the inner std type and the buffers) replaces std's vectored read.
macro_rules! impl_read {
    ($evmux:ty) => {
        impl_read!($evmux, crate::io_macros::read_vectored);
    };
    ($evmux:ty, $read_vectored:path) => {
        impl std::io::Read for &$evmux {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.inner
                    .do_read(|mut io| std::io::Read::read(&mut io, buf))
            }

            fn read_vectored(
                &mut self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                self.inner.do_read(|io| $read_vectored(io, bufs))
            }
        }

        impl std::io::Read for $evmux {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                std::io::Read::read(&mut &*self, buf)
            }

            fn read_vectored(
                &mut self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                std::io::Read::read_vectored(&mut &*self, bufs)
            }
        }
    };
}

/// Implements `Write` for an I/O type and for a shared reference to it,
/// each call going through `IoSource::do_write`. `$write` and
/// `$write_vectored` are functions of the inner std type and the buffer(s).
macro_rules! impl_write {
    ($evmux:ty, $write:path, $write_vectored:path) => {
        impl std::io::Write for &$evmux {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.inner.do_write(|io| $write(io, buf))
            }

            fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                self.inner.do_write(|io| $write_vectored(io, bufs))
            }

            fn flush(&mut self) -> std::io::Result<()> {
                self.inner.do_io(|mut io| std::io::Write::flush(&mut io))
            }
        }

        impl std::io::Write for $evmux {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                std::io::Write::write(&mut &*self, buf)
            }

            fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                std::io::Write::write_vectored(&mut &*self, bufs)
            }

            fn flush(&mut self) -> std::io::Result<()> {
                std::io::Write::flush(&mut &*self)
            }
        }
    };
}

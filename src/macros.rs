//! Logging macros that forward to the `log` crate when the `log` feature is
//! on and compile to nothing otherwise (the arguments are still
//! type-checked, so both builds see the same code).

macro_rules! trace {
    ($($arg:tt)+) => {{
        #[cfg(feature = "log")]
        log::trace!(target: "evmux", $($arg)+);
        #[cfg(not(feature = "log"))]
        let _ = format_args!($($arg)+);
    }};
}

// Only backends that cannot return a failure to the caller warn.
#[allow(unused_macros)]
macro_rules! warn {
    ($($arg:tt)+) => {{
        #[cfg(feature = "log")]
        log::warn!(target: "evmux", $($arg)+);
        #[cfg(not(feature = "log"))]
        let _ = format_args!($($arg)+);
    }};
}

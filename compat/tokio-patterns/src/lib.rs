//! Tests only: see tests/patterns.rs.

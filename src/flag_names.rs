//! Printing bit flags by name, for the `Debug` of `Interest` and of each
//! backend's events.

use std::fmt;

/// Bits paired with the names to print for them.
pub(crate) type Names = [(u64, &'static str)];

/// Formats the named flags set in `bits` as `A | B`; bits without a name
/// are printed in hex so that nothing the OS reported is hidden.
pub(crate) struct FlagNames {
    bits: u64,
    names: &'static Names,
}

impl FlagNames {
    pub(crate) fn new(bits: u64, names: &'static Names) -> FlagNames {
        FlagNames { bits, names }
    }
}

impl fmt::Debug for FlagNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.bits;
        let mut separator = "";
        for &(bit, name) in self.names {
            if bit != 0 && self.bits & bit == bit {
                write!(f, "{separator}{name}")?;
                separator = " | ";
                rest &= !bit;
            }
        }
        if rest != 0 || self.bits == 0 {
            write!(f, "{separator}{rest:#x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static NAMES: [(u64, &str); 2] = [(1, "ONE"), (4, "FOUR")];

    fn show(bits: u64) -> String {
        format!("{:?}", FlagNames::new(bits, &NAMES))
    }

    #[test]
    fn names_known_bits_and_shows_the_rest() {
        assert_eq!(show(5), "ONE | FOUR");
        assert_eq!(show(1), "ONE");
        assert_eq!(show(3), "ONE | 0x2");
        assert_eq!(show(0), "0x0");
    }
}

use evmux::Interest;

#[test]
fn combining_interests() {
    let mut interest = Interest::READABLE;
    assert!(interest.is_readable() && !interest.is_writable());
    interest |= Interest::WRITABLE;
    assert!(interest.is_readable() && interest.is_writable());
    assert_eq!(interest, Interest::WRITABLE | Interest::READABLE);
    assert_eq!(
        Interest::READABLE.add(Interest::READABLE),
        Interest::READABLE
    );
}

#[test]
fn removing_never_yields_an_empty_interest() {
    let both = Interest::READABLE | Interest::WRITABLE;
    assert_eq!(both.remove(Interest::READABLE), Some(Interest::WRITABLE));
    assert_eq!(both.remove(both), None);
    assert_eq!(
        Interest::READABLE.remove(Interest::WRITABLE),
        Some(Interest::READABLE)
    );
}

#[test]
fn queries_for_kinds_not_asked_for_are_false() {
    let interest = Interest::READABLE | Interest::WRITABLE;
    assert!(!interest.is_aio());
    assert!(!interest.is_lio());
    assert!(!interest.is_priority());
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn priority_exists_on_linux() {
    let interest = Interest::READABLE | Interest::PRIORITY;
    assert!(interest.is_priority());
    assert_eq!(format!("{interest:?}"), "READABLE | PRIORITY");
}

#[test]
fn debug_lists_the_kinds() {
    assert_eq!(format!("{:?}", Interest::READABLE), "READABLE");
    assert_eq!(
        format!("{:?}", Interest::WRITABLE | Interest::READABLE),
        "READABLE | WRITABLE"
    );
}

#[test]
fn interests_are_ordered_and_hashable() {
    use std::collections::BTreeSet;
    let set: BTreeSet<Interest> = [Interest::WRITABLE, Interest::READABLE, Interest::READABLE]
        .into_iter()
        .collect();
    assert_eq!(set.len(), 2);
    assert!(Interest::READABLE < Interest::WRITABLE);
}

use std::collections::HashSet;

use evmux::Token;

#[test]
fn token_round_trips_through_usize() {
    let token = Token(usize::MAX);
    assert_eq!(usize::from(token), usize::MAX);
    assert_eq!(Token(3).0, 3);
}

#[test]
fn token_orders_hashes_and_compares_by_value() {
    assert!(Token(1) < Token(2));
    assert_eq!(Token(7).max(Token(3)), Token(7));
    let set: HashSet<Token> = [Token(1), Token(1), Token(2)].into_iter().collect();
    assert_eq!(set.len(), 2);
    assert_eq!(format!("{:?}", Token(5)), "Token(5)");
}

/// Associates readiness events with the [`event::Source`] they came from.
///
/// A `Token` is chosen by the application when it registers a source with a
/// [`Registry`] and comes back, unchanged, in every [`Event`] for that
/// source. evmux never interprets it; a common choice is the index of the
/// source's state in a slab or `Vec`.
///
/// Tokens only need to be unique among the sources registered with one
/// [`Poll`]: two sources sharing a token cannot be told apart.
///
/// [`event::Source`]: crate::event::Source
/// [`Registry`]: crate::Registry
/// [`Event`]: crate::event::Event
/// [`Poll`]: crate::Poll
///
/// # Examples
///
/// Keeping connections in a `Vec` and using the index as the token:
///
/// ```
/// use evmux::Token;
///
/// let connections = vec!["first", "second"];
/// let token = Token(1);
/// assert_eq!(connections[token.0], "second");
/// assert_eq!(usize::from(token), 1);
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(pub usize);

impl From<Token> for usize {
    fn from(token: Token) -> usize {
        token.0
    }
}

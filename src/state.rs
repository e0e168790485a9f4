//! Which end a connection is and where it is in its life: the two small enums every layer
//! may name. A leaf: it imports nothing from the crate, so errors, events and the FFI can
//! name a state without depending on the connection.

/// Which end of the connection this is. Clients mask what they send; servers must not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The end that sent the Upgrade request.
    Client,
    /// The end that answered it.
    Server,
}

/// The connection's state, as the browser's `WebSocket.readyState` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// The opening handshake is under way.
    Connecting,
    /// Messages flow both ways.
    Open,
    /// A close frame was sent or received; the closing handshake is under way.
    Closing,
    /// The connection is over; drop the transport once the output is written.
    Closed,
}

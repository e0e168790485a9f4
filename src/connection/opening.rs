//! The opening handshake (RFC 6455 §4) as the connection drives it, with its own state:
//! finding the HTTP head in the input, checking the server's answer (client) or the request
//! (server), a deferred server's accept, reject or respond, the move to `Open`, and
//! handshake failure. The HTTP work itself is done by `crate::handshake`; what may be
//! negotiated is asked of `extension`.

use super::extension::{Extensions, Offer};
use super::{Connection, Role};
use crate::config::{ClientConfig, ServerConfig, SubprotocolPolicy};
use crate::error::{Error, Failure, HandshakeError};
use crate::event::Event;
use crate::handshake::{self, ClientHandshake, RefusalBody, Request};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::BytesMut;

/// The handshake in progress (boxed: a connection holds it only while connecting).
pub(super) struct Opening {
    pending: Pending,
    /// How far the search for the end of the head has looked.
    scanned: usize,
}

enum Pending {
    Client {
        handshake: ClientHandshake,
        /// What we offered, to check the answer against.
        offer: Offer,
        /// How much of a refusal's body to read.
        max_body: usize,
    },
    /// A client's upgrade was refused: its body is read before the failure is reported.
    Refused {
        error: HandshakeError,
        body: RefusalBody,
    },
    Server {
        subprotocols: Vec<String>,
        policy: SubprotocolPolicy,
        extra_headers: Vec<(String, String)>,
        defer_accept: bool,
        /// A valid request waiting for `accept`/`reject`/`respond`.
        awaiting: Option<Request>,
        /// What we accept.
        offer: Offer,
    },
}

/// What the opening handshake agreed on (boxed, and only when there is something).
#[derive(Default)]
pub(super) struct Negotiated {
    pub(super) subprotocol: Option<String>,
    pub(super) extensions: String,
    /// A client's view of the server's answer: its status and header fields (an upgrade's or
    /// a refusal's), empty for a server.
    pub(super) response: Option<(u16, Vec<(String, String)>)>,
    /// The body of a refused upgrade, up to the client's limit, once read.
    pub(super) response_body: Option<Vec<u8>>,
}

impl Opening {
    /// A client's handshake: the request is written to `out` at once.
    pub(super) fn client(
        config: &mut ClientConfig,
        nonce: [u8; 16],
        out: &mut BytesMut,
    ) -> Result<Self, Error> {
        let offer = Offer::client(config);
        let handshake = ClientHandshake::start(config, nonce, offer.header().as_deref(), out)?;
        Ok(Self {
            pending: Pending::Client {
                handshake,
                offer,
                max_body: config.max_response_body,
            },
            scanned: 0,
        })
    }

    /// A server's handshake, waiting for the request.
    pub(super) fn server(config: &mut ServerConfig) -> Self {
        Self {
            pending: Pending::Server {
                subprotocols: core::mem::take(&mut config.subprotocols),
                policy: config.subprotocol_policy,
                extra_headers: core::mem::take(&mut config.extra_headers),
                defer_accept: config.defer_accept,
                awaiting: None,
                offer: Offer::server(config),
            },
            scanned: 0,
        }
    }

    /// The request a deferred-accept server is holding.
    fn awaiting(&self) -> Option<&Request> {
        match &self.pending {
            Pending::Server { awaiting, .. } => awaiting.as_ref(),
            Pending::Client { .. } | Pending::Refused { .. } => None,
        }
    }
}

impl Connection {
    /// Looks for a complete HTTP head in the input and acts on it.
    pub(super) fn process_handshake(&mut self) {
        let Some(hs) = self.opening.as_mut() else {
            return;
        };
        if let Pending::Refused { body, .. } = &mut hs.pending {
            let data = self.input.take_head(self.input.received().len());
            if body.push(&data) {
                self.end_refusal();
            }
            return;
        }
        if hs.awaiting().is_some() {
            // A client may not send frames before our answer (RFC 6455 §4.1); hold at most
            // one frame's worth while the application decides.
            let limit = (self.options.max_frame_size).saturating_add(crate::frame::MAX_HEADER_LEN);
            if self.input.received().len() > limit {
                self.fail_handshake(HandshakeError::EarlyData);
            }
            return;
        }
        let max_size = self.options.max_handshake_size as usize;
        let end = match handshake::find_head_end(self.input.received(), hs.scanned) {
            Some(end) if end <= max_size => end,
            Some(_) => return self.fail_handshake(HandshakeError::HeadTooLarge),
            None => {
                hs.scanned = self.input.received().len();
                if hs.scanned > max_size {
                    self.fail_handshake(HandshakeError::HeadTooLarge);
                }
                return;
            }
        };
        let head = self.input.take_head(end);
        let max_headers = usize::from(self.options.max_headers);
        match &mut hs.pending {
            Pending::Client {
                handshake,
                offer,
                max_body,
            } => {
                let response = ClientHandshake::response_head(&head, max_headers);
                let answer = handshake.finish(&head, max_headers).and_then(|n| {
                    let ext = offer.adopt_answer(&n.extensions)?;
                    Ok((n, ext))
                });
                match answer {
                    Ok((n, ext)) => {
                        self.ext = ext;
                        let value = n
                            .extensions
                            .iter()
                            .map(|e| e.to_header_value())
                            .collect::<Vec<_>>()
                            .join(", ");
                        self.open(n.subprotocol, value);
                    }
                    Err(e @ HandshakeError::UnexpectedStatus(_)) => {
                        let body = response.as_ref().and_then(|(status, fields)| {
                            RefusalBody::new(*status, fields, *max_body)
                        });
                        match body {
                            Some(body) => {
                                hs.pending = Pending::Refused { error: e, body };
                                // What came with the head is the body's start.
                                self.process_handshake();
                            }
                            None => {
                                self.negotiated
                                    .get_or_insert_with(|| Box::new(Negotiated::default()))
                                    .response_body = Some(Vec::new());
                                self.fail_handshake(e);
                            }
                        }
                    }
                    Err(e) => self.fail_handshake(e),
                }
                if response.is_some() {
                    self.negotiated
                        .get_or_insert_with(|| Box::new(Negotiated::default()))
                        .response = response;
                }
            }
            Pending::Refused { .. } => {}
            Pending::Server {
                subprotocols,
                policy,
                defer_accept,
                awaiting,
                ..
            } => match handshake::parse_request(&head, max_headers) {
                Ok(req) if !req.websocket && !*defer_accept => {
                    self.fail_handshake(HandshakeError::MissingUpgrade);
                }
                Ok(req) if *defer_accept => {
                    *awaiting = Some(req.clone());
                    self.events.push(Event::Request(Box::new(req)));
                }
                Ok(req) => {
                    let chosen = policy
                        .choose(subprotocols, &req.subprotocols)
                        .map(String::from);
                    self.answer_accept(&req, chosen, &[]);
                }
                Err(e) => self.fail_handshake(e),
            },
        }
    }

    /// `accept`: answers the held request with 101, choosing `subprotocol`.
    pub(super) fn accept_request(&mut self, subprotocol: Option<&str>) -> Result<(), Error> {
        self.accept_request_with(subprotocol, &[])
    }

    /// `accept_with_headers`: as `accept`, with `headers` added to the 101 after the
    /// configuration's. Checked first: a bad header leaves the request waiting.
    pub(super) fn accept_request_with(
        &mut self,
        subprotocol: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<(), Error> {
        if !headers
            .iter()
            .all(|(n, v)| handshake::is_token(n) && handshake::is_header_value(v))
        {
            return Err(Error::InvalidHeader);
        }
        let req = match self.opening.as_deref_mut() {
            Some(Opening {
                pending: Pending::Server { awaiting, .. },
                ..
            }) if awaiting.is_some() => {
                let req = awaiting.as_ref().ok_or(Error::NoPendingRequest)?;
                if !req.websocket {
                    return Err(Error::NotWebSocket);
                }
                if let Some(p) = subprotocol {
                    if !req.subprotocols.iter().any(|o| o == p) {
                        return Err(Error::SubprotocolNotOffered);
                    }
                }
                awaiting.take().ok_or(Error::NoPendingRequest)?
            }
            _ => return Err(Error::NoPendingRequest),
        };
        self.answer_accept(&req, subprotocol.map(String::from), headers);
        Ok(())
    }

    /// `accept_default`: answers the held request with 101, choosing the subprotocol as the
    /// configuration would without deferred accept.
    pub(super) fn accept_request_default(&mut self) -> Result<(), Error> {
        let chosen = match self.opening.as_deref() {
            Some(Opening {
                pending:
                    Pending::Server {
                        subprotocols,
                        policy,
                        awaiting: Some(req),
                        ..
                    },
                ..
            }) => policy
                .choose(subprotocols, &req.subprotocols)
                .map(String::from),
            _ => return Err(Error::NoPendingRequest),
        };
        self.accept_request(chosen.as_deref())
    }

    /// `reject`: answers the held request with an error status, then closes.
    pub(super) fn reject_request(&mut self, status: u16, reason: &str) -> Result<(), Error> {
        if !(400..=599).contains(&status) {
            return Err(Error::InvalidStatus(status));
        }
        if self.opening.as_ref().and_then(|o| o.awaiting()).is_none() {
            return Err(Error::NoPendingRequest);
        }
        handshake::write_reject(self.output.frames(), status, reason, &[]);
        self.events
            .push(Event::Error(Failure::Handshake(HandshakeError::Rejected(
                status,
            ))));
        self.finish(false);
        Ok(())
    }

    /// `respond`: answers the held request with a complete HTTP response, then closes.
    pub(super) fn respond_request(
        &mut self,
        status: u16,
        content_type: &str,
        body: &[u8],
    ) -> Result<(), Error> {
        if !(200..=599).contains(&status) || status == 204 || status == 304 {
            return Err(Error::InvalidStatus(status));
        }
        if !handshake::is_header_value(content_type) {
            return Err(Error::InvalidHeader);
        }
        let Some(req) = self.opening.as_ref().and_then(|o| o.awaiting()) else {
            return Err(Error::NoPendingRequest);
        };
        let websocket = req.websocket;
        handshake::write_response(self.output.frames(), status, content_type, body);
        if websocket {
            self.events
                .push(Event::Error(Failure::Handshake(HandshakeError::Rejected(
                    status,
                ))));
        }
        self.finish(false);
        Ok(())
    }

    /// A server accepts `req`: the 101 answer (with the configuration's headers, then
    /// `per_request`), the extensions it agrees to, and `Open`.
    fn answer_accept(
        &mut self,
        req: &Request,
        subprotocol: Option<String>,
        per_request: &[(&str, &str)],
    ) {
        let (config_headers, (extensions, ext)) = match self.opening.as_deref() {
            Some(Opening {
                pending:
                    Pending::Server {
                        extra_headers,
                        offer,
                        ..
                    },
                ..
            }) => (extra_headers.as_slice(), offer.accept(&req.extensions)),
            _ => (&[][..], (String::new(), Extensions::default())),
        };
        let mut extra = config_headers.to_vec();
        extra.extend(
            per_request
                .iter()
                .map(|(n, v)| (String::from(*n), String::from(*v))),
        );
        handshake::write_accept(
            self.output.frames(),
            &req.key,
            subprotocol.as_deref(),
            &extensions,
            &extra,
        );
        self.ext = ext;
        self.open(subprotocol, extensions);
    }

    /// The handshake is done (here or elsewhere): `Open`, with what it agreed on.
    pub(super) fn open(&mut self, subprotocol: Option<String>, extensions: String) {
        self.opening = None;
        self.life.open();
        self.timers.handshake.stop();
        self.rx_activity = false;
        if let Some((interval, _)) = self.options.keepalive_durations() {
            self.timers.keepalive.start(interval);
        }
        if subprotocol.is_some() || !extensions.is_empty() {
            self.negotiated = Some(Box::new(Negotiated {
                subprotocol: subprotocol.clone(),
                extensions: extensions.clone(),
                response: None,
                response_body: None,
            }));
        }
        self.events.push(Event::Open {
            subprotocol,
            extensions,
        });
    }

    /// The handshake failed: a server answers with the error's status; both report it and
    /// close.
    pub(super) fn fail_handshake(&mut self, mut e: HandshakeError) {
        if let Some(error) = self.take_refusal_body() {
            // The transport ended or time ran out while a refusal's body was read: the
            // refusal is what failed the handshake, with the body read so far.
            e = error;
        }
        if self.role == Role::Server && e != HandshakeError::Eof {
            handshake::write_reject(self.output.frames(), e.status(), e.as_str(), &[]);
        }
        self.events.push(Event::Error(Failure::Handshake(e)));
        self.finish(false);
    }
}

impl Connection {
    /// A refused upgrade's body is complete (or at its limit): the handshake fails.
    fn end_refusal(&mut self) {
        if let Some(error) = self.take_refusal_body() {
            self.fail_handshake(error);
        }
    }

    /// Moves the body of a refusal being read to the connection's record of the answer,
    /// returning the refusal's error; `None` when no refusal is being read.
    fn take_refusal_body(&mut self) -> Option<HandshakeError> {
        let hs = self
            .opening
            .take_if(|o| matches!(o.pending, Pending::Refused { .. }))?;
        let Pending::Refused { error, body } = hs.pending else {
            return None;
        };
        self.negotiated
            .get_or_insert_with(|| Box::new(Negotiated::default()))
            .response_body = Some(body.into_body());
        Some(error)
    }
}

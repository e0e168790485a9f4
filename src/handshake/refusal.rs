//! The body of a refused upgrade (a client's answer other than 101), read up to a limit so
//! the application can show why: framed by `Content-Length`, by `Transfer-Encoding: chunked`
//! (decoded) or by the end of the transport (RFC 9112 §6.3). Bytes in, body out, no I/O.

use alloc::vec::Vec;

/// How the body ends.
#[derive(Debug)]
enum Framing {
    /// This many bytes still to come.
    Length(u64),
    /// Chunked: what is expected next.
    Chunked(Chunk),
    /// Until the transport ends.
    Eof,
}

#[derive(Debug, Clone, Copy)]
enum Chunk {
    /// A chunk-size line.
    Size,
    /// This many bytes of chunk data.
    Data(u64),
    /// The CRLF after a chunk's data (`0`: CR and LF to come, `1`: LF).
    End(u8),
}

/// A refusal's body being read.
#[derive(Debug)]
pub(crate) struct RefusalBody {
    framing: Framing,
    body: Vec<u8>,
    limit: usize,
    /// Chunked framing not yet decoded (a chunk-size line cut by a read).
    pending: Vec<u8>,
    done: bool,
}

/// A chunk-size line longer than this (extensions included) ends the reading.
const MAX_SIZE_LINE: usize = 1024;

impl RefusalBody {
    /// The body that follows a response with `status` and `fields`, read up to `limit`
    /// bytes; `None` when there is nothing to read (no body, or a limit of 0).
    pub(crate) fn new(
        status: u16,
        fields: &[(alloc::string::String, alloc::string::String)],
        limit: usize,
    ) -> Option<Self> {
        // 1xx, 204 and 304 have no body (RFC 9112 §6.3).
        if limit == 0 || status < 200 || status == 204 || status == 304 {
            return None;
        }
        let field = |name: &'static str| {
            fields
                .iter()
                .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let coding = field("transfer-encoding").flat_map(|v| v.split(',')).last();
        let framing = if let Some(coding) = coding {
            // A Transfer-Encoding overrides Content-Length; one not ending in chunked runs
            // to the end of the transport.
            if coding.trim().eq_ignore_ascii_case("chunked") {
                Framing::Chunked(Chunk::Size)
            } else {
                Framing::Eof
            }
        } else if let Some(length) = field("content-length").next() {
            match length.trim().parse::<u64>() {
                Ok(0) => return None,
                Ok(n) => Framing::Length(n),
                // An invalid length cannot frame anything: read nothing.
                Err(_) => return None,
            }
        } else {
            Framing::Eof
        };
        Some(Self {
            framing,
            body: Vec::new(),
            limit,
            pending: Vec::new(),
            done: false,
        })
    }

    /// Whether the body is complete (or the limit reached, or its framing broken).
    #[cfg(test)]
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// The body read so far.
    pub(crate) fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// Takes bytes of the body as they arrive; returns whether the body is complete.
    pub(crate) fn push(&mut self, mut data: &[u8]) -> bool {
        while !self.done && !data.is_empty() {
            match &mut self.framing {
                Framing::Eof => {
                    let n = self.keep(data);
                    data = &data[n..];
                }
                Framing::Length(left) => {
                    let n = data.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    *left -= n as u64;
                    let ended = *left == 0;
                    self.keep(&data[..n]);
                    data = &data[n..];
                    self.done |= ended;
                }
                Framing::Chunked(Chunk::Data(left)) => {
                    let n = data.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    *left -= n as u64;
                    if *left == 0 {
                        self.framing = Framing::Chunked(Chunk::End(0));
                    }
                    self.keep(&data[..n]);
                    data = &data[n..];
                }
                Framing::Chunked(Chunk::End(seen)) => {
                    let expected = if *seen == 0 { b'\r' } else { b'\n' };
                    if data[0] != expected {
                        self.done = true;
                        break;
                    }
                    data = &data[1..];
                    *seen += 1;
                    if *seen == 2 {
                        self.framing = Framing::Chunked(Chunk::Size);
                    }
                }
                Framing::Chunked(Chunk::Size) => {
                    // Only the size line is buffered, and at most MAX_SIZE_LINE of it.
                    let take = match data.iter().position(|&b| b == b'\n') {
                        Some(i) => i + 1,
                        None => data.len(),
                    };
                    self.pending.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    match httparse::parse_chunk_size(&self.pending) {
                        Ok(httparse::Status::Complete((_, 0))) => self.done = true,
                        Ok(httparse::Status::Complete((_, size))) => {
                            self.pending.clear();
                            self.framing = Framing::Chunked(Chunk::Data(size));
                        }
                        Ok(httparse::Status::Partial) if self.pending.len() <= MAX_SIZE_LINE => {}
                        _ => self.done = true,
                    }
                }
            }
        }
        self.done
    }

    /// Keeps what fits under the limit; returns how much of `data` was used up.
    fn keep(&mut self, data: &[u8]) -> usize {
        let room = self.limit - self.body.len();
        let n = data.len().min(room);
        self.body.extend_from_slice(&data[..n]);
        if self.body.len() == self.limit {
            self.done = true;
        }
        data.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn fields(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (String::from(*n), String::from(*v)))
            .collect()
    }

    /// The body read from `data` fed in pieces of `step` bytes, and whether it completed.
    fn read(
        status: u16,
        f: &[(&str, &str)],
        limit: usize,
        data: &[u8],
        step: usize,
    ) -> (Vec<u8>, bool) {
        let mut r = RefusalBody::new(status, &fields(f), limit).expect("a body to read");
        for piece in data.chunks(step) {
            if r.push(piece) {
                break;
            }
        }
        let done = r.is_done();
        (r.into_body(), done)
    }

    #[test]
    fn content_length_bodies() {
        let f = [("Content-Length", "5")];
        for step in [1, 2, 100] {
            assert_eq!(
                read(403, &f, 4096, b"nope!extra", step),
                (b"nope!".to_vec(), true)
            );
            assert_eq!(read(403, &f, 3, b"nope!", step), (b"nop".to_vec(), true));
            assert_eq!(read(403, &f, 4096, b"no", step), (b"no".to_vec(), false));
        }
        assert!(RefusalBody::new(403, &fields(&[("content-length", "0")]), 10).is_none());
        assert!(RefusalBody::new(403, &fields(&[("content-length", "x")]), 10).is_none());
        assert!(RefusalBody::new(304, &fields(&f), 10).is_none());
        assert!(RefusalBody::new(204, &[], 10).is_none());
        assert!(RefusalBody::new(403, &fields(&f), 0).is_none());
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        let f = [
            ("Content-Length", "999"),
            ("Transfer-Encoding", "gzip, Chunked"),
        ];
        let data = b"4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n\r\n";
        for step in [1, 3, 1000] {
            assert_eq!(
                read(400, &f, 4096, data, step),
                (b"Wikipedia in \r\n\r\nchunks.".to_vec(), true)
            );
            assert_eq!(read(400, &f, 7, data, step), (b"Wikiped".to_vec(), true));
        }
        // Broken framing ends the reading with what came before.
        assert_eq!(
            read(400, &f, 4096, b"4\r\nWikiXX", 1),
            (b"Wiki".to_vec(), true)
        );
        assert_eq!(read(400, &f, 4096, b"zz\r\nWiki", 1), (b"".to_vec(), true));
        let endless = [b'1'; 2000];
        assert_eq!(read(400, &f, 4096, &endless, 7), (b"".to_vec(), true));
    }

    #[test]
    fn bodies_without_framing_end_with_the_transport() {
        assert_eq!(read(500, &[], 4096, b"oops", 1), (b"oops".to_vec(), false));
        let gzip = [("Transfer-Encoding", "gzip"), ("Content-Length", "1")];
        assert_eq!(
            read(500, &gzip, 4096, b"oops", 1),
            (b"oops".to_vec(), false)
        );
        assert_eq!(read(500, &[], 2, b"oops", 1), (b"oo".to_vec(), true));
    }
}

//! Raw HTTP/1.1 over a plain `TcpStream`, for requests a client library
//! refuses to send (bad request lines, smuggling, slow heads) and for
//! watching exactly when the server closes a connection.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// A response read off the wire.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// Lower-cased names, in order.
    pub headers: Vec<(String, String)>,
    /// De-chunked body.
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{self:?}"
        );
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
}

/// A connection with a read buffer, so several responses can be read in turn.
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Read more bytes into the buffer; `false` on EOF or reset.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 8192];
        match self.stream.read(&mut chunk).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Read one response (head plus a body framed by Content-Length, chunked
    /// encoding, or the end of the connection). Panics after 5 s.
    pub async fn response(&mut self) -> RawResponse {
        tokio::time::timeout(Duration::from_secs(5), self.read_response())
            .await
            .expect("no response within 5 s")
    }

    async fn read_response(&mut self) -> RawResponse {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i;
            }
            assert!(
                self.fill().await,
                "connection closed before a response head; got {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let body =
            if status == 101 || status == 204 || status == 304 || (100..200).contains(&status) {
                Vec::new()
            } else if let Some(len) = get("content-length") {
                let len: usize = len.parse().unwrap();
                while self.buf.len() < len {
                    assert!(self.fill().await, "connection closed inside the body");
                }
                self.buf.drain(..len).collect()
            } else if get("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
                self.read_chunked().await
            } else {
                while self.fill().await {}
                std::mem::take(&mut self.buf)
            };
        RawResponse {
            status,
            headers,
            body,
        }
    }

    async fn read_chunked(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.buf, b"\r\n") {
                    break i;
                }
                assert!(self.fill().await, "connection closed inside a chunk size");
            };
            let size_text = String::from_utf8_lossy(&self.buf[..line_end]).into_owned();
            let size =
                usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
            self.buf.drain(..line_end + 2);
            while self.buf.len() < size + 2 {
                assert!(self.fill().await, "connection closed inside a chunk");
            }
            body.extend(self.buf.drain(..size));
            self.buf.drain(..2);
            if size == 0 {
                return body;
            }
        }
    }

    /// Wait up to `limit` for the server to close the connection (EOF or
    /// reset), discarding anything it sends. Returns how long it took, or
    /// `None` if the connection is still open.
    pub async fn closed_within(&mut self, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        let wait = async { while self.fill().await {} };
        tokio::time::timeout(limit, wait)
            .await
            .ok()
            .map(|()| start.elapsed())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Send `bytes` on a fresh connection and read one response.
pub async fn exchange(addr: SocketAddr, bytes: &[u8]) -> (RawResponse, Conn) {
    let mut c = Conn::open(addr).await;
    c.send(bytes).await;
    let r = c.response().await;
    (r, c)
}

/// A plain GET with `Connection: close`, answered in full.
pub async fn get(addr: SocketAddr, path: &str) -> RawResponse {
    let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    exchange(addr, req.as_bytes()).await.0
}

/// Poll `cond` every 10 ms for at most `limit`.
pub async fn eventually<F, Fut>(limit: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if cond().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every value of `name` (lower-case) among `headers`, in order.
pub fn values<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// An upstream on loopback that answers each request of a keep-alive
/// connection with the bytes `answer` makes of its head (request line and
/// fields, as received), after reading its `Content-Length` body.
pub async fn upstream(answer: fn(&str) -> String) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let end = buf.windows(4).position(|w| w == b"\r\n\r\n");
                    let head = end.map(|e| String::from_utf8_lossy(&buf[..e + 4]).into_owned());
                    let length = head.as_deref().map(|h| {
                        h.lines()
                            .filter_map(|l| l.split_once(':'))
                            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                            .map_or(0, |(_, v)| v.trim().parse::<usize>().unwrap())
                    });
                    match (end, head, length) {
                        (Some(e), Some(head), Some(n)) if buf.len() >= e + 4 + n => {
                            buf.drain(..e + 4 + n);
                            if s.write_all(answer(&head).as_bytes()).await.is_err() {
                                return;
                            }
                        }
                        _ => match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        },
                    }
                }
            });
        }
    });
    addr
}

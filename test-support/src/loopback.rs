//! Servers on loopback that a test starts itself: no real network, no fixed port.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

/// A listener on a free port of 127.0.0.1, for a test that must know whether anything
/// connected (an address the host refuses) or that serves one request.
#[derive(Debug)]
pub struct Loopback(TcpListener);

impl Loopback {
    /// Binds a free port. The listener does not block, so that
    /// [`assert_untouched`](Self::assert_untouched) can look without waiting.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port binds");
        listener
            .set_nonblocking(true)
            .expect("the listener can be made non-blocking");
        Loopback(listener)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.0.local_addr().expect("a bound listener").port()
    }

    /// Panics, naming `what`, if a connection is waiting. A connection is queued before
    /// the client's `connect` returns, so one made by a request or a command that has
    /// finished is there to see: no waiting is needed.
    #[track_caller]
    pub fn assert_untouched(&self, what: &str) {
        match self.0.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("{what}: the listener saw a connection: {other:?}"),
        }
    }

    /// Serves one connection on a thread: reads the request head, writes `response`,
    /// then waits for the client to close (so a "slow" server is one given `None`,
    /// which never writes). The thread returns the bytes read, the request head first.
    pub fn serve_once(self, response: Option<Vec<u8>>) -> JoinHandle<Vec<u8>> {
        let listener = self.0;
        std::thread::spawn(move || {
            listener
                .set_nonblocking(false)
                .expect("the listener can be made blocking");
            let (mut stream, _) = listener.accept().expect("a connection arrives");
            // Some platforms hand the accepted stream the listener's non-blocking mode.
            stream
                .set_nonblocking(false)
                .expect("the stream can be made blocking");
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => return head,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            if let Some(response) = response {
                let _ = stream.write_all(&response);
                let _ = stream.flush();
            }
            // Wait for the client to close: closing first with unread request bytes
            // would reset the connection and lose the response.
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
            head
        })
    }
}

impl Default for Loopback {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::Loopback;

    #[test]
    fn an_untouched_listener_passes() {
        Loopback::new().assert_untouched("nothing");
    }

    #[test]
    #[should_panic(expected = "the probe: the listener saw a connection")]
    fn a_connection_is_seen() {
        let listener = Loopback::new();
        let _client = TcpStream::connect(("127.0.0.1", listener.port())).unwrap();
        listener.assert_untouched("the probe");
    }

    #[test]
    fn one_request_is_answered_and_its_head_returned() {
        let listener = Loopback::new();
        let port = listener.port();
        let server = listener.serve_once(Some(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()));
        let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        client.write_all(b"GET /x HTTP/1.1\r\n\r\n").unwrap();
        let mut answer = [0u8; 12];
        client.read_exact(&mut answer).unwrap();
        drop(client);
        assert_eq!(&answer, b"HTTP/1.1 204");
        assert_eq!(server.join().unwrap(), b"GET /x HTTP/1.1\r\n\r\n");
    }
}

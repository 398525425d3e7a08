//! A TCP relay between the gateways and a store, on a free loopback port,
//! that can cut the network the way a partition does: bytes stop moving
//! (the sender's writes hang, nothing is refused), in both directions or
//! only the replies (the store still receives and applies requests, the
//! gateway never hears back). When the cut heals, the connections that
//! lived through it are reset, as a partition's connections time out,
//! and new ones pass again.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

const PASS: u8 = 0;
const CUT: u8 = 1;
const CUT_REPLIES: u8 = 2;

struct Shared {
    mode: AtomicU8,
    /// Bumped by each heal: a connection older than the current era is reset.
    era: AtomicU64,
}

/// The relay; it runs until the test ends.
pub struct Cut {
    shared: Arc<Shared>,
    /// Where the gateways connect.
    pub port: u16,
}

impl Cut {
    /// Relays `127.0.0.1:<port>` to `upstream` (`host:port`).
    pub fn start(upstream: &str) -> Cut {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            mode: AtomicU8::new(PASS),
            era: AtomicU64::new(0),
        });
        let upstream = upstream.to_string();
        let relay = Arc::clone(&shared);
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let era = relay.era.load(Ordering::SeqCst);
                let Ok(server) = TcpStream::connect(&upstream) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                for (from, to, replies) in [
                    (
                        client.try_clone().unwrap(),
                        server.try_clone().unwrap(),
                        false,
                    ),
                    (server, client, true),
                ] {
                    let shared = Arc::clone(&relay);
                    std::thread::spawn(move || pipe(from, to, replies, era, &shared));
                }
            }
        });
        Cut { shared, port }
    }

    /// Stops every byte, both ways.
    pub fn cut(&self) {
        self.shared.mode.store(CUT, Ordering::SeqCst);
    }

    /// Stops the store's replies only: requests still reach it.
    pub fn cut_replies(&self) {
        self.shared.mode.store(CUT_REPLIES, Ordering::SeqCst);
    }

    /// Lets bytes through again, resetting every connection that lived
    /// through the cut.
    pub fn heal(&self) {
        self.shared.era.fetch_add(1, Ordering::SeqCst);
        self.shared.mode.store(PASS, Ordering::SeqCst);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream, replies: bool, era: u64, shared: &Shared) {
    let held = |mode: u8| mode == CUT || (mode == CUT_REPLIES && replies);
    let _ = from.set_read_timeout(Some(Duration::from_millis(20)));
    let mut buffer = [0_u8; 16 * 1024];
    let mut touched = false;
    loop {
        let stale = shared.era.load(Ordering::SeqCst) != era;
        if stale && touched {
            break;
        }
        // Nothing is read while the cut holds this direction: the sender's
        // writes fill the socket's buffers and hang, as on a dead link.
        if held(shared.mode.load(Ordering::SeqCst)) {
            touched = true;
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                // Bytes read just as the cut began are held back with it.
                while held(shared.mode.load(Ordering::SeqCst)) {
                    touched = true;
                    std::thread::sleep(Duration::from_millis(5));
                }
                if shared.era.load(Ordering::SeqCst) != era && touched {
                    break;
                }
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

//! A TCP relay between the code under test and the real Redis, which a
//! test can cut: how an outage, or a connection lost mid-call, looks from a
//! gateway node.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the relay does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Carry bytes both ways.
    Pass,
    /// Close every connection, and each new one as soon as it is accepted.
    Refuse,
    /// Carry commands to Redis, but when Redis answers, close the connection
    /// instead of passing the answer on: the command ran, and the client
    /// cannot know.
    LoseReplies,
}

pub struct Relay {
    port: u16,
    mode: watch::Sender<Mode>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// A relay to the Redis at `redis_url` (`redis://host:port/db`).
    pub async fn start(redis_url: &str) -> Relay {
        let rest = redis_url.strip_prefix("redis://").unwrap();
        let target = rest.split('/').next().unwrap().to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (mode, _) = watch::channel(Mode::Pass);
        let modes = mode.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let rx = modes.subscribe();
                if *rx.borrow() == Mode::Refuse {
                    continue;
                }
                let Ok(server) = TcpStream::connect(&target).await else {
                    continue;
                };
                tokio::spawn(carry(client, server, rx));
            }
        });
        Relay { port, mode, task }
    }

    /// The URL to give the code under test.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
        self.set(Mode::Refuse);
    }
}

async fn carry(mut client: TcpStream, mut server: TcpStream, mut mode: watch::Receiver<Mode>) {
    let (mut up, mut down) = ([0u8; 16 * 1024], [0u8; 16 * 1024]);
    loop {
        tokio::select! {
            changed = mode.changed() => {
                if changed.is_err() || *mode.borrow() == Mode::Refuse {
                    return;
                }
            }
            n = client.read(&mut up) => {
                let Ok(n @ 1..) = n else { return };
                if server.write_all(&up[..n]).await.is_err() {
                    return;
                }
            }
            n = server.read(&mut down) => {
                let Ok(n @ 1..) = n else { return };
                if *mode.borrow() != Mode::Pass {
                    return;
                }
                if client.write_all(&down[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

//! The fault proxy against a real echo server on loopback.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use snapkasir_tests::proxy::{Direction, FaultKind, FaultProxy};
use snapkasir_tests::schedule::Schedule;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if s.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

async fn roundtrip(s: &mut TcpStream, msg: &[u8], wait: Duration) -> Option<Vec<u8>> {
    s.write_all(msg).await.ok()?;
    let mut buf = vec![0u8; msg.len()];
    match timeout(wait, s.read_exact(&mut buf)).await {
        Ok(Ok(_)) => Some(buf),
        _ => None,
    }
}

/// A proxy in front of a bare listener, a client connected through it and the server's side of
/// that connection.
async fn client_and_server() -> (FaultProxy, TcpStream, TcpStream) {
    let upstream = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let proxy = FaultProxy::start(upstream.local_addr().unwrap())
        .await
        .unwrap();
    let client = TcpStream::connect(proxy.addr()).await.unwrap();
    let (server, _) = upstream.accept().await.unwrap();
    (proxy, client, server)
}

const SHORT: Duration = Duration::from_millis(300);
const LONG: Duration = Duration::from_secs(5);

#[tokio::test]
async fn forwards_bytes_both_ways() {
    let proxy = FaultProxy::start(echo_server().await).await.unwrap();
    let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(
        roundtrip(&mut c, b"halo", LONG).await.as_deref(),
        Some(&b"halo"[..])
    );
    assert_eq!(proxy.bytes_forwarded(Direction::ClientToServer), 4);
    assert_eq!(proxy.bytes_forwarded(Direction::ServerToClient), 4);
}

#[tokio::test]
async fn delay_holds_every_chunk() {
    let proxy = FaultProxy::start(echo_server().await).await.unwrap();
    let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
    proxy.set_delay(Duration::from_millis(100));
    let start = Instant::now();
    assert!(roundtrip(&mut c, b"x", LONG).await.is_some());
    // Delayed once on the way up and once on the way back.
    assert!(start.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn drop_stalls_the_connection_and_heal_resets_it_never_a_stream_with_a_hole() {
    let proxy = FaultProxy::start(echo_server().await).await.unwrap();
    let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
    proxy.drop_packets();
    assert_eq!(roundtrip(&mut c, b"lost", SHORT).await, None);
    proxy.heal();
    let mut buf = [0u8; 4];
    assert!(
        matches!(
            timeout(LONG, c.read(&mut buf)).await,
            Ok(Ok(0)) | Ok(Err(_))
        ),
        "the stalled connection is reset"
    );
    let mut fresh = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(
        roundtrip(&mut fresh, b"back", LONG).await.as_deref(),
        Some(&b"back"[..])
    );
}

#[tokio::test]
async fn partition_refuses_new_connections_and_blackholes_old_ones() {
    let proxy = FaultProxy::start(echo_server().await).await.unwrap();
    let mut old = TcpStream::connect(proxy.addr()).await.unwrap();
    assert!(roundtrip(&mut old, b"1", LONG).await.is_some());
    proxy.partition();
    assert_eq!(roundtrip(&mut old, b"2", SHORT).await, None);
    let mut new = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut buf = [0u8; 1];
    assert!(
        matches!(
            timeout(LONG, new.read(&mut buf)).await,
            Ok(Ok(0)) | Ok(Err(_))
        ),
        "refused connection must close"
    );
    proxy.heal();
    let mut again = TcpStream::connect(proxy.addr()).await.unwrap();
    assert!(roundtrip(&mut again, b"3", LONG).await.is_some());
}

#[tokio::test]
async fn one_way_partition_loses_one_direction_only() {
    let (proxy, mut client, mut server) = client_and_server().await;
    proxy.one_way_partition(Direction::ServerToClient);
    client.write_all(b"up").await.unwrap();
    let mut buf = [0u8; 2];
    timeout(LONG, server.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf, b"up");
    server.write_all(b"dn").await.unwrap();
    assert!(
        timeout(SHORT, client.read_exact(&mut buf)).await.is_err(),
        "server→client must be lost"
    );
}

#[tokio::test]
async fn cut_closes_every_open_connection() {
    let proxy = FaultProxy::start(echo_server().await).await.unwrap();
    let mut a = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut b = TcpStream::connect(proxy.addr()).await.unwrap();
    assert!(roundtrip(&mut a, b"a", LONG).await.is_some());
    assert!(roundtrip(&mut b, b"b", LONG).await.is_some());
    proxy.cut_all();
    for s in [&mut a, &mut b] {
        let mut buf = [0u8; 1];
        assert!(matches!(
            timeout(LONG, s.read(&mut buf)).await,
            Ok(Ok(0)) | Ok(Err(_))
        ));
    }
    assert_eq!(proxy.fired().get(&FaultKind::Cut), Some(&1));
}

#[tokio::test]
async fn cut_mid_frame_delivers_part_of_a_chunk_then_closes() {
    let (proxy, mut client, mut server) = client_and_server().await;
    proxy.cut_mid_frame(Direction::ClientToServer);
    client.write_all(&[7u8; 100]).await.unwrap();
    let mut got = Vec::new();
    timeout(LONG, server.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert!(
        !got.is_empty() && got.len() < 100,
        "got {} bytes",
        got.len()
    );
    assert_eq!(proxy.fired().get(&FaultKind::CutMidFrame), Some(&1));
}

#[test]
fn schedules_replay_from_their_seed_and_cover_every_fault_kind() {
    let a = Schedule::random(42, 4, 12);
    assert_eq!(a, Schedule::random(42, 4, 12));
    assert_ne!(a, Schedule::random(43, 4, 12));
    let mut kinds: Vec<FaultKind> = a.steps.iter().map(|s| s.fault.kind()).collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds, FaultKind::ALL.to_vec());
    assert!(a.to_string().contains("SNAPKASIR_SEED=42"));
}

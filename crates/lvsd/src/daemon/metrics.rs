//! The metrics endpoint (`--metrics ADDRESS:PORT`, off by default): Prometheus scrapes
//! `GET /metrics` and gets lvsd's own metrics (`lvsd status` as numbers) and the IPVS table
//! as the kernel counts it, read at the scrape (`lvsd_ipvs_up` says whether it could be).
//! HTTP/1.0 and one request a connection: all a scraper needs.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::status::Status;

pub async fn listen(address: &str) -> Result<TcpListener, String> {
    let addr: SocketAddr = address.parse().map_err(|_| {
        format!("--metrics {address}: give an ADDRESS:PORT, as 127.0.0.1:9732 or [::]:9732")
    })?;
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("--metrics {address}: {e}"))
}

/// The next scrape, if metrics are served.
pub async fn accept(listener: Option<&TcpListener>) -> Option<TcpStream> {
    match listener {
        Some(l) => l.accept().await.ok().map(|(s, _)| s),
        None => std::future::pending().await,
    }
}

/// Answers one request; a client that does not ask within two seconds gets nothing.
pub async fn answer(stream: TcpStream, status: Status) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read.take(8192));
    let mut first = String::new();
    let asked = tokio::time::timeout(Duration::from_secs(2), read.read_line(&mut first)).await;
    if !matches!(asked, Ok(Ok(_))) {
        return;
    }
    let path = first.split_whitespace().nth(1).unwrap_or("");
    let (code, body) = if first.starts_with("GET ") && (path == "/metrics" || path == "/") {
        let mut body = status.prometheus();
        // The table is read off the daemon's thread: a large one takes a while.
        let table = tokio::task::spawn_blocking(|| {
            let mut client = ipvs::Client::connect().ok()?;
            ipvs::table::Table::read(&mut client).ok()
        })
        .await
        .ok()
        .flatten();
        body.push_str("# HELP lvsd_ipvs_up 1 if the IPVS table could be read for this scrape.\n");
        body.push_str("# TYPE lvsd_ipvs_up gauge\n");
        body.push_str(&format!("lvsd_ipvs_up {}\n", u8::from(table.is_some())));
        if let Some(table) = table {
            body.push_str(&ipvs::metrics::exposition(&table, "ipvs"));
        }
        ("200 OK", body)
    } else {
        ("404 Not Found", "lvsd serves /metrics\n".to_string())
    };
    let head = format!(
        "HTTP/1.0 {code}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let send = async {
        write.write_all(head.as_bytes()).await?;
        write.write_all(body.as_bytes()).await
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), send).await;
}

//! `payer-sandbox --healthcheck URL`: one GET over plain HTTP that succeeds on a 200, so that a
//! container image with no shell and no curl (the static binary on `scratch`) can still have a
//! HEALTHCHECK. `localhost` is taken as 127.0.0.1 without asking a resolver: a static binary on
//! an empty filesystem has no resolver configuration.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use url::{Host, Url};

const TIMEOUT: Duration = Duration::from_secs(3);

pub fn check(url: &str) -> Result<(), String> {
    let url = Url::parse(url).map_err(|e| format!("{url:?}: {e}"))?;
    if url.scheme() != "http" {
        return Err(format!("{url}: only http:// URLs can be checked"));
    }
    let port = url.port_or_known_default().unwrap_or(80);
    let address: SocketAddr = match url.host() {
        Some(Host::Ipv4(ip)) => (ip, port).into(),
        Some(Host::Ipv6(ip)) => (ip, port).into(),
        Some(Host::Domain("localhost")) => ([127, 0, 0, 1], port).into(),
        Some(Host::Domain(name)) => (name, port)
            .to_socket_addrs()
            .map_err(|e| format!("{name}: {e}"))?
            .next()
            .ok_or_else(|| format!("{name}: no address"))?,
        None => return Err(format!("{url}: no host")),
    };
    let mut stream =
        TcpStream::connect_timeout(&address, TIMEOUT).map_err(|e| format!("{address}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let mut target = url.path().to_owned();
    if let Some(query) = url.query() {
        target = format!("{target}?{query}");
    }
    let host = url.host_str().unwrap_or("localhost");
    // One write: `write!` on a socket would send the request in pieces, and a server that
    // answers after the first piece and closes would break the pipe for the rest.
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("{address}: {e}"))?;
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < 12 {
        match stream.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(format!("{address}: {e}")),
        }
    }
    let status_line = String::from_utf8_lossy(&head[..read]);
    let status = status_line.split(' ').nth(1).unwrap_or("");
    if status_line.starts_with("HTTP/1.") && status == "200" {
        Ok(())
    } else {
        Err(format!(
            "{url}: answered {:?}",
            status_line.lines().next().unwrap_or("")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn serve_once(answer: &'static str) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let _ = s.write_all(answer.as_bytes());
        });
        port
    }

    #[test]
    fn a_200_passes_and_anything_else_fails() {
        let port = serve_once("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        check(&format!("http://localhost:{port}/healthz")).unwrap();
        let port = serve_once("HTTP/1.1 503 Service Unavailable\r\n\r\n");
        assert!(check(&format!("http://127.0.0.1:{port}/healthz")).is_err());
        assert!(check("https://127.0.0.1:1/").is_err());
        assert!(check("not a url").is_err());
    }
}

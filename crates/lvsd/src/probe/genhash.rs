//! `lvsd genhash`: keepalived's `genhash` (`keepalived -T`, check/check_genhash.c): GET one
//! url and print the MD5 of the body, the `digest` an `HTTP_GET` url wants.
//!
//! The options, messages and exit statuses are keepalived 2.2.7's: server, port and url are
//! required; a wrong command line prints the usage and exits 1; otherwise the exit status is
//! 0, the check failing included, with keepalived's message (`Timeout connecting`, ...) on
//! standard output, or `no data received from remote webserver` on standard error. `-v`
//! prints keepalived's dumps of the headers, body and digest and the response time. As in
//! keepalived, each step (connect, write, each read) may take the `-t` timeout, and without
//! it about 71 minutes; the status code is not looked at.

use super::connect::{Stage, Target};
use super::http::{exchange, request, Event, Failure, Step};
use super::tls::Tls;
use keepalived::check::checker::HttpProtocol;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// keepalived's timeout when `-t` is not given: UINT_MAX microseconds.
const NO_TIMEOUT: Duration = Duration::from_micros(u32::MAX as u64);

const DELIM_BEGIN: &str = "-----------------------[";
const DELIM_END: &str = "]-----------------------\n";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
struct Options {
    verbose: bool,
    ssl: bool,
    sni: bool,
    server: Option<IpAddr>,
    port: Option<u16>,
    url: Option<String>,
    virtualhost: Option<String>,
    fwmark: Option<u32>,
    protocol: HttpProtocol,
    timeout: Duration,
}

/// The option letters, whether each takes a value, and their long names.
const OPTIONS: [(char, bool, &str); 11] = [
    ('h', false, "help"),
    ('v', false, "verbose"),
    ('S', false, "use-ssl"),
    ('I', false, "use-sni"),
    ('s', true, "server"),
    ('V', true, "use-virtualhost"),
    ('p', true, "port"),
    ('u', true, "url"),
    ('m', true, "fwmark"),
    ('P', true, "protocol"),
    ('t', true, "timeout"),
];

/// Runs `lvsd genhash ARGS` and returns its exit status; `args` follow the word `genhash`.
pub fn main(args: &[String]) -> u8 {
    let options = match parse(args) {
        Ok(o) => o,
        Err(message) => {
            eprint!("{message}{}", usage());
            return 1;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lvsd genhash: {e}");
            return 1;
        }
    };
    let mut out = std::io::stdout().lock();
    let result = runtime.block_on(fetch(&options, &mut out));
    if let Err(e) = result.and_then(|()| out.flush()) {
        eprintln!("lvsd genhash: {e}");
        return 1;
    }
    0
}

fn usage() -> String {
    let mut u = String::from(
        "Usage: lvsd genhash COMMAND [OPTIONS]\n\
         Commands:\n   -s server-address -p port -u url\n   -S -s server-address -p port -u url\n   -h\n\n\
         Options:\n\
         Either long or short options are allowed.\n",
    );
    u.push_str(
        "   --use-ssl         -S       Use SSL connection to remote server.\n\
         \x20  --use-sni         -I       Use SNI during SSL handshake (uses virtualhost setting; see -V).\n\
         \x20  --server          -s       Use the specified remote server address.\n\
         \x20  --port            -p       Use the specified remote server port.\n\
         \x20  --url             -u       Use the specified remote server url.\n\
         \x20  --use-virtualhost -V       Use the specified virtualhost in GET query.\n\
         \x20  --verbose         -v       Use verbose mode output.\n\
         \x20  --help            -h       Display this short inlined help screen.\n\
         \x20  --fwmark          -m       Use the specified FW mark.\n\
         \x20  --protocol        -P       Use the specified HTTP protocol - '1.0', 1.0c', '1.1'.\n\
         \x20                               1.0c means 1.0 with 'Connection: close'\n\
         \x20  --timeout         -t       Timeout in seconds\n",
    );
    u
}

/// The command line read as keepalived's `getopt_long` reads it: short options bundled or
/// with attached values, long ones abbreviated or with `=`, words that are no option
/// collected (and refused) wherever they are. `Err` has the messages to print before the usage.
fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        verbose: false,
        ssl: false,
        sni: false,
        server: None,
        port: None,
        url: None,
        virtualhost: None,
        fwmark: None,
        protocol: HttpProtocol::V1_0,
        timeout: NO_TIMEOUT,
    };
    if args.is_empty() {
        return Err(String::new());
    }
    let mut messages = String::new();
    let mut bad = false;
    let mut extra = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            extra.extend(args[i..].iter().cloned());
            break;
        }
        // (letter, value, how to name the option in a complaint)
        let mut found: Vec<(char, Option<String>)> = Vec::new();
        if let Some(long) = arg.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let matches: Vec<_> = OPTIONS
                .iter()
                .filter(|(_, _, l)| l.starts_with(name))
                .collect();
            let exact = OPTIONS.iter().find(|(_, _, l)| *l == name);
            let Some(&(letter, takes, full)) = exact.or(matches.first().copied()) else {
                messages.push_str(&format!("Unknown option {arg}\n"));
                bad = true;
                continue;
            };
            if exact.is_none() && matches.len() > 1 {
                messages.push_str(&format!("Unknown option {arg}\n"));
                bad = true;
                continue;
            }
            let value = if takes {
                match attached.or_else(|| {
                    let v = args.get(i).cloned();
                    i += 1;
                    v
                }) {
                    Some(v) => Some(v),
                    None => {
                        messages.push_str(&format!("Missing parameter for option --{full}\n"));
                        bad = true;
                        continue;
                    }
                }
            } else {
                None
            };
            found.push((letter, value));
        } else if let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (at, c) in short.char_indices() {
                let Some(&(letter, takes, _)) = OPTIONS.iter().find(|(l, _, _)| *l == c) else {
                    messages.push_str(&format!("Unknown option -{c}\n"));
                    bad = true;
                    continue;
                };
                if !takes {
                    found.push((letter, None));
                    continue;
                }
                let rest = &short[at + c.len_utf8()..];
                let value = if !rest.is_empty() {
                    Some(rest.to_string())
                } else {
                    let v = args.get(i).cloned();
                    i += 1;
                    v
                };
                match value {
                    Some(v) => found.push((letter, Some(v))),
                    None => {
                        messages.push_str(&format!("Missing parameter for option -{c}\n"));
                        bad = true;
                    }
                }
                break;
            }
        } else {
            extra.push(arg.clone());
            continue;
        }
        for (letter, value) in found {
            let v = value.unwrap_or_default();
            match letter {
                'h' => bad = true,
                'v' => o.verbose = true,
                'S' => o.ssl = true,
                'I' => o.sni = true,
                's' => {
                    // keepalived drops a range or a prefix length after the address.
                    let ip = v.split(['-', '/']).next().unwrap_or_default();
                    match ip.parse() {
                        Ok(a) => o.server = Some(a),
                        Err(_) => {
                            return Err(format!("{messages}server should be an IP, not {v}\n"))
                        }
                    }
                }
                'V' => o.virtualhost = Some(v),
                'p' => match v.parse::<u16>() {
                    Ok(p) if p > 0 && !v.starts_with('+') => o.port = Some(p),
                    _ => return Err(format!("{messages}invalid port number '{v}'\n")),
                },
                'u' => o.url = Some(v),
                'm' => match number(&v, false) {
                    Some(m) => o.fwmark = Some(m),
                    None => return Err(format!("{messages}invalid fwmark '{v}'\n")),
                },
                'P' => {
                    o.protocol = match v.as_str() {
                        "1.0" => HttpProtocol::V1_0,
                        "1.0c" | "1.0C" => HttpProtocol::V1_0C,
                        "1.1" => HttpProtocol::V1_1,
                        _ => {
                            return Err(format!("{messages}invalid HTTP protocol version '{v}'\n"))
                        }
                    }
                }
                't' => match number(&v, true) {
                    Some(s) => o.timeout = Duration::from_secs(u64::from(s)),
                    None => return Err(format!("{messages}invalid timeout '{v}'\n")),
                },
                _ => {}
            }
        }
    }
    if bad {
        return Err(messages);
    }
    if !extra.is_empty() {
        return Err(format!("Unexpected argument(s): {}\n", extra.join(" ")));
    }
    if o.server.is_none() || o.port.is_none() || o.url.is_none() {
        return Err(String::new());
    }
    Ok(o)
}

/// keepalived's reading of `-m` and `-t`: blanks before, digits only, no sign (`-t` also
/// refuses an empty value); a value too big wraps as its `(unsigned)` cast does.
fn number(v: &str, nonempty: bool) -> Option<u32> {
    let s = v.trim_start_matches([' ', '\t']);
    if (nonempty && s.is_empty()) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: u64 = 0;
    for b in s.bytes() {
        n = n.saturating_mul(10).saturating_add(u64::from(b - b'0'));
    }
    Some(n as u32)
}

/// GETs the url and prints what keepalived prints.
async fn fetch(o: &Options, out: &mut impl Write) -> std::io::Result<()> {
    let (Some(ip), Some(port), Some(url)) = (o.server, o.port, o.url.as_deref()) else {
        return Ok(());
    };
    let start = Instant::now();
    let target = Target {
        dst: SocketAddr::new(ip, port),
        bind: None,
        bind_if: None,
        fwmark: o.fwmark.filter(|m| *m != 0),
        timeout: o.timeout,
    };
    let tls = if o.ssl {
        match Tls::new(None) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("Cannot initialize SSL context.\n{e}");
                return Ok(());
            }
        }
    } else {
        None
    };
    let req = request(url, o.virtualhost.as_deref(), target.dst, o.protocol);
    let sni = o.virtualhost.as_deref().filter(|_| o.sni);
    let step = Stage::new(Step::Connect);
    let mut dump = Vec::new();
    let verbose = o.verbose;
    let mut trace = |e: Event<'_>| {
        if verbose {
            trace_event(&mut dump, e);
        }
    };
    let result = exchange(
        &target,
        tls.as_ref(),
        sni,
        req.as_bytes(),
        Some(o.timeout),
        &step,
        &mut trace,
    )
    .await;
    out.write_all(&dump)?;
    match result {
        Ok(r) => {
            let hex: String = r.digest.iter().map(|b| format!("{b:02x}")).collect();
            writeln!(out, "{hex}")?;
        }
        Err(Failure::Empty { .. }) => {
            out.flush()?;
            eprintln!("no data received from remote webserver");
        }
        Err(f) => writeln!(out, "{}", message(&f, tls.is_some()))?,
    }
    if o.verbose {
        write!(
            out,
            "\nGlobal response time for [{url}] = {} usecs\n",
            start.elapsed().as_micros()
        )?;
    }
    Ok(())
}

/// keepalived's message for a failure (`timeout_epilog`'s argument).
fn message(f: &Failure, tls: bool) -> &'static str {
    match f {
        Failure::Timeout(Step::Connect | Step::Handshake) => "Timeout connecting",
        Failure::Timeout(Step::Send) => "Timeout WEB write",
        Failure::Timeout(Step::FirstRead) => "Timeout WEB read",
        Failure::Timeout(Step::Read) if tls => "Timeout SSL read",
        Failure::Timeout(Step::Read) => "Timeout HTTP read",
        Failure::Connect(reason) if reason == "network is unreachable" => {
            "HTTP_CHECK - network unreachable"
        }
        Failure::Connect(reason) if reason == "connection timed out" => "Timeout connecting",
        Failure::Connect(_) => "Connection failed",
        Failure::Tls(_) => "SSL handshake/communication error connecting to",
        Failure::Send(_) => "Cannot send get request to",
        Failure::Read(_) => "Read error with",
        Failure::TlsClosedEmpty => "SSL read error from",
        Failure::Empty { .. } => "no data received from remote webserver",
    }
}

/// keepalived's `-v` output for one step of the exchange.
fn trace_event(out: &mut Vec<u8>, e: Event<'_>) {
    let banner = |out: &mut Vec<u8>, title: &str| {
        out.extend_from_slice(format!("{DELIM_BEGIN}{title}{DELIM_END}").as_bytes());
    };
    match e {
        Event::HeaderRead => banner(out, "    HTTP Header Buffer    "),
        Event::Headers(h) => {
            dump_buffer(out, h);
            banner(out, " HTTP Header Ascii Buffer ");
            out.extend_from_slice(h);
            out.push(b'\n');
        }
        Event::BodyStart => banner(out, "        HTML Buffer        "),
        Event::Body(b) => dump_buffer(out, b),
        Event::Digest(d) => {
            out.push(b'\n');
            banner(out, "    HTML hash resulting    ");
            dump_buffer(out, d);
            banner(out, " HTML hash final resulting ");
        }
    }
}

/// keepalived's `dump_buffer`: offset, 16 bytes in hex in two groups of 8, and the bytes
/// themselves, `.` for those that do not print.
fn dump_buffer(out: &mut Vec<u8>, bytes: &[u8]) {
    for (row, line) in bytes.chunks(16).enumerate() {
        let mut text = format!("{:04} ", (row * 16) & 0xffff);
        for i in 0..16 {
            match line.get(i) {
                Some(b) => text.push_str(&format!(" {b:02x}")),
                None => text.push_str("   "),
            }
            if i == 7 {
                text.push_str(" -");
            }
        }
        text.push_str("   ");
        for i in 0..16 {
            text.push(match line.get(i) {
                Some(&b) if (0x20..=0x7e).contains(&b) => b as char,
                Some(_) => '.',
                None => ' ',
            });
        }
        text.push('\n');
        out.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn command_lines() {
        let o = parse(&args("-s 192.0.2.1 -p80 -u / -Sv --timeout=3 --use-v www")).unwrap();
        assert_eq!(o.server, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(o.port, Some(80));
        assert!(o.ssl && o.verbose);
        assert_eq!(o.timeout, Duration::from_secs(3));
        assert_eq!(o.virtualhost.as_deref(), Some("www"));
        assert_eq!(parse(&args("-s 192.0.2.1 -p 80")), Err(String::new()));
        assert_eq!(
            parse(&args("-s 192.0.2.1 -p 80 -u / extra")),
            Err("Unexpected argument(s): extra\n".into())
        );
        assert_eq!(
            parse(&args("-s host -p 80 -u /")),
            Err("server should be an IP, not host\n".into())
        );
        assert_eq!(
            parse(&args("-s 192.0.2.1 -p 0 -u /")),
            Err("invalid port number '0'\n".into())
        );
        assert_eq!(
            parse(&args("-x -s 192.0.2.1 -p 1 -u /")),
            Err("Unknown option -x\n".into())
        );
        assert_eq!(
            parse(&args("-s 192.0.2.1 -p 1 -u")),
            Err("Missing parameter for option -u\n".into())
        );
    }

    #[test]
    fn dumps() {
        let mut out = Vec::new();
        dump_buffer(&mut out, b"hello world\n");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "0000  68 65 6c 6c 6f 20 77 6f - 72 6c 64 0a               hello world.    \n"
        );
    }
}

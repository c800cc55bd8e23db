//! Partners' webhooks: which events exist, which targets may be called.
//!
//! A webhook makes the server call a URL of the partner's choosing, so the URL is a way into
//! the server's own network (SSRF). A target must be `http(s)` and resolve to public
//! addresses only: loopback, private, link-local, shared (CGNAT), multicast and unspecified
//! addresses are refused, unless the operator allows private targets (tests, local setups).

use crate::error::{DomainError, Fields, Invalid};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

crate::wire_enum! {
    /// What a partner can subscribe to; a partner only hears about its own positions.
    pub enum EventType {
        ApplicationCreated = "application.created",
        ApplicationStatusChanged = "application.status_changed",
        BookingCreated = "booking.created",
        BookingCancelled = "booking.cancelled",
        PositionFilled = "position.filled",
    }
}

/// Longest webhook URL accepted.
pub const MAX_URL_LEN: usize = 2000;

/// A subscription as asked for: a callable URL and at least one event, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookFields {
    pub url: Url,
    pub events: Vec<EventType>,
}

impl WebhookFields {
    /// Checks the URL's form (not where it resolves: see [`refused_address`]) and the events.
    pub fn parse(url: &str, events: &[String]) -> Result<Self, DomainError> {
        let mut f = Fields::default();
        let url = f.take("url", target(url));
        let mut kinds = Vec::with_capacity(events.len());
        for (i, raw) in events.iter().enumerate() {
            if let Some(kind) = f.take(&format!("events[{i}]"), EventType::parse(raw))
                && !kinds.contains(&kind)
            {
                kinds.push(kind);
            }
        }
        if events.is_empty() {
            f.push("events", Invalid::new("too_short", "name at least one event"));
        }
        f.finish(|| {
            Some(Self {
                url: url?,
                events: kinds,
            })
        })
    }
}

/// The form of a webhook URL, as the OpenAPI document states it: `http(s)://`, a host of
/// ASCII letters, digits, `.`, `_`, `~`, `-`, an optional port, then a path and query of visible
/// ASCII without `#`, `%`, quotes, brackets, braces, `\`, `^`, `|` or backquotes.
pub const URL_PATTERN: &str = r"^https?://[A-Za-z0-9._~-]+(:[0-9]{1,5})?(/[!$&-;=?-Z_a-z~]*)?$";

/// Whether `raw` has the form of [`URL_PATTERN`] (checked by hand: no regex engine here).
fn has_url_form(raw: &str) -> bool {
    let Some(rest) = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://")) else {
        return false;
    };
    let (authority, path) = rest
        .find('/')
        .map_or((rest, None), |i| (&rest[..i], Some(&rest[i + 1..])));
    let (host, port) = authority
        .split_once(':')
        .map_or((authority, None), |(h, p)| (h, Some(p)));
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'));
    let port_ok = port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    let path_ok = path.is_none_or(|p| {
        p.bytes()
            .all(|b| matches!(b, b'!' | b'$' | b'&'..=b';' | b'=' | b'?'..=b'Z' | b'_' | b'a'..=b'z' | b'~'))
    });
    host_ok && port_ok && path_ok
}

/// An `http(s)` URL of the documented form with a host, no credentials and no fragment. An
/// address written in the URL itself is checked here; names are checked when they are resolved.
pub fn target(raw: &str) -> Result<Url, Invalid> {
    if raw.len() > MAX_URL_LEN {
        return Err(Invalid::new("too_long", format!("at most {MAX_URL_LEN} characters")));
    }
    if !has_url_form(raw) {
        return Err(Invalid::new(
            "invalid_url",
            "must be http(s)://host[:port][/path]: ASCII letters, digits and . _ ~ - in the host; no credentials, no fragment",
        ));
    }
    let url = Url::parse(raw).map_err(|e| Invalid::new("invalid_url", format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Invalid::new("invalid_url", "must start with http:// or https://"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Invalid::new(
            "invalid_url",
            "must not carry credentials: check the signature instead",
        ));
    }
    if url.fragment().is_some() {
        return Err(Invalid::new("invalid_url", "must not have a fragment"));
    }
    match url.host() {
        None => Err(Invalid::new("invalid_url", "must name a host")),
        Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost") => {
            Err(refused(IpAddr::V4(Ipv4Addr::LOCALHOST)))
        }
        Some(_) => Ok(url),
    }
}

/// The address in the URL itself, if it names one rather than a host name.
pub fn literal_address(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(_) => None,
    }
}

/// The refusal of a target that resolves to `ip`, or `None` when `ip` is public.
pub fn refused_address(ip: IpAddr) -> Option<Invalid> {
    (!is_public(ip)).then(|| refused(ip))
}

fn refused(ip: IpAddr) -> Invalid {
    Invalid::new(
        "private_address",
        format!("resolves to {ip}, an address of a private network: webhooks call public addresses only"),
    )
}

/// Whether `ip` is reachable on the public Internet (not this machine, not a private or
/// link-local network, not shared address space, not multicast or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (RFC 6598) and the benchmarking range (RFC 2544).
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (18..20).contains(&b))
        // Reserved (240/4).
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique local fc00::/7, link-local fe80::/10, documentation 2001:db8::/32.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // IPv4-compatible (deprecated) ::a.b.c.d and NAT64 well-known 64:ff9b::/96 may reach
        // private IPv4 space.
        || ip.segments()[..6] == [0; 6]
        || (first == 0x0064 && ip.segments()[1] == 0xff9b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn private_addresses_are_refused() {
        for private in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(ip(private)), "{private} is private");
            assert_eq!(refused_address(ip(private)).map(|e| e.code), Some("private_address"));
        }
        for public in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public(ip(public)), "{public} is public");
        }
    }

    #[test]
    fn urls_are_checked() {
        assert!(target("https://hooks.example.org/jobtour?x=1").is_ok());
        assert!(target("http://203.0.114.1:8080/").is_ok());
        assert!(target("https://hooks.example.org/a/b?x=1&y=%").is_err());
        assert!(target("https://hooks.example.org/a/b?x=1&y=2").is_ok());
        for (bad, code) in [
            ("ftp://example.org/", "invalid_url"),
            ("not a url", "invalid_url"),
            ("https://user:pw@example.org/", "invalid_url"),
            ("https://example.org/#frag", "invalid_url"),
            ("http://localhost:8080/", "private_address"),
            ("http://api.localhost/", "private_address"),
            ("https://00*", "invalid_url"),
            ("https://exämple.org/", "invalid_url"),
            ("https://example.org/a b", "invalid_url"),
            ("https://example.org:123456/", "invalid_url"),
        ] {
            assert_eq!(target(bad).map_err(|e| e.code), Err(code), "{bad}");
        }
        assert_eq!(
            target(&format!("https://example.org/{}", "a".repeat(MAX_URL_LEN))).map_err(|e| e.code),
            Err("too_long")
        );
        let literal = target("http://127.0.0.1:9000/").expect("a URL");
        assert_eq!(literal_address(&literal), Some(ip("127.0.0.1")));
        // Written in hexadecimal, still an address.
        let hex = target("http://0x7f000001/").expect("a URL");
        assert_eq!(literal_address(&hex), Some(ip("127.0.0.1")));
        // IPv6 literals are not in the documented form: a name is needed.
        assert_eq!(target("http://[::1]:9000/").map_err(|e| e.code), Err("invalid_url"));
    }

    #[test]
    fn events_are_named_once_at_least() {
        let events = |e: &[&str]| e.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let ok = WebhookFields::parse(
            "https://example.org/h",
            &events(&["booking.created", "position.filled", "booking.created"]),
        )
        .expect("valid");
        assert_eq!(ok.events, vec![EventType::BookingCreated, EventType::PositionFilled]);
        let Err(DomainError::Invalid(errors)) = WebhookFields::parse("ftp://x", &events(&["nope"])) else {
            panic!("refused");
        };
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(fields, vec![("url", "invalid_url"), ("events[0]", "invalid_choice")]);
        assert!(WebhookFields::parse("https://example.org", &[]).is_err());
    }
}

//! Which addresses `ohd_http_request` may connect to, once the URL's host is resolved.
//!
//! The allow-list ([`AllowedHosts`](super::http::AllowedHosts)) judges a *name*. The
//! addresses a name resolves to are chosen by whoever runs its DNS (the plugin's author,
//! or a server that answers differently the second time), and may be the help desk's own
//! network: `127.0.0.1`, a `10.x` server, the cloud metadata service at
//! `169.254.169.254`. So a host passes every address a lookup answered through
//! [`screen_addresses`] and connects only to the ones it keeps:
//!
//! - by default it keeps no *internal* address (one [`internal_class`] names a class);
//! - a host built to connect plugins to its private network keeps them all
//!   ([`InternalAddresses::Allow`]);
//! - an internal address is kept when the URL's host is that very address, written as an
//!   IP literal: `allowed_hosts` names it, so the author asked for exactly it, and no DNS
//!   answer chose it.
//!
//! ```
//! use std::net::IpAddr;
//! use otai_plugin_abi::calls::HostErrorKind;
//! use otai_plugin_abi::rules::address::{InternalAddresses, screen_addresses};
//!
//! let answers: Vec<IpAddr> = vec!["93.184.215.14".parse()?, "127.0.0.1".parse()?];
//! let kept = screen_addresses("api.example.com", &answers, InternalAddresses::Refuse)?;
//! assert_eq!(kept, ["93.184.215.14".parse::<IpAddr>()?]);
//!
//! let loopback: Vec<IpAddr> = vec!["127.0.0.1".parse()?];
//! let refusal = screen_addresses("evil.example", &loopback, InternalAddresses::Refuse)
//!     .unwrap_err();
//! assert_eq!(refusal.kind, HostErrorKind::AddressNotAllowed);
//! assert_eq!(refusal.status(), 0);
//! assert!(refusal.message.contains("host `evil.example` resolves only to internal addresses"));
//! assert!(refusal.message.contains("127.0.0.1: loopback"));
//!
//! // The author wrote the address itself, and `allowed_hosts` lists it.
//! let kept = screen_addresses("127.0.0.1", &loopback, InternalAddresses::Refuse)?;
//! assert_eq!(kept, loopback);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! IPv6 addresses that carry an IPv4 address are judged by the IPv4 address they carry,
//! since that is where the packets end up: IPv4-mapped (`::ffff:127.0.0.1`),
//! IPv4-compatible (`::127.0.0.1`, deprecated), IPv4-translated (`::ffff:0:127.0.0.1`),
//! NAT64's well-known prefix (`64:ff9b::7f00:1`), 6to4 (`2002:7f00:1::`) and Teredo (the
//! client address, stored inverted). NAT64's local-use prefix `64:ff9b:1::/48` maps to
//! addresses of the network that runs it, so it is private whatever it carries. A
//! network-specific NAT64 prefix looks like any global address and cannot be told apart
//! here: such a gateway must refuse internal destinations itself (RFC 6052, section 3.1,
//! asks it to).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::http::{RequestRefusal, normalize_allowed_host};
use crate::calls::HostErrorKind;

/// What an internal address is: the ranges [`internal_class`] refuses, by their use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressClass {
    /// `0.0.0.0/8` and `::`: "this host" (Linux connects `0.0.0.0` to the local host).
    Unspecified,
    /// `127.0.0.0/8` and `::1`.
    Loopback,
    /// RFC 1918 (`10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`), unique local
    /// `fc00::/7`, the deprecated site-local `fec0::/10`, and NAT64's local-use prefix
    /// `64:ff9b:1::/48`.
    Private,
    /// `169.254.0.0/16` (cloud metadata services answer at `169.254.169.254`) and
    /// `fe80::/10`.
    LinkLocal,
    /// `100.64.0.0/10`, the shared address space of carrier-grade NAT (RFC 6598).
    Shared,
    /// `224.0.0.0/4` and `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32` and
    /// `3fff::/20`.
    Documentation,
    /// Ranges no server is reached at: `192.0.0.0/24` (protocol assignments),
    /// `198.18.0.0/15` (benchmarking), `240.0.0.0/4` (future use); `100::/64` (discard),
    /// `2001:2::/48` (benchmarking), and IPv6 addresses outside global unicast
    /// (`2000::/3`) that no other class names.
    Reserved,
}

impl AddressClass {
    /// Every class, in declaration order.
    pub const ALL: [AddressClass; 9] = [
        AddressClass::Unspecified,
        AddressClass::Loopback,
        AddressClass::Private,
        AddressClass::LinkLocal,
        AddressClass::Shared,
        AddressClass::Multicast,
        AddressClass::Broadcast,
        AddressClass::Documentation,
        AddressClass::Reserved,
    ];

    /// The name refusals use, e.g. `link-local`.
    pub fn as_str(self) -> &'static str {
        match self {
            AddressClass::Unspecified => "unspecified",
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::LinkLocal => "link-local",
            AddressClass::Shared => "shared (carrier-grade NAT)",
            AddressClass::Multicast => "multicast",
            AddressClass::Broadcast => "broadcast",
            AddressClass::Documentation => "documentation",
            AddressClass::Reserved => "reserved",
        }
    }
}

impl std::fmt::Display for AddressClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class of an internal address, or `None` for an address plugins may connect to.
///
/// ```
/// use otai_plugin_abi::rules::address::{AddressClass, internal_class};
///
/// assert_eq!(internal_class("169.254.169.254".parse()?), Some(AddressClass::LinkLocal));
/// assert_eq!(internal_class("::ffff:10.0.0.1".parse()?), Some(AddressClass::Private));
/// assert_eq!(internal_class("64:ff9b::7f00:1".parse()?), Some(AddressClass::Loopback));
/// assert_eq!(internal_class("2606:4700::1111".parse()?), None);
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub fn internal_class(ip: IpAddr) -> Option<AddressClass> {
    match ip {
        IpAddr::V4(v4) => ipv4_class(v4),
        IpAddr::V6(v6) => ipv6_class(v6),
    }
}

fn ipv4_class(ip: Ipv4Addr) -> Option<AddressClass> {
    let [a, b, c, _] = ip.octets();
    let class = match (a, b, c) {
        (0, _, _) => AddressClass::Unspecified,
        (127, _, _) => AddressClass::Loopback,
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => AddressClass::Private,
        (100, 64..=127, _) => AddressClass::Shared,
        (169, 254, _) => AddressClass::LinkLocal,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => AddressClass::Documentation,
        (192, 0, 0) | (198, 18..=19, _) => AddressClass::Reserved,
        (224..=239, _, _) => AddressClass::Multicast,
        _ if ip == Ipv4Addr::BROADCAST => AddressClass::Broadcast,
        (240..=255, _, _) => AddressClass::Reserved,
        _ => return None,
    };
    Some(class)
}

fn ipv6_class(ip: Ipv6Addr) -> Option<AddressClass> {
    if ip.is_unspecified() {
        return Some(AddressClass::Unspecified);
    }
    if ip.is_loopback() {
        return Some(AddressClass::Loopback);
    }
    if let Some(v4) = embedded_ipv4(ip) {
        return ipv4_class(v4);
    }
    let s = ip.segments();
    let class = match s {
        [0x64, 0xff9b, 1, ..] => AddressClass::Private,
        [0x100, 0, 0, 0, ..] => AddressClass::Reserved,
        [0x2001, 0xdb8, ..] => AddressClass::Documentation,
        [0x2001, 2, 0, ..] => AddressClass::Reserved,
        [0x3fff, second, ..] if second < 0x1000 => AddressClass::Documentation,
        [first, ..] if first & 0xfe00 == 0xfc00 => AddressClass::Private,
        [first, ..] if first & 0xffc0 == 0xfe80 => AddressClass::LinkLocal,
        [first, ..] if first & 0xffc0 == 0xfec0 => AddressClass::Private,
        [first, ..] if first & 0xff00 == 0xff00 => AddressClass::Multicast,
        [first, ..] if first & 0xe000 != 0x2000 => AddressClass::Reserved,
        _ => return None,
    };
    Some(class)
}

/// The IPv4 address an IPv6 address carries, for the forms whose packets go to it (see
/// the module's documentation).
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        // IPv4-compatible (the unspecified and loopback addresses are judged as IPv6),
        // IPv4-mapped and IPv4-translated.
        [0, 0, 0, 0, 0, 0, hi, lo]
        | [0, 0, 0, 0, 0, 0xffff, hi, lo]
        | [0, 0, 0, 0, 0xffff, 0, hi, lo] => Some(low(hi, lo)),
        // NAT64's well-known prefix, 64:ff9b::/96.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        // 6to4, 2002:AABB:CCDD::/48.
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        // Teredo, 2001::/32: the client's address, each bit inverted, in the last 32 bits.
        [0x2001, 0, _, _, _, _, hi, lo] => Some(low(!hi, !lo)),
        _ => None,
    }
}

/// Whether a host connects plugins to internal addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InternalAddresses {
    /// Never, unless the URL names the address itself (the default): a help desk
    /// reached by plugins of authors it does not control.
    #[default]
    Refuse,
    /// Always: a help desk whose plugins call services on its own private network, or a
    /// developer's machine running a plugin against a local server.
    Allow,
}

/// The addresses of `resolved` a request to `host` may connect to, in their order.
///
/// `host` is the URL's host, which passed the allow-list
/// ([`check_request`](super::http::check_request)); `resolved` is what its lookup
/// answered (for an IP literal, the address itself). An empty `resolved` gives an empty
/// list: a name that resolves to nothing is the lookup's failure to report.
///
/// # Errors
/// An `address_not_allowed` refusal (status 0) when no address is left, naming `host`
/// and each address refused with its class.
pub fn screen_addresses(
    host: &str,
    resolved: &[IpAddr],
    internal: InternalAddresses,
) -> Result<Vec<IpAddr>, RequestRefusal> {
    let host = normalize_allowed_host(host);
    let literal = host.parse::<IpAddr>().ok();
    let mut kept = Vec::with_capacity(resolved.len());
    let mut refused = Vec::new();
    for &ip in resolved {
        match internal_class(ip) {
            Some(class) if internal == InternalAddresses::Refuse && literal != Some(ip) => {
                if !refused.iter().any(|&(seen, _)| seen == ip) {
                    refused.push((ip, class));
                }
            }
            _ => kept.push(ip),
        }
    }
    if kept.is_empty() && !refused.is_empty() {
        return Err(refusal(host, &refused));
    }
    Ok(kept)
}

fn refusal(host: String, refused: &[(IpAddr, AddressClass)]) -> RequestRefusal {
    let addresses = refused
        .iter()
        .map(|&(ip, class)| {
            let shown = ip.to_string();
            match ip {
                IpAddr::V6(v6) => match embedded_ipv4(v6) {
                    Some(v4) if !shown.ends_with(&v4.to_string()) => {
                        format!("{shown}: {class}, IPv4 {v4}")
                    }
                    _ => format!("{shown}: {class}"),
                },
                IpAddr::V4(_) => format!("{shown}: {class}"),
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    RequestRefusal {
        kind: HostErrorKind::AddressNotAllowed,
        message: format!(
            "host `{host}` resolves only to internal addresses ({addresses}), which plugins \
             may not connect to; nothing was sent (to reach a server on the help desk's own \
             network, write its IP address in the URL and in `allowed_hosts`)"
        ),
        host: Some(host),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(ip: &str) -> Option<AddressClass> {
        internal_class(ip.parse().unwrap())
    }

    #[test]
    fn every_refused_ipv4_range_from_its_first_to_its_last_address() {
        use AddressClass::*;
        for (first, last, expected) in [
            ("0.0.0.0", "0.255.255.255", Unspecified),
            ("127.0.0.0", "127.255.255.255", Loopback),
            ("10.0.0.0", "10.255.255.255", Private),
            ("172.16.0.0", "172.31.255.255", Private),
            ("192.168.0.0", "192.168.255.255", Private),
            ("100.64.0.0", "100.127.255.255", Shared),
            ("169.254.0.0", "169.254.255.255", LinkLocal),
            ("192.0.2.0", "192.0.2.255", Documentation),
            ("198.51.100.0", "198.51.100.255", Documentation),
            ("203.0.113.0", "203.0.113.255", Documentation),
            ("192.0.0.0", "192.0.0.255", Reserved),
            ("198.18.0.0", "198.19.255.255", Reserved),
            ("224.0.0.0", "239.255.255.255", Multicast),
            ("240.0.0.0", "255.255.255.254", Reserved),
            ("255.255.255.255", "255.255.255.255", Broadcast),
        ] {
            assert_eq!(class(first), Some(expected), "{first}");
            assert_eq!(class(last), Some(expected), "{last}");
        }
        assert_eq!(class("169.254.169.254"), Some(LinkLocal));
    }

    #[test]
    fn the_neighbours_of_each_ipv4_range_are_public() {
        for ip in [
            "1.0.0.0",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.255",
            "192.0.3.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "198.51.99.255",
            "198.51.101.0",
            "203.0.112.255",
            "203.0.114.0",
            "223.255.255.255",
            "8.8.8.8",
            "93.184.215.14",
        ] {
            assert_eq!(class(ip), None, "{ip}");
        }
    }

    #[test]
    fn every_refused_ipv6_range() {
        use AddressClass::*;
        for (ip, expected) in [
            ("::", Unspecified),
            ("::1", Loopback),
            ("fc00::", Private),
            ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Private),
            ("fec0::1", Private),
            ("64:ff9b:1::1", Private),
            ("64:ff9b:1:ffff::8.8.8.8", Private),
            ("fe80::1", LinkLocal),
            ("febf:ffff::1", LinkLocal),
            ("ff02::1", Multicast),
            ("ff0e::1", Multicast),
            ("2001:db8::1", Documentation),
            ("2001:db8:ffff::1", Documentation),
            ("3fff::1", Documentation),
            ("3fff:fff::1", Documentation),
            ("100::1", Reserved),
            ("2001:2::1", Reserved),
            ("4000::1", Reserved),
            ("1::1", Reserved),
            ("e000::1", Reserved),
            ("fbff::1", Reserved),
            ("100:0:0:1::1", Reserved),
        ] {
            assert_eq!(class(ip), Some(expected), "{ip}");
        }
        for ip in [
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "2001:db7:ffff::1",
            "2001:db9::1",
            "3ffe:ffff::1",
            "3fff:1000::1",
            "2001:3::1",
            "2001:4860:4860::8888",
        ] {
            assert_eq!(class(ip), None, "{ip}");
        }
    }

    #[test]
    fn ipv6_forms_of_an_ipv4_address_are_judged_by_it() {
        use AddressClass::*;
        for (v4, expected) in [
            ("127.0.0.1", Some(Loopback)),
            ("10.1.2.3", Some(Private)),
            ("169.254.169.254", Some(LinkLocal)),
            ("100.64.0.1", Some(Shared)),
            ("0.0.0.0", Some(Unspecified)),
            ("255.255.255.255", Some(Broadcast)),
            ("224.0.0.1", Some(Multicast)),
            ("192.0.2.1", Some(Documentation)),
            ("8.8.8.8", None),
        ] {
            let ip: Ipv4Addr = v4.parse().unwrap();
            let [a, b, c, d] = ip.octets();
            let bits = u32::from(ip);
            let (hi, lo) = (bits >> 16, bits & 0xffff);
            let forms = [
                format!("::ffff:{v4}"),
                format!("::ffff:0:{v4}"),
                format!("64:ff9b::{v4}"),
                format!("2002:{a:02x}{b:02x}:{c:02x}{d:02x}::1"),
                format!(
                    "2001:0:4136:e378:8000:63bf:{:x}:{:x}",
                    !hi & 0xffff,
                    !lo & 0xffff
                ),
            ];
            for form in forms {
                assert_eq!(class(&form), expected, "{form} carries {v4}");
            }
            // `::0.0.0.0` is `::`, judged as IPv6 (unspecified too).
            assert_eq!(class(&format!("::{v4}")), expected, "::{v4}");
        }
        // `::1` is IPv6's loopback, `::2` the IPv4-compatible form of 0.0.0.2.
        assert_eq!(class("::1"), Some(Loopback));
        assert_eq!(class("::2"), Some(Unspecified));
    }

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|ip| ip.parse().unwrap()).collect()
    }

    #[test]
    fn internal_answers_are_dropped_and_public_ones_kept_in_order() {
        let answers = ips(&["127.0.0.1", "8.8.8.8", "10.0.0.1", "2606:4700::1111", "::1"]);
        let kept = screen_addresses("a.example", &answers, InternalAddresses::Refuse).unwrap();
        assert_eq!(kept, ips(&["8.8.8.8", "2606:4700::1111"]));
        let all = screen_addresses("a.example", &answers, InternalAddresses::Allow).unwrap();
        assert_eq!(all, answers);
        assert_eq!(
            screen_addresses("a.example", &[], InternalAddresses::Refuse).unwrap(),
            Vec::<IpAddr>::new()
        );
    }

    #[test]
    fn a_refusal_names_the_host_and_every_address_with_its_class() {
        let answers = ips(&[
            "127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "127.0.0.1",
        ]);
        let refusal =
            screen_addresses("Evil.Example.", &answers, InternalAddresses::Refuse).unwrap_err();
        assert_eq!(refusal.kind, HostErrorKind::AddressNotAllowed);
        assert_eq!(refusal.status(), 0);
        assert_eq!(refusal.host.as_deref(), Some("evil.example"));
        assert!(
            refusal.message.starts_with(
                "host `evil.example` resolves only to internal addresses (127.0.0.1: loopback; \
                 ::ffff:169.254.169.254: link-local; 64:ff9b::a00:1: private, IPv4 10.0.0.1), \
                 which plugins may not connect to; nothing was sent"
            ),
            "{}",
            refusal.message
        );
        let body: crate::calls::HostErrorBody = serde_json::from_slice(&refusal.body()).unwrap();
        assert_eq!(body.ohd_error.kind, HostErrorKind::AddressNotAllowed);
        assert_eq!(body.ohd_error.host.as_deref(), Some("evil.example"));
    }

    #[test]
    fn an_ip_literal_host_keeps_its_own_address_only() {
        let loopback = ips(&["127.0.0.1"]);
        assert_eq!(
            screen_addresses("127.0.0.1", &loopback, InternalAddresses::Refuse).unwrap(),
            loopback
        );
        for host in ["::1", "[::1]", "0:0:0:0:0:0:0:1"] {
            assert_eq!(
                screen_addresses(host, &ips(&["::1"]), InternalAddresses::Refuse).unwrap(),
                ips(&["::1"]),
                "{host}"
            );
        }
        // Another internal address than the literal's is judged as any other.
        let other = screen_addresses("127.0.0.1", &ips(&["10.0.0.1"]), InternalAddresses::Refuse);
        assert_eq!(other.unwrap_err().kind, HostErrorKind::AddressNotAllowed);
        // A name that looks like an address but is not one is a name.
        let name = screen_addresses("127.0.0.1.nip.io", &loopback, InternalAddresses::Refuse);
        assert_eq!(name.unwrap_err().kind, HostErrorKind::AddressNotAllowed);
    }

    #[test]
    fn class_names_are_distinct() {
        let names: std::collections::BTreeSet<_> =
            AddressClass::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), AddressClass::ALL.len());
    }
}

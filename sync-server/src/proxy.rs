//! The client's address behind a reverse proxy. The docs recommend a TLS proxy in front of the
//! server; then every request comes from the proxy's address, and the login limits per address
//! would lump all clients together. `X-Forwarded-For` names the client, but anyone can send it:
//! it is believed only when the request comes from a configured trusted proxy
//! (`trusted_proxies`), and then only the entries appended by trusted proxies count: the
//! address is the last one that is not itself a trusted proxy. Address ranges are parsed and
//! matched by the `ipnet` crate (widely used, e.g. by reqwest and hickory).

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::error::{Error, Result};

/// The proxies whose `X-Forwarded-For` the server believes.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

impl TrustedProxies {
    /// Parses addresses (`10.0.0.1`) and ranges (`10.0.0.0/8`).
    pub fn parse(items: &[String]) -> Result<Self> {
        let nets = items
            .iter()
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        Error::Config(format!(
                            "trusted_proxies: {item:?} is neither an address nor a CIDR range"
                        ))
                    })
            })
            .collect::<Result<_>>()?;
        Ok(Self { nets })
    }

    fn trusts(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.nets.iter().any(|n| n.contains(&addr))
    }

    /// The client of a request that arrived from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        // Entries are appended left to right, each proxy adding the address it saw: walk from
        // the right while the hops are trusted proxies.
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            let Ok(addr) = hop.parse::<IpAddr>() else {
                break;
            };
            client = addr;
            if !self.trusts(addr) {
                break;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_for_is_believed_from_trusted_proxies_only() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let none = TrustedProxies::default();
        let h = headers(&["1.2.3.4"]);
        assert_eq!(none.client(ip("127.0.0.1"), &h), ip("127.0.0.1"));
        let local = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        assert_eq!(local.client(ip("127.0.0.1"), &h), ip("1.2.3.4"));
        assert_eq!(local.client(ip("192.0.2.7"), &h), ip("192.0.2.7"));
        // A client's own forged entry sits left of what the trusted proxies appended.
        let h = headers(&["6.6.6.6, 1.2.3.4", "10.1.1.1"]);
        assert_eq!(local.client(ip("127.0.0.1"), &h), ip("1.2.3.4"));
        assert_eq!(
            local.client(ip("127.0.0.1"), &headers(&[])),
            ip("127.0.0.1")
        );
        assert_eq!(
            local.client(ip("127.0.0.1"), &headers(&["garbage"])),
            ip("127.0.0.1")
        );
        assert!(TrustedProxies::parse(&["nope".into()]).is_err());
    }
}

//! Backend address specs: a comma-separated list of addresses, each `host:port` or
//! `http://host:port`. An IP address is one instance; a DNS name (for example a Kubernetes
//! headless service) stands for every address it resolves to, and is resolved again
//! periodically.

use std::collections::BTreeSet;
use std::net::IpAddr;

/// One entry of an address spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// `http` or `https`.
    pub scheme: String,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
}

impl Entry {
    /// Whether the host is an IP address (no resolution needed).
    pub(crate) fn is_ip(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok()
    }

    /// The address of one instance with this entry's scheme and port.
    pub(crate) fn address_of(&self, ip: IpAddr) -> String {
        match ip {
            IpAddr::V4(v4) => format!("{}://{v4}:{}", self.scheme, self.port),
            IpAddr::V6(v6) => format!("{}://[{v6}]:{}", self.scheme, self.port),
        }
    }

    /// The address as written, with a scheme.
    pub(crate) fn address(&self) -> String {
        match self.host.parse::<IpAddr>() {
            Ok(ip) => self.address_of(ip),
            Err(_) => format!("{}://{}:{}", self.scheme, self.host, self.port),
        }
    }

    /// Every instance address this entry stands for now. An IP entry is itself; a name is
    /// looked up (an error keeps the caller's current set).
    pub(crate) async fn resolve(&self) -> std::io::Result<BTreeSet<String>> {
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return Ok(BTreeSet::from([self.address_of(ip)]));
        }
        let found = tokio::net::lookup_host((self.host.as_str(), self.port)).await?;
        Ok(found.map(|sa| self.address_of(sa.ip())).collect())
    }
}

/// Parses a spec: one or more comma-separated addresses.
pub(crate) fn parse_spec(spec: &str) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    for part in spec.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return Err("an address in the list is empty".into());
        }
        let with_scheme = if part.contains("://") {
            part.to_owned()
        } else {
            format!("http://{part}")
        };
        let uri: http::Uri = with_scheme
            .parse()
            .map_err(|e| format!("'{part}' is not an address: {e}"))?;
        let scheme = uri.scheme_str().unwrap_or("http").to_owned();
        if scheme != "http" && scheme != "https" {
            return Err(format!("'{part}': scheme must be http or https"));
        }
        if uri.path() != "/" && !uri.path().is_empty() {
            return Err(format!("'{part}': an address has no path"));
        }
        let host = uri
            .host()
            .ok_or_else(|| format!("'{part}' has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri
            .port_u16()
            .ok_or_else(|| format!("'{part}' has no port"))?;
        entries.push(Entry { scheme, host, port });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lists_ips_and_names() {
        let entries =
            parse_spec("http://127.0.0.1:50053, 127.0.0.2:50053,[::1]:7,localhost:9").unwrap();
        assert_eq!(entries.len(), 4);
        assert!(entries[0].is_ip() && entries[1].is_ip() && entries[2].is_ip());
        assert_eq!(entries[1].address(), "http://127.0.0.2:50053");
        assert_eq!(entries[2].address(), "http://[::1]:7");
        assert!(!entries[3].is_ip());
        let local = entries[3].resolve().await.unwrap();
        assert!(!local.is_empty());
        assert!(local.iter().all(|a| a.ends_with(":9")), "{local:?}");
    }

    #[test]
    fn refuses_bad_specs() {
        for (spec, why) in [
            ("", "empty"),
            ("a:1,,b:2", "empty"),
            ("ftp://a:1", "scheme"),
            ("a", "port"),
            ("http://a:1/x", "path"),
            ("not a uri:1", "not an address"),
        ] {
            let err = parse_spec(spec).unwrap_err();
            assert!(err.contains(why), "{spec}: {err}");
        }
    }
}

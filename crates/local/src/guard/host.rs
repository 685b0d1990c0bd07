//! The `Host` header check against DNS rebinding: a page on `http://attacker.example:4577`
//! whose name was re-pointed at 127.0.0.1 reaches the stack with `Host: attacker.example:4577`.
//! Only names the user chose and IP literals of this machine are accepted.

use std::net::{IpAddr, SocketAddr};

/// The lower-cased name of `name[:port]` or `[v6][:port]` (brackets removed), if the value is
/// well-formed.
fn name_of(host: &str) -> Option<String> {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if after.is_empty() {
            (inside, None)
        } else {
            (inside, Some(after.strip_prefix(':')?))
        }
    } else {
        match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        port.parse::<u16>().ok()?;
    }
    if name.is_empty() {
        return None;
    }
    Some(name.to_ascii_lowercase())
}

/// Whether `host` (a `Host` header value) names this stack: `localhost`, a loopback address,
/// the listen address (any IP literal when listening on all addresses: a rebinding attack
/// always uses a DNS name), or one of `allow_hosts` (lower-case names).
pub fn host_allowed(host: &str, listen: SocketAddr, allow_hosts: &[String]) -> bool {
    let Some(name) = name_of(host) else {
        return false;
    };
    if name == "localhost" || allow_hosts.contains(&name) {
        return true;
    }
    match name.parse::<IpAddr>() {
        Ok(ip) => {
            let ip = ip.to_canonical();
            ip.is_loopback() || ip == listen.ip().to_canonical() || listen.ip().is_unspecified()
        }
        Err(_) => false,
    }
}

/// Checks an `--allow-host` value: a DNS name (letters, digits, `-`, `.`) or an IP address,
/// without a port. Returns it lower-cased.
///
/// # Errors
/// A message naming the value and what is wrong.
pub fn parse_allow_host(value: &str) -> Result<String, String> {
    let name = value.trim().to_ascii_lowercase();
    let name = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(&name)
        .to_owned();
    let is_ip = name.parse::<IpAddr>().is_ok();
    let is_dns = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if is_ip || is_dns {
        Ok(name)
    } else {
        Err(format!(
            "--allow-host {value:?} is not a host name or IP address (give it without scheme or port)"
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(addr: &str) -> SocketAddr {
        addr.parse().unwrap()
    }

    #[test]
    fn loopback_names_and_the_listen_address_pass() {
        let listen = at("127.0.0.1:4577");
        for ok in [
            "localhost",
            "LOCALHOST:4577",
            "127.0.0.1:4577",
            "127.0.0.2",
            "[::1]:4577",
            "[::ffff:127.0.0.1]:1",
        ] {
            assert!(host_allowed(ok, listen, &[]), "{ok}");
        }
        assert!(host_allowed("10.1.2.3:4577", at("10.1.2.3:4577"), &[]));
        assert!(host_allowed("10.9.9.9:4577", at("0.0.0.0:4577"), &[]));
        assert!(host_allowed("box.lan:4577", listen, &["box.lan".into()]));
    }

    #[test]
    fn foreign_and_rebinding_names_and_garbage_fail() {
        let listen = at("127.0.0.1:4577");
        for bad in [
            "attacker.example:4577",
            "127.0.0.1.nip.io:4577",
            "localhost.attacker.example",
            "10.1.2.3:4577",
            "localhost:99999",
            "localhost:",
            "[::1",
            "[::1]x",
            "",
            ":4577",
        ] {
            assert!(!host_allowed(bad, listen, &[]), "{bad}");
        }
        assert!(!host_allowed("box.lan:4577", at("0.0.0.0:4577"), &[]));
    }

    #[test]
    fn allow_host_values_are_checked() {
        assert_eq!(parse_allow_host("Box.LAN").unwrap(), "box.lan");
        assert_eq!(parse_allow_host("[::1]").unwrap(), "::1");
        for bad in ["http://box", "box:80", "", "a..b", "bad name"] {
            assert!(parse_allow_host(bad).is_err(), "{bad}");
        }
    }
}

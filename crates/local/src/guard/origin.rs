//! The browser check against cross-site request forgery: a web page can POST to 127.0.0.1 without
//! a CORS preflight (`text/plain`, forms), and its browser then says where the request came from
//! in `Origin` (and, in current browsers, `Sec-Fetch-Site`). AWS SDKs and the CLI send neither.

use std::net::SocketAddr;

/// The origins of the stack's own pages for a listener bound to `addr`: `http://localhost:PORT`,
/// `http://127.0.0.1:PORT`, `http://[::1]:PORT` and `http://ADDR` (unless it is the unspecified
/// address). The web console served by the stack reuses this set.
pub fn stack_origins(addr: SocketAddr) -> Vec<String> {
    let port = addr.port();
    let mut origins = vec![
        format!("http://localhost:{port}"),
        format!("http://127.0.0.1:{port}"),
        format!("http://[::1]:{port}"),
    ];
    if !addr.ip().is_unspecified() {
        let own = format!("http://{addr}");
        if !origins.contains(&own) {
            origins.push(own);
        }
    }
    origins
}

/// Every origin whose requests pass: [`stack_origins`] plus the `--allow-origin` values.
pub fn allowed_origins(addr: SocketAddr, extra: &[String]) -> Vec<String> {
    let mut origins = stack_origins(addr);
    for o in extra {
        if !origins.contains(o) {
            origins.push(o.clone());
        }
    }
    origins
}

/// What the browser said about where a request comes from.
#[derive(Debug, Clone, Copy)]
pub struct BrowserHeaders<'a> {
    /// `Origin`, if sent.
    pub origin: Option<&'a str>,
    /// `Sec-Fetch-Site`, if sent.
    pub fetch_site: Option<&'a str>,
    /// `Host` (already checked), if sent.
    pub host: Option<&'a str>,
}

/// `Ok` if the request may go on; otherwise why not (for the error message).
///
/// - An `Origin` passes when it is in `allowed` or equals `http://{Host}` (a page served by
///   the stack under a host name that passed the host check). `Origin: null` never passes.
/// - Without an `Origin`, `Sec-Fetch-Site: cross-site` or `same-site` (a page of another site
///   or another local port, e.g. an image or a navigation) is refused; `same-origin`, `none`
///   (typed by the user) and its absence (not a browser) pass.
///
/// # Errors
/// The reason, naming the header and its value.
pub fn check(request: BrowserHeaders<'_>, allowed: &[String]) -> Result<(), String> {
    if let Some(origin) = request.origin {
        let origin = origin.trim().to_ascii_lowercase();
        let same_origin = request
            .host
            .is_some_and(|h| origin == format!("http://{}", h.trim().to_ascii_lowercase()));
        if same_origin || allowed.contains(&origin) {
            return Ok(());
        }
        return Err(format!(
            "Cross-origin request refused: Origin {origin:?} is not one of the stack's own \
             origins or --allow-origin values"
        ));
    }
    match request.fetch_site.map(|s| s.trim().to_ascii_lowercase()) {
        Some(site) if site == "cross-site" || site == "same-site" => Err(format!(
            "Cross-origin request refused: Sec-Fetch-Site is {site:?} (requests from other \
             web pages are not accepted)"
        )),
        _ => Ok(()),
    }
}

/// Checks an `--allow-origin` value: `http://` or `https://`, a host, an optional port, nothing
/// else (browsers send exactly that). Returns it lower-cased.
///
/// # Errors
/// A message naming the value and the expected form.
pub fn parse_allow_origin(value: &str) -> Result<String, String> {
    let origin = value.trim().to_ascii_lowercase();
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    let ok = rest.is_some_and(|r| {
        !r.is_empty()
            && !r.contains(['/', '?', '#', '@', ' '])
            && (super::host::host_allowed(r, SocketAddr::from(([0, 0, 0, 0], 0)), &[])
                || well_formed_name(r))
    });
    if ok {
        Ok(origin)
    } else {
        Err(format!(
            "--allow-origin {value:?} must be scheme://host[:port], e.g. http://localhost:3000"
        ))
    }
}

/// `name[:port]` with a DNS name.
fn well_formed_name(host: &str) -> bool {
    let (name, port) = match host.split_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    port.is_none_or(|p| p.parse::<u16>().is_ok()) && super::host::parse_allow_host(name).is_ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn request<'a>(
        origin: Option<&'a str>,
        fetch_site: Option<&'a str>,
        host: Option<&'a str>,
    ) -> BrowserHeaders<'a> {
        BrowserHeaders {
            origin,
            fetch_site,
            host,
        }
    }

    #[test]
    fn the_stack_s_own_origins_follow_its_port() {
        let addr: SocketAddr = "127.0.0.1:4577".parse().unwrap();
        assert_eq!(
            stack_origins(addr),
            [
                "http://localhost:4577",
                "http://127.0.0.1:4577",
                "http://[::1]:4577"
            ]
        );
        let lan: SocketAddr = "10.0.0.5:80".parse().unwrap();
        assert!(stack_origins(lan).contains(&"http://10.0.0.5:80".to_owned()));
        let any: SocketAddr = "0.0.0.0:80".parse().unwrap();
        assert_eq!(stack_origins(any).len(), 3);
    }

    #[test]
    fn foreign_origins_and_cross_site_fetches_are_refused() {
        let allowed = allowed_origins("127.0.0.1:4577".parse().unwrap(), &[]);
        let host = Some("127.0.0.1:4577");
        for origin in ["http://evil.example", "null", "http://localhost:4578"] {
            let e = check(request(Some(origin), None, host), &allowed).unwrap_err();
            assert!(e.contains("Origin"), "{e}");
        }
        for site in ["cross-site", "same-site", "Cross-Site"] {
            assert!(check(request(None, Some(site), host), &allowed).is_err());
        }
    }

    #[test]
    fn own_pages_tools_and_allowed_origins_pass() {
        let extra = vec!["http://localhost:3000".to_owned()];
        let allowed = allowed_origins("127.0.0.1:4577".parse().unwrap(), &extra);
        let host = Some("127.0.0.1:4577");
        for origin in [
            "http://127.0.0.1:4577",
            "http://localhost:4577",
            "http://localhost:3000",
        ] {
            assert!(check(request(Some(origin), Some("cross-site"), host), &allowed).is_ok());
        }
        assert!(check(request(None, None, host), &allowed).is_ok());
        assert!(check(request(None, Some("same-origin"), host), &allowed).is_ok());
        assert!(check(request(None, Some("none"), host), &allowed).is_ok());
        // A page served under another accepted host name is same-origin.
        assert!(check(
            request(Some("http://10.0.0.5:4577"), None, Some("10.0.0.5:4577")),
            &allowed
        )
        .is_ok());
    }

    #[test]
    fn allow_origin_values_are_checked() {
        assert_eq!(
            parse_allow_origin("HTTP://LocalHost:3000").unwrap(),
            "http://localhost:3000"
        );
        assert!(parse_allow_origin("https://console.example").is_ok());
        assert!(parse_allow_origin("http://[::1]:3000").is_ok());
        for bad in [
            "localhost:3000",
            "http://x/",
            "null",
            "*",
            "ftp://x",
            "http://x:99999",
        ] {
            assert!(parse_allow_origin(bad).is_err(), "{bad}");
        }
    }
}

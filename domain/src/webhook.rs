//! The events partners can subscribe to, and the rules of delivering them:
//! which endpoint URLs are acceptable, a subscription's event filter, the
//! retry schedule and when a failing endpoint is disabled. Each event is
//! written to the outbox in the same transaction as the change it reports;
//! resolving, signing and sending belong to the api crate.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{Duration, NaiveDateTime, SecondsFormat};

use crate::account::text_enum;
use crate::text;
use crate::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    PartnershipActivated,
    AgreementActivated,
    AgreementSuperseded,
    SettlementCreated,
    WorkshopCreated,
    EventCreated,
    ProgramApplicationCreated,
}

text_enum!(EventType {
    PartnershipActivated => "partnership.activated",
    AgreementActivated => "agreement.activated",
    AgreementSuperseded => "agreement.superseded",
    SettlementCreated => "settlement.created",
    WorkshopCreated => "workshop.created",
    EventCreated => "event.created",
    ProgramApplicationCreated => "program.application.created",
});

impl EventType {
    /// Every event type, in the order of the documentation.
    pub const ALL: [EventType; 7] = [
        EventType::PartnershipActivated,
        EventType::AgreementActivated,
        EventType::AgreementSuperseded,
        EventType::SettlementCreated,
        EventType::WorkshopCreated,
        EventType::EventCreated,
        EventType::ProgramApplicationCreated,
    ];
}

/// Which organizations an event may reach: what each may see, never the
/// whole platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Public listings (workshops, market events): every subscriber.
    Everyone,
    /// Organizations the event's partnership (`partnership_id` in the
    /// payload) is shared with, while it is.
    SharedPartnership,
    /// The organization the event concerns (`organization_id` in the
    /// payload): its own programs' applications.
    Organization,
}

impl EventType {
    pub fn audience(self) -> Audience {
        match self {
            EventType::WorkshopCreated | EventType::EventCreated => Audience::Everyone,
            EventType::PartnershipActivated
            | EventType::AgreementActivated
            | EventType::AgreementSuperseded
            | EventType::SettlementCreated => Audience::SharedPartnership,
            EventType::ProgramApplicationCreated => Audience::Organization,
        }
    }
}

/// The request field an endpoint URL comes in.
const URL_FIELD: &str = "url";
/// The request field a subscription's event filter comes in.
const EVENTS_FIELD: &str = "events";
/// Maximum length of an endpoint URL, in characters.
const URL_MAX: usize = 2048;

/// IPv4 networks (address, prefix length) no webhook is sent to, after
/// the IANA special-purpose address registry.
const IPV4_REFUSED: [([u8; 4], u32); 14] = [
    ([0, 0, 0, 0], 8),       // "this" network
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // shared address space (carrier-grade NAT)
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local, incl. cloud metadata 169.254.169.254
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, incl. broadcast 255.255.255.255
];

/// IPv6 networks (address, prefix length) inside global unicast
/// `2000::/3` that are nevertheless not public.
const IPV6_REFUSED: [(u128, u32); 3] = [
    (0x2001 << 112, 23), // IETF protocol assignments: Teredo, benchmarking, ORCHID
    (0x2001_0db8 << 96, 32), // documentation
    (0x3fff << 112, 20), // documentation (RFC 9637)
];

/// Whether a webhook may be sent to `ip`: only to publicly routable
/// unicast addresses, so that an endpoint cannot make the server reach
/// into its own network (SSRF).
///
/// Refused IPv4: `0.0.0.0/8`, `10/8`, `100.64/10`, `127/8`, `169.254/16`
/// (cloud metadata), `172.16/12`, `192.0.0/24`, `192.0.2/24`,
/// `192.168/16`, `198.18/15`, `198.51.100/24`, `203.0.113/24`, multicast
/// `224/4` and reserved `240/4` (with `255.255.255.255`).
///
/// IPv6 is allowed only inside global unicast `2000::/3`, which leaves out
/// `::`, `::1`, `100::/64`, `fc00::/7`, `fe80::/10`, `fec0::/10`,
/// `ff00::/8` and every unassigned block; within it `2001::/23` (Teredo
/// and other protocol assignments), `2001:db8::/32` and `3fff::/20` are
/// refused too. Addresses that carry an IPv4 address — IPv4-mapped
/// `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96` and
/// 6to4 `2002::/16` — are judged by that IPv4 address.
pub fn address_allowed(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ipv4_allowed(ip),
        IpAddr::V6(ip) => ipv6_allowed(ip),
    }
}

fn ipv4_allowed(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    !IPV4_REFUSED.iter().any(|&(network, prefix)| {
        let mask = u32::MAX << (32 - prefix);
        bits & mask == u32::from(Ipv4Addr::from(network))
    })
}

fn ipv6_allowed(ip: Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    let within = |network: u128, prefix: u32| bits >> (128 - prefix) == network >> (128 - prefix);
    let ipv4 = |shift: u32| Ipv4Addr::from((bits >> shift & 0xffff_ffff) as u32);
    if ip.is_unspecified() || ip.is_loopback() {
        false
    } else if within(0, 96) || within(0xffff << 32, 96) || within(0x64_ff9b << 96, 96) {
        ipv4_allowed(ipv4(0))
    } else if within(0x2002 << 112, 16) {
        ipv4_allowed(ipv4(80))
    } else {
        within(0x2000 << 112, 3)
            && !IPV6_REFUSED
                .iter()
                .any(|&(network, prefix)| within(network, prefix))
    }
}

/// A webhook endpoint's URL, checked: [`EndpointUrl::parse`] is the only
/// way to build one.
///
/// This is the syntactic half of the SSRF rule: a host written as an IP
/// address is judged by [`address_allowed`] here, but a host name can
/// resolve to anything, so the api crate resolves it before every
/// delivery, checks each resolved address with [`address_allowed`] again
/// and connects only to an address it checked (never resolving twice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl {
    raw: String,
    https: bool,
    host: String,
    port: u16,
    path_and_query: String,
}

impl EndpointUrl {
    /// Parses an absolute `https` URL of a public host (422 on `url`
    /// otherwise): at most 2048 ASCII characters without whitespace, no
    /// user name or password, an optional port 1–65535, IPv6 literals in
    /// brackets, no fragment. Host names must be domain names with a dot,
    /// and neither `localhost`, `*.localhost`, `*.local`, `*.internal` nor
    /// `*.home.arpa`; an IP address must pass [`address_allowed`].
    ///
    /// With `allow_private_networks` (development and tests) `http` is
    /// accepted too and any host or address goes.
    pub fn parse(raw: &str, allow_private_networks: bool) -> Result<Self, FieldError> {
        let invalid = || {
            refused(
                "invalid_url",
                "must be an absolute URL such as https://hooks.example.org/artisan",
            )
        };
        if raw.chars().count() > URL_MAX {
            return Err(refused(
                "too_long",
                format!("must have at most {URL_MAX} characters"),
            ));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(refused(
                "invalid_characters",
                "must not contain spaces or control characters",
            ));
        }
        if !raw.is_ascii() {
            return Err(refused(
                "invalid_characters",
                "must be ASCII: percent-encode other characters and write international host names in punycode (xn--)",
            ));
        }
        if raw.contains('#') {
            return Err(refused("fragment", "must not have a fragment (#...)"));
        }
        let (scheme, rest) = raw.split_once("://").ok_or_else(invalid)?;
        let https = scheme.eq_ignore_ascii_case("https");
        let http = allow_private_networks && scheme.eq_ignore_ascii_case("http");
        if !(https || http) {
            let allowed = if allow_private_networks {
                "http or https"
            } else {
                "https"
            };
            return Err(refused("scheme", format!("must use {allowed}")));
        }
        let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
        if authority.contains('@') {
            return Err(refused(
                "credentials",
                "must not contain a user name or password (user:password@)",
            ));
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(bracketed) => {
                let (literal, after) = bracketed.split_once(']').ok_or_else(invalid)?;
                let port = match after {
                    "" => None,
                    _ => Some(after.strip_prefix(':').ok_or_else(invalid)?),
                };
                let ip: Ipv6Addr = literal.parse().map_err(|_| {
                    refused(
                        "invalid_host",
                        "the host in brackets must be an IPv6 address",
                    )
                })?;
                check_address(IpAddr::V6(ip), allow_private_networks)?;
                (literal.to_ascii_lowercase(), port)
            }
            None => {
                let (host, port) = match authority.split_once(':') {
                    Some((host, port)) => (host, Some(port)),
                    None => (authority, None),
                };
                let host = host.to_ascii_lowercase();
                check_host(&host, allow_private_networks)?;
                (host, port)
            }
        };
        let port = match port {
            None if https => 443,
            None => 80,
            Some(port) => parse_port(port)?,
        };
        let path_and_query = match tail {
            "" => "/".to_owned(),
            _ if tail.starts_with('?') => format!("/{tail}"),
            _ => tail.to_owned(),
        };
        if !percent_encoded(&path_and_query) {
            return Err(refused(
                "invalid_characters",
                "the path and query must be percent-encoded",
            ));
        }
        Ok(Self {
            raw: raw.to_owned(),
            https,
            host,
            port,
            path_and_query,
        })
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The host in lower case, an IPv6 address without its brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port given, or 443 for `https` and 80 for `http`.
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The path and query to request, starting with `/`.
    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }
}

fn refused(code: &'static str, message: impl Into<String>) -> FieldError {
    FieldError::new(URL_FIELD, code, message)
}

fn check_address(ip: IpAddr, allow_private_networks: bool) -> Result<(), FieldError> {
    if allow_private_networks || address_allowed(ip) {
        Ok(())
    } else {
        Err(refused(
            "private_network",
            "must point to a public address, not a private, loopback, link-local or reserved one",
        ))
    }
}

/// A host without brackets: an IPv4 address, or a domain name of letters,
/// digits and hyphens. A name whose last label is a number is taken for an
/// IPv4 address and must be one in dotted-decimal form (`127.1` or
/// `0x7f000001` are refused, not guessed at).
fn check_host(host: &str, allow_private_networks: bool) -> Result<(), FieldError> {
    let invalid = || {
        refused(
            "invalid_host",
            "the host must be a domain name such as hooks.example.org or an IP address",
        )
    };
    let last = host.rsplit('.').next().unwrap_or_default();
    let numeric =
        last.starts_with("0x") || (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()));
    if numeric {
        let ip: Ipv4Addr = host.parse().map_err(|_| invalid())?;
        return check_address(IpAddr::V4(ip), allow_private_networks);
    }
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
        return Err(invalid());
    }
    let private = !host.contains('.')
        || [".localhost", ".local", ".internal", ".home.arpa"]
            .iter()
            .any(|suffix| host.ends_with(suffix))
        || host == "home.arpa";
    if private && !allow_private_networks {
        return Err(refused(
            "private_network",
            "must name a public host: not localhost, a name without a dot, .local, .internal or .home.arpa",
        ));
    }
    Ok(())
}

fn parse_port(port: &str) -> Result<u16, FieldError> {
    port.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| port.parse::<u16>().ok())
        .flatten()
        .filter(|&port| port != 0)
        .ok_or_else(|| refused("invalid_port", "the port must be a number from 1 to 65535"))
}

/// Whether `path` holds only characters a URL may carry unencoded, with
/// every `%` starting an escape of two hexadecimal digits.
fn percent_encoded(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| match b {
        b'%' => bytes
            .get(i + 1..i + 3)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
        _ => b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?[]".contains(&b),
    })
}

/// A subscription's event filter (422 on `events` or `events[i]`): one or
/// more event types, each named once, kept in the given order; an unknown
/// name is refused with the list of those there are.
pub fn parse_event_filter(values: &[String]) -> Result<Vec<EventType>, FieldError> {
    if values.is_empty() {
        return Err(FieldError::new(
            EVENTS_FIELD,
            "too_short",
            "must name at least one event type",
        ));
    }
    text::unique_list(
        EVENTS_FIELD,
        values,
        EventType::ALL.len(),
        |field, value| {
            EventType::parse(value).ok_or_else(|| {
                let known: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
                FieldError::new(
                    field,
                    "unknown_event",
                    format!("must be one of: {}", known.join(", ")),
                )
            })
        },
    )
}

/// How many times a delivery is attempted before it is given up.
pub const MAX_ATTEMPTS: u32 = 8;

/// The wait after attempt `n` (at index `n - 1`), in seconds: the Standard
/// Webhooks schedule, about 27.6 hours in all.
const BACKOFF_SECONDS: [i64; MAX_ATTEMPTS as usize - 1] =
    [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];

/// The largest share by which jitter lengthens a wait.
const JITTER: f64 = 0.2;

/// The wait before the next attempt of a delivery once `attempts` were
/// made: none before the first, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h
/// and 10 h, and `None` after [`MAX_ATTEMPTS`] (the delivery is given up).
///
/// `jitter` is a random number in [0, 1) from the caller (clamped into
/// it); it lengthens the wait by up to 20 % so that deliveries failing
/// together do not retry together. Jitter only lengthens: shortening by
/// 20 % as well would let the retries end after 22 hours, and a receiver
/// that is down for a day must still get its events.
pub fn retry_delay(attempts: u32, jitter: f64) -> Option<Duration> {
    let Some(index) = attempts.checked_sub(1) else {
        return Some(Duration::zero());
    };
    let base = *BACKOFF_SECONDS.get(index as usize)?;
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(0.0, 1.0)
    };
    let millis = (base as f64 * 1000.0 * (1.0 + JITTER * jitter)).round() as i64;
    Some(Duration::milliseconds(millis))
}

/// Days without a successful delivery after which an endpoint is disabled.
const DISABLE_AFTER_DAYS: i64 = 5;

/// Whether a failing endpoint is disabled: it has had no successful
/// delivery since `failing_since` (its first failed attempt since the last
/// success), that was at least 5 days before `now`, and at least one
/// delivery since then used up all its attempts.
///
/// The second condition keeps an endpoint whose deliveries were merely
/// not attempted (workers stopped) from being disabled on its first
/// failure afterwards. A count of exhausted deliveries alone is no rule:
/// deliveries overlap, so a busy endpoint would exhaust several in a row
/// after one day's outage.
pub fn should_disable(
    failing_since: NaiveDateTime,
    now: NaiveDateTime,
    exhausted_deliveries_since: u32,
) -> bool {
    exhausted_deliveries_since > 0 && now - failing_since >= Duration::days(DISABLE_AFTER_DAYS)
}

/// Why an endpoint was disabled, for its owner: e.g. `failing since
/// 2026-12-01T10:00:00Z (5 days) with no successful delivery`.
pub fn disable_reason(failing_since: NaiveDateTime, now: NaiveDateTime) -> String {
    let days = (now - failing_since).num_days();
    format!(
        "failing since {} ({days} day{}) with no successful delivery",
        failing_since
            .and_utc()
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        if days == 1 { "" } else { "s" },
    )
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    Succeeded,
    /// Every attempt failed; it is not tried again unless redelivered.
    Failed,
    /// The share that let the organization see the event was revoked
    /// before it went out.
    Cancelled,
}

text_enum!(DeliveryStatus {
    Pending => "pending",
    Succeeded => "succeeded",
    Failed => "failed",
    Cancelled => "cancelled",
});

/// Whether an endpoint receives deliveries, since when it has been failing
/// (its first failed attempt since the last success) and why it was
/// disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointHealth {
    pub enabled: bool,
    pub failing_since: Option<NaiveDateTime>,
    pub disabled_reason: Option<String>,
}

/// Why a webhook operation is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookRefusal {
    /// The endpoint is disabled, so nothing would be sent to it (→ 409).
    Disabled,
}

impl EndpointHealth {
    /// A message can be queued to be sent at once (a test, a redelivery)
    /// only while the endpoint is enabled: a disabled one sends nothing,
    /// and the caller would wait for a delivery that never comes.
    pub fn ready_to_send(&self) -> Result<(), WebhookRefusal> {
        if self.enabled {
            Ok(())
        } else {
            Err(WebhookRefusal::Disabled)
        }
    }

    /// Its owner enables or disables it. Enabling a disabled endpoint
    /// clears why it was disabled and its failure streak, so it gets a
    /// fresh five days.
    pub fn set_enabled(self, enabled: bool) -> Self {
        if enabled && !self.enabled {
            Self {
                enabled,
                failing_since: None,
                disabled_reason: None,
            }
        } else {
            Self { enabled, ..self }
        }
    }
}

/// A delivery and its endpoint after one more attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterAttempt {
    pub attempts: u32,
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub endpoint: EndpointHealth,
}

/// Whether an attempt delivered the message: the receiver answered, with a
/// 2xx (redirects are not followed, so a 3xx is a failure like any other
/// status), and nothing went wrong on the way.
pub fn delivered(status_code: Option<u16>, error: Option<&str>) -> bool {
    error.is_none() && status_code.is_some_and(|s| (200..300).contains(&s))
}

/// What one attempt at `at` does, after `attempts_before` earlier ones: a
/// success ends the delivery and the endpoint's failure streak; a failure
/// schedules the next attempt ([`retry_delay`] with the caller's
/// `jitter`) or, after [`MAX_ATTEMPTS`], fails the delivery, and a
/// delivery failing for good disables an endpoint that has been failing
/// for five days ([`should_disable`]), saying why.
pub fn after_attempt(
    attempts_before: u32,
    succeeded: bool,
    at: NaiveDateTime,
    jitter: f64,
    endpoint: EndpointHealth,
) -> AfterAttempt {
    let attempts = attempts_before.saturating_add(1);
    if succeeded {
        return AfterAttempt {
            attempts,
            status: DeliveryStatus::Succeeded,
            next_attempt_at: None,
            endpoint: EndpointHealth {
                failing_since: None,
                ..endpoint
            },
        };
    }
    let failing_since = endpoint.failing_since.unwrap_or(at);
    let next_attempt_at = retry_delay(attempts, jitter).map(|wait| at + wait);
    let status = if next_attempt_at.is_some() {
        DeliveryStatus::Pending
    } else {
        DeliveryStatus::Failed
    };
    let disable = status == DeliveryStatus::Failed && should_disable(failing_since, at, 1);
    AfterAttempt {
        attempts,
        status,
        next_attempt_at,
        endpoint: EndpointHealth {
            enabled: endpoint.enabled && !disable,
            failing_since: Some(failing_since),
            disabled_reason: if disable {
                Some(disable_reason(failing_since, at))
            } else {
                endpoint.disabled_reason
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, day)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .expect("valid")
    }

    fn url(raw: &str) -> EndpointUrl {
        EndpointUrl::parse(raw, false).unwrap_or_else(|e| panic!("{raw}: {}", e.message))
    }

    fn refusal(raw: &str, allow_private_networks: bool) -> &'static str {
        match EndpointUrl::parse(raw, allow_private_networks) {
            Ok(_) => panic!("{raw} accepted"),
            Err(e) => {
                assert_eq!(e.field, "url");
                e.code
            }
        }
    }

    #[test]
    fn every_event_type_is_listed_once_and_round_trips() {
        // The match fails to compile when a variant is added: add it to ALL.
        let position = |e: EventType| match e {
            EventType::PartnershipActivated => 0,
            EventType::AgreementActivated => 1,
            EventType::AgreementSuperseded => 2,
            EventType::SettlementCreated => 3,
            EventType::WorkshopCreated => 4,
            EventType::EventCreated => 5,
            EventType::ProgramApplicationCreated => 6,
        };
        for (i, event) in EventType::ALL.into_iter().enumerate() {
            assert_eq!(position(event), i);
            assert_eq!(EventType::parse(event.as_str()), Some(event));
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "::8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(address_allowed(ip(public)), "{public}");
        }
    }

    #[test]
    fn non_public_addresses_are_refused() {
        for private in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "169.254.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "100::1",
            "2001::1",
            "3fff::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::808:808",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(!address_allowed(ip(private)), "{private}");
        }
    }

    #[test]
    fn an_endpoint_url_gives_its_parts() {
        let u = url("https://hooks.example.org/artisan/events?key=a%2Fb");
        assert_eq!(
            u.as_str(),
            "https://hooks.example.org/artisan/events?key=a%2Fb"
        );
        assert_eq!(u.host(), "hooks.example.org");
        assert_eq!(u.port(), 443);
        assert!(u.is_https());
        assert_eq!(u.path_and_query(), "/artisan/events?key=a%2Fb");

        let u = url("HTTPS://Hooks.Example.ORG");
        assert_eq!(
            (u.host(), u.port(), u.path_and_query()),
            ("hooks.example.org", 443, "/")
        );
        assert!(u.is_https());

        let u = url("https://hooks.example.org:8443?v=1");
        assert_eq!((u.port(), u.path_and_query()), (8443, "/?v=1"));

        let u = url("https://[2606:4700:4700::1111]:65535/in");
        assert_eq!(
            (u.host(), u.port(), u.path_and_query()),
            ("2606:4700:4700::1111", 65535, "/in")
        );

        assert_eq!(url("https://8.8.8.8/x").host(), "8.8.8.8");
        assert_eq!(
            url("https://xn--bcher-kva.example/").host(),
            "xn--bcher-kva.example"
        );
        let longest = format!("https://example.org/{}", "a".repeat(URL_MAX - 20));
        assert_eq!(url(&longest).as_str().len(), URL_MAX);
    }

    #[test]
    fn malformed_or_private_urls_are_refused_with_a_reason() {
        let too_long = format!("https://example.org/{}", "a".repeat(URL_MAX - 19));
        for (raw, code) in [
            (too_long.as_str(), "too_long"),
            ("", "invalid_url"),
            ("example.org/hook", "invalid_url"),
            ("https:/example.org", "invalid_url"),
            ("http://example.org/hook", "scheme"),
            ("ftp://example.org", "scheme"),
            ("javascript://example.org", "scheme"),
            (" https://example.org", "invalid_characters"),
            ("https://example.org/a b", "invalid_characters"),
            ("https://example.org/a\tb", "invalid_characters"),
            ("https://example.org/\u{7f}", "invalid_characters"),
            ("https://exämple.org/", "invalid_characters"),
            ("https://example.org/<script>", "invalid_characters"),
            ("https://example.org/a%zz", "invalid_characters"),
            ("https://example.org/a%2", "invalid_characters"),
            ("https://example.org/#top", "fragment"),
            ("https://user:secret@example.org/", "credentials"),
            ("https://example.org@evil.example/", "credentials"),
            ("https://", "invalid_host"),
            ("https:///hook", "invalid_host"),
            ("https://:443/", "invalid_host"),
            ("https://example.org./", "invalid_host"),
            ("https://-example.org/", "invalid_host"),
            ("https://exa_mple.org/", "invalid_host"),
            ("https://example.org\\.evil.example/", "invalid_host"),
            ("https://2130706433/", "invalid_host"),
            ("https://127.1/", "invalid_host"),
            ("https://0x7f.0.0.1/", "invalid_host"),
            ("https://0x7f000001/", "invalid_host"),
            ("https://010.0.0.1/", "invalid_host"),
            ("https://[fe80::1%25eth0]/", "invalid_host"),
            ("https://[example.org]/", "invalid_host"),
            ("https://[::1/", "invalid_url"),
            ("https://[2606:4700:4700::1111]x/", "invalid_url"),
            ("https://example.org:0/", "invalid_port"),
            ("https://example.org:65536/", "invalid_port"),
            ("https://example.org:/", "invalid_port"),
            ("https://example.org:+443/", "invalid_port"),
            ("https://example.org:443:1/", "invalid_port"),
            ("https://127.0.0.1/", "private_network"),
            (
                "https://169.254.169.254/latest/meta-data/",
                "private_network",
            ),
            ("https://10.1.2.3:8443/", "private_network"),
            ("https://[::1]/", "private_network"),
            ("https://[::ffff:127.0.0.1]/", "private_network"),
            ("https://[fd00::1]:443/", "private_network"),
            ("https://localhost/", "private_network"),
            ("https://LOCALHOST:8443/", "private_network"),
            ("https://api.localhost/", "private_network"),
            ("https://printer.local/", "private_network"),
            (
                "https://metadata.google.internal/computeMetadata/v1/",
                "private_network",
            ),
            ("https://db.corp.internal/", "private_network"),
            ("https://router.home.arpa/", "private_network"),
            ("https://intranet/", "private_network"),
        ] {
            assert_eq!(refusal(raw, false), code, "{raw}");
        }
    }

    #[test]
    fn private_networks_may_be_allowed_for_development() {
        let u = EndpointUrl::parse("http://localhost:8080/hook", true).expect("allowed");
        assert_eq!(
            (u.host(), u.port(), u.is_https()),
            ("localhost", 8080, false)
        );
        let u = EndpointUrl::parse("HTTP://127.0.0.1", true).expect("allowed");
        assert_eq!((u.port(), u.path_and_query()), (80, "/"));
        for raw in [
            "https://[::1]:9000/",
            "http://receiver/",
            "https://10.0.0.5/",
        ] {
            assert!(EndpointUrl::parse(raw, true).is_ok(), "{raw}");
        }
        assert_eq!(refusal("ftp://localhost/", true), "scheme");
        assert_eq!(refusal("http://u:p@localhost/", true), "credentials");
        assert_eq!(refusal("http://localhost/#x", true), "fragment");
        assert_eq!(refusal("http://127.1/", true), "invalid_host");
    }

    #[test]
    fn an_event_filter_keeps_the_order_and_names_the_bad_entry() {
        let names = |names: &[&str]| names.iter().map(|&n| n.to_owned()).collect::<Vec<_>>();
        assert_eq!(
            parse_event_filter(&names(&["workshop.created", "partnership.activated"])),
            Ok(vec![
                EventType::WorkshopCreated,
                EventType::PartnershipActivated
            ])
        );
        let all: Vec<String> = EventType::ALL
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect();
        assert_eq!(parse_event_filter(&all), Ok(EventType::ALL.to_vec()));

        let error = parse_event_filter(&[]).expect_err("empty");
        assert_eq!((error.field.as_str(), error.code), ("events", "too_short"));

        let error = parse_event_filter(&names(&[
            "workshop.created",
            "event.created",
            "workshop.deleted",
        ]))
        .expect_err("unknown");
        assert_eq!(
            (error.field.as_str(), error.code),
            ("events[2]", "unknown_event")
        );
        assert!(error
            .message
            .contains("partnership.activated, agreement.activated"));
        assert!(error.message.contains("program.application.created"));

        let error = parse_event_filter(&names(&[
            "event.created",
            "settlement.created",
            "event.created",
        ]))
        .expect_err("duplicate");
        assert_eq!(
            (error.field.as_str(), error.code),
            ("events[2]", "duplicate")
        );

        let mut too_many = all.clone();
        too_many.push("event.created".to_owned());
        let error = parse_event_filter(&too_many).expect_err("too many");
        assert_eq!((error.field.as_str(), error.code), ("events", "too_many"));
    }

    #[test]
    fn retries_follow_the_schedule_for_more_than_a_day() {
        let base = |attempts| retry_delay(attempts, 0.0).expect("a retry");
        assert_eq!(retry_delay(0, 0.5), Some(Duration::zero()));
        assert_eq!(base(1), Duration::seconds(5));
        assert_eq!(base(2), Duration::minutes(5));
        assert_eq!(base(7), Duration::hours(10));
        assert_eq!(retry_delay(MAX_ATTEMPTS, 0.0), None);
        assert_eq!(retry_delay(u32::MAX, 0.0), None);

        // Attempt 1 is made at once, then one more after each wait.
        let waits: Vec<Duration> = (1..).map_while(|n| retry_delay(n, 0.0)).collect();
        assert_eq!(waits.len() as u32 + 1, MAX_ATTEMPTS);
        assert_eq!(MAX_ATTEMPTS, 8);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
        let total = waits.iter().fold(Duration::zero(), |sum, &w| sum + w);
        assert!(total >= Duration::hours(24), "{total}");
    }

    #[test]
    fn jitter_lengthens_by_up_to_a_fifth() {
        let five_hours = Duration::hours(5);
        assert_eq!(retry_delay(5, 0.5), Some(Duration::minutes(330)));
        let longest = retry_delay(5, 0.999_999).expect("a retry");
        assert!(longest > five_hours && longest <= Duration::hours(6));
        assert_eq!(retry_delay(5, -3.0), Some(five_hours));
        assert_eq!(retry_delay(5, f64::NAN), Some(five_hours));
        assert_eq!(retry_delay(5, 7.0), Some(Duration::hours(6)));
        for n in 1..MAX_ATTEMPTS {
            for jitter in [0.0, 0.25, 0.5, 0.75, 0.99] {
                let base = retry_delay(n, 0.0).expect("a retry");
                let wait = retry_delay(n, jitter).expect("a retry");
                assert!(wait >= base && wait * 5 <= base * 6, "{n} {jitter}");
            }
        }
    }

    #[test]
    fn an_endpoint_is_disabled_after_five_days_without_success() {
        let since = at(1, 10);
        assert!(!should_disable(since, at(6, 9), 12));
        assert!(should_disable(since, at(6, 10), 1));
        assert!(should_disable(since, at(20, 0), 3));
        // Nothing was given up yet: the workers may have been stopped.
        assert!(!should_disable(since, at(20, 0), 0));
        // A clock behind the failure never disables.
        assert!(!should_disable(at(6, 10), since, 5));
    }

    #[test]
    fn the_disable_reason_says_since_when() {
        assert_eq!(
            disable_reason(at(1, 10), at(6, 12)),
            "failing since 2026-12-01T10:00:00Z (5 days) with no successful delivery"
        );
        assert_eq!(
            disable_reason(at(1, 10), at(2, 11)),
            "failing since 2026-12-01T10:00:00Z (1 day) with no successful delivery"
        );
    }

    fn healthy() -> EndpointHealth {
        EndpointHealth {
            enabled: true,
            failing_since: None,
            disabled_reason: None,
        }
    }

    #[test]
    fn a_success_ends_the_delivery_and_the_failure_streak() {
        let failing = EndpointHealth {
            failing_since: Some(at(1, 0)),
            ..healthy()
        };
        let after = after_attempt(3, true, at(2, 0), 0.5, failing);
        assert_eq!(after.attempts, 4);
        assert_eq!(after.status, DeliveryStatus::Succeeded);
        assert_eq!(after.next_attempt_at, None);
        assert_eq!(after.endpoint, healthy());
    }

    #[test]
    fn a_failure_schedules_the_next_attempt_and_starts_the_streak() {
        let after = after_attempt(0, false, at(1, 0), 0.0, healthy());
        assert_eq!(after.status, DeliveryStatus::Pending);
        assert_eq!(after.next_attempt_at, Some(at(1, 0) + Duration::seconds(5)));
        assert_eq!(after.endpoint.failing_since, Some(at(1, 0)));
        assert!(after.endpoint.enabled);
        // A later failure keeps the streak's start.
        let again = after_attempt(1, false, at(1, 1), 0.0, after.endpoint);
        assert_eq!(again.endpoint.failing_since, Some(at(1, 0)));
        assert_eq!(again.next_attempt_at, Some(at(1, 1) + Duration::minutes(5)));
    }

    #[test]
    fn the_last_attempt_fails_the_delivery_and_disables_only_after_five_days() {
        let since = |day| EndpointHealth {
            failing_since: Some(at(day, 0)),
            ..healthy()
        };
        let early = after_attempt(MAX_ATTEMPTS - 1, false, at(5, 23), 0.0, since(1));
        assert_eq!(early.attempts, MAX_ATTEMPTS);
        assert_eq!(early.status, DeliveryStatus::Failed);
        assert_eq!(early.next_attempt_at, None);
        assert!(early.endpoint.enabled, "4 days 23 hours of failing");
        let late = after_attempt(MAX_ATTEMPTS - 1, false, at(6, 0), 0.0, since(1));
        assert!(!late.endpoint.enabled);
        assert_eq!(
            late.endpoint.disabled_reason.as_deref(),
            Some("failing since 2026-12-01T00:00:00Z (5 days) with no successful delivery")
        );
        // A delivery that still has attempts left never disables.
        let pending = after_attempt(2, false, at(9, 0), 0.0, since(1));
        assert_eq!(pending.status, DeliveryStatus::Pending);
        assert!(pending.endpoint.enabled);
    }

    #[test]
    fn enabling_a_disabled_endpoint_clears_its_streak_and_reason() {
        let disabled = EndpointHealth {
            enabled: false,
            failing_since: Some(at(1, 0)),
            disabled_reason: Some("failing".to_owned()),
        };
        assert_eq!(disabled.clone().set_enabled(true), healthy());
        assert_eq!(disabled.clone().set_enabled(false), disabled);
        let failing = EndpointHealth {
            failing_since: Some(at(1, 0)),
            ..healthy()
        };
        // Enabling an enabled endpoint changes nothing.
        assert_eq!(failing.clone().set_enabled(true), failing);
    }

    #[test]
    fn only_a_2xx_without_error_delivers() {
        assert!(delivered(Some(200), None));
        assert!(delivered(Some(204), None));
        assert!(delivered(Some(299), None));
        assert!(!delivered(Some(199), None));
        assert!(!delivered(Some(301), None));
        assert!(!delivered(Some(500), None));
        assert!(!delivered(None, Some("timed out")));
        assert!(!delivered(Some(200), Some("body too large")));
    }

    #[test]
    fn only_an_enabled_endpoint_takes_a_message_to_send_now() {
        assert_eq!(healthy().ready_to_send(), Ok(()));
        let failing = EndpointHealth {
            failing_since: Some(at(1, 0)),
            ..healthy()
        };
        assert_eq!(failing.ready_to_send(), Ok(()));
        let disabled = healthy().set_enabled(false);
        assert_eq!(disabled.ready_to_send(), Err(WebhookRefusal::Disabled));
        assert_eq!(disabled.set_enabled(true).ready_to_send(), Ok(()));
    }
}

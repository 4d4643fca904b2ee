//! Wall-clock helpers: epoch seconds for expiry and TTL attributes, RFC 3339 for clients.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn now_epoch() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

pub fn now_rfc3339() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

pub fn epoch_to_rfc3339(epoch: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch)
        .map(rfc3339)
        .unwrap_or_default()
}

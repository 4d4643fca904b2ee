//! Rate limits per action: each action has a budget of `max` events per fixed window per
//! subject (a user id, an account, an address or a source IP), counted atomically in DynamoDB
//! (`Db::take_budget`, 1 UpdateItem). A spent budget answers 429 with `Retry-After` and the
//! envelope. The limits are configuration (`RATE_LIMIT_<ACTION>=<max>/<window secs>`).

use crate::db::throttle::BudgetSpend;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::time::now_epoch;

/// The actions with a budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Post,
    Comment,
    Message,
    Follow,
    StoryCreate,
    Upload,
    /// `POST /api/reports` (the route is not built yet; the budget is ready for it).
    Report,
    /// Resend-verification and forgot-password mails per address: the short window...
    MailBurst,
    /// ...and the long one.
    MailHourly,
    /// Failed logins per source IP (per-account failures use `LOGIN_MAX_FAILURES`).
    LoginSource,
    /// Registrations per source IP.
    RegisterSource,
}

impl Action {
    pub const ALL: [Action; 11] = [
        Action::Post,
        Action::Comment,
        Action::Message,
        Action::Follow,
        Action::StoryCreate,
        Action::Upload,
        Action::Report,
        Action::MailBurst,
        Action::MailHourly,
        Action::LoginSource,
        Action::RegisterSource,
    ];

    /// The name in the counter's key and in `RATE_LIMIT_<NAME>`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Post => "POSTS",
            Self::Comment => "COMMENTS",
            Self::Message => "MESSAGES",
            Self::Follow => "FOLLOWS",
            Self::StoryCreate => "STORIES",
            Self::Upload => "UPLOADS",
            Self::Report => "REPORTS",
            Self::MailBurst => "MAIL_BURST",
            Self::MailHourly => "MAIL_HOURLY",
            Self::LoginSource => "LOGIN_SOURCE",
            Self::RegisterSource => "REGISTER_SOURCE",
        }
    }

    /// The default budget (`Limit { max, window_secs }`).
    pub fn default_limit(self) -> Limit {
        let (max, window_secs) = match self {
            Self::Post => (10, 60),
            Self::Comment => (30, 60),
            Self::Message => (60, 60),
            Self::Follow => (60, 60),
            Self::StoryCreate => (10, 60),
            Self::Upload => (30, 60),
            Self::Report => (10, 3600),
            Self::MailBurst => (1, 30),
            Self::MailHourly => (10, 3600),
            Self::LoginSource => (100, 900),
            Self::RegisterSource => (20, 3600),
        };
        Limit { max, window_secs }
    }

    fn message(self) -> &'static str {
        match self {
            Self::Post => "Too many posts; try again later",
            Self::Comment => "Too many comments; try again later",
            Self::Message => "Too many messages; try again later",
            Self::Follow => "Too many follows; try again later",
            Self::StoryCreate => "Too many stories; try again later",
            Self::Upload => "Too many uploads; try again later",
            Self::Report => "Too many reports; try again later",
            Self::MailBurst | Self::MailHourly => {
                "Too many emails requested for this address; try again later"
            }
            Self::LoginSource => "Too many failed login attempts, try again later",
            Self::RegisterSource => "Too many registrations; try again later",
        }
    }
}

/// At most `max` events per `window_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_secs: i64,
}

impl Limit {
    /// `"<max>/<window secs>"`, both positive.
    pub fn parse(raw: &str) -> Option<Self> {
        let (max, window) = raw.trim().split_once('/')?;
        let max = max.trim().parse::<u32>().ok().filter(|m| *m > 0)?;
        let window_secs = window
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|w| (1..=31 * 24 * 3600).contains(w))?;
        Some(Self { max, window_secs })
    }
}

/// Counts one `action` by `subject`; a 429 with `Retry-After` when its budget is spent.
/// 1 UpdateItem.
pub async fn take(state: &AppState, action: Action, subject: &str) -> ApiResult<()> {
    let limit = state.config.limit(action);
    state
        .db
        .take_budget(
            action.name(),
            subject,
            limit.max,
            limit.window_secs,
            now_epoch(),
        )
        .await?
        .map(|_| ())
        .map_err(|spent| spent.into_error(action.message()))
}

/// One `action` by `subject` for a transaction to count along with the write it guards
/// (`db::throttle::BudgetSpend`); [`refused`] is the 429 when the transaction refuses it.
pub fn spend(state: &AppState, action: Action, subject: &str) -> BudgetSpend {
    let limit = state.config.limit(action);
    BudgetSpend {
        action: action.name(),
        subject: subject.to_string(),
        max: limit.max,
        window_secs: limit.window_secs,
        now: now_epoch(),
    }
}

/// The 429 of a spent budget (`Retry-After` included).
pub fn refused(action: Action, spent: &BudgetSpend) -> ApiError {
    spent.exhausted().into_error(action.message())
}

/// Gives one `action` back (an attempt that turned out not to count). 1 UpdateItem.
pub async fn refund(state: &AppState, action: Action, subject: &str) -> ApiResult<()> {
    let limit = state.config.limit(action);
    state
        .db
        .refund_budget(action.name(), subject, limit.window_secs, now_epoch())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_and_reject_nonsense() {
        assert_eq!(
            Limit::parse("30/60"),
            Some(Limit {
                max: 30,
                window_secs: 60
            })
        );
        assert_eq!(
            Limit::parse(" 1 / 30 "),
            Some(Limit {
                max: 1,
                window_secs: 30
            })
        );
        for bad in [
            "",
            "30",
            "0/60",
            "30/0",
            "-1/60",
            "x/60",
            "30/99999999999",
            "1/2/3",
        ] {
            assert_eq!(Limit::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn defaults_match_the_contract() {
        let per = |a: Action| {
            let l = a.default_limit();
            (l.max, l.window_secs)
        };
        assert_eq!(per(Action::Post), (10, 60));
        assert_eq!(per(Action::Comment), (30, 60));
        assert_eq!(per(Action::Message), (60, 60));
        assert_eq!(per(Action::Follow), (60, 60));
        assert_eq!(per(Action::StoryCreate), (10, 60));
        assert_eq!(per(Action::Upload), (30, 60));
        assert_eq!(per(Action::Report), (10, 3600));
        assert_eq!(per(Action::MailBurst), (1, 30));
        assert_eq!(per(Action::MailHourly), (10, 3600));
    }
}

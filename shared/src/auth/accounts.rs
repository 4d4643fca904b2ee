//! The account flows behind the auth API. Each names its DynamoDB round trips; the budgets and
//! the reasoning are in docs/data-model.md.

use serde::{Deserialize, Serialize};
use ulid::Ulid;

use super::extract::AuthUser;
use super::tokens::{self, RefreshToken};
use crate::db::keys::{self, EmailPurpose};
use crate::db::sessions::{Rotation, SessionRecord};
use crate::db::tokens::EmailTokenRecord;
use crate::db::users::{RegisterConflict, UserRecord};
use crate::error::{ApiError, ApiResult};
use crate::limits::{self, Action};
use crate::mail::Email;
use crate::state::AppState;
use crate::time::{now_epoch, now_rfc3339};
use crate::validation::{self as v, FieldErrors, Validate};

const VERIFY_TTL_SECS: i64 = 24 * 3600;
const RESET_TTL_SECS: i64 = 3600;
/// Wrong codes allowed per verification email.
pub const MAX_CODE_ATTEMPTS: u32 = 5;
/// A new verification or reset email is sent at most this often per user.
const RESEND_COOLDOWN_SECS: i64 = 30;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
}

// ---------- requests ----------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm_password: String,
    #[serde(default)]
    pub full_name: String,
}

impl Validate for Registration {
    fn validate(&self) -> ApiResult<()> {
        let mut errors = FieldErrors::default();
        let email = v::normalize_email(&self.email);
        errors.check(
            "email",
            v::required("email", &email).and_then(|_| v::email(&email)),
        );
        let username = v::normalize_username(&self.username);
        errors.check(
            "username",
            v::required("username", &username).and_then(|_| v::username(&username)),
        );
        errors.check("password", v::password("password", &self.password));
        if self.confirm_password != self.password {
            errors.add("confirmPassword", "confirmPassword must match password");
        }
        errors.check(
            "fullName",
            v::required("fullName", &self.full_name)
                .and_then(|_| v::max_chars("fullName", self.full_name.trim(), v::FULL_NAME_MAX)),
        );
        errors.finish()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Login {
    pub email: Option<String>,
    pub username: Option<String>,
    #[serde(default)]
    pub password: String,
}

impl Login {
    /// The normalised identifier and the claim that resolves it.
    fn identifier(&self) -> ApiResult<(String, keys::Key)> {
        let email = self
            .email
            .as_deref()
            .map(v::normalize_email)
            .filter(|e| !e.is_empty());
        let username = self
            .username
            .as_deref()
            .map(v::normalize_username)
            .filter(|u| !u.is_empty());
        match (email, username) {
            // Some clients send a username in the email field.
            (Some(email), _) if email.contains('@') => {
                Ok((email.clone(), keys::email_claim(&email)))
            }
            (Some(name), None) | (_, Some(name)) => Ok((name.clone(), keys::username_claim(&name))),
            (None, None) => Err(ApiError::invalid_field(
                "email",
                "email or username is required",
            )),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordReset {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm_password: String,
}

impl Validate for PasswordReset {
    fn validate(&self) -> ApiResult<()> {
        let mut errors = FieldErrors::default();
        errors.check("password", v::password("password", &self.password));
        if self.confirm_password != self.password {
            errors.add("confirmPassword", "confirmPassword must match password");
        }
        errors.finish()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChange {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub new_password: String,
    #[serde(default)]
    pub confirm_password: String,
}

impl Validate for PasswordChange {
    fn validate(&self) -> ApiResult<()> {
        let mut errors = FieldErrors::default();
        errors.check(
            "currentPassword",
            v::required("currentPassword", &self.current_password),
        );
        errors.check(
            "newPassword",
            v::password("newPassword", &self.new_password),
        );
        if self.confirm_password != self.new_password {
            errors.add("confirmPassword", "confirmPassword must match newPassword");
        }
        if !self.current_password.is_empty() && self.current_password == self.new_password {
            errors.add(
                "newPassword",
                "newPassword must differ from currentPassword",
            );
        }
        errors.finish()
    }
}

// ---------- sessions ----------

/// A new refresh-token family for `user` and the access token that goes with it.
fn start_session(
    state: &AppState,
    user: &UserRecord,
    token_version: u64,
) -> ApiResult<(SessionRecord, TokenPair)> {
    let now = now_epoch();
    let refresh = RefreshToken::new(&user.id, &Ulid::new().to_string());
    let expires_at = now + state.config.refresh_token_ttl_secs;
    let session = SessionRecord {
        session_id: refresh.session_id.clone(),
        user_id: user.id.clone(),
        token_hash: state.tokens.digest(&refresh.secret),
        spent_hashes: Vec::new(),
        token_version,
        created_at: now_rfc3339(),
        expires_at,
        ttl: expires_at,
    };
    let pair = TokenPair {
        access_token: state
            .tokens
            .issue_access(&user.id, token_version, user.role, now)?,
        refresh_token: refresh.encode(),
    };
    Ok((session, pair))
}

/// Signs a user in on a new device. 1 PutItem.
pub async fn open_session(state: &AppState, user: &UserRecord) -> ApiResult<TokenPair> {
    let (session, pair) = start_session(state, user, user.token_version)?;
    state.db.put_session(&session).await?;
    Ok(pair)
}

// ---------- emails ----------

fn new_email_token(
    state: &AppState,
    user_id: &str,
    purpose: EmailPurpose,
    with_code: bool,
) -> (EmailTokenRecord, String, Option<String>) {
    let now = now_epoch();
    let secret = tokens::random_secret();
    let code = with_code.then(tokens::random_code);
    let ttl = match purpose {
        EmailPurpose::Verify => VERIFY_TTL_SECS,
        EmailPurpose::Reset => RESET_TTL_SECS,
    };
    let record = EmailTokenRecord {
        user_id: user_id.to_string(),
        purpose: purpose.as_str().to_string(),
        link_hash: state.tokens.digest(&secret),
        code_hash: code.as_deref().map(|c| state.tokens.digest(c)),
        attempts: 0,
        sent_at: now,
        expires_at: now + ttl,
        ttl: now + ttl,
    };
    (record, tokens::link_token(user_id, &secret), code)
}

fn verification_email(state: &AppState, user: &UserRecord, link_token: &str, code: &str) -> Email {
    let link = format!("{}/verify-email/{link_token}", state.config.app_base_url);
    Email {
        to: user.email.clone(),
        subject: "Verify your email".into(),
        text: format!(
            "Hi {},\n\nConfirm your email by opening this link:\n{link}\n\nor enter this code in the app: {code}\n\nThe link and the code work once and expire in 24 hours.\nVerification token: {link_token}\nVerification code: {code}\n",
            user.full_name
        ),
    }
}

/// Mail failures after the state change are logged, not returned: the account exists and the
/// user can ask for another email.
async fn send_quietly(state: &AppState, email: Email) {
    if let Err(err) = state.mailer.send(email).await {
        tracing::error!(error = %err, "sending mail failed");
    }
}

// ---------- flows ----------

/// Creates the user, claims username and email, stores the verification token: 1 transaction.
pub async fn register(state: &AppState, input: Registration) -> ApiResult<UserRecord> {
    let user = UserRecord::new_account(
        v::normalize_username(&input.username),
        v::normalize_email(&input.email),
        input.full_name.trim().to_string(),
        state.hasher.hash(input.password).await?,
        false,
    );
    let (token, link, code) = new_email_token(state, &user.id, EmailPurpose::Verify, true);
    let token_put = state.db.email_token_put(&token, EmailPurpose::Verify)?;
    match state.db.create_user(&user, vec![token_put]).await? {
        Ok(()) => {}
        Err(RegisterConflict::Username) => {
            return Err(ApiError::conflict("Username already taken"))
        }
        Err(RegisterConflict::Email) => return Err(ApiError::conflict("Email already registered")),
    }
    send_quietly(
        state,
        verification_email(state, &user, &link, code.as_deref().unwrap_or_default()),
    )
    .await;
    Ok(user)
}

const BAD_CREDENTIALS: &str = "Invalid credentials";

/// The budget of failed logins of one account, whichever identifier (email or username) was
/// typed; a name that resolves to nobody has its own.
const LOGIN_ACCOUNT: &str = "LOGIN_ACCOUNT";

/// Claim lookup and profile (2 reads), then the attempt is counted before the password is
/// checked, atomically (1 conditional UpdateItem per budget: the source's, then the account's),
/// so concurrent guesses can never get more checks than the budget. A success gives the source
/// its attempt back and clears the account's window, beside the session PutItem.
pub async fn login(
    state: &AppState,
    input: Login,
    source: &str,
) -> ApiResult<(UserRecord, TokenPair)> {
    let (identifier, claim) = input.identifier()?;
    if input.password.is_empty() {
        return Err(ApiError::invalid_field("password", "password is required"));
    }
    let user = state.db.find_user_by_claim(&claim).await?;
    let account = match &user {
        Some(user) => format!("user#{}", user.id),
        None => format!("name#{identifier}"),
    };
    let now = now_epoch();
    // The source first: a source out of budget never spends a victim's account budget.
    limits::take(state, Action::LoginSource, source).await?;
    let window = state.config.login_lockout_secs;
    if let Err(spent) = state
        .db
        .take_budget(
            LOGIN_ACCOUNT,
            &account,
            state.config.login_max_failures,
            window,
            now,
        )
        .await?
    {
        return Err(too_many_logins(
            i64::try_from(spent.retry_after_secs).unwrap_or(1),
        ));
    }
    let password = input
        .password
        .chars()
        .take(v::PASSWORD_MAX)
        .collect::<String>();
    let verified = match &user {
        Some(user) => {
            state
                .hasher
                .verify(password, user.password_hash.clone())
                .await?
        }
        None => {
            state.hasher.verify_against_dummy(password).await?;
            false
        }
    };
    let user = match user {
        Some(user) if verified => user,
        _ => return Err(ApiError::unauthorized(BAD_CREDENTIALS)),
    };
    if !user.is_active() {
        return Err(ApiError::forbidden("Account is disabled"));
    }
    // The session is what matters; a failed clear or refund only leaves a budget fuller.
    let (pair, cleared, refunded) = tokio::join!(
        open_session(state, &user),
        state.db.clear_budget(LOGIN_ACCOUNT, &account, window, now),
        limits::refund(state, Action::LoginSource, source),
    );
    if let Err(err) = cleared.and(refunded) {
        tracing::warn!(?err, "clearing login budgets after a success");
    }
    Ok((user, pair?))
}

fn too_many_logins(retry_after: i64) -> ApiError {
    ApiError::TooManyRequests {
        message: "Too many failed login attempts, try again later".into(),
        retry_after_secs: u64::try_from(retry_after.max(1)).unwrap_or(1),
    }
}

const BAD_REFRESH: &str = "Invalid or expired refresh token";

/// Rotates a refresh token: 1 BatchGet (user + session) and 1 conditional UpdateItem.
/// A token that was already spent ends its whole family.
pub async fn refresh(state: &AppState, raw: &str) -> ApiResult<TokenPair> {
    let token = RefreshToken::parse(raw).ok_or_else(|| ApiError::unauthorized(BAD_REFRESH))?;
    let (user, session) = state
        .db
        .get_user_and_session(&token.user_id, &token.session_id)
        .await?;
    let (Some(user), Some(session)) = (user, session) else {
        return Err(ApiError::unauthorized(BAD_REFRESH));
    };
    let now = now_epoch();
    let presented = state.tokens.digest(&token.secret);
    if !tokens::same_digest(&presented, &session.token_hash) {
        if session
            .spent_hashes
            .iter()
            .any(|h| tokens::same_digest(h, &presented))
        {
            return Err(revoke_family(state, &session).await);
        }
        return Err(ApiError::unauthorized(BAD_REFRESH));
    }
    if session.expires_at <= now || session.token_version != user.token_version {
        return Err(ApiError::unauthorized(BAD_REFRESH));
    }
    if !user.is_active() {
        return Err(ApiError::unauthorized("Unauthorized - Account is disabled"));
    }
    let next = RefreshToken {
        secret: tokens::random_secret(),
        ..token
    };
    let expires_at = now + state.config.refresh_token_ttl_secs;
    match state
        .db
        .rotate_session(&session, &state.tokens.digest(&next.secret), expires_at)
        .await?
    {
        Rotation::Rotated => Ok(TokenPair {
            access_token: state.tokens.issue_access(
                &user.id,
                user.token_version,
                user.role,
                now,
            )?,
            refresh_token: next.encode(),
        }),
        // Two refreshes with one token: the second is a replay.
        Rotation::LostRace => Err(revoke_family(state, &session).await),
    }
}

async fn revoke_family(state: &AppState, session: &SessionRecord) -> ApiError {
    tracing::warn!(user = %session.user_id, session = %session.session_id, "refresh token reuse: revoking the session");
    if let Err(err) = state
        .db
        .delete_session(&session.user_id, &session.session_id)
        .await
    {
        return err;
    }
    ApiError::unauthorized("Refresh token reuse detected; the session has been revoked")
}

/// Ends the session the refresh token belongs to. 1 DeleteItem.
pub async fn logout(state: &AppState, auth: &AuthUser, raw: &str) -> ApiResult<()> {
    let token = RefreshToken::parse(raw)
        .ok_or_else(|| ApiError::invalid_field("refreshToken", "refreshToken is invalid"))?;
    if token.user_id != auth.id() {
        return Err(ApiError::forbidden(
            "That refresh token belongs to another user",
        ));
    }
    state
        .db
        .delete_session(&token.user_id, &token.session_id)
        .await
}

/// Consumes a verification link: 1 transaction (delete the token if it matches and is live,
/// mark the user verified) and 1 GetItem for the answer.
pub async fn verify_email_link(state: &AppState, raw: &str) -> ApiResult<UserRecord> {
    let invalid = || ApiError::bad_request("Invalid or expired verification token");
    let (user_id, secret) = tokens::parse_link_token(raw).ok_or_else(invalid)?;
    let digest = state.tokens.digest(&secret);
    let consume = state.db.email_token_consume(
        &user_id,
        EmailPurpose::Verify,
        "linkHash",
        &digest,
        now_epoch(),
    )?;
    if !state
        .db
        .transact(vec![consume, state.db.verified_update(&user_id)?])
        .await?
    {
        return Err(invalid());
    }
    state.db.get_user(&user_id).await?.ok_or_else(invalid)
}

/// Checks a 6-digit code: claim lookup, one counted attempt (refused past the limit), then the
/// same consuming transaction as the link.
pub async fn verify_email_code(state: &AppState, email: &str, code: &str) -> ApiResult<UserRecord> {
    let invalid = || ApiError::bad_request("Invalid or expired verification code");
    let email = v::normalize_email(email);
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid_field("code", "code must be 6 digits"));
    }
    let Some(user_id) = state.db.claimed_user_id(&keys::email_claim(&email)).await? else {
        return Err(invalid());
    };
    let now = now_epoch();
    let Some(token) = state
        .db
        .count_code_attempt(&user_id, MAX_CODE_ATTEMPTS, now)
        .await?
    else {
        // Either no live code, or the attempts are spent: tell apart only for a live token.
        return match state
            .db
            .get_email_token(&user_id, EmailPurpose::Verify)
            .await?
        {
            Some(t) if t.expires_at > now && t.attempts >= MAX_CODE_ATTEMPTS => {
                Err(ApiError::TooManyRequests {
                    message: "Too many wrong codes; request a new verification email".into(),
                    retry_after_secs: u64::try_from(RESEND_COOLDOWN_SECS).unwrap_or(30),
                })
            }
            _ => Err(invalid()),
        };
    };
    let digest = state.tokens.digest(code);
    let matches = token
        .code_hash
        .as_deref()
        .is_some_and(|h| tokens::same_digest(h, &digest));
    if !matches {
        return Err(invalid());
    }
    let consume =
        state
            .db
            .email_token_consume(&user_id, EmailPurpose::Verify, "codeHash", &digest, now)?;
    if !state
        .db
        .transact(vec![consume, state.db.verified_update(&user_id)?])
        .await?
    {
        return Err(invalid());
    }
    state.db.get_user(&user_id).await?.ok_or_else(invalid)
}

/// The user behind `email` if `wanted` holds for them and no email of this purpose went out within
/// the cooldown; `None` otherwise. Callers answer the same either way.
async fn mail_recipient(
    state: &AppState,
    email: &str,
    purpose: EmailPurpose,
    wanted: impl Fn(&UserRecord) -> bool,
) -> ApiResult<Option<UserRecord>> {
    let email = v::normalize_email(email);
    let Some(user) = state
        .db
        .find_user_by_claim(&keys::email_claim(&email))
        .await?
    else {
        return Ok(None);
    };
    if !wanted(&user) {
        return Ok(None);
    }
    let now = now_epoch();
    let recently_sent = state
        .db
        .get_email_token(&user.id, purpose)
        .await?
        .is_some_and(|t| t.expires_at > now && now - t.sent_at < RESEND_COOLDOWN_SECS);
    Ok((!recently_sent).then_some(user))
}

/// Stores a new secret of `purpose` for the user (replacing the previous one) and returns the
/// link token and, for verification, the code.
async fn store_email_token(
    state: &AppState,
    user_id: &str,
    purpose: EmailPurpose,
) -> ApiResult<(String, Option<String>)> {
    let with_code = purpose == EmailPurpose::Verify;
    let (token, link_token, code) = new_email_token(state, user_id, purpose, with_code);
    state
        .db
        .transact(vec![state.db.email_token_put(&token, purpose)?])
        .await?;
    Ok((link_token, code))
}

/// Mail sends per address (known or not, so the answer tells nothing): 1 per 30 s and 10 per
/// hour by default, each kind of mail its own budget. 2 UpdateItems.
async fn take_mail_budget(state: &AppState, purpose: EmailPurpose, email: &str) -> ApiResult<()> {
    let subject = format!("{}#{}", purpose.as_str(), v::normalize_email(email));
    limits::take(state, Action::MailBurst, &subject).await?;
    limits::take(state, Action::MailHourly, &subject).await
}

/// Sends a fresh link and code if the address belongs to an unverified user.
pub async fn resend_verification(state: &AppState, email: &str) -> ApiResult<()> {
    take_mail_budget(state, EmailPurpose::Verify, email).await?;
    let Some(user) = mail_recipient(state, email, EmailPurpose::Verify, |u| !u.is_verified).await?
    else {
        return Ok(());
    };
    let (link, code) = store_email_token(state, &user.id, EmailPurpose::Verify).await?;
    send_quietly(
        state,
        verification_email(state, &user, &link, code.as_deref().unwrap_or_default()),
    )
    .await;
    Ok(())
}

/// Emails a reset link if the address belongs to an active account.
pub async fn forgot_password(state: &AppState, email: &str) -> ApiResult<()> {
    take_mail_budget(state, EmailPurpose::Reset, email).await?;
    let Some(user) =
        mail_recipient(state, email, EmailPurpose::Reset, UserRecord::is_active).await?
    else {
        return Ok(());
    };
    let (link_token, _) = store_email_token(state, &user.id, EmailPurpose::Reset).await?;
    let link = format!("{}/reset-password/{link_token}", state.config.app_base_url);
    send_quietly(
        state,
        Email {
            to: user.email.clone(),
            subject: "Reset your password".into(),
            text: format!(
                "Hi {},\n\nSomeone asked to reset your password. If it was you, open:\n{link}\n\nThe link works once and expires in 1 hour. If it was not you, ignore this email.\nReset token: {link_token}\n",
                user.full_name
            ),
        },
    )
    .await;
    Ok(())
}

/// Reads the reset token (1 GetItem, before hashing), then consumes it and replaces the password
/// in 1 transaction; bumping the token
/// version ends every session and access token at once. Reaching the inbox also proves the email.
pub async fn reset_password(state: &AppState, raw: &str, input: PasswordReset) -> ApiResult<()> {
    let invalid = || ApiError::bad_request("Invalid or expired reset token");
    let (user_id, secret) = tokens::parse_link_token(raw).ok_or_else(invalid)?;
    let digest = state.tokens.digest(&secret);
    let now = now_epoch();
    // The token is checked before the (costly, bounded) hash: a wrong token never hashes.
    let live = state
        .db
        .get_email_token(&user_id, EmailPurpose::Reset)
        .await?
        .is_some_and(|t| t.expires_at > now && tokens::same_digest(&t.link_hash, &digest));
    if !live {
        return Err(invalid());
    }
    let hash = state.hasher.hash(input.password).await?;
    // The transaction consumes it only if it is still there (two resets race: one wins).
    let consume =
        state
            .db
            .email_token_consume(&user_id, EmailPurpose::Reset, "linkHash", &digest, now)?;
    let update = state.db.password_update(&user_id, &hash, None, true)?;
    if state.db.transact(vec![consume, update]).await? {
        state.realtime.disconnect_user(&user_id).await;
        Ok(())
    } else {
        Err(invalid())
    }
}

/// Replaces the password, ends every other session and returns a fresh pair: 1 transaction.
pub async fn change_password(
    state: &AppState,
    auth: &AuthUser,
    input: PasswordChange,
) -> ApiResult<TokenPair> {
    let user = &auth.user;
    if !state
        .hasher
        .verify(input.current_password, user.password_hash.clone())
        .await?
    {
        return Err(ApiError::invalid_field(
            "currentPassword",
            "currentPassword is incorrect",
        ));
    }
    let hash = state.hasher.hash(input.new_password).await?;
    let next_version = user.token_version + 1;
    let (session, pair) = start_session(state, user, next_version)?;
    let writes = vec![
        state
            .db
            .password_update(&user.id, &hash, Some(user.token_version), false)?,
        state.db.session_put(&session)?,
    ];
    if state.db.transact(writes).await? {
        // Sockets opened with the old tokens close; the client reconnects with the new pair.
        state.realtime.disconnect_user(&user.id).await;
        Ok(pair)
    } else {
        Err(ApiError::conflict(
            "Your tokens were revoked meanwhile; sign in again",
        ))
    }
}

/// Every access and refresh token issued so far stops working, and open sockets close.
/// 1 UpdateItem (+ 1 Query and 1 DeleteItem per open socket).
pub async fn invalidate_all(state: &AppState, auth: &AuthUser) -> ApiResult<()> {
    state.db.bump_token_version(auth.id()).await?;
    state.realtime.disconnect_user(auth.id()).await;
    Ok(())
}

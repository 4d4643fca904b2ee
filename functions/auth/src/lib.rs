//! `/api/auth`: sign-up, email verification, sign-in (password, and social in `social`), token
//! rotation and revocation, and the HTML pages behind the mail links.

mod pages;
mod social;

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use shared::auth::accounts::{self, Login, PasswordChange, PasswordReset, Registration, TokenPair};
use shared::auth::AuthUser;
use shared::http::{created, done, ok, ApiJson, SourceIp, ValidJson};
use shared::limits::{self, Action};
use shared::validation::Validate;
use shared::views::OwnUser;
use shared::{ApiError, ApiResult, AppState};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/auth/register", post(register))
        .route("/api/auth/login", post(login))
        .route("/api/auth/refresh-token", post(refresh_token))
        .route("/api/auth/logout", post(logout))
        .route(
            "/api/auth/verify-email/{token}",
            get(verify_page).post(verify_email),
        )
        .route("/api/auth/verify-by-code", post(verify_by_code))
        .route(
            "/api/auth/resend-verification-email",
            post(resend_verification),
        )
        .route("/api/auth/resend-verify-email", post(resend_verification))
        .route("/api/auth/forgot-password", post(forgot_password))
        .route(
            "/api/auth/reset-password/{token}",
            get(reset_page).post(reset_password),
        )
        .route("/api/auth/reset-password", post(reset_password_in_body))
        .route("/api/auth/change-password", post(change_password))
        .route("/api/auth/invalidate-all-jwt-tokens", post(invalidate_all))
        .route("/api/auth/verify-jwt-token", post(verify_jwt_token))
        .merge(social::routes())
        .with_state(state)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshBody {
    #[serde(default)]
    refresh_token: String,
}

impl RefreshBody {
    fn token(&self) -> ApiResult<&str> {
        match self.refresh_token.trim() {
            "" => Err(ApiError::invalid_field(
                "refreshToken",
                "refreshToken is required",
            )),
            token => Ok(token),
        }
    }
}

#[derive(Deserialize)]
struct EmailBody {
    #[serde(default)]
    email: String,
}

impl EmailBody {
    fn email(&self) -> ApiResult<&str> {
        match self.email.trim() {
            "" => Err(ApiError::invalid_field("email", "email is required")),
            email => Ok(email),
        }
    }
}

/// Both shapes clients rely on: the pair at the top level and under `tokens`.
fn with_tokens(mut data: serde_json::Value, pair: TokenPair) -> serde_json::Value {
    data["accessToken"] = json!(pair.access_token);
    data["refreshToken"] = json!(pair.refresh_token);
    data["tokens"] = json!(pair);
    data
}

async fn register(
    State(state): State<AppState>,
    source: SourceIp,
    ValidJson(input): ValidJson<Registration>,
) -> ApiResult<impl IntoResponse> {
    limits::take(&state, Action::RegisterSource, &source.0).await?;
    let user = accounts::register(&state, input).await?;
    let user = OwnUser::from_record(&user, &state.media).await;
    Ok(created(
        "User registered successfully. Please check your email to verify your account.",
        json!({ "user": user }),
    ))
}

async fn login(
    State(state): State<AppState>,
    source: SourceIp,
    ApiJson(input): ApiJson<Login>,
) -> ApiResult<impl IntoResponse> {
    let (user, pair) = accounts::login(&state, input, &source.0).await?;
    let user = OwnUser::from_record(&user, &state.media).await;
    Ok(ok(
        "Login successful",
        with_tokens(json!({ "user": user }), pair),
    ))
}

async fn refresh_token(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshBody>,
) -> ApiResult<impl IntoResponse> {
    let pair = accounts::refresh(&state, body.token()?).await?;
    Ok(ok(
        "Token refreshed successfully",
        with_tokens(json!({}), pair),
    ))
}

async fn logout(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<RefreshBody>,
) -> ApiResult<impl IntoResponse> {
    accounts::logout(&state, &auth, body.token()?).await?;
    Ok(done("Logout successful"))
}

/// The mail link's page: a button that POSTs (opening the link spends nothing).
async fn verify_page(Path(_token): Path<String>) -> Response {
    pages::verify_form()
}

/// JSON clients get the envelope; the page's form gets a page with the outcome.
async fn verify_email(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let outcome = accounts::verify_email_link(&state, &token).await;
    if pages::is_form_post(&headers) {
        return Ok(pages::verify_outcome(outcome.map(|user| user.username)));
    }
    let user = OwnUser::from_record(&outcome?, &state.media).await;
    Ok(ok("Email verified successfully", json!({ "user": user })).into_response())
}

#[derive(Deserialize)]
struct CodeBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    code: String,
}

async fn verify_by_code(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CodeBody>,
) -> ApiResult<impl IntoResponse> {
    let email = EmailBody { email: body.email };
    let user = accounts::verify_email_code(&state, email.email()?, &body.code).await?;
    let user = OwnUser::from_record(&user, &state.media).await;
    Ok(ok("Email verified successfully", json!({ "user": user })))
}

const RESEND_ANSWER: &str =
    "If that email belongs to an unverified account, a verification email has been sent";
const FORGOT_ANSWER: &str =
    "If that email belongs to an account, a password reset email has been sent";

async fn resend_verification(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<EmailBody>,
) -> ApiResult<impl IntoResponse> {
    accounts::resend_verification(&state, body.email()?).await?;
    Ok(done(RESEND_ANSWER))
}

async fn forgot_password(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<EmailBody>,
) -> ApiResult<impl IntoResponse> {
    accounts::forgot_password(&state, body.email()?).await?;
    Ok(done(FORGOT_ANSWER))
}

/// The mail link's page: the new-password form.
async fn reset_page(Path(_token): Path<String>) -> Response {
    pages::reset_form(StatusCode::OK, &[])
}

const RESET_ANSWER: &str = "Password reset successfully";

/// `{password, confirmPassword}` as JSON, or the reset page's form (answered with a page).
async fn reset_password(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: Request,
) -> ApiResult<Response> {
    if !pages::is_form_post(request.headers()) {
        let ValidJson(input) = ValidJson::<PasswordReset>::from_request(request, &state).await?;
        accounts::reset_password(&state, &token, input).await?;
        return Ok(done(RESET_ANSWER).into_response());
    }
    let input = match axum::Form::<PasswordReset>::from_request(request, &state).await {
        Ok(axum::Form(input)) => input,
        Err(_) => {
            let problem = "Fill in both password fields.".to_string();
            return Ok(pages::reset_form(StatusCode::BAD_REQUEST, &[problem]));
        }
    };
    if let Err(ApiError::BadRequest { message, errors }) = input.validate() {
        let problems: Vec<String> = match errors {
            Some(errors) => errors
                .iter()
                .map(|(field, reason)| pages::plain_words(field, reason))
                .collect(),
            None => vec![message],
        };
        return Ok(pages::reset_form(StatusCode::BAD_REQUEST, &problems));
    }
    let outcome = accounts::reset_password(&state, &token, input).await;
    Ok(pages::reset_outcome(outcome))
}

#[derive(Deserialize)]
struct ResetInBody {
    #[serde(default)]
    token: String,
    #[serde(flatten)]
    reset: PasswordReset,
}

/// `POST /reset-password {token, password, confirmPassword}`: the spelling live clients use.
async fn reset_password_in_body(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ResetInBody>,
) -> ApiResult<impl IntoResponse> {
    let token = body.token.trim();
    if token.is_empty() {
        return Err(ApiError::invalid_field("token", "token is required"));
    }
    body.reset.validate()?;
    accounts::reset_password(&state, token, body.reset).await?;
    Ok(done(RESET_ANSWER))
}

async fn change_password(
    State(state): State<AppState>,
    auth: AuthUser,
    ValidJson(input): ValidJson<PasswordChange>,
) -> ApiResult<impl IntoResponse> {
    let pair = accounts::change_password(&state, &auth, input).await?;
    Ok(ok(
        "Password changed successfully",
        with_tokens(json!({}), pair),
    ))
}

async fn invalidate_all(
    State(state): State<AppState>,
    auth: AuthUser,
) -> ApiResult<impl IntoResponse> {
    accounts::invalidate_all(&state, &auth).await?;
    Ok(done("All JWT tokens have been invalidated"))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct VerifyJwtBody {
    #[serde(default)]
    refresh_token: bool,
    #[serde(default)]
    refresh_user: bool,
}

/// The body is optional: an empty POST just checks the token.
async fn verify_jwt_token(
    State(state): State<AppState>,
    auth: AuthUser,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let body: VerifyJwtBody = if body.iter().all(u8::is_ascii_whitespace) {
        VerifyJwtBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|_| ApiError::bad_request("Malformed JSON body"))?
    };
    let mut data = json!({ "valid": true });
    if body.refresh_user {
        data["user"] = json!(OwnUser::from_record(&auth.user, &state.media).await);
    }
    if body.refresh_token {
        let pair = accounts::open_session(&state, &auth.user).await?;
        data = with_tokens(data, pair);
    }
    Ok(ok("Token is valid", data))
}

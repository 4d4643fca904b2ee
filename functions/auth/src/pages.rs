//! The small HTML pages behind the mail links when no client app is configured (seed 000's
//! verify link and reset form). Opening a link never spends its token: mail scanners prefetch
//! links, so the verify page confirms with a button that POSTs, and the reset page is a form.
//! Plain HTML forms posting back to the same URL: no script, escaped output, a strict CSP.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use shared::ApiError;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                   base-uri 'none'; frame-ancestors 'none'";

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;\
padding:0 1rem;color:#222}h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}\
input{width:100%;padding:.5rem;box-sizing:border-box}button{margin-top:1rem;padding:.6rem 1.2rem;\
font-size:1rem}.error{color:#b00020}.ok{color:#0a7d2c}";

/// Whether a POST came from one of these pages' forms (and so wants a page back, not JSON).
pub fn is_form_post(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page; `body` is already-escaped HTML.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{title}</title><style>{STYLE}</style></head><body><h1>{title}</h1>{body}</body></html>",
        title = escape(title),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The token is in the URL: never hand it to another site.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn paragraph(class: &str, text: &str) -> String {
    format!("<p class=\"{class}\" role=\"status\">{}</p>", escape(text))
}

/// What a failed verify or reset tells a person, in plain words.
fn failure_text(err: &ApiError, what: &str) -> String {
    match err {
        ApiError::BadRequest { .. } => format!(
            "This {what} link is invalid, has expired, or was already used. \
             Ask for a new one and open the newest mail."
        ),
        ApiError::TooManyRequests { .. } => {
            "Too many attempts. Wait a little and try again.".into()
        }
        ApiError::Unavailable { .. } => {
            "The service is busy right now. Try again in a moment.".into()
        }
        _ => "Something went wrong on our side. Try again later.".into(),
    }
}

pub fn verify_form() -> Response {
    page(
        StatusCode::OK,
        "Verify your email",
        "<p>Press the button to confirm this email address for your account.</p>\
         <form method=\"post\"><button type=\"submit\">Verify my email</button></form>",
    )
}

pub fn verify_outcome(outcome: Result<String, ApiError>) -> Response {
    match outcome {
        Ok(username) => page(
            StatusCode::OK,
            "Email verified",
            &paragraph(
                "ok",
                &format!("Thank you, {username}: your email is verified. You can sign in now."),
            ),
        ),
        Err(err) => page(
            err.status(),
            "Email not verified",
            &paragraph("error", &failure_text(&err, "verification")),
        ),
    }
}

/// A field error of the reset form as a person reads it.
pub fn plain_words(field: &str, reason: &str) -> String {
    match field {
        "confirmPassword" => "The two passwords are not the same: type the new one twice.".into(),
        "password" => format!("The new password is not accepted: {reason}."),
        _ => reason.to_string(),
    }
}

/// The reset form, with what was wrong with the last try (already plain words) above it.
pub fn reset_form(status: StatusCode, problems: &[String]) -> Response {
    let problems: String = problems
        .iter()
        .map(|p| paragraph("error", p))
        .collect::<Vec<_>>()
        .join("");
    page(
        status,
        "Choose a new password",
        &format!(
            "{problems}<form method=\"post\">\
             <label for=\"password\">New password (at least 8 characters)</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required>\
             <label for=\"confirmPassword\">Repeat the new password</label>\
             <input id=\"confirmPassword\" name=\"confirmPassword\" type=\"password\" autocomplete=\"new-password\" required>\
             <button type=\"submit\">Change my password</button></form>"
        ),
    )
}

pub fn reset_outcome(outcome: Result<(), ApiError>) -> Response {
    match outcome {
        Ok(()) => page(
            StatusCode::OK,
            "Password changed",
            &paragraph(
                "ok",
                "Your password has been changed and every session was signed out. \
                 Sign in with your new password.",
            ),
        ),
        Err(err) => page(
            err.status(),
            "Password not changed",
            &paragraph("error", &failure_text(&err, "reset")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }
}

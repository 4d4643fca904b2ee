//! The black-box suite: one binary, real HTTP against the local stack, moto behind it.

mod auth;
mod health;
mod lambda_events;
mod messages;
mod realtime;
mod template;
mod tokens;
mod ws_events;

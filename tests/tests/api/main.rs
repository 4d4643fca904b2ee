//! The black-box suite: one binary, real HTTP against the local stack, moto behind it.

mod auth;
mod health;
mod lambda_events;
mod openapi;
mod template;
mod tokens;

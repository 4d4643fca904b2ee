//! The black-box suite: one binary, real HTTP against the local stack, moto behind it.

mod account_deletion;
mod auth;
mod blocks;
mod comments;
mod feeds;
mod follow;
mod health;
mod lambda_events;
mod posts;
mod posts_support;
mod search;
mod search_history;
mod social_support;
mod template;
mod tokens;
mod uploads;
mod users;

//! Administration (seeds 003, 004): roles and permissions, the user directory with its filters,
//! account changes by admins, content moderation, reports and the append-only audit trail.

pub mod audit;
pub mod directory;
pub mod manage;
pub mod moderation;
pub mod permissions;
pub mod reports;

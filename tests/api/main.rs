//! End-to-end tests: the real app over real HTTP, each test on its own
//! fresh database (SQLite, or PostgreSQL with `TEST_DATABASE_URL`).

mod support;

mod accounts;
mod agreements;
mod architecture;
mod artisans;
mod auth;
mod authorization;
mod campaigns;
mod collections;
mod collectives;
mod conventions;
mod database_queue;
mod directory;
mod events;
mod exchanges;
mod expenses;
mod impact;
mod matching;
mod me;
mod notifications;
mod openapi;
mod organizations;
mod partnerships;
mod programs;
mod rate_limits;
mod receiver;
mod sales;
mod secrets;
mod seed;
mod shares;
mod slow_clients;
mod visibility;
mod webhooks;
mod workshops;

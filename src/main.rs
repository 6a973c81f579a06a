//! `artisan-commons`: the server and its operator commands.
//!
//! With no subcommand it serves (`serve`). Configuration comes from the
//! environment (see README); with none at all it runs on an embedded SQLite
//! database in `./data`.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use actix_web::web;
use api::auth::keys::{issue_api_key, Keyring};
use api::auth::password::Passwords;
use api::config::{AppEnv, Config, LogFormat};
use api::state::AppState;
use clap::{Parser, Subcommand};
use domain::account::{AdminAction, Role};
use domain::api_key::{KeySpec, Scope};
use domain::organization::OrganizationFields;
use domain::profile::ProfileFields;
use domain::text::{DisplayName, Email, Password};
use persistence::{organizations, users, AnyConnection, Pool, PoolOptions};

mod seed;

#[derive(Parser)]
#[command(
    name = "artisan-commons",
    version,
    about = "Artisan Commons API server"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Rebuild the skill-matching index from the profiles.
    Reindex,
    /// Create an admin account; the password is read from standard input.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Administrator")]
        display_name: String,
    },
    /// Register a partner organization and print its id.
    CreateOrganization {
        #[arg(long)]
        name: String,
        #[arg(long)]
        country: Option<String>,
        #[arg(long)]
        website: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Issue an API key for an organization and print it (only the key).
    CreateApiKey {
        #[arg(long)]
        organization: String,
        /// Comma-separated: directory:read, programs:write, impact:read, webhooks:manage, partnerships:read.
        #[arg(long)]
        scopes: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Suspend an account: its sessions end and it is refused everywhere
    /// until reinstated (recorded in the admin audit log).
    SuspendUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        reason: String,
    },
    /// Reinstate a suspended account (recorded in the admin audit log).
    ReinstateUser {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Fill the database with a realistic demo data set.
    SeedDemo {
        /// How many artisans to create (large numbers are for benchmarks).
        #[arg(long, default_value_t = 24)]
        artisans: usize,
    },
    /// Print the OpenAPI document (YAML), exactly as committed.
    Openapi,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command.unwrap_or(Command::Serve)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
        LogFormat::Pretty => builder.init(),
    }
}

/// A pool of `size` connections to the configured database.
fn pool_of(config: &Config, size: u32) -> Pool {
    persistence::connect_pool(
        &config.database_url,
        &PoolOptions {
            max_size: size,
            connection_timeout: Duration::from_secs(5),
        },
    )
}

/// Connections of the background work (webhook deliveries, purging
/// expired idempotency keys), kept apart from the requests' pool so that
/// requests taking turns at theirs never wait behind it.
const BACKGROUND_CONNECTIONS: u32 = 2;

fn open_database(config: &Config) -> Result<Pool, String> {
    config.prepare_data_dir().map_err(|e| e.to_string())?;
    let pool = pool_of(config, config.db_pool_size);
    let mut conn = pool
        .get()
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    let applied =
        persistence::run_migrations(&mut conn).map_err(|e| format!("migrations failed: {e}"))?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(pool)
}

fn with_connection<T>(
    config: &Config,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, String>,
) -> Result<T, String> {
    let pool = open_database(config)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    f(&mut conn)
}

fn run(command: Command) -> Result<(), String> {
    if let Command::Openapi = command {
        let yaml = api::openapi_yaml()?;
        print!("{yaml}");
        return std::io::stdout().flush().map_err(|e| e.to_string());
    }
    let config = Config::from_env().map_err(|e| e.to_string())?;
    init_logging(config.log_format);
    match command {
        Command::Serve => serve(config),
        Command::Migrate => {
            open_database(&config)?;
            println!("migrations are up to date");
            Ok(())
        }
        Command::CreateAdmin {
            email,
            display_name,
        } => create_admin(&config, &email, &display_name),
        Command::CreateOrganization {
            name,
            country,
            website,
            description,
        } => {
            let fields = OrganizationFields::parse(
                &name,
                website.as_deref(),
                country.as_deref(),
                &description,
            )
            .map_err(rule_broken)?;
            let new = organizations::NewOrganization {
                name: fields.name,
                website: fields.website,
                country: fields.country,
                description: fields.description,
            };
            let row = with_connection(&config, |conn| {
                organizations::create(conn, new).map_err(refused)
            })?;
            println!("{}", row.id);
            Ok(())
        }
        Command::CreateApiKey {
            organization,
            scopes,
            name,
        } => {
            let scopes = scopes
                .split(',')
                .map(|s| s.trim().parse::<Scope>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("--scopes: {e}; use directory:read, programs:write, impact:read, webhooks:manage, partnerships:read"))?;
            let spec =
                KeySpec::parse(&name, scopes, None, persistence::now()).map_err(rule_broken)?;
            let minted = Keyring::derive(config.jwt_secret.expose()).mint_api_key();
            with_connection(&config, |conn| {
                issue_api_key(conn, &organization, &minted, spec).map_err(|e| e.problem().detail)
            })?;
            println!("{}", minted.secret.expose());
            Ok(())
        }
        Command::SuspendUser { email, reason } => {
            let reason =
                domain::account::reason(&reason).map_err(|e| format!("--reason {}", e.message))?;
            set_suspension(&config, &email, AdminAction::Suspend, &reason)
        }
        Command::ReinstateUser { email, reason } => {
            set_suspension(&config, &email, AdminAction::Reinstate, reason.trim())
        }
        Command::Reindex => with_connection(&config, |conn| {
            let bitmaps = persistence::skill_index::rebuild(conn).map_err(|e| e.to_string())?;
            println!("matching index rebuilt: {bitmaps} bitmaps");
            Ok(())
        }),
        Command::SeedDemo { artisans } => {
            if config.app_env == AppEnv::Production {
                return Err("seed-demo refuses to run with APP_ENV=production: it creates accounts whose passwords are published".to_owned());
            }
            let passwords = Passwords::new().map_err(|e| e.to_string())?;
            let keys = Keyring::derive(config.jwt_secret.expose());
            with_connection(&config, |conn| seed::run(conn, &passwords, &keys, artisans))
        }
        Command::Openapi => Ok(()),
    }
}

fn set_suspension(
    config: &Config,
    email: &str,
    action: AdminAction,
    reason: &str,
) -> Result<(), String> {
    let email = Email::parse("email", email).map_err(|e| format!("--email {}", e.message))?;
    let user = with_connection(config, |conn| {
        let user = users::find_by_email(conn, &email)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "no account has this e-mail address".to_owned())?;
        users::set_suspension(
            conn,
            &user.id,
            users::AdminActor::CommandLine,
            action,
            reason,
        )
        .map(|(user, _)| user)
        .map_err(refused)
    })?;
    println!("{} {}", user.id, user.status);
    Ok(())
}

/// Broken rules of a command's arguments, one per line.
fn rule_broken(errors: domain::FieldErrors) -> String {
    errors
        .0
        .iter()
        .map(|e| format!("--{} {}", e.field.replace('_', "-"), e.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A storage outcome in the words the API would use.
fn refused(error: persistence::StoreError) -> String {
    api::error::ApiError::from(error).problem().detail
}

fn create_admin(config: &Config, email: &str, display_name: &str) -> Result<(), String> {
    let email = Email::parse("email", email).map_err(|e| format!("--email {}", e.message))?;
    let display_name = DisplayName::parse("display_name", display_name)
        .map_err(|e| format!("--display-name {}", e.message))?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = Password::parse("password", line.trim_end_matches(['\r', '\n']))
        .map_err(|e| format!("password {}", e.message))?;
    let passwords = Passwords::new().map_err(|e| e.to_string())?;
    let password_hash = passwords
        .hash(password.expose())
        .map_err(|e| e.to_string())?;
    let (user, _) = with_connection(config, |conn| {
        users::create_account(
            conn,
            users::NewAccount {
                email: &email,
                password_hash,
                role: Role::Admin,
                profile: ProfileFields::new_member(display_name),
            },
        )
        .map_err(refused)
    })?;
    println!("{}", user.id);
    Ok(())
}

fn serve(config: Config) -> Result<(), String> {
    let pool = open_database(&config)?;
    let state = web::Data::new(AppState::new(pool.clone(), &config).map_err(|e| e.to_string())?);
    let background = pool_of(&config, BACKGROUND_CONNECTIONS);
    let worker = api::webhooks::Worker::new(background.clone(), &config, Default::default());
    tracing::info!(
        bind = %config.bind_addr,
        database = if persistence::db::is_postgres_url(&config.database_url) { "postgresql" } else { "sqlite" },
        env = ?config.app_env,
        webhooks_allow_private_networks = config.webhooks_allow_private_networks,
        "starting artisan-commons"
    );
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let maintenance = actix_web::rt::spawn(purge_idempotency_keys(background));
        let delivery = actix_web::rt::spawn(worker.run());
        let listener = std::net::TcpListener::bind(&config.bind_addr)
            .map_err(|e| format!("cannot listen on {}: {e}", config.bind_addr))?;
        let runtime = api::Runtime {
            workers: Some(config.http_workers),
            handle_signals: true,
        };
        let server = api::server(state, listener, &runtime).map_err(|e| e.to_string())?;
        // HttpServer stops accepting on SIGTERM/SIGINT and waits for
        // in-flight requests (up to the shutdown timeout) before returning.
        let result = server.await.map_err(|e| e.to_string());
        maintenance.abort();
        delivery.abort();
        tracing::info!("stopped");
        result
    })
}

/// Deletes idempotency keys past their retention, once an hour.
async fn purge_idempotency_keys(pool: Pool) {
    let mut interval = actix_web::rt::time::interval(Duration::from_secs(3600));
    loop {
        interval.tick().await;
        let pool = pool.clone();
        let purged = web::block(move || {
            let mut conn = persistence::db::checkout(&pool)?;
            persistence::idempotency::purge_expired(&mut conn)
        })
        .await;
        match purged {
            Ok(Ok(n)) if n > 0 => tracing::info!(purged = n, "expired idempotency keys deleted"),
            Ok(Err(e)) => tracing::warn!(error = %e, "idempotency purge failed"),
            _ => {}
        }
    }
}

//! `jobtour`: the server and its tasks.

use clap::{Parser, Subcommand};
use jobtour_api::config::{DbSettings, LogFormat, ServeSettings};
use jobtour_api::db::Db;
use jobtour_api::routes::users::{NewUser, create_user};
use jobtour_api::startup::Application;
use jobtour_api::{demo, openapi, privacy, telemetry};
use std::io::Read;
use std::process::ExitCode;
use uuid::Uuid;

/// A recruitment campaign on wheels: the jobtour API server and its tasks.
///
/// Every setting can be given as a flag or as the environment variable shown.
#[derive(Debug, Parser)]
#[command(name = "jobtour", version, about)]
struct Cli {
    #[command(flatten)]
    db: DbSettings,

    /// Log format.
    #[arg(
        long,
        env = "JOBTOUR_LOG_FORMAT",
        value_name = "JOBTOUR_LOG_FORMAT",
        value_enum,
        default_value = "pretty",
        global = true
    )]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (applies pending migrations first, unless --no-migrate).
    Serve(ServeSettings),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage staff users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Load the demo campaign (idempotent): a published tour through five cities of Lorraine,
    /// its partner organisations and a demo organiser.
    Demo {
        /// Also load a national campaign of this many open positions (over up to 50 tours and
        /// 1 000 employers, with an application for every ten), for benchmarks. Idempotent: a
        /// second run adds only what is missing.
        #[arg(long, value_name = "N")]
        scale: Option<usize>,
    },
    /// Print the OpenAPI document (YAML), as committed in openapi.yaml.
    Openapi,
    /// Erase the personal data of candidates whose tour ended, and of enquirers whose enquiry
    /// was closed, more than their retention periods ago (the server also does it daily).
    /// Prints counts, no personal data.
    Purge {
        /// The moment to purge as of (RFC 3339); now by default.
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::FixedOffset>>,
        /// Count what would be erased, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Months after a tour ends before its candidates' personal data is erased.
        #[arg(long, env = "JOBTOUR_RETENTION_MONTHS", value_name = "JOBTOUR_RETENTION_MONTHS", default_value_t = 24,
              value_parser = clap::value_parser!(u32).range(1..=120))]
        retention_months: u32,
        /// Months after an enquiry is closed before its enquirer's personal data is erased.
        #[arg(long, env = "JOBTOUR_ENQUIRY_RETENTION_MONTHS", value_name = "JOBTOUR_ENQUIRY_RETENTION_MONTHS",
              default_value_t = 36, value_parser = clap::value_parser!(u32).range(1..=120))]
        enquiry_retention_months: u32,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a staff user, e.g. the first organiser.
    Create {
        #[arg(long)]
        email: String,
        /// The password; or set JOBTOUR_PASSWORD, or pass --password-stdin.
        #[arg(long, env = "JOBTOUR_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Read the password from standard input (first line).
        #[arg(long, conflicts_with = "password")]
        password_stdin: bool,
        #[arg(long, value_parser = ["organiser", "partner"])]
        role: String,
        /// The organisation a partner acts for.
        #[arg(long)]
        organisation: Option<Uuid>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        // A bulk load's statements of 1 000 rows are slow by design: sqlx would warn of each
        // with its whole text (megabytes for `--scale 1000000`).
        Command::Demo { .. } => telemetry::init_with(cli.log_format, "info,sqlx=error,sea_orm=warn"),
        _ => telemetry::init(cli.log_format),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{e:#}")),
    }
}

fn fail(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(settings) => {
            let app = Application::build(&cli.db, settings.clone()).await?;
            if settings.demo {
                print_demo(app.db()).await?;
            }
            tracing::info!(address = %settings.bind.ip(), port = app.port(), backend = ?app.db().backend(), "serving");
            app.run_until_stopped().await?;
            tracing::info!("stopped");
        }
        Command::Migrate => {
            let db = Db::connect(&cli.db).await?;
            db.migrate().await?;
            println!("migrations applied ({:?})", db.backend());
        }
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    password,
                    password_stdin,
                    role,
                    organisation,
                },
        } => {
            let password = match (password, password_stdin) {
                (_, true) => {
                    let mut line = String::new();
                    std::io::stdin().read_to_string(&mut line)?;
                    line.lines().next().unwrap_or_default().to_owned()
                }
                (Some(p), false) => p,
                (None, false) => {
                    anyhow::bail!("give the password with --password, JOBTOUR_PASSWORD or --password-stdin")
                }
            };
            let db = Db::connect(&cli.db).await?;
            db.migrate().await?;
            let user = create_user(
                &db,
                NewUser {
                    email,
                    password,
                    role,
                    organisation_id: organisation,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!("created {} {} ({})", user.role, user.email, user.id);
        }
        Command::Demo { scale } => {
            let db = Db::connect(&cli.db).await?;
            db.migrate().await?;
            let club = print_demo(&db).await?;
            if let Some(n) = scale {
                let first_day = demo::demo_start(chrono::Utc::now().date_naive());
                let loaded = demo::scale::load(&db, n, club, first_day)
                    .await
                    .map_err(|e| anyhow::anyhow!(describe(&e)))?;
                println!(
                    "scale {n}: added {} tour(s), {} employer(s), {} position(s), {} application(s)",
                    loaded.tours, loaded.employers, loaded.positions, loaded.applications
                );
            }
        }
        Command::Openapi => print!("{}", openapi::yaml()),
        Command::Purge {
            now,
            dry_run,
            retention_months,
            enquiry_retention_months,
        } => {
            let db = Db::connect(&cli.db).await?;
            db.migrate().await?;
            let now = now.map_or_else(jobtour_api::repo::now, |t| t.to_utc());
            let purged = privacy::purge(&db, now, retention_months, dry_run)
                .await
                .map_err(|e| anyhow::anyhow!(describe(&e)))?;
            let verb = if dry_run { "would erase" } else { "erased" };
            println!(
                "{verb} the personal data of {} application(s) of tours ended more than {retention_months} months before {}",
                purged.applications,
                now.format("%Y-%m-%d")
            );
            let enquiries = privacy::purge_enquiries(&db, now, enquiry_retention_months, dry_run)
                .await
                .map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!(
                "{verb} the personal data of {enquiries} {} closed more than {enquiry_retention_months} months before {}",
                if enquiries == 1 { "enquiry" } else { "enquiries" },
                now.format("%Y-%m-%d")
            );
        }
    }
    Ok(())
}

/// Loads the demo and says what it did; answers the organising club's id.
async fn print_demo(db: &Db) -> anyhow::Result<uuid::Uuid> {
    let report = demo::load(db).await.map_err(|e| anyhow::anyhow!(describe(&e)))?;
    for line in &report.created {
        println!("created {line}");
    }
    if !report.found.is_empty() {
        println!("already there: {} item(s)", report.found.len());
    }
    if let Some(id) = report.tour_id {
        println!("demo tour: /api/v1/tours/{id}");
    }
    println!(
        "demo organiser: {} / {}",
        demo::ORGANISER_EMAIL,
        demo::ORGANISER_PASSWORD
    );
    report
        .club_id
        .ok_or_else(|| anyhow::anyhow!("the demo has no organising club"))
}

/// A problem as one line for the terminal.
fn describe(e: &jobtour_api::error::ApiError) -> String {
    let p = e.problem();
    let fields: Vec<String> = p.errors.iter().map(|f| format!("{}: {}", f.field, f.message)).collect();
    if fields.is_empty() {
        p.detail
    } else {
        format!("{} ({})", p.detail, fields.join("; "))
    }
}

//! `custos serve`: the HTTP service on the embedded default.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use custos_core::api_keys::{self, KeySpec};
use custos_core::consent::Ledger;
use custos_core::policy_change::{PublishOptions, publish_version};
use custos_core::tenant::ensure_tenant;
use custos_core::vault::Vault;
use custos_server::{AppState, RateLimiter};
use custos_store::Store;

use crate::InputError;
use crate::datadir::{DEFAULT_TENANT, DataDir, has_admin_key, system_clock, tenant};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where the database, key file and policy live.
    #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
    pub data_dir: PathBuf,
    /// The policy file to enforce (default: policy.toml in the data directory).
    #[arg(long, env = "CUSTOS_POLICY")]
    pub policy: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "CUSTOS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Database: a SQLite file path or sqlite:///path (default: custos.db in the data directory).
    #[arg(long, env = "CUSTOS_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Requests per second allowed per API key (bursts up to twice this).
    #[arg(long, env = "CUSTOS_RATE_LIMIT", default_value_t = 2000)]
    pub rate_limit: u32,
    /// Sync every commit to disk (SQLite synchronous=FULL): audit entries survive power
    /// loss, at about twice the write cost (docs/benchmarks.md).
    #[arg(long, env = "CUSTOS_DURABLE_COMMITS")]
    pub durable_commits: bool,
    /// The key file (default: keys.json in the data directory). Several instances on
    /// one PostgreSQL must share one key file: ciphertexts are bound to its keys.
    #[arg(long, env = "CUSTOS_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Where notice files are written (default: outbox/ in the data directory).
    /// Instances sharing a database should share it too; each pass of the delivery
    /// job is run by one instance only (a lease in the database).
    #[arg(long, env = "CUSTOS_OUTBOX_DIR")]
    pub outbox_dir: Option<PathBuf>,
    /// Send notices by email through this server instead of writing files:
    /// smtp://user:password@host:587 (STARTTLS) or smtps://…:465. Never printed.
    #[arg(
        long,
        env = "CUSTOS_SMTP_URL",
        hide_env_values = true,
        requires = "mail_from"
    )]
    pub smtp_url: Option<String>,
    /// The sender of notice emails (with --smtp-url).
    #[arg(long, env = "CUSTOS_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Where notices addressed to the operator go by email (breach deadlines for the
    /// authority, requests to pass on to a controller).
    #[arg(long, env = "CUSTOS_OPERATOR_EMAIL")]
    pub operator_email: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM), with HSTS; reloaded on SIGHUP.
    #[arg(long, env = "CUSTOS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "CUSTOS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Behind a reverse proxy: the header it sets to the client's address
    /// (`X-Forwarded-For`: its last entry; `X-Real-IP`). Per-client limits key on it;
    /// set it only when every request passes through that proxy, which overwrites it.
    /// Without it the TCP peer is the client.
    #[arg(long, env = "CUSTOS_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
    /// Seconds a client has to send a request's headers (also the longest an idle
    /// kept-alive connection stays open).
    #[arg(long, env = "CUSTOS_HEADER_READ_TIMEOUT", default_value_t = 10)]
    pub header_read_timeout: u64,
    /// Seconds a client has to send a request's body, counted from its headers.
    #[arg(long, env = "CUSTOS_BODY_READ_TIMEOUT", default_value_t = 30)]
    pub body_read_timeout: u64,
    /// Connections one client address may hold at once (not applied with
    /// --client-ip-header: all connections then come from the proxy).
    #[arg(long, env = "CUSTOS_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 64)]
    pub max_connections_per_client: usize,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    // Logs go to stderr; they carry ids, routes and codes, never personal data (docs/LOGGING.md).
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUSTOS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    // A bad certificate pair is the operator's input error: refused before anything starts.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            Some(custos_server::tls::ReloadingCert::load(cert, key).map_err(|e| InputError(e.0))?)
        }
        _ => None,
    };
    let clock = system_clock();
    let dir = DataDir::new(&args.data_dir)
        .with_key_file(args.key_file.clone())
        .creating();
    dir.init(clock.as_ref())?;
    // The lock guards a local SQLite directory (one server per file). On PostgreSQL
    // several instances share the database, each with a data directory of its own.
    let _lock = match dir.named_database(args.database_url.as_deref()) {
        crate::datadir::Database::Sqlite(_) => Some(dir.lock("cannot start")?),
        crate::datadir::Database::Postgres(_) => None,
    };
    let options = custos_store_sqlite::SqliteOptions {
        durable_commits: args.durable_commits,
        ..custos_store_sqlite::SqliteOptions::default()
    };
    let store = dir.store_with(args.database_url.as_deref(), options)?;
    dir.ensure_key_file(&store, clock.as_ref())?;
    let (_, keys) = dir.key_ring()?;
    let tenant = tenant(DEFAULT_TENANT)?;
    let now = clock.now();
    ensure_tenant(store.as_ref(), &tenant, "Default tenant", now)?;

    let policy_path = args.policy.clone().unwrap_or_else(|| dir.policy());
    let text = std::fs::read_to_string(&policy_path)
        .map_err(|e| InputError(format!("cannot read {}: {e}", policy_path.display())))?;
    let latest = store
        .policy_versions(&tenant)?
        .into_iter()
        .max_by_key(|v| v.number);
    match latest {
        // The first version: nobody was told anything before, so nothing is owed.
        None => {
            let published = publish_version(
                store.as_ref(),
                &tenant,
                &text,
                &policy_path.display().to_string(),
                now,
                now,
                PublishOptions {
                    allow_short_notice: true,
                },
            )
            .map_err(crate::publish_cmd::version_error)?;
            eprintln!(
                "published {} as policy version {}",
                policy_path.display(),
                published.number
            );
        }
        // A changed file would skip the notices people are owed: it goes through
        // `custos policy publish`, which writes them and checks the date.
        Some(v) if v.text != text => {
            return Err(InputError(format!(
                "{} differs from the published policy version {}: publish it with                  `custos policy publish {} --effective-at <RFC 3339 date>` (which writes the                  change notices people are owed), then start again",
                policy_path.display(),
                v.number,
                policy_path.display()
            ))
            .into());
        }
        Some(_) => {}
    }

    let issued = if has_admin_key(store.as_ref(), &tenant)? {
        None
    } else {
        let spec = KeySpec {
            label: "first admin key".into(),
            role: "admin".into(),
            purposes: Vec::new(),
            admin: true,
        };
        Some(api_keys::issue(
            store.as_ref(),
            &keys,
            &tenant,
            &spec,
            "operator",
            now,
        )?)
    };

    let jobs_store = Arc::clone(&store);
    let jobs_clock = Arc::clone(&clock);
    let checkpoint_job = crate::checkpoint_job::sign_checkpoints(
        Arc::clone(&store),
        Arc::clone(&keys),
        Arc::clone(&clock),
        crate::external_checkpoints::file_path(&dir, args.database_url.as_deref()),
    );
    let retention_job = crate::retention_job::sweep_retention(
        Arc::clone(&store),
        Arc::clone(&keys),
        Arc::clone(&clock),
    );
    let vault = Arc::new(Vault::new(
        Arc::clone(&store),
        keys,
        clock,
        Arc::new(Ledger::new(Arc::clone(&store))),
    ));
    let sink: Arc<dyn custos_core::rights::Sink> = match &args.smtp_url {
        Some(url) => {
            let config = crate::smtp_sink::SmtpConfig::new(
                url,
                args.mail_from.as_deref().unwrap_or_default(),
                args.operator_email.as_deref(),
            )
            .map_err(InputError)?;
            eprintln!("notices are sent by email via {}", config.server());
            Arc::new(crate::smtp_sink::SmtpSink::new(config, Arc::clone(&vault)))
        }
        None => Arc::new(crate::outbox_sink::FileSink::new(
            args.outbox_dir
                .clone()
                .unwrap_or_else(|| dir.root.join("outbox")),
        )),
    };
    let contracts_job = crate::contracts_job::tick_contracts(Arc::clone(&vault));
    let client_ip_header = args
        .client_ip_header
        .as_deref()
        .map(|h| {
            custos_server::HeaderName::from_bytes(h.trim().as_bytes())
                .map_err(|_| InputError(format!("--client-ip-header: not a header name: {h}")))
        })
        .transpose()?;
    let conn_limits = custos_server::ConnLimits {
        header_read_timeout: std::time::Duration::from_secs(args.header_read_timeout.max(1)),
        body_read_timeout: std::time::Duration::from_secs(args.body_read_timeout.max(1)),
        per_client: client_ip_header
            .is_none()
            .then_some(args.max_connections_per_client.max(1)),
        ..custos_server::ConnLimits::default()
    };
    let state = AppState::behind(
        vault,
        RateLimiter::new(args.rate_limit, args.rate_limit.saturating_mul(2)),
        custos_store::TenantId::default_tenant(),
        client_ip_header,
        custos_server::EdgeLimits::default(),
    );
    let app = custos_server::router(state);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .map_err(|e| InputError(format!("cannot listen on {}: {e}", args.listen)))?;
        let addr = listener.local_addr()?;
        if tls.is_none() && !addr.ip().is_loopback() {
            warn_plain_http(addr);
        }
        banner(
            addr,
            tls.is_some(),
            &dir.root,
            issued.as_ref().map(|k| k.token.as_str()),
        );
        tokio::spawn(checkpoint_job);
        tokio::spawn(retention_job);
        tokio::spawn(contracts_job);
        tokio::spawn(deliver_notices(jobs_store, jobs_clock, sink));
        match tls {
            Some(cert) => custos_server::tls::serve_tls(listener, app, cert, conn_limits).await,
            None => custos_server::serve(listener, app, conn_limits).await,
        }
        .context("server failed")?;
        Ok::<(), anyhow::Error>(())
    })
}

/// What `serve` prints on stdout once it listens: the one place the first admin
/// token is shown. Line by line, so a supervisor reading the pipe sees each at once.
#[allow(clippy::print_stdout)]
fn banner(
    addr: std::net::SocketAddr,
    tls: bool,
    root: &std::path::Path,
    admin_token: Option<&str>,
) {
    let scheme = if tls { "https" } else { "http" };
    println!("custos is listening on {scheme}://{addr}  (API docs: {scheme}://{addr}/v1/docs)");
    println!(
        "privacy center: {scheme}://{addr}/privacy   staff console: {scheme}://{addr}/console"
    );
    println!("data directory: {}", root.display());
    if let Some(token) = admin_token {
        println!("admin API key (shown once, keep it safe): {token}");
    }
}

/// Personal data and API keys would cross the network in clear: said at startup,
/// on stderr, so the operator sees it where the server's log goes (S-5).
fn warn_plain_http(addr: std::net::SocketAddr) {
    eprintln!(
        "WARNING: serving plain HTTP on {addr}, which is not a loopback address: personal data \
         and API keys cross the network unencrypted. Start with --tls-cert FILE --tls-key FILE, \
         or listen on 127.0.0.1 behind a TLS-terminating proxy."
    );
    tracing::warn!(%addr, "plain HTTP on a non-loopback address");
}

/// Delivers owed notices every few seconds; failures are retried by the outbox's
/// backoff, so a mail outage delays notices but never drops them.
async fn deliver_notices<
    S: custos_store::Store + custos_store::RequestStore + custos_store::LeaseStore,
>(
    store: Arc<S>,
    clock: Arc<dyn custos_core::clock::Clock>,
    sink: Arc<dyn custos_core::rights::Sink>,
) {
    // Who this process is, for the `outbox` lease: each pass is run by the one
    // instance that holds it (several `custos serve` may share one database).
    let holder: Arc<str> = custos_store::Uuid::new_v4().to_string().into();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        tick.tick().await;
        let (store, clock, sink) = (Arc::clone(&store), Arc::clone(&clock), Arc::clone(&sink));
        let holder = Arc::clone(&holder);
        let pass = tokio::task::spawn_blocking(move || -> Result<(), String> {
            // Every instance, lease or not: the code files may be another's.
            sink.forget_expired(clock.now());
            // Held for longer than a pass takes; released at its end, and expired
            // if this instance dies in the middle, so another takes over.
            let claimed = store
                .try_claim(OUTBOX_JOB, &holder, clock.now(), OUTBOX_LEASE)
                .map_err(|e| e.to_string())?;
            if !claimed {
                return Ok(());
            }
            let result = deliver_pass(store.as_ref(), sink.as_ref(), clock.as_ref());
            let released = store
                .release(OUTBOX_JOB, &holder)
                .map_err(|e| e.to_string());
            result.and(released)
        })
        .await;
        if let Ok(Err(e)) = pass {
            // Per-message failures are kept on the outbox rows (last_error); this is the pass itself.
            tracing::debug!(error = %e, "notice delivery pass failed; will retry");
        }
    }
}

/// The lease every instance's delivery job claims before a pass.
const OUTBOX_JOB: &str = "outbox";
const OUTBOX_LEASE: std::time::Duration = std::time::Duration::from_secs(60);

/// One delivery pass over every tenant.
fn deliver_pass<S: custos_store::Store + custos_store::RequestStore>(
    store: &S,
    sink: &dyn custos_core::rights::Sink,
    clock: &dyn custos_core::clock::Clock,
) -> Result<(), String> {
    for t in store.tenants().map_err(|e| e.to_string())? {
        let report = custos_core::rights::deliver_due(store, sink, &t.id, clock.now(), 100)
            .map_err(|e| e.to_string())?;
        if report.delivered > 0 {
            tracing::info!(tenant = %t.id, delivered = report.delivered, "notices delivered");
        }
    }
    Ok(())
}

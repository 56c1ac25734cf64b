//! `evident serve`: webhook ingestion and the evidence API on the embedded store.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use evident_core::SystemClock;
use evident_server::tokens;
use evident_server::{Secrets, Server, ServerConfig};

use super::context;
use crate::cli::ServeArgs;
use crate::{Failure, Outcome};

/// The separation-of-duties policy from `[pipeline]` in evident.toml: the approvals a merged
/// change needs, the production environment names and the default branch's peers that may be
/// deployed (none).
fn sod_policy(config: &evident_core::Config) -> evident_server::sod::Policy {
    let mut policy = evident_server::sod::Policy::default();
    if let Some(n) = config.pipeline.min_approvals {
        policy.min_approvals = n;
    }
    if let Some(envs) = &config.pipeline.production_environments {
        policy.production_environments.clone_from(envs);
    }
    policy
}

pub fn run(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    args: &ServeArgs,
) -> Result<Outcome, Failure> {
    let config = context::project_config(config_path)?;
    let dir = context::store_dir(store_opt);
    let key = context::signing_key(&dir, &args.key)?;
    let secrets = Secrets::from_lookup(|name| std::env::var(name).ok());
    let configured = secrets.configured();
    let retain_years = config
        .ledger
        .retention_years
        .unwrap_or(7)
        .try_into()
        .unwrap_or(i16::MAX);
    let server = Server::start(ServerConfig {
        store: dir.clone(),
        database_url: context::database_url(),
        blob_url: context::blob_url(),
        key,
        secrets,
        max_body: args.max_body,
        retain_years,
        clock: Arc::new(SystemClock),
        sod_policy: sod_policy(&config),
        header_timeout: args.header_timeout,
        body_timeout: args.body_timeout,
        write_timeout: args.write_timeout,
        shutdown_grace: args.shutdown_grace,
    })
    .with_context(|| format!("cannot serve the evidence store {}", dir.display()))?;
    let info = server.info();
    let api = match tokens::load(&tokens::file_path(&dir)) {
        Ok(file) => {
            let now = context::now();
            let active = file
                .tokens
                .iter()
                .filter(|t| t.status(now) == "active")
                .count();
            if active == 0 {
                "no API tokens yet (`evident token create`)".to_owned()
            } else {
                format!("{active} active API token(s)")
            }
        }
        Err(e) => format!("API tokens unreadable ({e}): every API request is refused"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("evident-serve")
        .build()
        .context("cannot start the server's runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr().context("the listening address")?;
        eprintln!(
            "evident serve: store {} ({} entries, {} deliveries seen); webhooks: {}; {api}",
            dir.display(),
            info.size,
            info.deliveries,
            if configured.is_empty() {
                "none configured (set EVIDENT_GITHUB_WEBHOOK_SECRET, …)".to_owned()
            } else {
                configured.join(", ")
            }
        );
        // The one line on standard output: readiness, with the actual address.
        super::print(&format!("listening on http://{addr}\n"))?;
        server
            .run(listener, shutdown_signal())
            .await
            .context("the server failed")?;
        eprintln!("evident serve: stopped");
        Ok::<_, Failure>(())
    })?;
    Ok(Outcome::Clean)
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

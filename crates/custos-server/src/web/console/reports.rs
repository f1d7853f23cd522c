//! Read-only reports: the retention forecast, policy versions and their diff,
//! and the audit log's verification.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use custos_core::VaultError;
use custos_core::audit::{LogError, verify_log};
use custos_core::retention::{self, DEFAULT_BATCH};
use custos_policy::diff::Impact;
use jiff::SignedDuration;
use serde::Deserialize;

use super::{St, admin_page, internal, task_failed, when};
use crate::Backend;
use crate::web::{Chrome, blocking, day, render};

// ---- retention forecast --------------------------------------------------------------

/// Horizons offered, in days.
const HORIZONS: [(u32, &str); 6] = [
    (30, "30 days"),
    (90, "90 days"),
    (365, "1 year"),
    (1096, "3 years"),
    (1827, "5 years"),
    (3653, "10 years"),
];

#[derive(Debug, Deserialize)]
pub struct ForecastQuery {
    days: Option<u32>,
}

struct ForecastRow {
    date: String,
    category: String,
    description: String,
    action: &'static str,
    count: u64,
    /// Already expired: the next sweep (within a minute) takes it.
    next_sweep: bool,
}

#[derive(Template)]
#[template(path = "console/retention.html")]
struct RetentionPage {
    chrome: Chrome,
    nav: &'static str,
    horizons: Vec<(u32, &'static str)>,
    days: u32,
    until: String,
    rows: Vec<ForecastRow>,
    due: u64,
    deleted: u64,
    anonymised: u64,
    isolated: u64,
    held: u64,
}

/// `GET /console/retention?days=N`: what the sweeps will do between now and the
/// horizon, by expiry date and category (a dry run: nothing is written).
pub async fn retention<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    Query(q): Query<ForecastQuery>,
) -> Response {
    let (mut v, actor) = match admin_page(&state, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let days = q
        .days
        .filter(|d| HORIZONS.iter().any(|(h, _)| h == d))
        .unwrap_or(90);
    let now = state.vault.now();
    let Some(horizon) = now
        .checked_add(SignedDuration::from_hours(24 * i64::from(days)))
        .ok()
    else {
        return task_failed(&state, &mut v);
    };
    let st = Arc::clone(&state);
    let result = blocking(move || {
        let report = retention::sweep(
            st.vault.store().as_ref(),
            st.vault.keys(),
            &actor.tenant,
            horizon,
            DEFAULT_BATCH,
            true,
        )?;
        let policy = st.vault.policy(&actor.tenant)?;
        Ok::<_, VaultError>((report, policy))
    })
    .await;
    match result {
        Some(Ok((report, policy))) => {
            let today = day(now);
            let mut rows: Vec<ForecastRow> = report
                .forecast
                .iter()
                .map(|f| ForecastRow {
                    next_sweep: f.date <= today,
                    date: f.date.clone(),
                    description: policy
                        .policy
                        .category
                        .get(&f.category)
                        .map(|c| c.description.clone())
                        .unwrap_or_default(),
                    category: f.category.clone(),
                    action: f.action,
                    count: f.count,
                })
                .collect();
            rows.sort_by(|a, b| (&a.date, &a.category).cmp(&(&b.date, &b.category)));
            let chrome = v.chrome(&state, "Retention forecast");
            v.finish(render(
                StatusCode::OK,
                &RetentionPage {
                    chrome,
                    nav: "retention",
                    horizons: HORIZONS.to_vec(),
                    days,
                    until: day(horizon),
                    rows,
                    due: report.due,
                    deleted: report.deleted,
                    anonymised: report.anonymised,
                    isolated: report.isolated,
                    held: report.skipped_held,
                },
            ))
        }
        Some(Err(e)) => internal(&state, &mut v, &e),
        None => task_failed(&state, &mut v),
    }
}

// ---- policy versions -----------------------------------------------------------------

struct VersionRow {
    number: u32,
    label: String,
    effective: String,
    published: String,
    in_force: bool,
}

#[derive(Template)]
#[template(path = "console/policy.html")]
struct PolicyPage {
    chrome: Chrome,
    nav: &'static str,
    versions: Vec<VersionRow>,
    from: u32,
    to: u32,
}

/// `GET /console/policy`: the tenant's published versions.
pub async fn policy<S: Backend>(State(state): St<S>, headers: HeaderMap) -> Response {
    let (mut v, actor) = match admin_page(&state, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let st = Arc::clone(&state);
    let result = blocking(move || {
        let versions = st.vault.store().policy_versions(&actor.tenant)?;
        let in_force = st.vault.policy(&actor.tenant).ok().map(|p| p.number);
        Ok::<_, VaultError>((versions, in_force))
    })
    .await;
    match result {
        Some(Ok((versions, in_force))) => {
            let rows: Vec<VersionRow> = versions
                .iter()
                .rev()
                .map(|p| VersionRow {
                    number: p.number,
                    label: p.label.clone(),
                    effective: when(p.effective_at),
                    published: when(p.published_at),
                    in_force: Some(p.number) == in_force,
                })
                .collect();
            let to = versions.iter().map(|p| p.number).max().unwrap_or(1);
            let from = to.saturating_sub(1).max(1);
            let chrome = v.chrome(&state, "Policy versions");
            v.finish(render(
                StatusCode::OK,
                &PolicyPage {
                    chrome,
                    nav: "policy",
                    versions: rows,
                    from,
                    to,
                },
            ))
        }
        Some(Err(e)) => internal(&state, &mut v, &e),
        None => task_failed(&state, &mut v),
    }
}

#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    from: Option<u32>,
    to: Option<u32>,
}

struct ChangeRow {
    impact: &'static str,
    flag: &'static str,
    path: String,
    description: String,
}

#[derive(Template)]
#[template(path = "console/diff.html")]
struct DiffPage {
    chrome: Chrome,
    nav: &'static str,
    from: u32,
    to: u32,
    changes: Vec<ChangeRow>,
    overall: &'static str,
    acceptance: String,
    error: Option<String>,
}

fn impact_flag(i: Impact) -> &'static str {
    match i {
        Impact::Reconsent => "overdue",
        Impact::Notice => "soon",
        Impact::None => "ok",
    }
}

/// `GET /console/policy/diff?from=N&to=M`: what changed, as `custos policy diff`
/// prints it, each change with what it demands.
pub async fn diff<S: Backend>(
    State(state): St<S>,
    headers: HeaderMap,
    Query(q): Query<DiffQuery>,
) -> Response {
    let (mut v, actor) = match admin_page(&state, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let from = q.from.unwrap_or(1);
    let to = q.to.unwrap_or(1);
    let st = Arc::clone(&state);
    let result = blocking(move || st.vault.store().policy_versions(&actor.tenant)).await;
    let versions = match result {
        Some(Ok(versions)) => versions,
        Some(Err(e)) => return internal(&state, &mut v, &VaultError::from(e)),
        None => return task_failed(&state, &mut v),
    };
    let load = |n: u32| {
        versions
            .iter()
            .find(|p| p.number == n)
            .and_then(|p| custos_policy::load(&p.text, "stored policy").ok())
            .map(|l| l.policy)
    };
    let mut page = DiffPage {
        chrome: v.chrome(&state, "Policy diff"),
        nav: "policy",
        from,
        to,
        changes: Vec::new(),
        overall: "none",
        acceptance: String::new(),
        error: None,
    };
    let status = match (load(from), load(to)) {
        (Some(old), Some(new)) => {
            let d = custos_policy::diff::diff(&old, &new);
            page.overall = d.impact().as_str();
            page.acceptance = d.acceptance_required_in.join(", ");
            page.changes = d
                .changes
                .iter()
                .map(|c| ChangeRow {
                    impact: c.impact.as_str(),
                    flag: impact_flag(c.impact),
                    path: c.path.clone(),
                    description: c.description.clone(),
                })
                .collect();
            StatusCode::OK
        }
        _ => {
            page.error = Some(format!(
                "Version {from} or {to} does not exist (or no longer loads)."
            ));
            StatusCode::NOT_FOUND
        }
    };
    v.finish(render(status, &page))
}

// ---- audit -------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    chrome: Chrome,
    nav: &'static str,
    valid: bool,
    entries: u64,
    head: String,
    tree_size: u64,
    root: String,
    checkpoints: usize,
    checkpointed: u64,
    error: Option<String>,
    checked_at: String,
}

/// `GET /console/audit`: the whole log checked now, as `custos audit verify` does:
/// every entry's link and hash, the Merkle tree recomputed, every signed checkpoint.
pub async fn audit<S: Backend>(State(state): St<S>, headers: HeaderMap) -> Response {
    let (mut v, actor) = match admin_page(&state, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let st = Arc::clone(&state);
    let result = blocking(move || {
        let public_key = st
            .vault
            .keys()
            .audit_signer()
            .map_err(|e| custos_core::VaultError::Internal(e.to_string()))?
            .public_key();
        Ok::<_, custos_core::VaultError>(verify_log(
            st.vault.store().as_ref(),
            &actor.tenant,
            &public_key,
        ))
    })
    .await;
    let checked_at = when(state.vault.now());
    let hex = |h: &[u8]| h.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let broken = |chrome, error: String| AuditPage {
        chrome,
        nav: "audit",
        valid: false,
        entries: 0,
        head: String::new(),
        tree_size: 0,
        root: String::new(),
        checkpoints: 0,
        checkpointed: 0,
        error: Some(error),
        checked_at: checked_at.clone(),
    };
    match result {
        Some(Ok(Ok(r))) => {
            let chrome = v.chrome(&state, "Audit log");
            let page = AuditPage {
                chrome,
                nav: "audit",
                valid: true,
                entries: r.entries,
                head: hex(&r.chain_head),
                tree_size: r.tree_size,
                root: hex(r.root.as_ref()),
                checkpoints: r.checkpoints,
                checkpointed: r.checkpointed,
                error: None,
                checked_at: checked_at.clone(),
            };
            v.finish(render(StatusCode::OK, &page))
        }
        Some(Ok(Err(LogError::Store(e)))) => {
            internal(&state, &mut v, &custos_core::VaultError::from(e))
        }
        Some(Ok(Err(e))) => {
            let chrome = v.chrome(&state, "Audit log");
            v.finish(render(StatusCode::OK, &broken(chrome, e.to_string())))
        }
        Some(Err(e)) => internal(&state, &mut v, &e),
        None => task_failed(&state, &mut v),
    }
}

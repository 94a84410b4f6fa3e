//! The overview page of a store: today by default, or any date range, beside the previous
//! period of the same length (the [`crate::overview`] use-case), with the day and hour charts
//! and the top products.

use std::str::FromStr;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::charts::{BarChart, Series};
use super::format;
use super::page::{Page, PageError, PageResult, StoreAccess, render};
use crate::overview::{Compared, Overview};
use crate::reports::DateRange;
use crate::state::AppState;

/// The routes of this page area.
pub fn routes() -> Router<AppState> {
    Router::new().route("/stores/{store_id}/overview", get(overview))
}

#[derive(Debug, Deserialize)]
struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

/// One figure of the overview as the page shows it.
#[derive(Debug)]
struct Figure {
    id: &'static str,
    label: &'static str,
    value: String,
    previous: String,
    /// `up`, `down` or `same` (for the arrow) with the change in words.
    direction: &'static str,
    change: String,
}

/// A quick range link (today, yesterday, …).
#[derive(Debug)]
struct Preset {
    label: &'static str,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "dashboard/overview.html")]
struct OverviewPage {
    page: Page,
    from: String,
    to: String,
    /// "3 Des 2026" or "1 Des 2026 – 7 Des 2026".
    period: String,
    previous_period: String,
    presets: Vec<Preset>,
    figures: Vec<Figure>,
    days_chart: String,
    hours_chart: String,
    has_sales: bool,
    ov: Overview,
    error: Option<&'static str>,
}

fn figure(page: &Page, id: &'static str, label: &str, c: &Compared, money: bool) -> Figure {
    let show = |s: &str| {
        if money {
            page.money(s)
        } else {
            page.count(&s.parse::<i64>().unwrap_or(0))
        }
    };
    let (direction, change) = match c.change_pct.as_deref().map(Decimal::from_str) {
        Some(Ok(p)) if p > Decimal::ZERO => (
            "up",
            page.tf(
                "overview.change_up",
                &[("pct", &format::percent(p, page.lang))],
            ),
        ),
        Some(Ok(p)) if p < Decimal::ZERO => (
            "down",
            page.tf(
                "overview.change_down",
                &[("pct", &format::percent(-p, page.lang))],
            ),
        ),
        Some(_) => ("same", page.t("overview.change_same").to_string()),
        None => ("same", page.t("overview.change_none").to_string()),
    };
    Figure {
        id,
        label: page.t(label),
        value: show(&c.current),
        previous: show(&c.previous),
        direction,
        change,
    }
}

fn period_words(page: &Page, from: &str, to: &str) -> String {
    if from == to {
        page.date(from)
    } else {
        format!("{} – {}", page.date(from), page.date(to))
    }
}

fn presets(page: &Page, from: &str, to: &str) -> Vec<Preset> {
    let today = page.today();
    let d = |n: i64| today - chrono::Duration::days(n);
    let month_start = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    [
        ("overview.preset_today", today, today),
        ("overview.preset_yesterday", d(1), d(1)),
        ("overview.preset_7_days", d(6), today),
        ("overview.preset_30_days", d(29), today),
        ("overview.preset_month", month_start, today),
    ]
    .into_iter()
    .map(|(key, f, t)| Preset {
        label: page.t(key),
        href: page.store_url(&format!("overview?from={f}&to={t}")),
        current: f.to_string() == from && t.to_string() == to,
    })
    .collect()
}

fn f64_of(s: &str) -> f64 {
    s.parse::<f64>().unwrap_or(0.0)
}

async fn overview(
    State(app): State<AppState>,
    access: StoreAccess,
    Query(q): Query<RangeQuery>,
) -> PageResult<(StatusCode, axum::response::Html<String>)> {
    let StoreAccess {
        principal,
        store,
        page,
        ..
    } = access;
    let mut page = page.titled("overview.title");
    let today = page.today().to_string();
    let mut range = DateRange {
        from: q
            .from
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| today.clone()),
        to: q
            .to
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| today.clone()),
    };
    // A range the service refuses (bad date, reversed, too long) shows today with the reason.
    let (ov, error, status) = match app.services.overview(&principal, &store.id, &range).await {
        Ok(ov) => (ov, None, StatusCode::OK),
        Err(crate::Error::BadRequest(_)) => {
            range = DateRange {
                from: today.clone(),
                to: today,
            };
            let ov = app.services.overview(&principal, &store.id, &range).await?;
            (ov, Some("overview.error_range"), StatusCode::BAD_REQUEST)
        }
        Err(e) => return Err(PageError::from(e)),
    };
    page.path = page.store_url(&format!("overview?from={}&to={}", ov.from, ov.to));
    let figures = vec![
        figure(&page, "sales", "overview.sales", &ov.sales, true),
        figure(
            &page,
            "transactions",
            "overview.transactions",
            &ov.transactions,
            false,
        ),
        figure(
            &page,
            "basket",
            "overview.average_basket",
            &ov.average_basket,
            true,
        ),
        figure(&page, "refunds", "overview.refunds", &ov.refunds, true),
        figure(
            &page,
            "discounts",
            "overview.discounts",
            &ov.discounts,
            true,
        ),
        figure(&page, "tax", "overview.tax", &ov.tax, true),
    ];
    let cur_name = page.t("overview.this_period");
    let prev_name = page.t("overview.previous_period");
    let short = |d: &str| {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(|d| format!("{}/{}", d.day(), d.month()))
            .unwrap_or_default()
    };
    let days_chart = BarChart {
        title: page.t("overview.chart_days"),
        labels: ov.days.iter().map(|d| short(&d.business_date)).collect(),
        current: Series {
            name: cur_name,
            values: ov.days.iter().map(|d| f64_of(&d.total)).collect(),
        },
        previous: Some(Series {
            name: prev_name,
            values: ov.days.iter().map(|d| f64_of(&d.previous_total)).collect(),
        }),
    }
    .svg(|v| format::money(&format!("{v:.0}")));
    let hours_chart = BarChart {
        title: page.t("overview.chart_hours"),
        labels: ov.hours.iter().map(|h| format!("{:02}", h.hour)).collect(),
        current: Series {
            name: cur_name,
            values: ov.hours.iter().map(|h| f64_of(&h.total)).collect(),
        },
        previous: None,
    }
    .svg(|v| format::money(&format!("{v:.0}")));
    let html = render(&OverviewPage {
        period: period_words(&page, &ov.from, &ov.to),
        previous_period: period_words(&page, &ov.previous_from, &ov.previous_to),
        presets: presets(&page, &ov.from, &ov.to),
        from: ov.from.clone(),
        to: ov.to.clone(),
        has_sales: ov.transactions.current != "0",
        figures,
        days_chart,
        hours_chart,
        page,
        ov,
        error,
    })?;
    Ok((status, html))
}

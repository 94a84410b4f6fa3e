//! What the commands answer, as contract.md spells it, and the few computations that belong to
//! the shell (the cart view, the amounts offered on the payment screen).

use std::collections::HashSet;

use pos_core::shared_model::cart::Cart;
use pos_core::shared_model::ids::{SaleId, UserId};
use pos_core::shared_model::money::Money;
use pos_core::shared_model::pricing::PricedCart;
use pos_core::shared_model::users::{Role, StoreUser};
use pos_core::sync::SyncStatus;
use pos_core::sync::lan::LanStatus;
use pos_core::{SupervisorReason, Terminal};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::AppResult;
use crate::state::Session;

/// A user as the PIN screen shows them (never the PIN hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: UserId,
    pub name: String,
    pub role: Role,
}

impl From<&StoreUser> for UserView {
    fn from(u: &StoreUser) -> Self {
        UserView {
            id: u.id,
            name: u.name.clone(),
            role: u.role,
        }
    }
}

/// Where the till stands: first run or not, who is logged in, the language.
#[derive(Debug, Clone, Serialize)]
pub struct AppStatus {
    /// False until the first run (demo store or enrolment) is done.
    pub ready: bool,
    pub store_name: Option<String>,
    pub store_code: Option<String>,
    pub terminal_code: Option<String>,
    pub language: String,
    pub user: Option<UserView>,
    pub shift_open: bool,
    pub demo: Option<pos_core::DemoStore>,
    pub auto_lock_secs: u32,
    pub time_zone: String,
}

/// The terminal-local settings the status carries.
pub const LANGUAGE_KEY: &str = "language";
pub const AUTO_LOCK_KEY: &str = "auto_lock_secs";
pub const LANGUAGES: [&str; 2] = ["id", "en"];
const DEFAULT_AUTO_LOCK_SECS: u32 = 120;
const DEFAULT_TIME_ZONE: &str = "Asia/Jakarta";

pub fn app_status(t: &mut Terminal, session: &Session) -> AppResult<AppStatus> {
    let language = t
        .app_setting(LANGUAGE_KEY)?
        .filter(|l| LANGUAGES.contains(&l.as_str()))
        .unwrap_or_else(|| LANGUAGES[0].to_string());
    let auto_lock_secs = t
        .app_setting(AUTO_LOCK_KEY)?
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_AUTO_LOCK_SECS);
    let user = session.user.as_ref().map(UserView::from);
    let Ok(ident) = t.identity().cloned() else {
        return Ok(AppStatus {
            ready: false,
            store_name: None,
            store_code: None,
            terminal_code: None,
            language,
            user: None,
            shift_open: false,
            demo: None,
            auto_lock_secs,
            time_zone: DEFAULT_TIME_ZONE.into(),
        });
    };
    let settings = t.settings()?;
    Ok(AppStatus {
        ready: true,
        store_name: Some(settings.store_name.clone()),
        store_code: Some(ident.store_code),
        terminal_code: Some(ident.terminal_code),
        language,
        user,
        shift_open: t.open_shift()?.is_some(),
        demo: t.demo_info()?,
        auto_lock_secs,
        time_zone: settings.business_day.time_zone.clone(),
    })
}

/// The cart on the till, priced.
#[derive(Debug, Clone, Serialize)]
pub struct CartView {
    pub cart: Cart,
    /// `None` while the cart is empty.
    pub priced: Option<PricedCart>,
    /// Why a supervisor must approve the payment (pos-core's `needs_supervisor`).
    pub supervisor_reason: Option<SupervisorReason>,
    /// Names of the promotions applied.
    pub promotions: Vec<String>,
    /// `resumed_twice` when this resumed cart was also resumed on another till.
    pub warning: Option<String>,
}

pub const RESUMED_TWICE: &str = "resumed_twice";

pub fn cart_view(t: &mut Terminal, cart: &Cart, resumed: bool) -> AppResult<CartView> {
    let warning = if resumed && t.cart_conflict(cart.id)?.is_some() {
        Some(RESUMED_TWICE.to_string())
    } else {
        None
    };
    if cart.is_empty() {
        return Ok(CartView {
            cart: cart.clone(),
            priced: None,
            supervisor_reason: None,
            promotions: Vec::new(),
            warning,
        });
    }
    let priced = t.price(cart)?;
    let supervisor_reason = t.needs_supervisor(&priced)?;
    let applied: HashSet<_> = priced.lines.iter().flat_map(|l| &l.promotions).collect();
    let promotions = if applied.is_empty() {
        Vec::new()
    } else {
        t.promotions()?
            .into_iter()
            .filter(|p| applied.contains(&p.id))
            .map(|p| p.name)
            .collect()
    };
    Ok(CartView {
        cart: cart.clone(),
        priced: Some(priced),
        supervisor_reason,
        promotions,
        warning,
    })
}

/// What the payment screen offers.
#[derive(Debug, Clone, Serialize)]
pub struct Due {
    pub total: Money,
    /// The total after the store's cash rounding (what a cash customer pays).
    pub cash_total: Money,
    pub quick_amounts: Vec<Money>,
    pub qris_payload: Option<String>,
}

/// The note steps a customer pays with.
const QUICK_STEPS: [i64; 5] = [5_000, 10_000, 20_000, 50_000, 100_000];
const MAX_QUICK_AMOUNTS: usize = 4;

/// The next multiple of each note step strictly above `cash_total` ("uang pas", the exact
/// amount, has its own button), ascending, without repeats, at most four.
pub fn quick_amounts(cash_total: Money) -> Vec<Money> {
    let mut out: Vec<Money> = Vec::new();
    for step in QUICK_STEPS.map(Decimal::from) {
        let next = ((cash_total.0 / step).floor() + Decimal::ONE) * step;
        let m = Money::new(next);
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out.sort();
    out.truncate(MAX_QUICK_AMOUNTS);
    out
}

/// A paid sale.
#[derive(Debug, Clone, Serialize)]
pub struct Paid {
    pub sale_id: SaleId,
    pub receipt_no: String,
    pub total: Money,
    pub change: Money,
    /// pos-core's checkout (the durable commit), measured around the call.
    pub paid_ms: f64,
    /// The sale's public receipt page (as its receipt's QR code), `None` on a demo till.
    pub receipt_link: Option<String>,
}

/// Sync as the status bar shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SyncView {
    pub server: Option<SyncStatus>,
    pub lan: Option<LanStatus>,
    pub enrolled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(v: i64) -> Money {
        Money::from_i64(v)
    }

    #[test]
    fn quick_amounts_are_the_next_notes_above_the_cash_total() {
        assert_eq!(
            quick_amounts(m(12_500)),
            vec![m(15_000), m(20_000), m(50_000), m(100_000)]
        );
        assert_eq!(
            quick_amounts(m(3_200)),
            vec![m(5_000), m(10_000), m(20_000), m(50_000)]
        );
    }

    #[test]
    fn an_exact_note_is_not_offered_twice() {
        // 50.000 exactly is "uang pas"; the buttons start above it.
        assert_eq!(
            quick_amounts(m(50_000)),
            vec![m(55_000), m(60_000), m(100_000)]
        );
        assert_eq!(
            quick_amounts(m(100_000)),
            vec![m(105_000), m(110_000), m(120_000), m(150_000)]
        );
    }

    #[test]
    fn large_totals_get_amounts_above_them() {
        let q = quick_amounts(m(1_234_500));
        assert_eq!(
            q,
            vec![m(1_235_000), m(1_240_000), m(1_250_000), m(1_300_000)]
        );
        assert!(q.iter().all(|a| *a > m(1_234_500)));
    }
}

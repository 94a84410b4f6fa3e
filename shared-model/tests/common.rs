//! Builders shared by the model's tests.
#![allow(dead_code)]

use rust_decimal::Decimal;
use shared_model::cart::{Cart, ProductSnapshot};
use shared_model::catalog::{Product, Unit};
use shared_model::codec::{BusinessDate, Timestamp};
use shared_model::ids::{CategoryId, SaleId, UserId};
use shared_model::money::{Currency, Money};
use shared_model::payment::Tender;
use shared_model::pricing::{PricingPolicy, price_cart};
use shared_model::receipt_number::ReceiptNumber;
use shared_model::sale::{Sale, SaleContext};
use shared_model::tax::{PriceMode, TaxRule};

pub fn rp(v: i64) -> Money {
    Money::from_i64(v)
}

pub fn date(s: &str) -> BusinessDate {
    s.parse().expect("date")
}

pub fn item(name: &str, price: i64, tax: TaxRule, category: Option<CategoryId>) -> ProductSnapshot {
    let mut p = Product::new(&name.replace(' ', "-"), name, rp(price), &tax.class);
    p.category_id = category;
    ProductSnapshot::of(&p, None, tax).expect("snapshot")
}

pub fn weighed(name: &str, price_per_kg: i64) -> ProductSnapshot {
    let mut p = Product::new(&name.replace(' ', "-"), name, rp(price_per_kg), "exempt");
    p.unit = Unit::Kilogram;
    ProductSnapshot::of(&p, None, TaxRule::exempt()).expect("snapshot")
}

pub fn policy(mode: PriceMode) -> PricingPolicy {
    PricingPolicy {
        currency: Currency::idr(),
        price_mode: mode,
        promotions: Vec::new(),
    }
}

pub fn context(seq: u32) -> SaleContext {
    SaleContext {
        id: SaleId::new(),
        receipt_no: ReceiptNumber::new("JKT1", "T1", date("2026-11-25"), seq).expect("receipt"),
        created_at: Timestamp::now(),
        cashier_id: UserId::new(),
        shift_id: None,
        currency: Currency::idr(),
        price_mode: PriceMode::Inclusive,
        cash_unit: Some(rp(100)),
    }
}

/// Prices and pays a cart in cash with exact change (rounded to Rp100).
pub fn cash_sale(cart: &Cart, mode: PriceMode, seq: u32) -> Sale {
    let priced = price_cart(cart, &policy(mode)).expect("price");
    let tender = Tender::cash(rp(10_000_000));
    let mut ctx = context(seq);
    ctx.price_mode = mode;
    Sale::checkout(priced, &[tender], ctx, None).expect("checkout")
}

pub fn dec(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

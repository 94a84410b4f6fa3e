//! Report use-cases over the projected tables. Amounts are decimal strings.

use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::projection::from_e4;
use crate::service::Services;

/// Inclusive range of business dates, `YYYY-MM-DD`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DateRange {
    pub from: String,
    pub to: String,
}

impl DateRange {
    fn check(&self) -> Result<()> {
        for d in [&self.from, &self.to] {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                Error::BadRequest(format!("invalid date {d:?}, expected YYYY-MM-DD"))
            })?;
        }
        if self.from > self.to {
            return Err(Error::BadRequest("`from` is after `to`".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DaySales {
    pub business_date: String,
    pub sales: i64,
    pub total: String,
    pub tax: String,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MethodSales {
    /// `cash`, `qris`, `card`, `ewallet:<provider>`, `other:<name>`.
    pub method: String,
    pub payments: i64,
    pub amount: String,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductSales {
    pub product_id: String,
    pub name: String,
    pub quantity: String,
    pub amount: String,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StockOnHand {
    pub product_id: String,
    pub quantity: String,
}

fn dec(v: i64) -> String {
    from_e4(v).to_string()
}

impl Services {
    async fn readable_store(&self, who: &Principal, store_id: &str) -> Result<()> {
        let store = self
            .storage
            .store(store_id)
            .await?
            .ok_or(Error::NotFound("store not found"))?;
        if !who.may_access(&store.tenant_id, Some(&store.id))
            || matches!(who, Principal::Terminal { .. })
        {
            return Err(Error::NotFound("store not found"));
        }
        Ok(())
    }

    /// Non-voided sales per business day.
    #[instrument(skip_all, fields(store_id))]
    pub async fn sales_by_day(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<Vec<DaySales>> {
        r.check()?;
        self.readable_store(who, store_id).await?;
        Ok(self
            .storage
            .report_sales_by_day(store_id, &r.from, &r.to)
            .await?
            .into_iter()
            .map(|d| DaySales {
                business_date: d.business_date,
                sales: d.sales,
                total: dec(d.total_e4),
                tax: dec(d.tax_e4),
            })
            .collect())
    }

    /// Payments per method.
    #[instrument(skip_all, fields(store_id))]
    pub async fn sales_by_payment_method(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<Vec<MethodSales>> {
        r.check()?;
        self.readable_store(who, store_id).await?;
        Ok(self
            .storage
            .report_sales_by_payment(store_id, &r.from, &r.to)
            .await?
            .into_iter()
            .map(|k| MethodSales {
                method: k.key,
                payments: k.count,
                amount: dec(k.amount_e4),
            })
            .collect())
    }

    /// Sales per product.
    #[instrument(skip_all, fields(store_id))]
    pub async fn sales_by_product(
        &self,
        who: &Principal,
        store_id: &str,
        r: &DateRange,
    ) -> Result<Vec<ProductSales>> {
        r.check()?;
        self.readable_store(who, store_id).await?;
        Ok(self
            .storage
            .report_sales_by_product(store_id, &r.from, &r.to)
            .await?
            .into_iter()
            .map(|p| ProductSales {
                product_id: p.product_id,
                name: p.name,
                quantity: dec(p.quantity_e4),
                amount: dec(p.amount_e4),
            })
            .collect())
    }

    /// Stock on hand per product (sum of every projected movement).
    #[instrument(skip_all, fields(store_id))]
    pub async fn stock_on_hand(&self, who: &Principal, store_id: &str) -> Result<Vec<StockOnHand>> {
        self.readable_store(who, store_id).await?;
        Ok(self
            .storage
            .report_stock_on_hand(store_id)
            .await?
            .into_iter()
            .map(|s| StockOnHand {
                product_id: s.product_id,
                quantity: dec(s.quantity_e4),
            })
            .collect())
    }
}

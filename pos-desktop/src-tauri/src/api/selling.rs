//! Plugin `selling`: search, categories, the cart on the till, parked carts, the day's sales.
//!
//! Every change to the cart is made on a copy, priced, and kept only when pricing accepts it,
//! so the till never holds a cart it cannot show or charge.

use pos_core::shared_model::cart::{Cart, Discount};
use pos_core::shared_model::catalog::Category;
use pos_core::shared_model::codec::Timestamp;
use pos_core::shared_model::ids::{CartId, CategoryId, LineId, ProductId, VariantId};
use pos_core::{CoreError, ParkedSummary, ProductHit, SaleSummary, Terminal};
use serde_json::Value;
use tauri::plugin::{Builder, TauriPlugin};
use tauri::{Runtime, State};

use super::{from_json, parse};
use crate::error::AppResult;
use crate::state::{App, Inner, guard, require_user};
use crate::views::{CartView, cart_view};

pub fn init<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("selling")
        .invoke_handler(tauri::generate_handler![
            search,
            categories,
            category_products,
            cart,
            scan,
            add_product,
            set_quantity,
            remove_line,
            set_line_discount,
            set_line_note,
            set_cart_discount,
            clear_cart,
            park,
            parked,
            resume,
            day_sales
        ])
        .build()
}

const DEFAULT_LIMIT: usize = 20;

/// Applies `change` to a copy of the till's cart (a cashier must be logged in), prices it and
/// keeps it when that succeeds.
async fn change_cart<F>(app: &App, change: F) -> AppResult<CartView>
where
    F: FnOnce(&mut Terminal, &mut Cart) -> AppResult<()> + Send + 'static,
{
    app.with_terminal(move |t, s: &Inner| {
        let mut session = guard(&s.session);
        require_user(&session)?;
        let mut cart = session.cart.clone();
        change(t, &mut cart)?;
        let view = cart_view(t, &cart, session.resumed)?;
        session.cart = cart;
        Ok(view)
    })
    .await
}

#[tauri::command]
async fn search(
    app: State<'_, App>,
    query: String,
    limit: Option<usize>,
) -> AppResult<Vec<ProductHit>> {
    app.with_terminal(move |t, _| Ok(t.search(&query, limit.unwrap_or(DEFAULT_LIMIT), false)?))
        .await
}

#[tauri::command]
async fn categories(app: State<'_, App>) -> AppResult<Vec<Category>> {
    app.with_terminal(|t, _| Ok(t.categories()?)).await
}

#[tauri::command]
async fn category_products(
    app: State<'_, App>,
    category_id: String,
    limit: Option<usize>,
) -> AppResult<Vec<ProductHit>> {
    let id: CategoryId = parse("categoryId", &category_id)?;
    app.with_terminal(move |t, _| Ok(t.category_products(id, limit.unwrap_or(DEFAULT_LIMIT * 5))?))
        .await
}

#[tauri::command]
async fn cart(app: State<'_, App>) -> AppResult<CartView> {
    app.with_terminal(|t, s| {
        let session = guard(&s.session);
        cart_view(t, &session.cart, session.resumed)
    })
    .await
}

#[tauri::command]
async fn scan(app: State<'_, App>, code: String) -> AppResult<CartView> {
    change_cart(&app, move |t, cart| {
        t.cart_add_scan(cart, &code).map_err(|e| match e {
            // contract.md: an unknown code is `not_found` (with the code scanned).
            CoreError::UnknownBarcode(code) => CoreError::NotFound {
                what: "barcode",
                id: code,
            },
            e => e,
        })?;
        Ok(())
    })
    .await
}

#[tauri::command]
async fn add_product(
    app: State<'_, App>,
    product_id: String,
    variant_id: Option<String>,
    quantity: String,
) -> AppResult<CartView> {
    let product: ProductId = parse("productId", &product_id)?;
    let variant: Option<VariantId> = variant_id
        .as_deref()
        .map(|v| parse("variantId", v))
        .transpose()?;
    let qty = super::quantity("quantity", &quantity)?;
    change_cart(&app, move |t, cart| {
        t.cart_add_product(cart, product, variant, qty)?;
        Ok(())
    })
    .await
}

#[tauri::command]
async fn set_quantity(
    app: State<'_, App>,
    line_id: String,
    quantity: String,
) -> AppResult<CartView> {
    let line: LineId = parse("lineId", &line_id)?;
    let qty = super::quantity("quantity", &quantity)?;
    change_cart(&app, move |_, cart| Ok(cart.set_quantity(line, qty)?)).await
}

#[tauri::command]
async fn remove_line(app: State<'_, App>, line_id: String) -> AppResult<CartView> {
    let line: LineId = parse("lineId", &line_id)?;
    change_cart(&app, move |_, cart| {
        cart.remove(line)?;
        Ok(())
    })
    .await
}

#[tauri::command]
async fn set_line_discount(
    app: State<'_, App>,
    line_id: String,
    discount: Option<Value>,
) -> AppResult<CartView> {
    let line: LineId = parse("lineId", &line_id)?;
    let discount: Option<Discount> = discount.map(|d| from_json("discount", d)).transpose()?;
    change_cart(&app, move |t, cart| {
        let currency = t.settings()?.currency();
        Ok(cart.set_line_discount(line, discount, &currency)?)
    })
    .await
}

#[tauri::command]
async fn set_line_note(
    app: State<'_, App>,
    line_id: String,
    note: Option<String>,
) -> AppResult<CartView> {
    let line: LineId = parse("lineId", &line_id)?;
    change_cart(&app, move |_, cart| Ok(cart.set_line_note(line, note)?)).await
}

#[tauri::command]
async fn set_cart_discount(app: State<'_, App>, discount: Option<Value>) -> AppResult<CartView> {
    let discount: Option<Discount> = discount.map(|d| from_json("discount", d)).transpose()?;
    change_cart(&app, move |t, cart| {
        let currency = t.settings()?.currency();
        Ok(cart.set_cart_discount(discount, &currency)?)
    })
    .await
}

#[tauri::command]
async fn clear_cart(app: State<'_, App>) -> AppResult<CartView> {
    app.with_terminal(|t, s| {
        let mut session = guard(&s.session);
        require_user(&session)?;
        session.cart = Cart::new();
        session.resumed = false;
        cart_view(t, &session.cart, false)
    })
    .await
}

/// Parks the till's cart (any till of the store can resume it) and starts an empty one.
#[tauri::command]
async fn park(app: State<'_, App>, label: Option<String>) -> AppResult<CartView> {
    app.with_terminal(move |t, s| {
        let mut session = guard(&s.session);
        let user = require_user(&session)?;
        t.park_cart(&session.cart, label.as_deref(), user.id)?;
        session.cart = Cart::new();
        session.resumed = false;
        let view = cart_view(t, &session.cart, false)?;
        drop(session);
        s.nudge_sync();
        Ok(view)
    })
    .await
}

#[tauri::command]
async fn parked(app: State<'_, App>) -> AppResult<Vec<ParkedSummary>> {
    app.with_terminal(|t, _| Ok(t.parked_carts()?)).await
}

/// Resumes a parked cart on this till. A cart being rung up is parked first (switching carts
/// loses nothing); if the resume is refused, that cart comes back to the till.
#[tauri::command]
async fn resume(app: State<'_, App>, cart_id: String) -> AppResult<CartView> {
    let id: CartId = parse("cartId", &cart_id)?;
    app.with_terminal(move |t, s| {
        let mut session = guard(&s.session);
        let user = require_user(&session)?;
        let current = session.cart.clone();
        let swapping = !current.is_empty() && current.id != id;
        if swapping {
            t.park_cart(&current, None, user.id)?;
        }
        let cart = match t.resume_cart(id) {
            Ok(cart) => cart,
            Err(e) => {
                if swapping {
                    t.resume_cart(current.id)?;
                }
                return Err(e.into());
            }
        };
        let view = cart_view(t, &cart, true)?;
        session.cart = cart;
        session.resumed = true;
        drop(session);
        s.nudge_sync();
        Ok(view)
    })
    .await
}

/// Today's sales (the store's business day), this till's and its peers', newest first.
#[tauri::command]
async fn day_sales(app: State<'_, App>) -> AppResult<Vec<SaleSummary>> {
    app.with_terminal(|t, _| {
        let date = t.business_date_at(Timestamp::now())?;
        Ok(t.day_sales(date)?)
    })
    .await
}

//! The selling screen: search and categories on one side, the cart on the other. Each cart
//! line is its own memoised component, so a scan re-renders the changed line and the totals,
//! not the whole list.

import { memo } from "preact/compat";
import { LatePayments } from "./LatePayments";
import { useEffect, useRef, useState } from "preact/hooks";
import { selling } from "../api";
import type { CartLine, Category, Discount, PricedLine, ProductHit } from "../api/types";
import { Btn } from "../components";
import { eventTime, useKeys } from "../keyboard";
import { lang, supervisorReasonText, t } from "../i18n";
import { decOf, decStr, formatMoney, formatQty } from "../money";
import {
  addHit,
  resumedTwice,
  attempt,
  cartView,
  currency,
  lastLineId,
  openPayment,
  overlay,
  park,
  removeLine,
  scan,
  setQuantity,
  status,
  store,
} from "../state";
import { markReady } from "../perf";

const SEARCH_LIMIT = 40;
const SEARCH_PAUSE_MS = 40;

export function unitSymbol(unit: string): string {
  return unit === "Kilogram" ? "kg" : unit === "Gram" ? "g" : "";
}

export function discountText(d: Discount | null): string | null {
  if (!d) return null;
  return "Amount" in d ? formatMoney(d.Amount, currency.value) : `${decStr(decOf(d.Percent))}%`;
}

// ---- search and categories ----

function Hit({ hit }: { hit: ProductHit }) {
  const unit = unitSymbol(hit.unit);
  return (
    <button
      type="button"
      class="hit"
      data-testid="search-result"
      data-product-id={hit.product_id}
      disabled={!hit.active}
      onClick={() => void addHit(hit)}
    >
      <span class="hit-name">{hit.name}</span>
      <span class="hit-sku muted">
        {hit.sku}
        {!hit.active && ` · ${t("sell.inactive")}`}
      </span>
      <span class="hit-price">
        {formatMoney(hit.price, currency.value)}
        {unit && <span class="muted">/{unit}</span>}
      </span>
    </button>
  );
}

function SearchPanel() {
  const [query, setQuery] = useState("");
  const [hits, setHits] = useState<ProductHit[] | null>(null);
  const [cats, setCats] = useState<Category[]>([]);
  const [cat, setCat] = useState<Category | null>(null);
  const seq = useRef(0);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    void attempt(selling.categories).then((c) => c && setCats(c));
    input.current?.focus();
  }, []);

  // Searches wait for a 40 ms pause: a person sees hits as they type, while a scanner's burst
  // (characters a few ms apart) sends no search at all ahead of its scan.
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const runSearch = (q: string) => {
    const my = ++seq.current;
    clearTimeout(timer.current);
    if (q.trim() === "") {
      setHits(null);
      return;
    }
    timer.current = setTimeout(async () => {
      const r = await attempt(() => selling.search(q.trim(), SEARCH_LIMIT));
      if (my === seq.current && r) setHits(r);
    }, SEARCH_PAUSE_MS);
  };
  useEffect(() => () => clearTimeout(timer.current), []);

  const openCategory = async (c: Category | null) => {
    const my = ++seq.current;
    setQuery("");
    setCat(c);
    if (!c) {
      setHits(null);
      return;
    }
    const r = await attempt(() => selling.categoryProducts(c.id, SEARCH_LIMIT));
    if (my === seq.current && r) setHits(r);
  };

  const onEnter = async (start: number) => {
    const q = query.trim();
    if (!q) return;
    if (!/\s/.test(q)) {
      // A code typed by hand (or by a scanner too slow to be told from a person) is a scan;
      // a code no product has is searched, and its first hit added.
      setQuery("");
      setHits(null);
      seq.current++;
      clearTimeout(timer.current);
      await scan(q, start, true);
      return;
    }
    // The list may be behind the last keystroke: search once more, then take the first hit.
    const r = await attempt(() => selling.search(q, SEARCH_LIMIT));
    if (r && r.length > 0) {
      await addHit(r[0]);
      setQuery("");
      setHits(null);
      seq.current++;
      clearTimeout(timer.current);
    } else {
      setHits(r ?? []);
    }
  };

  useKeys(
    {
      F2: () => input.current?.focus(),
      F3: () => {
        void openCategory(null);
        document.querySelector<HTMLElement>(".cat-grid button")?.focus();
      },
    },
  );

  const showCats = hits === null;
  return (
    <section class="search-panel">
      <div class="search-row">
        <input
          ref={input}
          type="search"
          data-testid="search-input"
          class="search-input"
          placeholder={t("sell.search")}
          aria-label={t("sell.search")}
          autoComplete="off"
          value={query}
          onInput={(e) => {
            const q = e.currentTarget.value;
            setQuery(q);
            setCat(null);
            runSearch(q);
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              void onEnter(eventTime(e));
            } else if (e.key === "Escape" && query) {
              e.stopPropagation();
              setQuery("");
              setHits(null);
            }
          }}
        />
        <kbd class="hint search-hint">F2</kbd>
      </div>
      {cat && (
        <div class="crumb">
          <Btn kind="ghost" onClick={() => void openCategory(null)} hint="F3">
            ← {t("sell.all_categories")}
          </Btn>
          <strong>{cat.name}</strong>
        </div>
      )}
      {showCats && (
        <h3 class="cat-head">
          {t("sell.categories")} <kbd class="hint">F3</kbd>
        </h3>
      )}
      {showCats ? (
        <div class="cat-grid" aria-label={t("sell.categories")}>
          {cats.map((c) => (
            <button
              type="button"
              key={c.id}
              class="cat"
              data-testid={`category-${c.id}`}
              onClick={() => void openCategory(c)}
            >
              {c.name}
            </button>
          ))}
        </div>
      ) : (
        <div class="hits" role="list">
          {hits!.length === 0 && <p class="muted empty">{t("sell.no_hits")}</p>}
          {hits!.map((h) => (
            <Hit key={h.product_id} hit={h} />
          ))}
        </div>
      )}
    </section>
  );
}

// ---- cart ----

function PencilIcon() {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">
      <path d="M4 20h4L19 9l-4-4L4 16v4zM13 7l4 4" />
    </svg>
  );
}

function TrashIcon() {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true">
      <path d="M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3" />
    </svg>
  );
}

interface LineProps {
  line: CartLine;
  priced: PricedLine | undefined;
  last: boolean;
  lang: string;
}

/** Lines come fresh from the shell on every change; compare what a line shows. */
function sameLine(a: LineProps, b: LineProps): boolean {
  return (
    a.last === b.last &&
    a.lang === b.lang &&
    a.line.id === b.line.id &&
    a.line.quantity === b.line.quantity &&
    a.line.note === b.line.note &&
    JSON.stringify(a.line.discount) === JSON.stringify(b.line.discount) &&
    a.line.item.unit_price === b.line.item.unit_price &&
    a.priced?.amount === b.priced?.amount &&
    a.priced?.promotion_discount === b.priced?.promotion_discount
  );
}

const LineRow = memo(function LineRow({ line, priced, last }: LineProps) {
  const ref = useRef<HTMLLIElement>(null);
  useEffect(() => {
    if (last) ref.current?.scrollIntoView({ block: "nearest" });
  }, [last, line.quantity]);
  const weighed = line.item.unit !== "Piece";
  const unit = unitSymbol(line.item.unit);
  const qty = decOf(line.quantity);
  const cur = currency.value;
  const discount = discountText(line.discount);
  const promo = priced && decOf(priced.promotion_discount) > 0n ? priced.promotion_discount : null;
  const step = async (delta: bigint) => {
    const next = qty + delta * 10000n;
    if (next <= 0n) await removeLine(line.id);
    else await setQuantity(line.id, decStr(next));
  };
  return (
    <li ref={ref} class={`line ${last ? "line-last" : ""}`} data-testid="cart-line" data-line-id={line.id}>
      <div class="line-main">
        <div class="line-name">
          {line.item.name}
          <span class="muted line-unit-price">
            @ {formatMoney(line.item.unit_price, cur)}
            {unit && `/${unit}`}
          </span>
        </div>
        {discount && (
          <div class="line-sub discount-tag">
            {t("sell.line_discount")} {discount}
          </div>
        )}
        {promo && (
          <div class="line-sub promo-tag">
            {t("sell.promotions")} −{formatMoney(promo, cur)}
          </div>
        )}
        {line.note && <div class="line-sub note-tag">“{line.note}”</div>}
      </div>
      <div class="line-qty-box">
        {!weighed && (
          <button type="button" class="qty-step" data-testid="line-minus" aria-label={t("sell.minus")} onClick={() => void step(-1n)}>
            −
          </button>
        )}
        <button
          type="button"
          class="line-qty"
          data-testid="line-qty"
          onClick={() => (overlay.value = { kind: "qty", line })}
        >
          {formatQty(line.quantity, unit, lang.value)}
        </button>
        {!weighed && (
          <button type="button" class="qty-step" data-testid="line-plus" aria-label={t("sell.plus")} onClick={() => void step(1n)}>
            +
          </button>
        )}
      </div>
      <div class="line-amount">{priced ? formatMoney(priced.amount, cur) : ""}</div>
      <div class="line-actions">
        <button
          type="button"
          class="icon-btn"
          data-testid="line-discount-button"
          title={t("sell.line_discount")}
          onClick={() => (overlay.value = { kind: "discount", line })}
        >
          %
        </button>
        <button
          type="button"
          class="icon-btn"
          data-testid="line-note-button"
          title={t("sell.line_note")}
          onClick={() => (overlay.value = { kind: "note", line })}
        >
          <PencilIcon />
        </button>
        <button
          type="button"
          class="icon-btn danger"
          data-testid="line-remove"
          title={t("sell.remove")}
          onClick={() => void removeLine(line.id)}
        >
          <TrashIcon />
        </button>
      </div>
    </li>
  );
}, sameLine);

function Totals() {
  const cv = cartView.value;
  const p = cv?.priced;
  const cur = currency.value;
  const inclusive = (store.value?.price_mode ?? "Inclusive") === "Inclusive";
  const zero = "0";
  const tot = p?.totals;
  const discounts = tot
    ? decOf(tot.line_discounts) + decOf(tot.cart_discount)
    : 0n;
  const promos = tot ? decOf(tot.promotion_discounts) : 0n;
  return (
    <div class="totals">
      <LatePayments />
      {cv && resumedTwice.value === cv.cart.id && cv.cart.lines.length > 0 && (
        <p class="banner banner-warn" data-testid="resume-warning" role="alert">
          {t("sell.resumed_twice")}
        </p>
      )}
      {cv?.supervisor_reason && (
        <p class="banner banner-warn" data-testid="supervisor-needed">
          {t("sell.needs_supervisor", { reason: supervisorReasonText(cv.supervisor_reason) })}
        </p>
      )}
      {cv && cv.promotions.length > 0 && (
        <p class="banner banner-promo" data-testid="promotions">
          {t("sell.promotions_applied", { names: cv.promotions.join(", ") })}
        </p>
      )}
      <div class="total-row">
        <span>{t("sell.subtotal")}</span>
        <span>{formatMoney(tot?.subtotal ?? zero, cur)}</span>
      </div>
      {promos > 0n && (
        <div class="total-row">
          <span>{t("sell.promotions")}</span>
          <span>−{formatMoney(promos, cur)}</span>
        </div>
      )}
      {discounts > 0n && (
        <div class="total-row">
          <span>
            {t("sell.discounts")}
            {cv?.cart.discount && ` (${t("sell.cart_discount")} ${discountText(cv.cart.discount)})`}
          </span>
          <span>−{formatMoney(discounts, cur)}</span>
        </div>
      )}
      <div class="total-row muted">
        <span>{inclusive ? t("sell.tax_included") : t("sell.tax")}</span>
        <span data-testid="cart-tax">{formatMoney(tot?.tax.tax ?? zero, cur)}</span>
      </div>
      <div class="total-row grand">
        <span>{t("sell.total")}</span>
        <span data-testid="cart-total">{formatMoney(tot?.tax.gross ?? zero, cur)}</span>
      </div>
    </div>
  );
}

function CartPanel() {
  const cv = cartView.value;
  const lines = cv?.cart.lines ?? [];
  const priced = new Map(cv?.priced?.lines.map((l) => [l.line_id, l]) ?? []);
  const last = lastLineId.value;
  const empty = lines.length === 0;
  return (
    <section class="cart-panel">
      <ul class="lines" aria-label={t("sell.cart")}>
        {empty && <li class="muted empty">{t("sell.empty_cart")}</li>}
        {lines.map((l) => (
          <LineRow key={l.id} line={l} priced={priced.get(l.id)} last={l.id === last} lang={lang.value} />
        ))}
      </ul>
      <Totals />
      <div class="cart-buttons">
        <Btn testid="cart-discount-button" hint="F6" disabled={empty} onClick={() => (overlay.value = { kind: "discount", line: null })}>
          {t("sell.cart_discount")}
        </Btn>
        <Btn testid="park-button" hint="F7" disabled={empty} onClick={() => void park()}>
          {t("sell.park")}
        </Btn>
        <Btn testid="parked-button" hint="F8" onClick={() => (overlay.value = { kind: "parked" })}>
          {t("sell.parked")}
        </Btn>
      </div>
      <Btn testid="pay-button" kind="primary" class="pay-btn" hint="F12" disabled={empty || !cv?.priced} onClick={() => void openPayment()}>
        {t("sell.pay")} {cv?.priced ? formatMoney(cv.priced.totals.tax.gross, currency.value) : ""}
      </Btn>
    </section>
  );
}

export function Selling() {
  useEffect(() => markReady(), []);
  useKeys(
    {
      F4: () => {
        const lines = cartView.value?.cart.lines ?? [];
        const line = lines.find((l) => l.id === lastLineId.value) ?? lines[lines.length - 1];
        if (line) overlay.value = { kind: "qty", line };
      },
      F6: () => {
        if (cartView.value?.cart.lines.length) overlay.value = { kind: "discount", line: null };
      },
      F7: () => void park(),
      F8: () => (overlay.value = { kind: "parked" }),
      F12: () => void openPayment(),
    },
  );
  return (
    <main class="selling" data-store={status.value?.store_code ?? ""}>
      <SearchPanel />
      <CartPanel />
    </main>
  );
}

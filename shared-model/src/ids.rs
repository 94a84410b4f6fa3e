//! Typed identifiers. Ids made on a terminal are UUIDv7, so they sort by creation time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ModelError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id (UUIDv7).
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ModelError;
            fn from_str(s: &str) -> Result<Self, ModelError> {
                Uuid::parse_str(s.trim()).map($name).map_err(|e| ModelError::Invalid {
                    field: stringify!($name),
                    reason: format!("{s:?}: {e}"),
                })
            }
        }

        crate::codec::string_codec!($name);
    };
}

id_type!(
    /// A product.
    ProductId
);
id_type!(
    /// A variant of a product (size, colour).
    VariantId
);
id_type!(
    /// A product category.
    CategoryId
);
id_type!(
    /// A paid sale.
    SaleId
);
id_type!(
    /// A refund of (part of) a sale.
    RefundId
);
id_type!(
    /// A line of a cart or sale.
    LineId
);
id_type!(
    /// A cashier's shift.
    ShiftId
);
id_type!(
    /// A cashier, supervisor or manager in the store's users document.
    UserId
);
id_type!(
    /// A stock movement.
    MovementId
);
id_type!(
    /// A promotion.
    PromotionId
);
id_type!(
    /// A cart (open or parked).
    CartId
);
id_type!(
    /// A cash in/out movement of a shift.
    CashMovementId
);
id_type!(
    /// A store.
    StoreId
);
id_type!(
    /// A voided sale record.
    VoidId
);

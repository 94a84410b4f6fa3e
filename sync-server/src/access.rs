//! Who may see or change what: every access decision of the server, in one place to read and
//! to test. Callers look up the thing (a store, a document's claim) and ask here; the answer is
//! a yes or no, or the error to answer with. Things outside the caller's tenant or store are
//! "not found" rather than "forbidden", so their existence does not leak.
//!
//! - documents (sync frames, samod's share policy, `persisted`): [`may_see_document`],
//!   [`document`]; the peer ids a connection may use: [`may_bind_peer`], [`is_instance_peer`];
//! - stores: [`may_see_store`]; reports: [`read_reports`]; managing a store (its staff,
//!   terminals, enrollment codes and managers): [`manage_store`];
//! - tenant-wide changes (stores, managers, disabling users): [`create_store`],
//!   [`add_manager`], [`disable_user`];
//! - the staff API: [`change_staff_member`];
//! - app credentials (other web products of a tenant): [`manage_apps`], [`app_credential`].
//!
//! An app credential ([`Principal::App`]) reaches its tenant's tenant-wide documents only:
//! the documents it writes first are claimed by the tenant with no store, like an owner's, so
//! the tenant's owners (and other apps of the tenant) reach them too; a document claimed by a
//! store (everything the tills and the server keep for a store) is out of its reach, and so is
//! every store, report and management action. A web product that needs a store's data reads
//! it through an owner's API access, not through its sync credential.

use shared_model::users::Role as StaffRole;

use crate::auth::{INSTANCE_PEER_PREFIX, Principal, Role, instance_peer_id};
use crate::error::{Error, Result};
use crate::storage::{AppCredentialRow, DocClaim, StoreRow, UserRow};

/// Whether `who` may reach something owned by `tenant` and `store` (`None`: tenant-wide).
/// Instances reach everything; owners their whole tenant; managers and terminals their store
/// and the tenant-wide things; apps the tenant-wide things only.
pub fn may_reach(who: &Principal, tenant: &str, store: Option<&str>) -> bool {
    match who {
        Principal::Instance { .. } => return true,
        Principal::App { tenant_id, .. } => return tenant_id == tenant && store.is_none(),
        Principal::User { .. } | Principal::Terminal { .. } => {}
    }
    if who.tenant_id() != tenant {
        return false;
    }
    match (who.store_id(), store) {
        (None, _) | (_, None) => true,
        (Some(mine), Some(theirs)) => mine == theirs,
    }
}

/// Whether `who` may read and write the document claimed by `claim` (sync frames, sharing).
pub fn may_see_document(who: &Principal, claim: &DocClaim) -> bool {
    may_reach(who, &claim.tenant_id, claim.store_id.as_deref())
}

/// A document asked about over HTTP (`persisted`): unclaimed or out of reach is "not found".
pub fn document(who: &Principal, claim: Option<&DocClaim>) -> Result<()> {
    match claim {
        Some(c) if may_see_document(who, c) => Ok(()),
        _ => Err(Error::NotFound("document not found")),
    }
}

/// Whether `who` may peer as `peer_id` on a connection for `tenant`: an instance only as its
/// own peer id for that tenant, nobody else with an instance's peer id.
pub fn may_bind_peer(who: &Principal, peer_id: &str, tenant: &str) -> bool {
    match who {
        Principal::Instance { instance_id } => peer_id == instance_peer_id(instance_id, tenant),
        Principal::User { .. } | Principal::Terminal { .. } | Principal::App { .. } => {
            !is_instance_peer(peer_id)
        }
    }
}

/// Whether `peer_id` is a server instance's; only authenticated instances can bind one
/// ([`may_bind_peer`]), so such a peer is shared every document.
pub fn is_instance_peer(peer_id: &str) -> bool {
    peer_id.starts_with(INSTANCE_PEER_PREFIX)
}

/// Whether `store` is listed to `who`.
pub fn may_see_store(who: &Principal, store: &StoreRow) -> bool {
    may_reach(who, &store.tenant_id, Some(&store.id))
}

/// Reports of `store`: its owner and its manager; terminals read none.
pub fn read_reports(who: &Principal, store: &StoreRow) -> Result<()> {
    if !may_see_store(who, store) || matches!(who, Principal::Terminal { .. }) {
        return Err(Error::NotFound("store not found"));
    }
    Ok(())
}

/// Managing `store` (its staff, terminals, enrollment codes, managers): the tenant's owners
/// and the store's managers.
pub fn manage_store(who: &Principal, store: &StoreRow) -> Result<()> {
    if !may_see_store(who, store) {
        return Err(Error::NotFound("store not found"));
    }
    let manages = match who {
        Principal::User {
            tenant_id,
            store_id,
            role,
            ..
        } => {
            *tenant_id == store.tenant_id
                && (*role == Role::Owner || store_id.as_deref() == Some(&store.id))
        }
        Principal::Terminal { .. } | Principal::App { .. } | Principal::Instance { .. } => false,
    };
    if !manages {
        return Err(Error::Forbidden("not allowed to manage this store"));
    }
    Ok(())
}

/// The store's payment gateway (keys that move the shop's money): the tenant's owners only.
pub fn payment_gateway(who: &Principal, store: &StoreRow) -> Result<()> {
    manage_store(who, store)?;
    owner_tenant(who)
        .map(|_| ())
        .ok_or(Error::Forbidden("only owners set the payment gateway"))
}

/// The tenant an owner adds a store to; only owners create stores.
pub fn create_store(who: &Principal) -> Result<&str> {
    owner_tenant(who).ok_or(Error::Forbidden("only owners create stores"))
}

/// The tenant an owner adds a manager to; only owners add managers (then [`manage_store`]).
pub fn add_manager(who: &Principal) -> Result<&str> {
    owner_tenant(who).ok_or(Error::Forbidden("only owners add managers"))
}

fn owner_tenant(who: &Principal) -> Option<&str> {
    match who {
        Principal::User {
            role: Role::Owner,
            tenant_id,
            ..
        } => Some(tenant_id),
        _ => None,
    }
}

/// Disabling or re-enabling `target` (a password user, `None` when unknown): owners, for the
/// other users of their tenant. Unknown users and other tenants' are "not found".
pub fn disable_user(who: &Principal, target: Option<&UserRow>) -> Result<()> {
    let target = target
        .filter(|t| may_reach(who, &t.tenant_id, t.store_id.as_deref()))
        .ok_or(Error::NotFound("user not found"))?;
    let Some(tenant) = owner_tenant(who) else {
        return Err(Error::Forbidden("only owners disable users"));
    };
    if tenant != target.tenant_id
        || matches!(who, Principal::User { user_id, .. } if *user_id == target.id)
    {
        return Err(Error::Forbidden("owners cannot disable themselves"));
    }
    Ok(())
}

/// The tenant whose app credentials `who` lists, makes and revokes: owners only.
pub fn manage_apps(who: &Principal) -> Result<&str> {
    owner_tenant(who).ok_or(Error::Forbidden("only owners manage app credentials"))
}

/// Revoking `credential` (`None` when unknown): an owner of its tenant ([`manage_apps`]);
/// another tenant's credential is "not found".
pub fn app_credential(who: &Principal, credential: Option<&AppCredentialRow>) -> Result<()> {
    let tenant = manage_apps(who)?;
    match credential {
        Some(c) if c.tenant_id == tenant => Ok(()),
        _ => Err(Error::NotFound("app credential not found")),
    }
}

/// Whether the staff API may change a store user whose role is `current` (after
/// [`manage_store`]): cashiers and supervisors; managers are managed on the terminals.
pub fn change_staff_member(current: StaffRole) -> Result<()> {
    if current == StaffRole::Manager {
        return Err(Error::Forbidden(
            "managers are managed on the terminals; only cashiers and supervisors here",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(tenant: &str) -> Principal {
        Principal::User {
            user_id: "o".into(),
            tenant_id: tenant.into(),
            store_id: None,
            role: Role::Owner,
        }
    }

    fn manager(tenant: &str, store: &str) -> Principal {
        Principal::User {
            user_id: "m".into(),
            tenant_id: tenant.into(),
            store_id: Some(store.into()),
            role: Role::Manager,
        }
    }

    fn terminal(tenant: &str, store: &str) -> Principal {
        Principal::Terminal {
            terminal_id: "x".into(),
            tenant_id: tenant.into(),
            store_id: store.into(),
        }
    }

    fn app(tenant: &str) -> Principal {
        Principal::App {
            app_id: "a".into(),
            tenant_id: tenant.into(),
        }
    }

    fn instance() -> Principal {
        Principal::Instance {
            instance_id: "i1".into(),
        }
    }

    fn store(tenant: &str, id: &str) -> StoreRow {
        StoreRow {
            id: id.into(),
            tenant_id: tenant.into(),
            code: "S".into(),
            name: "S".into(),
            store_key: "k".into(),
            created_at: 0,
        }
    }

    fn claim(tenant: &str, store: Option<&str>) -> DocClaim {
        DocClaim {
            doc_id: "d".into(),
            tenant_id: tenant.into(),
            store_id: store.map(str::to_string),
            claimed_by: "terminal:x".into(),
            claimed_at: 0,
        }
    }

    #[test]
    fn reach() {
        let term = terminal("t", "s");
        assert!(may_reach(&term, "t", Some("s")));
        assert!(may_reach(&term, "t", None));
        assert!(!may_reach(&term, "t", Some("s2")));
        assert!(!may_reach(&term, "t2", None));
        assert!(may_reach(&owner("t"), "t", Some("s2")));
        assert!(!may_reach(&owner("t"), "t2", None));
        assert!(may_reach(&instance(), "any", Some("where")));
    }

    #[test]
    fn documents() {
        let mine = claim("t", Some("s"));
        let tenant_wide = claim("t", None);
        let other_store = claim("t", Some("s2"));
        let other_tenant = claim("t2", None);
        let term = terminal("t", "s");
        assert!(may_see_document(&term, &mine));
        assert!(may_see_document(&term, &tenant_wide));
        assert!(!may_see_document(&term, &other_store));
        assert!(!may_see_document(&manager("t", "s"), &other_store));
        assert!(may_see_document(&owner("t"), &other_store));
        assert!(!may_see_document(&owner("t"), &other_tenant));
        assert!(document(&term, Some(&mine)).is_ok());
        for (who, c) in [(&term, None), (&term, Some(&other_store))] {
            assert!(matches!(
                document(who, c),
                Err(Error::NotFound("document not found"))
            ));
        }
    }

    #[test]
    fn peers() {
        let term = terminal("t", "s");
        assert!(may_bind_peer(&term, "till-1", "t"));
        let theirs = instance_peer_id("i1", "t");
        assert!(is_instance_peer(&theirs));
        assert!(!may_bind_peer(&term, &theirs, "t"));
        assert!(may_bind_peer(&instance(), &theirs, "t"));
        assert!(!may_bind_peer(&instance(), &theirs, "t2"));
        assert!(!may_bind_peer(&instance(), "till-1", "t"));
    }

    #[test]
    fn stores_and_reports() {
        let s = store("t", "s");
        assert!(may_see_store(&owner("t"), &s));
        assert!(may_see_store(&manager("t", "s"), &s));
        assert!(!may_see_store(&manager("t", "s2"), &s));
        assert!(!may_see_store(&owner("t2"), &s));
        assert!(read_reports(&owner("t"), &s).is_ok());
        assert!(read_reports(&manager("t", "s"), &s).is_ok());
        for who in [manager("t", "s2"), owner("t2"), terminal("t", "s")] {
            assert!(matches!(
                read_reports(&who, &s),
                Err(Error::NotFound("store not found"))
            ));
        }
    }

    #[test]
    fn managing_a_store() {
        let s = store("t", "s");
        assert!(manage_store(&owner("t"), &s).is_ok());
        assert!(manage_store(&manager("t", "s"), &s).is_ok());
        assert!(matches!(
            manage_store(&manager("t", "s2"), &s),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            manage_store(&owner("t2"), &s),
            Err(Error::NotFound(_))
        ));
        for who in [terminal("t", "s"), instance()] {
            assert!(matches!(
                manage_store(&who, &s),
                Err(Error::Forbidden("not allowed to manage this store"))
            ));
        }
    }

    #[test]
    fn tenant_changes_are_for_owners() {
        assert_eq!(create_store(&owner("t")).unwrap(), "t");
        assert_eq!(add_manager(&owner("t")).unwrap(), "t");
        for who in [manager("t", "s"), terminal("t", "s"), instance()] {
            assert!(matches!(
                create_store(&who),
                Err(Error::Forbidden("only owners create stores"))
            ));
            assert!(matches!(
                add_manager(&who),
                Err(Error::Forbidden("only owners add managers"))
            ));
        }
    }

    #[test]
    fn disabling_users() {
        let user = |id: &str, tenant: &str, store: Option<&str>| UserRow {
            id: id.into(),
            tenant_id: tenant.into(),
            store_id: store.map(str::to_string),
            email: format!("{id}@x"),
            password_hash: String::new(),
            role: "manager".into(),
            created_at: 0,
            disabled_at: None,
        };
        let m = user("m2", "t", Some("s"));
        assert!(disable_user(&owner("t"), Some(&m)).is_ok());
        assert!(matches!(
            disable_user(&owner("t2"), Some(&m)),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            disable_user(&owner("t"), None),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            disable_user(&manager("t", "s"), Some(&m)),
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            disable_user(&owner("t"), Some(&user("o", "t", None))),
            Err(Error::Forbidden("owners cannot disable themselves"))
        ));
    }

    #[test]
    fn apps_reach_tenant_wide_documents_only() {
        let a = app("t");
        assert!(may_reach(&a, "t", None));
        assert!(!may_reach(&a, "t", Some("s")));
        assert!(!may_reach(&a, "t2", None));
        // Its own documents (claimed by the tenant) and an owner's; never a till's.
        assert!(may_see_document(&a, &claim("t", None)));
        assert!(!may_see_document(&a, &claim("t", Some("s"))));
        assert!(!may_see_document(&a, &claim("t2", None)));
        assert!(matches!(
            document(&a, Some(&claim("t", Some("s")))),
            Err(Error::NotFound("document not found"))
        ));
        // What an app claims, the tenant's owner and its tills may read like any tenant-wide
        // document; another tenant's may not.
        let by_app = claim("t", None);
        assert!(may_see_document(&owner("t"), &by_app));
        assert!(may_see_document(&terminal("t", "s"), &by_app));
        assert!(!may_see_document(&owner("t2"), &by_app));
        // No store, report or management action; no instance peer id.
        let s = store("t", "s");
        assert!(!may_see_store(&a, &s));
        assert!(matches!(read_reports(&a, &s), Err(Error::NotFound(_))));
        assert!(matches!(manage_store(&a, &s), Err(Error::NotFound(_))));
        assert!(create_store(&a).is_err());
        assert!(add_manager(&a).is_err());
        assert!(manage_apps(&a).is_err());
        assert!(may_bind_peer(&a, "web-1", "t"));
        assert!(!may_bind_peer(&a, &instance_peer_id("i1", "t"), "t"));
    }

    #[test]
    fn app_credentials_are_for_owners_of_their_tenant() {
        let cred = |tenant: &str| AppCredentialRow {
            id: "c".into(),
            tenant_id: tenant.into(),
            name: "web".into(),
            secret_hash: "h".into(),
            created_by: "o".into(),
            created_at: 0,
            revoked_at: None,
            last_used_at: None,
        };
        assert_eq!(manage_apps(&owner("t")).unwrap(), "t");
        for who in [manager("t", "s"), terminal("t", "s"), app("t"), instance()] {
            assert!(matches!(
                manage_apps(&who),
                Err(Error::Forbidden("only owners manage app credentials"))
            ));
            assert!(matches!(
                app_credential(&who, Some(&cred("t"))),
                Err(Error::Forbidden(_))
            ));
        }
        assert!(app_credential(&owner("t"), Some(&cred("t"))).is_ok());
        for c in [Some(cred("t2")), None] {
            assert!(matches!(
                app_credential(&owner("t"), c.as_ref()),
                Err(Error::NotFound("app credential not found"))
            ));
        }
    }

    #[test]
    fn staff_changes() {
        assert!(change_staff_member(StaffRole::Cashier).is_ok());
        assert!(change_staff_member(StaffRole::Supervisor).is_ok());
        assert!(matches!(
            change_staff_member(StaffRole::Manager),
            Err(Error::Forbidden(_))
        ));
    }
}

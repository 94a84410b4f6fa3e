//! Finding the store's other tills by mDNS (`_snapkasir._tcp`) and advertising this one.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::sync::watch;
use tracing::{Instrument, info};

use crate::error::{CoreError, CoreResult};

use super::*;

/// Advertises this terminal and dials the store's peers it finds (the smaller code dials).
pub(super) fn discovery(
    shared: Arc<Shared>,
    addr: SocketAddr,
    span: tracing::Span,
) -> CoreResult<mdns_sd::ServiceDaemon> {
    let mdns_err = |e: mdns_sd::Error| CoreError::Sync(format!("mDNS: {e}"));
    let daemon = mdns_sd::ServiceDaemon::new().map_err(mdns_err)?;
    let tag = shared.auth().store_tag();
    let instance = format!("snapkasir-{tag}-{}", shared.auth().terminal_code);
    let host = format!("{instance}.local.");
    let ip = addr.ip();
    let info = if ip.is_unspecified() {
        mdns_sd::ServiceInfo::new(
            SERVICE_TYPE,
            &instance,
            &host,
            "",
            addr.port(),
            &shared.auth().txt_records()[..],
        )
        .map(mdns_sd::ServiceInfo::enable_addr_auto)
    } else {
        if ip.is_loopback() {
            daemon
                .enable_interface(mdns_sd::IfKind::LoopbackV4)
                .map_err(mdns_err)?;
        }
        mdns_sd::ServiceInfo::new(
            SERVICE_TYPE,
            &instance,
            &host,
            ip,
            addr.port(),
            &shared.auth().txt_records()[..],
        )
    }
    .map_err(mdns_err)?;
    daemon.register(info).map_err(mdns_err)?;
    let events = daemon.browse(SERVICE_TYPE).map_err(mdns_err)?;
    let s = shared.clone();
    shared.spawn(
        async move {
            let mut stop = s.stop.clone();
            loop {
                let event = tokio::select! {
                    e = events.recv_async() => match e { Ok(e) => e, Err(_) => return },
                    _ = stop.changed() => return,
                };
                let mdns_sd::ServiceEvent::ServiceResolved(found) = event else {
                    continue;
                };
                let txt: HashMap<String, String> = found
                    .get_properties()
                    .iter()
                    .map(|p| (p.key().to_string(), p.val_str().to_string()))
                    .collect();
                let Some(code) = s.auth().peer_of_advert(&txt) else {
                    continue;
                };
                let Some(ip) = found
                    .get_addresses_v4()
                    .into_iter()
                    .map(IpAddr::V4)
                    .min_by_key(|ip| !ip.is_loopback())
                else {
                    continue;
                };
                let peer_addr = SocketAddr::new(ip, found.get_port()).to_string();
                s.publish(|st| {
                    if !st.discovered.contains(&code) {
                        st.discovered.push(code.clone());
                    }
                });
                if !s.auth().dials_discovered(&code) {
                    continue;
                }
                let new = {
                    let mut dialing = s.dialing.lock().unwrap_or_else(|p| p.into_inner());
                    match dialing.get(&code) {
                        Some(tx) => {
                            tx.send_if_modified(|a| {
                                let moved = *a != peer_addr;
                                if moved {
                                    a.clone_from(&peer_addr);
                                }
                                moved
                            });
                            None
                        }
                        None => {
                            let (tx, rx) = watch::channel(peer_addr.clone());
                            dialing.insert(code.clone(), tx);
                            Some(rx)
                        }
                    }
                };
                let Some(rx) = new else { continue };
                info!(peer = %code, address = %peer_addr, "LAN peer discovered");
                s.spawn(dial_loop(s.clone(), rx, Some(code)).in_current_span());
            }
        }
        .instrument(span),
    );
    Ok(daemon)
}

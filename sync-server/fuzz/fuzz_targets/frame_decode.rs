//! Any bytes a peer can send: shared-model's frame decoder (the one codec of terminals and
//! server), the server's own checks on top of it and its automerge validator must return (an
//! error) and never panic or hang; what decodes must re-encode to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_server::shared_model::wire;
use sync_server::sync::protocol;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = wire::decode(data) {
        assert_eq!(wire::decode(&wire::encode(&message)).as_ref(), Ok(&message));
    }
    if let Ok(frame) = protocol::decode(data)
        && let Some(d) = protocol::sync_data(&frame)
    {
        let _ = protocol::validate_sync_data(d);
    }
    let _ = protocol::validate_sync_data(data);
});

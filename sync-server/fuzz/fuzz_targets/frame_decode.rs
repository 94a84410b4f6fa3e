//! Any bytes a peer can send: the decoder and the automerge validator must
//! return (an error) and never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sync_server::sync::protocol;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = protocol::decode(data)
        && let Some(d) = frame.data
    {
        let _ = protocol::validate_sync_data(&d);
    }
    let _ = protocol::validate_sync_data(data);
});

//! Any bytes as a `create_call` response body: decoding never panics, and
//! whatever decodes serialises and decodes again to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigmamind::types::Call;

fuzz_target!(|data: &[u8]| {
    if let Ok(call) = serde_json::from_slice::<Call>(data) {
        let text = serde_json::to_vec(&call).expect("a decoded Call serialises");
        let again: Call = serde_json::from_slice(&text).expect("what we write we can read");
        assert_eq!(again, call);
    }
});

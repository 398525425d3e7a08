//! The JSON entry with nothing loaded: any bytes as a request.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod answer;

fuzz_target!(|data: &[u8]| {
    answer::assert_envelope(&entitle_core::evaluate(data));
});

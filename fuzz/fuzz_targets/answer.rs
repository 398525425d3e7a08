//! What every answer must be, whatever the bytes asked: the engine's
//! envelope, which reads back with the types that wrote it.

use entitle_core::Envelope;

/// Panics (a finding) unless `answer` is a whole envelope.
pub fn assert_envelope(answer: &str) {
    if let Err(error) = serde_json::from_str::<Envelope<'_, serde_json::Value>>(answer) {
        panic!("not an envelope ({error}): {answer}");
    }
}

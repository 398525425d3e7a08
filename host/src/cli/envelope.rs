//! Reading the engine's envelope: the exit status it calls for, and the
//! same envelope indented for `--pretty`.

use super::{EXIT_ERROR_OUTCOME, EXIT_OK};
use crate::error::HostError;

/// The exit status an envelope calls for, read with the engine's own
/// envelope type.
pub(super) fn outcome_status(answer: &str) -> Result<u8, HostError> {
    use entitle_core::Envelope;
    match serde_json::from_str::<Envelope<'_, serde::de::IgnoredAny>>(answer) {
        Ok(Envelope::Ok(_)) => Ok(EXIT_OK),
        Ok(Envelope::Error(_)) => Ok(EXIT_ERROR_OUTCOME),
        Err(error) => Err(HostError::BadResponse {
            detail: format!("an answer that is not the engine's envelope: {error}"),
        }),
    }
}

/// The envelope indented by two spaces, keys in the engine's order.
pub(super) fn pretty(answer: &str) -> Result<String, HostError> {
    let mut out = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_str(answer);
    let mut serializer = serde_json::Serializer::pretty(&mut out);
    serde_transcode::transcode(&mut deserializer, &mut serializer).map_err(|error| {
        HostError::BadResponse {
            detail: format!("an answer that is not json: {error}"),
        }
    })?;
    String::from_utf8(out).map_err(|error| HostError::BadResponse {
        detail: error.to_string(),
    })
}

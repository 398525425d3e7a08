//! Reading the engine's envelope: the exit status it calls for, and the
//! same envelope indented for `--pretty`.

use super::{EXIT_ERROR_OUTCOME, EXIT_OK};
use crate::error::HostError;

/// The exit status an envelope calls for.
pub(super) fn outcome_status(answer: &str) -> Result<u8, HostError> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        outcome: String,
    }
    match serde_json::from_str::<Envelope>(answer).map(|e| e.outcome) {
        Ok(outcome) if outcome == "ok" => Ok(EXIT_OK),
        Ok(outcome) if outcome == "error" => Ok(EXIT_ERROR_OUTCOME),
        _ => Err(HostError::BadResponse {
            detail: String::from("an answer without `\"outcome\":\"ok\"` or `\"error\"`"),
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

//! The conformance corpus runner.

//! Turning bytes into validated documents: the bounded JSON parser, the
//! strict typed reader, part-by-part reading that reports every problem,
//! signed envelopes, and the cross-document checks of validation.

pub mod bundle;
pub mod json;
pub mod parts;
pub mod signed;
pub mod spki;
pub mod strict;
pub mod validate;

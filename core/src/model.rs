//! The documents' vocabulary: the bundle and the license as read, their ids,
//! instants and zones, money, and the bundle's map of HTTP routes.

pub mod bundle;
pub mod ids;
pub mod license;
pub mod money;
pub mod order;
pub mod route;
pub mod time;
pub mod zones;

//! What a license costs: charge models and their bands, SLA credits, and
//! the quote of a period's plan, add-ons and overage.

pub mod charge;
pub mod credit;
pub mod quote;

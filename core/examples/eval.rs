//! Evaluates a request read from stdin with the native engine.
use std::io::Read;
fn main() {
    let mut buf = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut buf);
    println!("{}", entitle_core::api::evaluate(&buf));
}

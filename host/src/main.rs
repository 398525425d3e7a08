//! The `entitle` command line.

fn main() {}

//! Build and CI tasks for entitle.

fn main() {}

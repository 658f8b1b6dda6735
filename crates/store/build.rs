//! `sqlx::migrate!` embeds the migrations at compile time, but stable Rust
//! cannot tell cargo which files a macro read: rebuild when they change.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
